"""The training progress bar of `python main.py train`: one line on stderr, redrawn in place.

`ProgressBar.update` is the `on_progress` hook `app.training.train_model` calls after each step
(a model.train.Progress); the bar is redrawn at most four times a second, and always for an
evaluation and the last step. A run limited by minutes shows its share of the time instead of
the steps.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from app.training import STEPS_WHEN_TIMED


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most a few times a second."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None,
                 width: int = 24) -> None:
        self.enabled, self.stream, self.width = enabled, stream or sys.stderr, width
        self.last = 0.0
        self.drawn = False

    def update(self, p) -> None:
        """Draw progress `p` (a model.train.Progress), unless the last drawing was too recent."""
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.25 and not p.evaluated and p.step != p.steps):
            return
        self.last = now
        by_time = p.steps >= STEPS_WHEN_TIMED
        if by_time and p.eta is not None:
            done = p.elapsed / max(p.elapsed + p.eta, 1e-9)
        else:
            done = p.step / p.steps
        fill = int(self.width * min(1.0, done))
        val = f" val {p.val_loss / math.log(2):.3f} bpc" if p.val_loss is not None else ""
        eta = f" ETA {clock(p.eta)}" if p.eta is not None else ""
        steps = f"{p.step}" if by_time else f"{p.step}/{p.steps}"
        line = (f"\r[{'#' * fill}{'.' * (self.width - fill)}] step {steps} "
                f"loss {p.train_loss:.3f}{val} {p.chars_per_second:,.0f} chars/s{eta}")
        self.stream.write(line.ljust(100)[:120])
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the line the bar was drawn on (if it was drawn)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def clock(seconds: float) -> str:
    """Return a duration as M:SS, or H:MM:SS from an hour on."""
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"
