"""Sampling tunes from a music model: priming, header conditioning, top-k/top-p, batches.

The prime is the start of a tune the model continues: either ABC text the user wrote (their
first bars), or a header built from the user's choices (meter, key, unit length, rhythm, title)
in the training text's canonical order X, T, R, M, L, Q, K, so the model writes the body. All
variations are sampled together as one batch; each stops at the blank line that ends a tune or
at the length cap, and carries its settings and the model's probability of every character it
chose (softmax at temperature 1, before top-k/top-p: how expected that character was).
Characters of a prime outside the vocabulary are read as the unknown symbol (and listed in the
settings); the sampler never emits the unknown symbol. LSTM models step through the fast cell
of model/lstm_step.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from model.config import SampleConfig
from model.hooks import END, END_KEEP, KEEP, MARK, REWIND, SampleHook  # noqa: F401
from model.lm import MusicLM
from model.draw import Uniforms, pick
from model.fused_cell import split
from model.lstm_step import cached_stepper, sampling_threads, weights_mode
from model.vocab import Vocab

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


def prepare_sampling(model: MusicLM, config: SampleConfig) -> None:
    """Build now the sampling weights `config` will use (int8/bf16 copies, capability checks)
    and the fp32 step that reads the prime, so the first generation does not pay for them. A
    no-op for cells other than LSTM."""
    if model.config.cell == "lstm":
        cached_stepper(model, weights_mode(model, config))
        cached_stepper(model, "fp32")


def use_int8(model: MusicLM, config: SampleConfig) -> bool:
    """Tell whether sampling uses int8 recurrent weights (see SampleConfig.quantize)."""
    return split(weights_mode(model, config))[0] in ("int8", "int8dyn")


# Primes up to this many characters are read by the fp32 step, longer ones by nn.LSTM (the
# two cost the same at about 50 characters on a 2-core Xeon, with the bundled 2 x 512 model).
STEP_PRIME_MAX = 48

@dataclass
class SampledRow:
    """One variation as sampled: character ids, their model probabilities, and how it ended."""

    ids: list[int] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    finished: bool = False         # the hook ended it (blank line, bars asked for)
    rewinds: int = 0               # times the hook sent it back to a rewind point


def generate(model: MusicLM, vocab: Vocab, config: SampleConfig | None = None,
             prime: str = "X:1\n", *, title: str | None = None,
             extra_settings: dict[str, Any] | None = None) -> list[GeneratedTune]:
    """Sample `config.count` continuations of `prime` together; return one result per variation.

    `title` (if given and not already in the prime) is written into each tune's header after
    sampling. Runs on the CPU with the threads `sampling_threads` gives. Raises ModelError for
    bad settings.
    """
    config = config or SampleConfig()
    config.check()
    prime = prime or "X:1\n"
    rows, seed = sample_rows(model, vocab, config, prime)
    settings = {"temperature": config.temperature, "top_k": config.top_k, "top_p": config.top_p,
                "seed": seed, "int8": use_int8(model, config),
                "weights": weights_mode(model, config),
                "threads": sampling_threads(model, config), "max_chars": config.max_chars,
                "count": config.count,
                "prime_unknown_chars": sorted(vocab.unknown_chars(prime))}
    settings.update(extra_settings or {})
    results = []
    for b, row in enumerate(rows):
        generated = vocab.decode(row.ids)
        text = _with_title(prime + generated, title)
        if not text.endswith("\n"):
            text += "\n"
        results.append(GeneratedTune(text, prime, generated, [round(p, 5) for p in row.probs],
                                     row.finished, dict(settings, variation=b + 1)))
    return results


def sample_rows(model: MusicLM, vocab: Vocab, config: SampleConfig, prime: str,
                hook: SampleHook | None = None, stop=None,
                on_row=None) -> tuple[list[SampledRow], int]:
    """Sample `config.count` variations of `prime` as one batch; return the rows and the seed.

    The one sampling loop of Ceol: the CLI's and the GUI's generation service drive it through
    a `hook`. Each variation ends when the hook says so, at `config.max_chars` characters, or
    when `stop` (an Event-like object) is set; the loop never runs more than 4 x max_chars
    steps, rewinds included, so it always ends. `on_row(index, row)` is called the moment a
    variation ends (by the hook or the length cap), while the others go on, so a caller can
    show the first tune before the batch is done.
    """
    config.check()
    hook = hook or SampleHook()
    seed = config.seed if config.seed is not None else secrets.randbelow(2 ** 31)
    model = model.to("cpu").eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(sampling_threads(model, config))
    try:
        with torch.inference_mode():
            rows = _run(model, vocab, config, prime, seed, hook, stop, on_row)
    finally:
        torch.set_num_threads(threads)
    return rows, seed


def _run(model: MusicLM, vocab: Vocab, config: SampleConfig, prime: str, seed: int,
         hook: SampleHook, stop, on_row=None) -> list[SampledRow]:
    """The sampling loop: one step for all live variations, then the hook's verdict on each
    new character (keep it, mark a rewind point, rewind, end the variation)."""
    uniforms = Uniforms(torch.Generator().manual_seed(seed), config.count)
    prime_ids = vocab.encode(prime)
    batch = _Batch(_primed_states(model, prime_ids, config.count), prime_ids[-1], config.count,
                   hook.rewinds)
    step = cached_stepper(model, weights_mode(model, config)) \
        if model.config.cell == "lstm" else None
    work = step.workspace(batch.states) if step is not None else None
    fused_draw = step.drawer(work, config) if step is not None else None
    plain = config.temperature == 1.0 and not config.top_k and config.top_p >= 1.0
    chars = vocab.chars
    hook.begin(config.count, prime)
    for _ in range(4 * config.max_chars):
        if not batch.active or (stop is not None and stop.is_set()):
            break
        saved = tuple(s.clone() for s in batch.states) if batch.marks is not None else None
        logits = _next_logits(model, step, work, batch)  # (B, V); the states move on in place
        hook.mask(logits, batch.active)
        ids, picked = fused_draw(uniforms.take()) if fused_draw is not None \
            else pick(logits, config, plain, uniforms.take())
        batch.current = list(ids)
        for b in list(batch.active):
            row, verdict = batch.rows[b], hook.feed(b, chars[ids[b]])
            if verdict == REWIND and batch.marks is not None:
                batch.rewind(b)
                continue
            if verdict == END:
                batch.end(b, True, on_row)
                continue
            if verdict == MARK and batch.marks is not None:
                batch.mark(b, saved)
            row.ids.append(ids[b])
            row.probs.append(picked[b])
            if verdict == END_KEEP or len(row.ids) >= config.max_chars:
                batch.end(b, verdict == END_KEEP, on_row)
    return batch.rows


class _Batch:
    """The variations sampled together: recurrent states, last ids, rows, rewind points."""

    def __init__(self, states: tuple[Tensor, ...], first_id: int, count: int,
                 rewinds: bool) -> None:
        self.states = states                   # each (L, B, H), updated in place
        self.first_id = first_id               # the prime's last character, read first
        self.current = [first_id] * count      # (B,) next input ids
        self.rows = [SampledRow() for _ in range(count)]
        self.active = list(range(count))
        # Rewind points: (state of the row before reading `current`, that id, text length).
        self.marks = [(tuple(s[:, b].clone() for s in states), first_id, 0)
                      for b in range(count)] if rewinds else None

    def mark(self, b: int, saved: tuple[Tensor, ...]) -> None:
        """Set row b's rewind point before its new character (`saved`: the states before it)."""
        row = self.rows[b]
        self.marks[b] = (tuple(s[:, b].clone() for s in saved),
                         row.ids[-1] if row.ids else self.first_id, len(row.ids))

    def rewind(self, b: int) -> None:
        """Send row b back to its rewind point: state, next input, text and probabilities."""
        state_b, last, n = self.marks[b]
        for s, v in zip(self.states, state_b):
            s[:, b] = v
        self.current[b] = last
        row = self.rows[b]
        del row.ids[n:], row.probs[n:]
        row.rewinds += 1

    def end(self, b: int, finished: bool, on_row) -> None:
        """Take row b out of the batch and hand it to `on_row` at once."""
        self.rows[b].finished = finished
        self.active.remove(b)
        if on_row is not None:
            on_row(b, self.rows[b])


