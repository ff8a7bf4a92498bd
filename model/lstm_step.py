"""The fast one-character step that sampling runs for LSTM models, and its weights' arithmetic.

`LSTMStepper` does what `nn.LSTM` does for one character at a time, with the first layer's
input gates precomputed per character and the gates computed in place; its recurrent matrices
are kept in fp32, bf16 or int8 (`Matrix`). `weights_mode` picks the arithmetic: for "auto" the
fastest one measured on this machine for the model's shape and the batch (model/kernel_choice.py,
remembered), together with the thread count (`sampling_threads`). `cached_stepper` keeps one
stepper per arithmetic on the model and rebuilds it when a weight changes. model/sample.py is
the only user.
"""

from __future__ import annotations

import functools
import warnings

import torch
from torch import Tensor

from model import fused_cell, kernel_choice
from model.config import SampleConfig
from model.draw import Uniforms, timing_draw
from model.lm import MusicLM

# Below this width "auto" samples in exact fp32 without measuring: a step of so small a model
# is bound by per-call overheads, which no arithmetic changes, and fp32 repeats exactly.
MEASURE_MIN_HIDDEN = 256
# Threads worth trying for sampling (at most): the matrix kernels split well over a few
# cores; the small element-wise ops stay on one thread either way.
SAMPLE_THREADS = 4
WEIGHTS = ("fp32", "bf16", "int8", "int8dyn")


class LSTMStepper:
    """A fast one-character step for LSTM models (precomputed input table, in-place ops).

    `weights` (fp32, bf16 or int8; see `Matrix`) sets how the recurrent matrices are stored
    and multiplied; the cell state, the input table and the output layer stay in fp32. With
    FUSED appended ("int8+fused") one variation's cell updates, output layer and draw run as
    compiled calls (model/fused_cell.py), where numba works; torch's calls otherwise.
    """

    def __init__(self, model: MusicLM, weights: str = "fp32") -> None:
        rnn, emb = model.core.rnn, model.core.embedding.weight
        self.weights = weights
        weights, fused = fused_cell.split(weights)
        self.kernels = fused_cell.kernels() if fused else None
        self.hidden = rnn.hidden_size
        n = rnn.hidden_size
        # torch orders the gates i, f, g, o; reorder the rows to i, f, o, g so one sigmoid
        # covers three gates.
        order = torch.cat([torch.arange(0, 2 * n), torch.arange(3 * n, 4 * n),
                           torch.arange(2 * n, 3 * n)])
        self.layers = []
        for k in range(rnn.num_layers):
            w_ih = getattr(rnn, f"weight_ih_l{k}")[order]
            w_hh = getattr(rnn, f"weight_hh_l{k}")[order]
            bias = (getattr(rnn, f"bias_ih_l{k}") + getattr(rnn, f"bias_hh_l{k}"))[order]
            if k == 0:  # one row of input gates per character: (V, 4H)
                w_in = torch.addmm(bias, emb, w_ih.T)
                self.rows = w_in.split(1)   # the same rows as (1, 4H) views, for one id
            else:
                w_in = (Matrix(w_ih, weights), bias)
            self.layers.append((w_in, Matrix(w_hh, weights)))
        self.head_rows, self.head_b = model.head.weight, model.head.bias  # (V, H), (V,)
        self.head_w = self.head_rows.T
        self.head_b_banned = self.head_b.detach().clone()
        self.head_b_banned[0] = float("-inf")
        self.head_np = (self.head_rows.detach().numpy(), self.head_b.detach().numpy(),
                        self.head_b_banned.numpy())

    def __call__(self, ids: Tensor | list[int], state: tuple[Tensor, Tensor], *,
                 work: StepWork | None = None, ban_unknown: bool = False) -> Tensor:
        """ids (B,), a tensor or a list of ints -> logits (B, V); state (h, c) each (L, B, H)
        is updated in place.

        `work`: `self.workspace(state)`, made once for many steps on the same state (a
        sampling run), so a step runs no torch call beyond the arithmetic: right after the
        recurrent matrix has streamed through the caches every call costs several times its
        warm price. With one row the logits are written into `work` and stay valid until its
        next step. `ban_unknown`: the unknown symbol's logit is -inf.
        """
        work = work or self.workspace(state)
        x, last = None, len(self.layers) - 1
        for k, ((w_in, w_hh), (h, c, gates, ifo, i, f, o, g, tanh_c)) in enumerate(
                zip(self.layers, work.layers)):
            if k == 0:
                base = self.rows[ids[0]] if isinstance(ids, list) and len(ids) == 1 \
                    else w_in[torch.as_tensor(ids)]
            else:
                base = w_in[0].addmm(w_in[1], x)
            w_hh.addmm(base, h, out=gates)  # (B, 4H): i, f, o, g
            if work.fused is not None:   # compiled: the cell, and after the last the head
                head = (self.head_np[0], self.head_np[2 if ban_unknown else 1])
                fused_cell.tail(self.kernels, work.fused, k, head if k == last else None)
                x = h
                continue
            ifo.sigmoid_()
            c.mul_(f).addcmul_(i, g.tanh_())
            torch.mul(o, torch.tanh(c, out=tanh_c), out=h)
            x = h
        if work.fused is not None:
            return work.logits
        bias = self.head_b_banned if ban_unknown else self.head_b
        if work.h_row is None:
            return torch.addmm(bias, x, self.head_w)
        # one row: the matrix-vector product (the same sums, less of MKL's code to run cold)
        torch.addmv(bias, self.head_rows, work.h_row, out=work.logits[0])
        return work.logits

    def workspace(self, state: tuple[Tensor, Tensor]) -> StepWork:
        """Return per-layer views of `state` and gate buffers for steps on that state."""
        work = StepWork(state, self.hidden, self.head_b.shape[0])
        if self.kernels is not None and work.h_row is not None:
            work.fused = fused_cell.FusedWork([(gates, c, h) for h, c, gates, *_ in work.layers],
                                              work.logits)
        return work

    def drawer(self, work: StepWork, config: SampleConfig):
        """Return the compiled draw for steps on `work` under `config` (a function of the
        step's uniform numbers -> ids, probabilities, as model/draw.py's `pick`), or None where
        the loop draws with torch."""
        if work.fused is None:
            return None
        return fused_cell.drawer(self.kernels, work.fused, config)


