"""Compiled (numba) kernels for one-variation sampling: everything after the recurrent matrix.

After the int8 recurrent matrix has streamed through the caches, every small torch call costs
several times its warm price (benchmarks/RESULTS.md, "Kernels measured per CPU"); these kernels
do the gate nonlinearities, the cell and hidden update, the output layer and the draw in two
calls instead of about thirteen. They work on numpy views of the step's own tensors, in
float32; `exp` is a polynomial that the compiler vectorises (libm's is called one value at a
time), within about one unit in the last place of the true value. Only model/fused_cell.py
imports this module, after pointing numba's cache at the user's cache folder.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# No "nnan"/"ninf": banned characters' logits are -inf and must stay so. "reassoc" lets the
# output layer's sums and the softmax's sums be vectorised (summed in another order than MKL's).
_FAST = {"reassoc", "contract", "nsz", "arcp", "afn"}
# error_model "numpy": a division by zero gives inf instead of raising, so divisions vectorise.
_JIT = dict(cache=True, nogil=True, boundscheck=False, error_model="numpy", fastmath=_FAST)
_F = np.float32


@njit(inline="always", **_JIT)
def _exp(x):
    """e**x in float32 (0 below -87, e**88 above 88): 2**n times a polynomial (Cephes expf)."""
    y = min(max(x, _F(-87.0)), _F(88.0))
    n = np.floor(y * _F(1.44269504) + _F(0.5))
    r = y - n * _F(0.693359375) + n * _F(2.12194440e-4)
    p = _F(1.9875691500e-4)
    p = p * r + _F(1.3981999507e-3)
    p = p * r + _F(8.3334519073e-3)
    p = p * r + _F(4.1665795894e-2)
    p = p * r + _F(1.6666665459e-1)
    p = p * r + _F(5.0000001201e-1)
    p = p * r * r + r + _F(1.0)
    scale = np.int32((np.int32(n) + np.int32(127)) << np.int32(23)).view(np.float32)
    return p * scale if x >= _F(-87.0) else _F(0.0)


@njit(inline="always", **_JIT)
def _sigmoid(x):
    return _F(1.0) / (_F(1.0) + _exp(-x))


@njit(inline="always", **_JIT)
def _tanh(x):
    return _F(1.0) - _F(2.0) / (_F(1.0) + _exp(x + x))


@njit(**_JIT)
def cell(gates, c, h):
    """One LSTM cell update in place: gates (4H,) ordered i, f, o, g; c and h (H,)."""
    n = c.shape[0]
    for j in range(n):
        cj = _sigmoid(gates[n + j]) * c[j] + _sigmoid(gates[j]) * _tanh(gates[3 * n + j])
        c[j] = cj
        h[j] = _sigmoid(gates[2 * n + j]) * _tanh(cj)


@njit(**_JIT)
def cell_head(gates, c, h, head, bias, logits):
    """`cell`, then the output layer: logits (V,) = bias (V,) + head (V, H) @ h."""
    cell(gates, c, h)
    n = h.shape[0]
    for v in range(head.shape[0]):
        total = _F(0.0)
        for j in range(n):
            total += head[v, j] * h[j]
        logits[v] = bias[v] + total


@njit(**_JIT)
def _softmax_into(logits, temperature, out):
    """out (V,) = softmax(logits / temperature); return nothing."""
    top = logits.max() / temperature
    total = _F(0.0)
    for v in range(logits.shape[0]):
        e = _exp(logits[v] / temperature - top)
        out[v] = e
        total += e
    for v in range(logits.shape[0]):
        out[v] = out[v] / total


@njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def draw(logits, temperature, u, below_total, cdf):
    """Draw one index from softmax(logits / temperature) (V,) with the uniform number u; return
    it and its probability at temperature 1. `cdf` (V,) is scratch.

    As model/draw.py's `draw_ids`: float32 cumulative sums accumulated in float64 (as torch's
    cumsum does), the point u * (total * below_total) rounded to float32, the first sum above it.
    """
    _softmax_into(logits, _F(temperature), cdf)
    running = 0.0
    for v in range(cdf.shape[0]):
        running += np.float64(cdf[v])
        cdf[v] = _F(running)
    last = cdf.shape[0] - 1
    point = _F(np.float64(u) * np.float64(_F(np.float64(cdf[last]) * np.float64(below_total))))
    lo, hi = 0, cdf.shape[0]
    while lo < hi:   # bisect_right
        mid = (lo + hi) // 2
        if point < cdf[mid]:
            hi = mid
        else:
            lo = mid + 1
    index = min(lo, last)
    _softmax_into(logits, _F(1.0), cdf)
    return index, np.float64(cdf[index])

