"""Logging for the desktop app: a rotating log file in the user's log folder plus stderr."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_NAME = "ceol.log"


def setup_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Send log records to log_dir/ceol.log (1 MB x 3 files); return the file's path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_ceol", False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._ceol = True
    root.addHandler(handler)
    root.setLevel(level)
    return path