class StepWork:
    """What one run of steps on one state reuses: per layer the views h, c (B, H), the gate
    buffer (B, 4H) and its views (sigmoid gates i, f, o together, then each gate), and a
    buffer for tanh(c); for one row also the logits. Belongs to one caller (one thread)."""

    def __init__(self, state: tuple[Tensor, Tensor], hidden: int, vocab_size: int) -> None:
        h_all, c_all = state
        batch = h_all.shape[1]
        # one row: the last layer's h as a vector (H,) and the logits (1, V) for the head
        self.h_row = h_all[-1, 0] if batch == 1 else None
        self.logits = torch.empty(batch, vocab_size)
        self.fused: fused_cell.FusedWork | None = None   # numpy views for the compiled step
        self.layers = []
        for h, c in zip(h_all, c_all):
            gates = torch.empty(batch, 4 * hidden)
            split = gates.view(batch, 4, hidden)
            self.layers.append((h, c, gates, split[:, :3], *split.unbind(1),
                                torch.empty(batch, hidden)))


class Matrix:
    """y = base + x @ W.T with W (N, K) kept in fp32 (a transposed view), bf16 or int8.

    int8: one scale per row, multiplied with bf16 activations (weight-only quantisation, as in
    gpt-fast); reading 4x fewer bytes helps where reading the weights bounds the step (one
    variation). int8dyn: the same weights through fbgemm/oneDNN's dynamic quantised linear
    (activations quantised per call, integer dot products: VNNI/AMX where the CPU has them).
    bf16: the multiply in bf16 (native on AVX512-BF16/AMX CPUs). Which is fastest depends on
    the CPU and the batch, so "auto" measures them (`weights_mode`).
    """

    def __init__(self, weight: Tensor, weights: str = "fp32") -> None:
        # fp32: BLAS reads the transposed view in place. The other arithmetics keep only their
        # own copy (the fp32 one, 4 MiB per matrix of the bundled model, would stay for nothing).
        self.t = weight.T if weights not in ("int8", "int8dyn", "bf16") else None
        self.q = self.b = self.packed = None
        if weights in ("int8", "int8dyn"):
            scale = weight.abs().amax(1).clamp_min(1e-12) / 127  # (N,)
            q = torch.round(weight / scale[:, None]).clamp_(-127, 127).to(torch.int8)
            if weights == "int8dyn":
                self.packed = _prepack_int8(q, scale)
            else:
                self.q, self.scale = q, scale.to(torch.bfloat16)
        elif weights == "bf16":
            self.b = weight.to(torch.bfloat16).T

    def addmm(self, base: Tensor, x: Tensor, out: Tensor | None = None) -> Tensor:
        """Return base + x @ W.T (fp32), written into `out` if given."""
        if self.packed is not None:
            # reduce_range: 7-bit activations, so CPUs without VNNI cannot overflow the
            # 16-bit sums of their u8 x s8 products
            y = torch.ops.quantized.linear_dynamic(x, self.packed, True)
        elif self.q is not None:
            y = torch._weight_int8pack_mm(x.to(torch.bfloat16), self.q, self.scale)
        elif self.b is not None:
            y = torch.mm(x.to(torch.bfloat16), self.b)
        else:
            return torch.addmm(base, x, self.t, out=out)
        # bf16 products are widened to fp32 by the add itself
        return torch.add(base, y, out=out) if out is not None else torch.add(base, y)


