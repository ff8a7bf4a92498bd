"""Give memory that is free inside the C heap back to the system (glibc's malloc_trim).

Each job thread (training, sampling, engraving) gets its own malloc arena; what a job freed
stays in its arena, so the window's resident memory only ever grew in steps (the soak in
benchmarks/RESULTS.md: +20% between trims). The GUI's garbage collector trims after each full
collection, and every worker job trims when it ends, on its own thread, at most once every
`MIN_INTERVAL_S` (a trim of a 600 MB heap takes about 10 ms). A no-op where there is no glibc.
"""

from __future__ import annotations

import sys
import threading
import time

MIN_INTERVAL_S = 1.0

_libc = None
_lock = threading.Lock()
_last = 0.0


def release_free_memory() -> None:
    """Return the free pages of every malloc arena to the system, now."""
    global _libc
    if not sys.platform.startswith("linux") or _libc is False:
        return
    try:
        if _libc is None:
            import ctypes

            _libc = ctypes.CDLL("libc.so.6")
        _libc.malloc_trim(0)
    except (OSError, AttributeError):
        _libc = False


def release_after_job(now=time.monotonic) -> bool:
    """Trim after a job unless another trim ran in the last MIN_INTERVAL_S; True if it ran."""
    global _last
    with _lock:
        if now() - _last < MIN_INTERVAL_S:
            return False
        _last = now()
    release_free_memory()
    return True
