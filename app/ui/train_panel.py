"""The Train panel: choose tunes, train from scratch or fine-tune, and watch the model learn.

Start first prepares the data on a worker thread and asks to confirm its summary (tunes,
characters, keys, meters, characters new to the base model, a warning when it is too little),
then trains with `model.train` on another worker. Pause makes that worker wait between
optimiser steps and Resume lets it carry on in place; Stop (paused or not) keeps the model
trained so far. Closing the window stops with a checkpoint that Resume continues in the next
session. The run validates by the clock as well as by steps, so even a one-minute run draws a
validation curve, and writes a short sample tune after some validations (app.training's
watch); when it ends, the panel names the saved model and its held-out score, and the window
selects the model in the Generate panel (`model_saved`). The choices live in the form
(app/ui/train_form.py), the plot, figures, sample and end message in the monitor
(app/ui/train_monitor.py); this panel runs the jobs and keeps the run's state.
"""

from __future__ import annotations

import html
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from app import settings as S
from app.music.normalize import TextOptions
from app.settings import AppPaths, Settings
from app.training import TrainRequest, watch_for_budget
from app.training_data import TrainingData
from app.ui import jobs
from app.ui.model_files import read_model_info
from app.ui.train_form import TrainForm
from app.ui.train_monitor import TrainMonitor
from app.ui.train_summary import confirm_box, counted, outcome_html, summary_html
from app.workers import Job, start_job
from model.config import DEFAULT_PRESET
from model.errors import ModelError
from model.paths import run_files, run_name

log = logging.getLogger(__name__)