@functools.cache
def int8_works() -> bool:
    """Tell whether this torch build has the CPU int8 weight-only matmul."""
    try:
        q = torch.ones(8, 32, dtype=torch.int8)
        out = torch._weight_int8pack_mm(torch.ones(1, 32, dtype=torch.bfloat16), q,
                                        torch.ones(8, dtype=torch.bfloat16))
        return bool(out.float()[0, 0] == 32)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def _prepack_int8(q: Tensor, scale: Tensor):
    """Pack int8 rows (N, K) with per-row `scale` for torch.ops.quantized.linear_dynamic."""
    with warnings.catch_warnings():   # quantised tensors are deprecated, the op is not (yet)
        warnings.simplefilter("ignore")
        qw = torch._make_per_channel_quantized_tensor(q, scale.double(),
                                                      torch.zeros_like(scale, dtype=torch.long),
                                                      0)
        return torch.ops.quantized.linear_prepack(qw, None)


@functools.cache
def int8dyn_works() -> bool:
    """Tell whether this torch build has the dynamic quantised linear on the CPU."""
    try:
        m = Matrix(torch.eye(8, 32), "int8dyn")
        out = m.addmm(torch.zeros(1, 8), torch.ones(1, 32))
        return bool(abs(float(out[0, 0]) - 1.0) < 0.05)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def available_weights() -> list[str]:
    """Return the recurrent weights' arithmetics this torch build can run."""
    works = {"fp32": True, "bf16": True, "int8": int8_works(), "int8dyn": int8dyn_works()}
    return [w for w in WEIGHTS if works[w]]


def cached_stepper(model: MusicLM, weights: str) -> LSTMStepper:
    """Return the model's cached stepper for `weights` (fp32, bf16, int8), rebuilt when any
    weight changed since."""
    key = (tuple(p._version for p in model.parameters()), id(model.head))
    cache = getattr(model, "_ceol_steppers", None)
    if cache is None or cache[0] != key:
        cache = (key, {})
        model._ceol_steppers = cache
    if weights not in cache[1]:
        cache[1][weights] = LSTMStepper(model, weights=weights)
    return cache[1][weights]


