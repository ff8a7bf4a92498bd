"""What the Train panel shows while a model learns and when it is done: the loss plot in bits
per character, the progress bar, the figures (step, losses, speed, time left), the latest
sample tune with the step it came from, and the message that tells how the run ended.

The training loop writes the sample itself, between steps, from a copy of the weights
(model/train_watch.py), and the panel passes it in with the report that carries it; "Open &
play" hands it on through `sample_ready`, and the window shows and plays it in the tune view.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from app.ui.loss_plot import LossPlot


def duration(seconds: float | None) -> str:
    """A duration as M:SS ("–" when unknown)."""
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class TrainMonitor(QWidget):
    """The loss plot, progress bar, figures, sample tune and end message of a training run."""

    sample_ready = Signal(str, int)       # the sample tune the user asked to play, its step

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sample_step: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.RichText)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setFrameShape(QFrame.Shape.StyledPanel)
        self.outcome.setToolTip("How the last run ended and where its model is")
        self.outcome.hide()
        layout.addWidget(self.outcome)
        self.plot = LossPlot()
        layout.addWidget(self.plot, 1)
        self.progress = QProgressBar()
        self.progress.setToolTip("Training progress")
        layout.addWidget(self.progress)
        self.stats = QLabel("step – · – chars/s · ETA –")
        self.stats.setWordWrap(True)
        self.stats.setToolTip("Training step, losses in bits per character, speed in characters "
                              "per second, time left")
        layout.addWidget(self.stats)
        layout.addLayout(self._sample_row())
        self.sample = QPlainTextEdit()
        self.sample.setReadOnly(True)
        self.sample.setMaximumHeight(110)
        self.sample.setPlaceholderText("A tune the model writes as it learns appears here after "
                                       "its first validation")
        self.sample.setToolTip("A tune written by the model as it was at that step")
        layout.addWidget(self.sample)

    def _sample_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.sample_title = QLabel("Sample tune")
        self.sample_title.setToolTip("Written by the model at the step named, while it trains")
        self.play_sample = QPushButton("Open && play")
        self.play_sample.setToolTip("Put the sample in the library, show it in the tune view "
                                    "and play it, while training continues")
        self.play_sample.clicked.connect(self._play_sample)
        self.play_sample.setEnabled(False)
        row.addWidget(self.sample_title, 1)
        row.addWidget(self.play_sample)
        return row

    def clear(self) -> None:
        """Forget the plot, the sample and the last message, for a new run."""
        self.plot.clear()
        self.sample.clear()
        self.sample_step = None
        self.sample_title.setText("Sample tune")
        self.play_sample.setEnabled(False)
        self.outcome.clear()
        self.outcome.hide()

    def show_progress(self, p, step: int, paused: bool, by_minutes: bool) -> None:
        """Draw the bar and the figures from report `p` (None before the first; `step` then),
        marked while paused; a minutes budget fills the bar by time, a steps budget by step."""
        paused = "paused at " if paused else ""
        if p is None:
            self.progress.setFormat(f"{paused}step {step}" if paused else "%p%")
            return
        if by_minutes:
            total = p.elapsed + (p.eta or 0)
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * p.elapsed / total) if total else 0)
            self.progress.setFormat(f"{paused}step {p.step}")
        else:
            self.progress.setRange(0, p.steps)
            self.progress.setValue(p.step)
            self.progress.setFormat(f"{paused}step {p.step} of {p.steps}")
        val = (f" · validation {p.val_bits_per_char:.3f}" if p.val_loss is not None else
               " · validation –")
        self.stats.setText(f"{'Paused · ' if paused else ''}step {p.step} · training "
                           f"{p.train_bits_per_char:.3f}{val} bits/char · "
                           f"{p.chars_per_second:,.0f} chars/s · ETA {duration(p.eta)}")

    def show_sample(self, text: str, step: int) -> None:
        """Show a tune the model wrote at `step`."""
        self.sample_step = step
        self.sample_title.setText(f"Sample tune from step {step:,}")
        self.sample.setPlainText(text)
        self.play_sample.setEnabled(bool(text.strip()))

    def show_outcome(self, html_text: str) -> None:
        """Show how the run ended (rich text) above the plot."""
        self.outcome.setText(html_text)
        self.outcome.show()

    @Slot()
    def _play_sample(self) -> None:
        if self.sample.toPlainText() and self.sample_step is not None:
            self.sample_ready.emit(self.sample.toPlainText(), self.sample_step)
