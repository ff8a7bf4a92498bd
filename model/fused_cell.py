"""The fused sampling step: one compiled call for everything after the recurrent matrix.

A candidate of the kernel measurement (model/lstm_step.py, `sampling_choice`) for one
variation: its name is a matrix arithmetic plus FUSED ("int8dyn+fused"); the matrix stays on
torch's kernel, and the cell update with the output layer, then the probabilities with the
draw, run as two numba calls (model/numba_kernels.py) on numpy views of the step's buffers.
It is chosen only where it measures faster. numba is optional: without it, or if its kernels
fail to compile, `kernels()` is None and the step runs torch's calls as before. Compiled code
is cached under the user's cache folder (or $NUMBA_CACHE_DIR), so only the first measurement
on a machine pays for compiling (a few seconds, in the worker that measures).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from model.config import SampleConfig

log = logging.getLogger(__name__)

FUSED = "+fused"
_BELOW_TOTAL = np.float32(1 - 1e-6)   # as model/draw.py's draw_ids


def split(weights: str) -> tuple[str, bool]:
    """Return the matrix arithmetic of a kernel name and whether it is fused."""
    return (weights[:-len(FUSED)], True) if weights.endswith(FUSED) else (weights, False)


def installed() -> bool:
    """Tell whether numba can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def cache_dir() -> Path:
    """Return where numba keeps compiled kernels: $NUMBA_CACHE_DIR, else the user's cache."""
    override = os.environ.get("NUMBA_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("ceol")) / "numba"


@functools.cache
def kernels() -> ModuleType | None:
    """Return model.numba_kernels compiled (or read from the cache) and checked against torch;
    None where numba is missing or fails (logged)."""
    if not installed():
        return None
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("NUMBA_CACHE_DIR", str(folder))
        import numba

        numba.config.CACHE_DIR = str(folder)   # read when a cached function is defined
        from model import numba_kernels

        _check(numba_kernels)
        return numba_kernels
    except Exception as exc:   # a compiler failure may come as any error; torch's path stays
        log.warning("fused sampling kernels unavailable (%s); using torch's", exc)
        return None


def _check(kernels: ModuleType) -> None:
    """Compile every kernel on a small input and compare it with torch; raise if they differ."""
    gen = torch.Generator().manual_seed(0)
    gates, c = torch.randn(4 * 8, generator=gen) * 3, torch.randn(8, generator=gen)
    head, bias = torch.randn(5, 8, generator=gen), torch.randn(5, generator=gen)
    i, f, o, g = gates.view(4, 8)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    c_np, h_np, logits = c.numpy().copy(), np.zeros(8, np.float32), np.zeros(5, np.float32)
    kernels.cell_head(gates.numpy(), c_np, h_np, head.numpy(), bias.numpy(), logits)
    expected = torch.addmv(bias, head, h_new).numpy()
    index, p = kernels.draw(logits, 0.9, 0.5, _BELOW_TOTAL, np.zeros(5, np.float32))
    if not (np.allclose(c_np, c_new.numpy(), atol=1e-5) and np.allclose(logits, expected,
                                                                          atol=1e-4)
            and abs(p - float(torch.softmax(torch.from_numpy(logits), 0)[index])) < 1e-5):
        raise RuntimeError("fused kernels disagree with torch")


class FusedWork:
    """numpy views of one step workspace's buffers (batch 1): per layer (gates, c, h), the
    logits and a scratch row for the cumulative sums."""

    def __init__(self, layers: list[tuple[Tensor, Tensor, Tensor]], logits: Tensor) -> None:
        self.layers = [(gates[0].numpy(), c[0].numpy(), h[0].numpy())
                       for gates, c, h in layers]
        self.logits = logits[0].numpy()
        self.cdf = np.empty_like(self.logits)


def tail(kernels: ModuleType, fused: FusedWork, k: int,
         head: tuple[np.ndarray, np.ndarray] | None) -> None:
    """Run layer k's cell update on its gates; with `head` (weights (V, H), bias (V,)) also the
    output layer into the logits."""
    if head is None:
        kernels.cell(*fused.layers[k])
    else:
        kernels.cell_head(*fused.layers[k], head[0], head[1], fused.logits)


def drawer(kernels: ModuleType, fused: FusedWork,
           config: SampleConfig) -> Callable[[list[float]], tuple[list[int], list[float]]] | None:
    """Return the loop's draw for one variation as one compiled call (the same contract as
    model/draw.py's `pick` on the fused step's logits), or None for settings it does not do
    (top-k, top-p)."""
    if config.count != 1 or config.top_k or config.top_p < 1.0:
        return None
    temperature = float(config.temperature)

    def draw(u: list[float]) -> tuple[list[int], list[float]]:
        index, p = kernels.draw(fused.logits, temperature, u[0], _BELOW_TOTAL, fused.cdf)
        return [index], [p]
    return draw
