"""The models the window samples from, loaded once and shared by its jobs, under a lock.

Generate jobs and the start-up warm-up run on worker threads and may ask for the same model
file at once: the first loads it, the second waits and gets the same object. A file that was
replaced (new size or modification time) is read again. The `KEEP` most recently used models
stay in memory with their sampling weights: a person switching between two models (or
Generate between the bundled model and a newly trained one) does not read a model again and
rebuild its sampling weights at each switch, which cost the window a passing 45-60 MiB each
time (benchmarks/RESULTS.md, the soak).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

KEEP = 2


class ModelCache:
    """The `keep` most recently used model files, keyed by path; each entry remembers the file's
    modification time and size, so a replaced file is loaded again."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, tuple[tuple[int, int], object]] = OrderedDict()

    def get(self, model_path: str):
        """Return the model file's `ModelFile` (model.checkpoint), loading it if needed.

        Raises FileNotFoundError for a missing file and ModelError for a file that is not a
        Ceol model."""
        from model.checkpoint import load_model

        stat = Path(model_path).stat()
        version = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            held = self._loaded.get(model_path)
            if held is not None and held[0] == version:
                self._loaded.move_to_end(model_path)
                return held[1]
            # forget the old version and the least recently used before loading, so that at
            # most `keep` models are in memory even while the new one loads
            self._loaded.pop(model_path, None)
            while len(self._loaded) >= self.keep:
                self._loaded.popitem(last=False)
            model = load_model(model_path)
            self._loaded[model_path] = (version, model)
            return model

    def paths(self) -> list[str]:
        """The model files held now, least recently used first."""
        with self._lock:
            return list(self._loaded)

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()


MODELS = ModelCache()
