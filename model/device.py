"""Choosing where tensors live (CUDA, Apple MPS or the CPU), how many CPU threads to use, and
the training arithmetic (fp32 or bf16 autocast): measured on the CPU (`training_kernels`)."""

from __future__ import annotations

import functools
import logging
import os

import torch

from model import kernel_choice
from model.errors import ModelError

log = logging.getLogger(__name__)

# Training windows are timed this long at most: a pass's cost grows with the window, and the
# ranking of the candidates does not change with it.
MEASURE_SEQ_LEN = 16


def resolve_device(name: str = "auto") -> torch.device:
    """Return the torch device for auto, cpu, cuda, cuda:N or mps; ModelError if it is absent."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(f"device {name!r} asked for, but this machine has no CUDA GPU "
                             "(or this torch build has no CUDA); use --device cpu or auto")
        try:
            device = torch.device(name)
        except RuntimeError:
            raise ModelError(f"bad device name {name!r}") from None
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ModelError(f"device {name!r} asked for, but only "
                             f"{torch.cuda.device_count()} CUDA device(s) exist")
        return device
    if name == "mps":
        if not _mps_available():
            raise ModelError("device 'mps' asked for, but Apple MPS is not available here")
        return torch.device("mps")
    raise ModelError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def usable_cores() -> int:
    """Return the cores this process may use, shared among torchrun's local processes."""
    cores = kernel_choice.usable_cores()
    return max(1, cores // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))


def set_threads(threads: int = 0) -> int:
    """Set torch's intra-op CPU threads (0 = every usable core); return the number set.

    Training with threads=0 then times both choices on the real model (see train.py), because
    on a shared machine a thread pool waiting for a busy core is slower than one thread.
    """
    if threads <= 0:
        threads = usable_cores()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def fastest_threads(run_once) -> int:
    """Time `run_once()` with every usable core and with one; set and return the faster count.

    On a shared machine a thread pool that waits for a busy core can be many times slower than
    one thread (15x was measured on a loaded 2-core box); on an idle one, all cores win.
    """
    import time

    cores = usable_cores()
    if cores <= 1:
        torch.set_num_threads(1)
        return 1
    timings: dict[int, float] = {}
    for threads in (cores, 1, cores):  # the first run also warms caches and kernels up
        torch.set_num_threads(threads)
        start = time.perf_counter()
        run_once()
        timings[threads] = min(timings.get(threads, float("inf")), time.perf_counter() - start)
    best = min(timings, key=timings.get)
    torch.set_num_threads(best)
    return best


def training_kernels(model: torch.nn.Module, ids: torch.Tensor, *, precision: str, threads: int,
                     batch_size: int, seq_len: int, device: torch.device) -> torch.dtype | None:
    """Set the CPU threads and return the autocast dtype (None = fp32) to train `model` with.

    On the CPU, "auto" precision and threads=0 are measured: a forward and backward pass on a
    throwaway batch of `ids` (1-D, on the CPU) for each candidate (fp32 and bf16 autocast, 1..all
    cores), remembered per CPU, torch and shape (model/kernel_choice.py). Explicit values are
    kept; under torchrun every process keeps the same flag-based precision. The passes leave
    the weights and the random generators as they were, so seeded runs stay reproducible.
    """
    if device.type != "cpu" or os.environ.get("WORLD_SIZE", "1") != "1":
        if device.type == "cpu":
            set_threads(threads)
        return resolve_precision(precision, device)
    kernels = ["fp32", "bf16"] if precision == "auto" else [precision]
    counts = [threads] if threads > 0 else kernel_choice.thread_candidates(usable_cores())
    if len(kernels) * len(counts) == 1:
        set_threads(counts[0])
        return resolve_precision(kernels[0], device)
    from model.data import random_windows

    window = min(seq_len, MEASURE_SEQ_LEN)
    x, y = random_windows(ids, batch_size, window, torch.Generator().manual_seed(0))

    def prepare(kernel: str):
        dtype = torch.bfloat16 if kernel == "bf16" else torch.float32

        def one_pass():
            with torch.autocast("cpu", dtype=dtype, enabled=kernel == "bf16"):
                logits, _ = model(x)
            torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                              y.reshape(-1)).backward()
        return one_pass

    cfg = getattr(model, "config", None)
    shape = (f"{type(model).__name__} {getattr(cfg, 'cell', '?')} "
             f"{getattr(cfg, 'num_layers', '?')}x{getattr(cfg, 'hidden_size', '?')} "
             f"emb {getattr(cfg, 'embedding_size', '?')} batch {batch_size} window {window} "
             f"of {seq_len} | {','.join(kernels)} on {','.join(map(str, counts))}")
    rng = torch.get_rng_state()
    try:
        choice = kernel_choice.default_store().choose("train", shape, prepare, kernels, counts)
    finally:
        model.zero_grad(set_to_none=True)
        torch.set_rng_state(rng)
    torch.set_num_threads(choice.threads)
    log.info("training in %s on %d CPU thread(s)", choice.kernel, choice.threads)
    return torch.bfloat16 if choice.kernel == "bf16" else None


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """Return the autocast dtype for `precision` on `device` (None = plain fp32); "auto" on a
    CPU without a measurement (see `training_kernels`) is bf16 where it is native."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu" and _cpu_has_native_bf16():
        return torch.bfloat16
    return None


@functools.cache
def _cpu_has_native_bf16() -> bool:
    flags = set((kernel_choice.cpuinfo_value("flags") or "").split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})
