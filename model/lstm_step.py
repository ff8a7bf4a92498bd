"""The fast one-character step that sampling runs for LSTM models, and its weights' arithmetic.

`LSTMStepper` does what `nn.LSTM` does for one character at a time, with the first layer's
input gates precomputed per character and the gates computed in place; its recurrent matrices
are kept in fp32, bf16 or int8 (`Matrix`), as `weights_mode` chooses from the model's width,
the batch and the CPU. `cached_stepper` keeps one stepper per arithmetic on the model and
rebuilds it when a weight changes. model/sample.py is the only user.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from model.config import SampleConfig
from model.lm import MusicLM

# From this width on, batch-1 sampling is bound by reading the recurrent weights (4 MB at
# 512, 16 MB at 1024), so "auto" quantises them to int8 (2x faster at 512, 3.7x at 1024 here).
INT8_MIN_HIDDEN = 512


class LSTMStepper:
    """A fast one-character step for LSTM models (precomputed input table, in-place ops).

    `weights` (fp32, bf16 or int8; see `Matrix`) sets how the recurrent matrices are stored
    and multiplied; the cell state, the input table and the output layer stay in fp32.
    """

    def __init__(self, model: MusicLM, weights: str = "fp32") -> None:
        rnn, emb = model.core.rnn, model.core.embedding.weight
        self.weights = weights
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
            else:
                w_in = (Matrix(w_ih, weights), bias)
            self.layers.append((w_in, Matrix(w_hh, weights)))
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
            n = self.hidden
            gates[:, :3 * n].sigmoid_()
            i, f, o, g = gates[:, :n], gates[:, n:2 * n], gates[:, 2 * n:3 * n], gates[:, 3 * n:]
            c.mul_(f).addcmul_(i, g.tanh_())
            torch.mul(o, torch.tanh(c), out=h)
            x = h
        return torch.addmm(self.head_b, x, self.head_w)


class Matrix:
    """y = base + x @ W.T with W (N, K) kept in fp32 (a transposed view), bf16 or int8.

    int8: one scale per row, multiplied with bf16 activations (weight-only quantisation, as in
    gpt-fast); fastest for one variation, where reading the weights bounds the step. bf16:
    fastest for a batch of variations on CPUs with native bf16 (2.6x fp32 for 8 x 512 here).
    """

    def __init__(self, weight: Tensor, weights: str = "fp32") -> None:
        self.t = weight.T  # BLAS reads the transposed view in place
        self.q = self.b = None
        if weights == "int8":
            scale = weight.abs().amax(1).clamp_min(1e-12) / 127  # (N,)
            self.q = torch.round(weight / scale[:, None]).clamp_(-127, 127).to(torch.int8)
            self.scale = scale.to(torch.bfloat16)
        elif weights == "bf16":
            self.b = weight.to(torch.bfloat16).T

    def addmm(self, base: Tensor, x: Tensor) -> Tensor:
        if self.q is not None:
            return base + torch._weight_int8pack_mm(x.to(torch.bfloat16), self.q,
                                                    self.scale).float()
        if self.b is not None:
            return base + torch.mm(x.to(torch.bfloat16), self.b).float()
        return torch.addmm(base, x, self.t)


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
    """Choose the recurrent weights' arithmetic for sampling: fp32, bf16 or int8.

    auto: int8 for one variation from INT8_MIN_HIDDEN units on (reading the weights bounds the
    step), bf16 for a batch where the CPU has native bf16 (the multiply bounds it), else fp32;
    on: int8; bf16: bf16; off: fp32 (exact). The probabilities shown stay within about 1% of
    the fp32 model's either way (tests).
    """
    if config.quantize == "off" or model.config.cell != "lstm":
        return "fp32"
    if config.quantize == "bf16":
        return "bf16"
    if config.quantize == "on":
        return "int8" if int8_works() else "fp32"
    if config.count == 1:
        if model.config.hidden_size >= INT8_MIN_HIDDEN and int8_works():
            return "int8"
        return "fp32"
    from model.device import _cpu_has_native_bf16

    return "bf16" if _cpu_has_native_bf16() else "fp32"
