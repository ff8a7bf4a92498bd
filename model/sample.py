"""Sampling tunes from a music model: priming, header conditioning, top-k/top-p, batches.

The prime is the start of a tune the model continues: either ABC text the user wrote (their
first bars), or a header built from the user's choices (meter, key, unit length, rhythm, title)
in the training text's canonical order X, T, R, M, L, Q, K, so the model writes the body. All
variations are sampled together as one batch; each stops at the blank line that ends a tune or
at the length cap, and carries its settings and the model's probability of every character it
chose (softmax at temperature 1, before top-k/top-p: how expected that character was).
Characters of a prime outside the vocabulary are read as the unknown symbol (and listed in the
settings); the sampler never emits the unknown symbol.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from model.config import SampleConfig
from model.lm import MusicLM
from model.vocab import Vocab

# From this width on, batch-1 sampling is bound by reading the recurrent weights (16 MB at
# 1024), so "auto" quantises them to int8; smaller models stay exact.
INT8_MIN_HIDDEN = 1024

# A typical meter for each rhythm, used when the user names only the rhythm.
RHYTHM_METERS = {"reel": "4/4", "jig": "6/8", "double jig": "6/8", "single jig": "6/8",
                 "slip jig": "9/8", "hop jig": "9/8", "hornpipe": "4/4", "polka": "2/4",
                 "waltz": "3/4", "slide": "12/8", "mazurka": "3/4", "strathspey": "4/4",
                 "march": "2/4", "barndance": "4/4"}


@dataclass
class GeneratedTune:
    """One sampled tune."""

    text: str                      # the whole tune (prime + continuation), ends with "\n"
    prime: str                     # what the model was given
    generated: str                 # what the model wrote
    probabilities: list[float]     # one per character of `generated`
    finished: bool                 # True: ended at a blank line; False: hit the length cap
    settings: dict[str, Any] = field(default_factory=dict)


def build_prime(*, meter: str | None = None, key: str | None = None,
                unit_length: str | None = None, rhythm: str | None = None,
                title: str | None = None, prime: str | None = None,
                title_in_prime: bool = True) -> str:
    """Return the prime for these choices (see the module docstring for the rules).

    A `prime` that starts with "X:" is used as it is (with trailing blank lines removed); other
    prime text is appended to the header as the first bars. Without a meter, the rhythm's typical
    meter is used; a key or unit length without either gets 4/4. L: is 1/8 unless given. Bars
    without a key get K:C (ABC's own default), since the body must follow a K: line.
    """
    prime = (prime or "").replace("\r\n", "\n")
    if prime.lstrip().startswith("X:"):
        return _strip_blank_end(prime.lstrip())
    rhythm = (rhythm or "").strip() or None
    meter = (meter or "").strip() or (RHYTHM_METERS.get(rhythm.lower()) if rhythm else None)
    if meter is None and (key or unit_length or prime.strip()):
        meter = "4/4"
    lines = ["X:1"]
    if title and title_in_prime:
        lines.append(f"T:{title.strip()}")
    if rhythm:
        lines.append(f"R:{rhythm}")
    if meter:
        lines.append(f"M:{meter}")
        lines.append(f"L:{(unit_length or '1/8').strip()}")
    body = prime.strip("\n")
    if key or body:
        lines.append(f"K:{(key or 'C').strip()}")
    header = "\n".join(lines) + "\n"
    return header + (_strip_blank_end(body) if body else "")


def _strip_blank_end(text: str) -> str:
    text = text.rstrip("\n")
    return text + "\n" if text else text


class _LSTMStepper:
    """A fast one-character step for LSTM models (precomputed input table, in-place ops).

    With `int8=True` the recurrent matrices are stored as int8 with one scale per row and
    multiplied with bf16 activations (weight-only quantisation, as in gpt-fast): a quarter of
    the memory traffic that bounds batch-1 sampling, at about 1% error in the gate inputs.
    The cell state, the input table and the output layer stay in fp32.
    """

    def __init__(self, model: MusicLM, int8: bool = False) -> None:
        rnn, emb = model.core.rnn, model.core.embedding.weight
        self.layers = []
        for k in range(rnn.num_layers):
            w_ih, w_hh = getattr(rnn, f"weight_ih_l{k}"), getattr(rnn, f"weight_hh_l{k}")
            bias = getattr(rnn, f"bias_ih_l{k}") + getattr(rnn, f"bias_hh_l{k}")
            if k == 0:  # one row of input gates per character: (V, 4H)
                w_in = torch.addmm(bias, emb, w_ih.T)
            else:
                w_in = (_Matrix(w_ih, int8), bias)
            self.layers.append((w_in, _Matrix(w_hh, int8)))
        self.head_w, self.head_b = model.head.weight.T, model.head.bias

    def __call__(self, ids: Tensor, state: tuple[Tensor, Tensor]) -> Tensor:
        """ids (B,) -> logits (B, V); state (h, c) each (L, B, H) is updated in place."""
        h_all, c_all = state
        x = None
        for k, (w_in, w_hh) in enumerate(self.layers):
            h, c = h_all[k], c_all[k]
            if k == 0:
                gates = w_hh.addmm(w_in[ids], h)  # (B, 4H)
            else:
                gates = w_hh.addmm(w_in[0].addmm(w_in[1], x), h)
            i, f, g, o = gates.chunk(4, 1)
            c.mul_(f.sigmoid_()).addcmul_(i.sigmoid_(), g.tanh_())
            torch.mul(o.sigmoid_(), torch.tanh(c), out=h)
            x = h
        return torch.addmm(self.head_b, x, self.head_w)


class _Matrix:
    """y = base + x @ W.T with W (N, K) in fp32 (a transposed view) or int8 per-row scaled."""

    def __init__(self, weight: Tensor, int8: bool) -> None:
        self.t = weight.T  # BLAS reads the transposed view in place
        self.q = None
        if int8:
            scale = weight.abs().amax(1).clamp_min(1e-12) / 127  # (N,)
            self.q = torch.round(weight / scale[:, None]).clamp_(-127, 127).to(torch.int8)
            self.scale = scale.to(torch.bfloat16)

    def addmm(self, base: Tensor, x: Tensor) -> Tensor:
        if self.q is None:
            return torch.addmm(base, x, self.t)
        return base + torch._weight_int8pack_mm(x.to(torch.bfloat16), self.q, self.scale).float()


def _int8_works() -> bool:
    """Tell whether this torch build has the CPU int8 weight-only matmul."""
    try:
        q = torch.ones(8, 32, dtype=torch.int8)
        out = torch._weight_int8pack_mm(torch.ones(1, 32, dtype=torch.bfloat16), q,
                                        torch.ones(8, dtype=torch.bfloat16))
        return bool(out.float()[0, 0] == 32)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def _stepper(model: MusicLM, int8: bool) -> _LSTMStepper:
    """Return the model's cached stepper, rebuilt when any weight changed since."""
    key = (tuple(p._version for p in model.parameters()), id(model.head), int8)
    cached = getattr(model, "_ceol_stepper", None)
    if cached is None or cached[0] != key:
        cached = (key, _LSTMStepper(model, int8))
        model._ceol_stepper = cached
    return cached[1]


def use_int8(model: MusicLM, config: SampleConfig) -> bool:
    """Decide whether sampling uses int8 recurrent weights (see SampleConfig.quantize)."""
    if config.quantize == "off" or model.config.cell != "lstm":
        return False
    if config.quantize == "auto" and model.config.hidden_size < INT8_MIN_HIDDEN:
        return False
    return _int8_works()


def _filter(logits: Tensor, config: SampleConfig) -> Tensor:
    """Return sampling probabilities (B, V) after temperature, top-k and top-p."""
    if config.temperature != 1.0:
        logits = logits / config.temperature
    if config.top_k and config.top_k < logits.shape[-1]:
        kth = torch.topk(logits, config.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if config.top_p < 1.0:
        sorted_p, order = torch.sort(probs, dim=-1, descending=True)
        before = sorted_p.cumsum(-1) - sorted_p  # mass of the likelier characters
        sorted_p = sorted_p.masked_fill(before >= config.top_p, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def generate(model: MusicLM, vocab: Vocab, config: SampleConfig | None = None,
             prime: str = "X:1\n", *, title: str | None = None,
             extra_settings: dict[str, Any] | None = None) -> list[GeneratedTune]:
    """Sample `config.count` continuations of `prime` together; return one result per variation.

    `title` (if given and not already in the prime) is written into each tune's header after
    sampling. Runs on the CPU with one thread (batch sampling is latency-bound: a thread pool's
    wake-ups cost more than they save). Raises ModelError for bad settings.
    """
    config = config or SampleConfig()
    config.check()
    seed = config.seed if config.seed is not None else secrets.randbelow(2 ** 31)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            ids, probs, ends = _sample(model.to("cpu").eval(), vocab, config, prime or "X:1\n",
                                       seed)
    finally:
        torch.set_num_threads(threads)
    settings = {"temperature": config.temperature, "top_k": config.top_k, "top_p": config.top_p,
                "seed": seed, "int8": use_int8(model, config), "max_chars": config.max_chars, "count": config.count,
                "prime_unknown_chars": sorted(vocab.unknown_chars(prime or "X:1\n"))}
    settings.update(extra_settings or {})
    results = []
    for b in range(config.count):
        end = ends[b]
        finished = end is not None
        n = end if finished else len(ids[b])  # drop the blank line's second newline
        generated = vocab.decode(ids[b][:n])
        text = _with_title((prime or "X:1\n") + generated, title)
        if not text.endswith("\n"):
            text += "\n"
        results.append(GeneratedTune(text, prime or "X:1\n", generated,
                                     [round(p, 5) for p in probs[b][:n]], finished,
                                     dict(settings, variation=b + 1)))
    return results


def _sample(model: MusicLM, vocab: Vocab, config: SampleConfig, prime: str, seed: int):
    """Run the batch; return per-row chosen ids, their model probabilities, and end indices."""
    gen = torch.Generator().manual_seed(seed)
    count, cfg = config.count, model.config
    prime_ids = vocab.encode(prime)
    if len(prime_ids) > 1:  # read all but the last prime character; the loop feeds that one
        _, state = model(torch.tensor([prime_ids[:-1]]), None)
    else:
        zeros = torch.zeros(cfg.num_layers, 1, cfg.hidden_size)
        state = (zeros, zeros.clone()) if cfg.cell == "lstm" else zeros
    state = tuple(s.repeat(1, count, 1).contiguous() for s in state) \
        if isinstance(state, tuple) else state.repeat(1, count, 1).contiguous()
    step = _stepper(model, use_int8(model, config)) if cfg.cell == "lstm" else None
    newline = vocab.index.get("\n", -1)
    plain = config.temperature == 1.0 and not config.top_k and config.top_p >= 1.0
    current = torch.full((count,), prime_ids[-1], dtype=torch.long)
    previous_newline = torch.full((count,), prime.endswith("\n"))
    done = torch.zeros(count, dtype=torch.bool)
    chosen, picked = [], []
    for t in range(config.max_chars):
        if step is not None:
            logits = step(current, state)  # (B, V)
        else:
            out, state = model(current[:, None], state)
            logits = out[:, -1]
        logits[:, 0] = float("-inf")  # never emit the unknown symbol
        model_p = torch.softmax(logits, dim=-1)
        sample_p = model_p if plain else _filter(logits, config)
        current = torch.multinomial(sample_p, 1, generator=gen)[:, 0]  # (B,)
        chosen.append(current)
        picked.append(model_p.gather(1, current[:, None])[:, 0])
        is_newline = current == newline
        done |= is_newline & previous_newline
        previous_newline = is_newline
        if t % 8 == 7 and bool(done.all()):  # one sync every few steps
            break
    ids = torch.stack(chosen, 1).tolist()  # (B, steps)
    probs = torch.stack(picked, 1).tolist()
    ends = [_blank_line_end(row, newline, prime.endswith("\n")) for row in ids]
    return ids, probs, ends


def _blank_line_end(row: list[int], newline: int, after_newline: bool) -> int | None:
    """Index of the second newline of the first blank line in `row`, or None."""
    previous = after_newline
    for i, idx in enumerate(row):
        is_newline = idx == newline
        if is_newline and previous:
            return i
        previous = is_newline
    return None


def _with_title(text: str, title: str | None) -> str:
    if not title or "\nT:" in "\n" + text.split("K:", 1)[0]:
        return text
    first, _, rest = text.partition("\n")
    if first.startswith("X:"):
        return f"{first}\nT:{title.strip()}\n{rest}"
    return f"T:{title.strip()}\n{text}"
