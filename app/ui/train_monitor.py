"""What the Train panel shows while a model learns: the loss plot, the progress bar, the
figures (step, loss, speed, time left) and a sample tune from the latest checkpoint.

The panel passes each training report in; the sample is written on its own worker from the
checkpoint file at most every SAMPLE_EVERY_S seconds, so training never waits for it, and
"Keep & play sample" hands it on through `sample_ready`.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QLabel, QPlainTextEdit, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from app.ui import jobs
from app.ui.loss_plot import LossPlot
from app.workers import Job, start_job

SAMPLE_EVERY_S = 20.0


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class TrainMonitor(QWidget):
    """The loss plot, progress bar, figures and sample tune of the running training."""

    sample_ready = Signal(str)       # the sample tune the user chose to keep

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sample_job: Job | None = None
        self._last_sample = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = LossPlot()
        layout.addWidget(self.plot, 1)
        self.progress = QProgressBar()
        self.progress.setToolTip("Training progress")
        layout.addWidget(self.progress)
        self.stats = QLabel("step – · – chars/s · ETA –")
        self.stats.setToolTip("Training step, speed in characters per second, time left")
        layout.addWidget(self.stats)
        self.sample = QPlainTextEdit()
        self.sample.setReadOnly(True)
        self.sample.setMaximumHeight(110)
        self.sample.setPlaceholderText("A sample tune from the model appears here while it trains")
        self.sample.setToolTip("A tune written by the model as it is now")
        layout.addWidget(self.sample)
        self.play_sample = QPushButton("Keep && play sample")
        self.play_sample.setToolTip("Put the sample in the library and show it, while training "
                                    "continues")
        self.play_sample.clicked.connect(self._keep_sample)
        self.play_sample.setEnabled(False)
        layout.addWidget(self.play_sample)

    def clear(self) -> None:
        """Forget the plot and the sample, for a new run."""
        self.plot.clear()
        self.sample.clear()
        self.play_sample.setEnabled(False)

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
        val = f" · validation {p.val_loss:.3f}" if p.val_loss is not None else ""
        self.stats.setText(f"{'Paused · ' if paused else ''}step {p.step} · loss "
                           f"{p.train_loss:.3f}{val} · {p.chars_per_second:,.0f} chars/s · "
                           f"ETA {_duration(p.eta)}")

    # -- the sample tune ----------------------------------------------------------------------
    def restart_sample_clock(self) -> None:
        """Count the time to the next sample from now (a run starts or carries on)."""
        self._last_sample = time.monotonic()

    def sample_due(self) -> bool:
        return time.monotonic() - self._last_sample > SAMPLE_EVERY_S

    def sample_from(self, checkpoint: str, step: int) -> Job | None:
        """Write a tune from the checkpoint file on a worker, unless one is being written."""
        if self.sample_job is not None:
            return None
        self._last_sample = time.monotonic()
        self.sample_job = Job(jobs.sample_checkpoint, checkpoint, step, name="sample")
        self.sample_job.done.connect(self._sampled)
        self.sample_job.finished.connect(self._sample_finished)
        return start_job(self.sample_job)

    @Slot(object)
    def _sampled(self, text: str) -> None:
        self.sample.setPlainText(text)
        self.play_sample.setEnabled(bool(self.sample.toPlainText()))

    @Slot()
    def _sample_finished(self) -> None:
        job, self.sample_job = self.sample_job, None
        if job is not None and job.thread is not None:
            job.thread.wait(1000)

    @Slot()
    def _keep_sample(self) -> None:
        if self.sample.toPlainText():
            self.sample_ready.emit(self.sample.toPlainText())

    def shutdown(self) -> None:
        """Stop writing a sample (on quit)."""
        if self.sample_job is not None:
            self.sample_job.cancel()
            if self.sample_job.thread is not None:
                self.sample_job.thread.wait(5000)
