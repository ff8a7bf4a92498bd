"""Choosing where tensors live (CUDA, Apple MPS or the CPU) and how many CPU threads to use."""

from __future__ import annotations

import functools
import os

import torch

from model.errors import ModelError


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
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
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


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """Return the autocast dtype for `precision` on `device` (None = plain fp32)."""
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
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False
