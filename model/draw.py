"""How the sampling loop turns a step's logits into characters: filters, uniform numbers, the
inverse-CDF draw. Shared by the loop (model/sample.py) and the kernel measurement, which times
each step together with its draw (model/lstm_step.py).
"""

from __future__ import annotations

import struct
from bisect import bisect_right

import torch
from torch import Tensor

from model.config import SampleConfig

_FLOAT32 = struct.Struct("f")


def _f32(x: float) -> float:
    """Round x to the nearest float32, as torch's float32 arithmetic does."""
    return _FLOAT32.unpack(_FLOAT32.pack(x))[0]


_BELOW_TOTAL = _f32(1 - 1e-6)


def draw_ids(probs: Tensor, u: list[float]) -> list[int]:
    """One index per row, drawn from `probs` (B, V) by inverse CDF with `u` (B uniform numbers
    in [0, 1), see `Uniforms`; cheaper than multinomial for one draw); only characters with
    probability above 0 can be drawn.

    Draws what torch.searchsorted(cdf, u * (cdf[:, -1:] * (1 - 1e-6)), right=True) would: the
    point and the search are done in Python on the exact float32 values (the product of two
    float32 values is exact in a Python float, then rounded once), which for rows of ~100
    characters costs less than the four torch calls it replaces.
    """
    cdf = probs.cumsum(-1).tolist()
    last = probs.shape[1] - 1
    # A point strictly below each row's total, so the first cdf value above it is where a
    # character with probability above 0 begins (1e-6 of the last one's mass is ignored).
    return [min(bisect_right(row, _f32(r * _f32(row[-1] * _BELOW_TOTAL))), last)
            for row, r in zip(cdf, u)]


def pick(logits: Tensor, config: SampleConfig, plain: bool,
          u: list[float]) -> tuple[list[int], list[float]]:
    """Draw one character per row of `logits` (B, V) with the uniform numbers `u`; return the
    ids and the model's probability of each (softmax at temperature 1, before filtering)."""
    model_p = torch.softmax(logits, dim=-1)
    ids = draw_ids(model_p if plain else filter_probs(logits, config), u)
    return ids, [p[i] for p, i in zip(model_p.tolist(), ids)]


def timing_draw(count: int):
    """Return what the sampling loop does with each step's logits under the default settings,
    so that kernels are timed on the path the loop runs (model/lstm_step.py)."""
    config = SampleConfig(count=count)
    uniforms = Uniforms(torch.Generator().manual_seed(0), count)
    return lambda logits: pick(logits, config, False, uniforms.take())


class Uniforms:
    """The loop's uniform numbers: `count` per step, the same ones in the same order as
    torch.rand(count, generator=gen) every step, drawn many steps at a time (one torch call per
    block instead of per step)."""

    def __init__(self, gen: torch.Generator, count: int) -> None:
        self.gen, self.count = gen, count
        self.block = count * max(1, 1024 // count)
        self.numbers: list[float] = []
        self.pos = 0

    def take(self) -> list[float]:
        """Return the next step's `count` numbers."""
        if self.pos == len(self.numbers):
            self.numbers, self.pos = torch.rand(self.block, generator=self.gen).tolist(), 0
        self.pos += self.count
        return self.numbers[self.pos - self.count:self.pos]


def filter_probs(logits: Tensor, config: SampleConfig) -> Tensor:
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
