"""Load torch's shared libraries on a worker thread without holding up the GUI thread.

`import torch` starts by loading libtorch_cpu (hundreds of MB of machine code and static
initialisers) through Python's import machinery, which holds the GIL the whole time: with torch
imported by the window's warm-up thread, the GUI thread could not run a line of Python for
250-950 ms (the start-up stall of the soak in benchmarks/RESULTS.md). The same libraries loaded
first through the C library's `dlopen`, called by ctypes (which releases the GIL around foreign
calls), cost the GUI thread nothing; the import that follows finds them loaded. Linux only (a
no-op elsewhere, where the import simply takes the usual path); never imports torch itself.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

RTLD_NOW = 2
TORCH_LIBRARIES = ("libtorch_cpu.so", "libtorch_python.so")   # the large ones, in load order

_lock = threading.Lock()
_done = False


def torch_library_dir() -> str | None:
    """The folder of torch's shared libraries, found without importing torch (None: none)."""
    spec = importlib.util.find_spec("torch") if "torch" not in sys.modules else None
    if spec is None or not spec.origin:
        return None
    folder = os.path.join(os.path.dirname(spec.origin), "lib")
    return folder if os.path.isdir(folder) else None


def preload_torch_libraries() -> list[str]:
    """dlopen torch's big libraries with the GIL released; return the ones loaded now.

    Call from a worker thread before the first `import torch`; harmless when torch is already
    imported, on other platforms or with another torch layout (the import then loads them).
    """
    global _done
    with _lock:
        if _done or not sys.platform.startswith("linux"):
            return []
        _done = True
        folder = torch_library_dir()
        if folder is None:
            return []
        try:
            libc = ctypes.CDLL("libc.so.6")
        except OSError:
            return []
        libc.dlopen.restype = ctypes.c_void_p
        libc.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        loaded = []
        for name in TORCH_LIBRARIES:
            path = os.path.join(folder, name)
            if os.path.exists(path) and libc.dlopen(path.encode(), RTLD_NOW):
                loaded.append(name)
            else:
                log.debug("not preloaded: %s", path)
                break
        return loaded
