"""The model the window samples from, loaded once and shared by its jobs, under a lock.

Generate jobs and the start-up warm-up run on worker threads and may ask for the same model
file at once: the first loads it, the second waits and gets the same object. A file that was
replaced (new size or modification time) is read again; one model is kept in memory.
"""

from __future__ import annotations

import threading
from pathlib import Path


class ModelCache:
    """One loaded model file at a time, keyed by path, modification time and size."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, int, int], object] = {}

    def get(self, model_path: str):
        """Return the model file's `LoadedModel` (model.checkpoint), loading it if needed.

        Raises FileNotFoundError for a missing file and ModelError for a file that is not a
        Ceol model."""
        from model.checkpoint import load_model

        stat = Path(model_path).stat()
        key = (model_path, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key not in self._loaded:
                self._loaded.clear()          # keep one model in memory
                self._loaded[key] = load_model(model_path)
            return self._loaded[key]

    def paths(self) -> list[str]:
        """The model files held now."""
        with self._lock:
            return [key[0] for key in self._loaded]

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()


MODELS = ModelCache()