def _primed_states(model: MusicLM, prime_ids: list[int], count: int) -> tuple[Tensor, ...]:
    """The recurrent state after all but the prime's last character, one copy per variation:
    (h,) or (h, c), each (L, B, H); the loop feeds the last character first."""
    cfg = model.config
    zeros = torch.zeros(cfg.num_layers, 1, cfg.hidden_size)
    if cfg.cell == "lstm" and len(prime_ids) <= STEP_PRIME_MAX:
        # The fp32 step reads a short prime as nn.LSTM does (to float rounding), whatever the
        # sampling arithmetic; nn.LSTM pays milliseconds per call to set up oneDNN, but reads
        # a long prime (a tune to continue) faster: 197 against 588 ms for 1,770 characters.
        state = (zeros, zeros.clone())
        step = cached_stepper(model, "fp32")
        work = step.workspace(state)
        for i in prime_ids[:-1]:
            step([i], state, work=work)
    elif len(prime_ids) > 1:
        _, state = model(torch.tensor([prime_ids[:-1]]), None)
    else:
        state = zeros
    states = state if isinstance(state, tuple) else (state,)
    return tuple(s.repeat(1, count, 1).contiguous() for s in states)


def _next_logits(model: MusicLM, step, work, batch: _Batch) -> Tensor:
    """Read each row's current character; return the logits (B, V) for the next one, the
    unknown symbol's at -inf (the sampler never emits it)."""
    if step is not None:
        return step(batch.current, batch.states, work=work, ban_unknown=True)
    states = batch.states
    out, new = model(torch.tensor(batch.current)[:, None],
                     states if len(states) > 1 else states[0])
    new = new if isinstance(new, tuple) else (new,)
    for s, n in zip(states, new):
        s.copy_(n)
    logits = out[:, -1]
    logits[:, 0] = float("-inf")
    return logits


def _with_title(text: str, title: str | None) -> str:
    if not title or "\nT:" in "\n" + text.split("K:", 1)[0]:
        return text
    first, _, rest = text.partition("\n")
    if first.startswith("X:"):
        return f"{first}\nT:{title.strip()}\n{rest}"
    return f"T:{title.strip()}\n{text}"