class TrainPanel(QWidget):
    status = Signal(str)
    model_saved = Signal(str)        # path of the new model, for Generate to select
    state_changed = Signal(str)      # idle, preparing, training, pausing, paused, stopping
    sample_ready = Signal(str, int)  # a sample tune the user asked to play, and its step
    summary_ready = Signal(dict)

    def __init__(self, paths: AppPaths, settings: Settings,
                 selected_tunes: Callable[[], list[str]] = lambda: [],
                 opened_files: Callable[[], list[str]] = lambda: [],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.paths, self.settings = paths, settings
        self.selected_tunes = selected_tunes     # ABC texts of the tunes selected in the library
        self.opened_files = opened_files         # paths of the files opened in the window
        self.job: Job | None = None
        self.state = "idle"
        self.data: TrainingData | None = None
        self.run_name = ""
        self.last_step = 0
        self.last_progress = None
        self._stop_pressed_at = 0.0
        self.stop_latency: float | None = None
        self._request: dict = {}
        self._resume_after_prepare = False
        self.confirm = self._ask_to_start    # (TrainingData) -> bool; tests replace it
        self._build()
        self._update_buttons()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.form = TrainForm()
        layout.addWidget(self.form)
        buttons = QHBoxLayout()
        self.start_button = self._button("Start", "Check the data, then start training",
                                         self.start)
        self.pause_button = self._button("Pause", "Pause between training steps", self.pause)
        self.resume_button = self._button("Resume", "Carry on from the step where it paused",
                                          self.resume)
        self.stop_button = self._button("Stop", "Stop and keep the model trained so far",
                                        self.stop)
        for b in (self.start_button, self.pause_button, self.resume_button, self.stop_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.summary = QLabel("Choose data and press Start; a summary of the tunes appears here.")
        self.summary.setWordWrap(True)
        self.summary.setToolTip("What the model will learn from")
        layout.addWidget(self.summary)
        self.monitor = TrainMonitor()
        self.monitor.sample_ready.connect(self.sample_ready)
        layout.addWidget(self.monitor, 1)
        self.form.finetune.toggled.connect(self._update_buttons)
        self.refresh_models()

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    @Slot()
    def refresh_models(self) -> None:
        self.form.refresh_models(self.paths.models_dir)
        self._update_buttons()

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_buttons()
        self.state_changed.emit(state)

    @Slot()
    def _update_buttons(self) -> None:
        busy = self.is_training() or self.state == "stopping"
        self.start_button.setEnabled(not busy)
        self.pause_button.setEnabled(self.state == "training")
        self.resume_button.setEnabled(self.state == "paused")
        self.stop_button.setEnabled(self.state in ("training", "paused", "preparing"))
        self.form.set_busy(busy)

    def is_training(self) -> bool:
        """True while a run is alive, paused in place included."""
        return self.state in ("preparing", "training", "pausing") or (
            self.state == "paused" and self.job is not None)

    # -- data -------------------------------------------------------------------------------
    @Slot()
    def start(self) -> Job | None:
        """Prepare the data (summary first), then train."""
        if self.is_training():
            return None
        sources, abcs, name = self.form.data_request(self.opened_files, self.selected_tunes)
        if not sources and not abcs:
            message = {"files": "No files are open: open ABC or MIDI files first",
                       "selected": "No tunes are selected in the library"}.get(
                self.form.data_choice.currentData(), "Nothing to train on")
            self.status.emit(message)
            self.summary.setText(f"<b>{message}.</b>")
            return None
        from model.config import preset

        seq_len = preset(self.form.preset_name()).train.seq_len
        self._request = {"sources": sources, "abcs": abcs, "name": name,
                         "base_model": self.form.base_model_path(), "seq_len": seq_len,
                         "text": asdict(self.form.text_options()),
                         "transpose": self.form.transpose_copies()}
        self.monitor.clear()
        self.last_step, self.last_progress = 0, None
        self.run_name = run_name(name)
        self._set_state("preparing")
        self.summary.setText("Reading the tunes…")
        return self._prepare()

    def _prepare(self) -> Job:
        r = self._request
        self.data = None        # until this request's tunes are read (a stop leaves it None)
        self.job = Job(jobs.prepare_training_data, r["sources"], r["abcs"], r["name"],
                       r["base_model"], r["seq_len"], TextOptions(**r.get("text", {})),
                       r.get("transpose", 0), name="prepare")
        self.job.done.connect(self._data_ready)
        self.job.failed.connect(self._failed)
        self.job.finished.connect(self._job_finished)
        start_job(self.job)
        return self.job

    @Slot(object)
    def _data_ready(self, data: TrainingData | None) -> None:
        if data is None:                # stopped while the tunes were read
            return
        self.data = data
        self.summary.setText(summary_html(data, self.form.base_name()))
        self.summary_ready.emit(dict(data.summary, warnings=data.warnings))

    def summary_box(self, data: TrainingData) -> QMessageBox:
        """The confirmation shown before training: the plan, the data summary, Start / Cancel."""
        base = self.form.base_name()
        plan = (f"Fine-tune {html.escape(base)}" if base else
                f"Train a new '{self.form.preset_name()}' model") + \
            f" for {self.form.budget_text()} on:"
        return confirm_box(self, plan, data, base)

    def _ask_to_start(self, data: TrainingData) -> bool:
        box = self.summary_box(data)
        box.exec()
        accepted = box.buttonRole(box.clickedButton()) == QMessageBox.ButtonRole.AcceptRole
        box.deleteLater()
        return accepted

    def _paths(self) -> tuple[str, str]:
        self.paths.models_dir.mkdir(parents=True, exist_ok=True)
        self.paths.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        model, checkpoint = run_files(self.run_name, self.paths.models_dir,
                                      self.paths.checkpoints_dir)
        return str(model), str(checkpoint)

    def train_request(self, resume: bool) -> TrainRequest:
        """The run the form describes (or the resumable checkpoint, when `resume` and it
        exists), checkpointed at each validation and watched: validations by the clock and
        sample tunes in its reports."""
        out_path, checkpoint = self._paths()
        steps, minutes = self.form.budget()
        if resume and self.last_progress is not None and minutes is not None:
            minutes = max(minutes - self.last_progress.elapsed / 60, 0.05)
        resuming = resume and Path(checkpoint).exists()
        return TrainRequest(preset=self.form.preset_name(), steps=steps, minutes=minutes,
                            out_path=out_path, checkpoint_path=checkpoint,
                            checkpoint_each_evaluation=True,
                            resume_from=checkpoint if resuming else None,
                            init_from=None if resuming else self.form.base_model_path(),
                            train_changes={"threads": self.settings.get(S.TRAIN_THREADS)},
                            **watch_for_budget(steps, minutes))

    def _start_training(self, resume: bool) -> Job:
        request = self.train_request(resume)
        self._set_state("training")
        self.job = Job(jobs.run_training, self.data, request, name="train")
        self.job.progress.connect(self._progress)
        self.job.done.connect(self._trained)
        self.job.failed.connect(self._failed)
        self.job.finished.connect(self._job_finished)
        start_job(self.job)
        return self.job

    # -- controls ---------------------------------------------------------------------------
    @Slot()
    def pause(self) -> None:
        """Hold the run between steps; it stays in memory, so Resume is instant."""
        if self.state == "training" and self.job is not None:
            self.job.pause()
            self._set_state("paused")
            self._show_progress()
            self.status.emit(f"Training paused at step {self.last_step}; Resume carries on")

    @Slot()
    def resume(self) -> Job | None:
        if self.state != "paused":
            return None
        if self.job is not None:       # paused in place: let the worker carry on
            self.job.resume()
            self._set_state("training")
            self._show_progress()
            return self.job
        if self.data is None:          # paused in an earlier session: read the tunes again
            self._resume_after_prepare = True
            self._set_state("preparing")
            return self._prepare()
        return self._start_training(resume=True)

    @Slot()
    def stop(self) -> None:
        self._stop_pressed_at = time.perf_counter()
        if self.state == "paused" and self.job is None:
            self._finish_paused_run()
        elif self.job is not None:
            self._set_state("stopping")
            self.job.cancel()

    def stop_for_exit(self, timeout_ms: int = 15000) -> None:
        """On quit: stop, keep a resumable checkpoint, and remember it for next time."""
        if self.job is not None:
            self._set_state("pausing")
            self.job.cancel()
            if self.job.thread is not None:
                self.job.thread.wait(timeout_ms)
        _, checkpoint = self._paths()
        if Path(checkpoint).exists():
            self.settings.set_state("train_resume", {
                "run_name": self.run_name, "request": self._request,
                "preset": self.form.preset_name(), "finetune": self.form.finetune.isChecked(),
                "step": self.last_step})

    def _finish_paused_run(self) -> None:
        """Stop a run paused in an earlier session: its checkpoint holds the model."""
        out_path, checkpoint = self._paths()
        if Path(out_path).exists():
            self._saved(out_path, None)
        self._set_state("idle")

    # -- worker signals ---------------------------------------------------------------------
    @Slot(object)
    def _progress(self, p) -> None:
        self.last_progress = p
        self.last_step = p.step
        self.monitor.plot.add_point(p.step, p.train_bits_per_char,
                                    p.val_bits_per_char if p.evaluated else None)
        if p.sample is not None:
            self.monitor.show_sample(p.sample, p.step)
        self._show_progress()

    def _show_progress(self) -> None:
        self.monitor.show_progress(self.last_progress, self.last_step, self.state == "paused",
                                   self.form.by_minutes())

    @Slot(object)
    def _trained(self, result) -> None:
        if self._stop_pressed_at:
            self.stop_latency = time.perf_counter() - self._stop_pressed_at
        if self.state == "pausing":
            self.status.emit(f"Training paused at step {result.steps}; Resume carries on")
            return
        if result.path:
            self._saved(result.path, result.summary)
        else:
            self.status.emit(f"Training finished after {counted(result.steps, 'step')}")

    def _saved(self, path: str, training: dict | None) -> None:
        """Hand the saved model on (the window selects it in Generate), then tell the story:
        the file, its held-out score, where to find it. `training` is the model file's
        training summary (read from the file when None)."""
        self.model_saved.emit(path)
        if training is None:
            try:
                training = read_model_info(path).meta.get("training", {})
            except (ModelError, OSError) as exc:
                log.warning("cannot read the model just saved: %s", exc)
                training = {}
        self.monitor.show_outcome(outcome_html(path, training))
        bits = training.get("val_bits_per_char")
        score = f", held-out {bits:.3f} bits/char" if bits is not None else ""
        self.status.emit(f"Training {'stopped' if training.get('stopped') else 'finished'}: "
                         f"model saved as {Path(path).stem}{score}, selected in Generate")

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.status.emit(f"Training failed: {message}")
        self.summary.setText(f"<b>Cannot train:</b> {message}")

    @Slot()
    def _job_finished(self) -> None:
        job, self.job = self.job, None
        if job is not None and job.thread is not None:
            job.thread.wait(2000)
        if job is not None and job.name == "prepare" and not job.error and self.data is not None \
                and self.state == "preparing":
            resume, self._resume_after_prepare = self._resume_after_prepare, False
            if not resume and not self.confirm(self.data):
                self._set_state("idle")
                self.status.emit("Training not started")
                return
            self._start_training(resume=resume)
            return
        if job is not None and job.name == "prepare" and self.state == "stopping":
            self._set_state("idle")
            return
        self._set_state("paused" if self.state == "pausing" and not (job and job.error)
                        else "idle")
        self.refresh_models()

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.cancel()
            if self.job.thread is not None:
                self.job.thread.wait(5000)

    # -- state ------------------------------------------------------------------------------
    def save_state(self) -> dict:
        return self.form.save_state()

    def restore_state(self, state: dict) -> None:
        self.form.restore_state(state)
        self._restore_paused_run(self.settings.state("train_resume"))

    def _restore_paused_run(self, saved: dict) -> None:
        """Offer Resume for a run that was stopped when the window closed."""
        if not saved.get("run_name") or not saved.get("request"):
            return
        self.run_name, self._request = saved["run_name"], saved["request"]
        if not Path(self._paths()[1]).exists():
            return
        self.form.preset.setCurrentText(saved.get("preset", DEFAULT_PRESET))
        self.last_step = int(saved.get("step", 0))
        self._set_state("paused")
        self.summary.setText(f"Training of {self._request.get('name', 'your tunes')} was paused "
                             f"at step {self.last_step} when Ceol closed: press Resume to carry on.")
        self.settings.set_state("train_resume", {})