def weights_mode(model: MusicLM, config: SampleConfig) -> str:
    """Choose the sampling arithmetic: fp32, bf16, int8 or int8dyn, fused or not.

    auto: the fastest measured on this machine for the model's shape and `config.count`
    (`sampling_choice`; small models and other cells: fp32), possibly with FUSED appended
    (model/fused_cell.py); on: int8; bf16: bf16; off: fp32
    (exact). The probabilities shown stay within about 1% of the fp32 model's either way
    (tests).
    """
    if config.quantize == "off" or model.config.cell != "lstm":
        return "fp32"
    if config.quantize == "bf16":
        return "bf16"
    if config.quantize == "on":
        return "int8" if int8_works() else "fp32"
    choice = sampling_choice(model, config.count)
    if choice is None:
        return "fp32"
    weights, fused = fused_cell.split(choice.kernel)
    # a fused choice remembered before numba went missing runs (and is named) unfused
    return choice.kernel if not fused or fused_cell.kernels() is not None else weights


def sampling_threads(model: MusicLM, config: SampleConfig) -> int:
    """Return the thread count to sample with: the measured one for "auto", else up to
    SAMPLE_THREADS but never more than torch has now."""
    current = torch.get_num_threads()
    if config.quantize == "auto" and model.config.cell == "lstm":
        choice = sampling_choice(model, config.count)
        if choice is not None:
            return choice.threads
    return max(1, min(current, SAMPLE_THREADS))


def sampling_choice(model: MusicLM, count: int) -> kernel_choice.KernelChoice | None:
    """Return the measured (or remembered) fastest weights and threads for sampling `count`
    variations of this LSTM model; None below MEASURE_MIN_HIDDEN units."""
    cfg = model.config
    if cfg.cell != "lstm" or cfg.hidden_size < MEASURE_MIN_HIDDEN:
        return None
    batch = 1 << max(0, count - 1).bit_length()   # 1, 2, 4, 8, ...: one measurement each
    # The recurrent matrices are what the arithmetic changes: the embedding is a table look-up
    # and the output layer is small, so models differing only in those share a measurement.
    shape = f"lstm {cfg.num_layers}x{cfg.hidden_size} batch {batch}"

    def prepare(weights: str):
        with torch.no_grad():
            step = LSTMStepper(model, weights=weights)
        ids = [0] * batch    # as the sampling loop calls it
        state = torch.zeros(cfg.num_layers, batch, cfg.hidden_size)
        state = (state, state.clone())
        work = step.workspace(state)
        draw = _timing_draw(step, work, batch)

        def run():
            # the loop's path: each step, then its probabilities and draw (the same for every
            # kernel, but their torch calls run as cold as the kernel leaves the caches)
            with torch.inference_mode():
                for _ in range(8):
                    draw(step(ids, state, work=work, ban_unknown=True))
        return run

    return kernel_choice.default_store().choose(
        "sample", shape, prepare, lambda: sampling_candidates(batch),
        kernel_choice.thread_candidates(SAMPLE_THREADS))


def sampling_candidates(batch: int) -> list[str]:
    """Return the kernels worth measuring for sampling `batch` variations: every arithmetic
    this torch build runs, and for one variation each of them fused where numba compiles
    (model/fused_cell.py; the compiling happens here, in the caller's thread)."""
    weights = available_weights()
    if batch == 1 and fused_cell.installed() and fused_cell.kernels() is not None:
        return weights + [w + fused_cell.FUSED for w in weights]
    return weights


def _timing_draw(step: LSTMStepper, work: StepWork, batch: int):
    """Return what the loop does with each step's logits under the default settings."""
    config = SampleConfig(count=batch)
    fused = step.drawer(work, config)
    if fused is None:
        return timing_draw(batch)
    uniforms = Uniforms(torch.Generator().manual_seed(0), batch)
    return lambda logits: fused(uniforms.take())
