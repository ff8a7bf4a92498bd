"""The Train panel: choose tunes, train from scratch or fine-tune, and watch the model learn.

Start first prepares the data on a worker thread and asks to confirm its summary (tunes,
characters, keys, meters, characters new to the base model, a warning when it is too little),
then trains with `model.train` on another worker. Pause makes that worker wait between
optimiser steps and Resume lets it carry on in place; Stop (paused or not) keeps the model
trained so far, which then appears in the Generate panel's picker. Closing the window stops
with a checkpoint that Resume continues in the next session. A sample tune is written from the
latest checkpoint at intervals while training continues.
"""

from __future__ import annotations

import html
import logging
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout,
                               QHBoxLayout, QLabel, QMessageBox, QPlainTextEdit, QProgressBar,
                               QPushButton, QRadioButton, QVBoxLayout, QWidget)

from app import settings as S
from app.settings import AppPaths, Settings
from app.ui import jobs
from app.ui.loss_plot import LossPlot
from app.training_data import TrainingData
from app.ui.model_files import list_models
from app.workers import Job, start_job
from model.config import DEFAULT_PRESET, PRESETS

log = logging.getLogger(__name__)
DATA_CHOICES = (("Celtic corpus (built-in)", "celtic"), ("Essen corpus (built-in)", "essen"),
                ("Opened files", "files"), ("Selected tunes", "selected"))
SAMPLE_EVERY_S = 20.0


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def summary_html(data: TrainingData, base_name: str | None = None) -> str:
    """The data summary as rich text: counts, top keys and meters, new characters, warnings."""
    s = data.summary
    keys = ", ".join(f"{k} {n}" for k, n in list(s["keys"].items())[:6]) or "–"
    meters = ", ".join(f"{k} {n}" for k, n in list(s["meters"].items())[:5]) or "–"
    text = (f"<b>{s['tunes']:,} tunes</b> ({s['train_tunes']:,} train, {s['valid_tunes']:,} "
            f"validation), {s['characters']:,} characters.<br>Keys: {html.escape(keys)}<br>"
            f"Meters: {html.escape(meters)}")
    if "new_characters" in s:
        new = s["new_characters"]
        model = f" to {html.escape(base_name)}" if base_name else ""
        text += (f"<br>New characters{model}: {len(new)} "
                 f"({html.escape(repr(new[:30]))})" if new else
                 f"<br>New characters{model}: none, the model knows them all")
    if s.get("too_small"):
        text += "<br><b><font color='#b35900'>⚠ Too little data to learn from.</font></b>"
    for warning in data.warnings:
        text += f"<br><font color='#b35900'>⚠ {html.escape(warning)}</font>"
    return text


class TrainPanel(QWidget):
    status = Signal(str)
    model_saved = Signal(str)        # path of the new model
    state_changed = Signal(str)      # idle, preparing, training, pausing, paused, stopping
    sample_ready = Signal(str)
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
        self.sample_job: Job | None = None
        self.state = "idle"
        self.data: TrainingData | None = None
        self.run_name = ""
        self.last_step = 0
        self.last_progress = None
        self._last_sample = 0.0
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
        form = QFormLayout()
        self.data_choice = QComboBox()
        for label, value in DATA_CHOICES:
            self.data_choice.addItem(label, value)
        self.data_choice.setToolTip("The tunes to learn from; MIDI files among opened files are "
                                    "transcribed to ABC")
        form.addRow("Data:", self.data_choice)
        self.scratch = QRadioButton("From scratch")
        self.scratch.setToolTip("A new model with the chosen preset's size")
        self.finetune = QRadioButton("Fine-tune")
        self.finetune.setToolTip("Continue training an existing model on these tunes")
        self.scratch.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.scratch)
        group.addButton(self.finetune)
        self.preset = QComboBox()
        for name, preset in PRESETS.items():
            self.preset.addItem(name)
            self.preset.setItemData(self.preset.count() - 1, preset.note,
                                    Qt.ItemDataRole.ToolTipRole)
        self.preset.setCurrentText(DEFAULT_PRESET)
        self.preset.setToolTip("; ".join(f"{name}: {p.note}" for name, p in PRESETS.items()))
        self.base_model = QComboBox()
        self.base_model.setToolTip("The model to fine-tune")
        row = QGridLayout()
        row.addWidget(self.scratch, 0, 0)
        row.addWidget(self.preset, 0, 1)
        row.addWidget(self.finetune, 1, 0)
        row.addWidget(self.base_model, 1, 1)
        form.addRow("Start:", row)
        budget = QHBoxLayout()
        self.budget_value = QDoubleSpinBox()
        self.budget_value.setRange(0.1, 100000)
        self.budget_value.setDecimals(1)
        self.budget_value.setValue(15)
        self.budget_value.setToolTip("How long to train")
        self.budget_unit = QComboBox()
        self.budget_unit.addItems(["minutes", "steps"])
        self.budget_unit.setToolTip("Budget in wall-clock minutes or optimiser steps")
        budget.addWidget(self.budget_value)
        budget.addWidget(self.budget_unit)
        form.addRow("Budget:", budget)
        layout.addLayout(form)
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
        self.play_sample = self._button("Keep && play sample", "Put the sample in the library "
                                        "and show it, while training continues", self._keep_sample)
        layout.addWidget(self.play_sample)
        self.finetune.toggled.connect(self._update_buttons)
        self.refresh_models()

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    @Slot()
    def refresh_models(self) -> None:
        current = self.base_model.currentData()
        self.base_model.clear()
        for info in list_models(self.paths.models_dir):
            self.base_model.addItem(info.name, str(info.path))
            self.base_model.setItemData(self.base_model.count() - 1, info.describe(), 3)
        index = self.base_model.findData(current)
        self.base_model.setCurrentIndex(max(index, 0))
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
        self.preset.setEnabled(self.scratch.isChecked() and not busy)
        self.base_model.setEnabled(self.finetune.isChecked() and not busy)
        self.finetune.setEnabled(self.base_model.count() > 0)
        if not self.base_model.count():
            self.finetune.setToolTip("No model to fine-tune yet")
        self.play_sample.setEnabled(bool(self.sample.toPlainText()))

    def is_training(self) -> bool:
        """True while a run is alive, paused in place included."""
        return self.state in ("preparing", "training", "pausing") or (
            self.state == "paused" and self.job is not None)

    # -- data -------------------------------------------------------------------------------
    def _data_request(self) -> tuple[list[str], list[str], str]:
        choice = self.data_choice.currentData()
        if choice in ("celtic", "essen"):
            return [choice], [], choice
        if choice == "files":
            return list(self.opened_files()), [], "opened files"
        return [], list(self.selected_tunes()), "selected tunes"

    def preset_name(self) -> str:
        if self.finetune.isChecked():
            return DEFAULT_PRESET
        return self.preset.currentText()

    def base_model_path(self) -> str | None:
        return self.base_model.currentData() if self.finetune.isChecked() else None

    @Slot()
    def start(self) -> Job | None:
        """Prepare the data (summary first), then train."""
        if self.is_training():
            return None
        sources, abcs, name = self._data_request()
        if not sources and not abcs:
            message = {"files": "No files are open: open ABC or MIDI files first",
                       "selected": "No tunes are selected in the library"}.get(
                self.data_choice.currentData(), "Nothing to train on")
            self.status.emit(message)
            self.summary.setText(f"<b>{message}.</b>")
            return None
        from model.config import preset

        seq_len = preset(self.preset_name()).train.seq_len
        self._request = {"sources": sources, "abcs": abcs, "name": name,
                         "base_model": self.base_model_path(), "seq_len": seq_len}
        self.plot.clear()
        self.sample.clear()
        self.last_step, self.last_progress = 0, None
        self.run_name = f"{name.replace(' ', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
        self._set_state("preparing")
        self.summary.setText("Reading the tunes…")
        return self._prepare()

    def _prepare(self) -> Job:
        r = self._request
        self.job = Job(jobs.prepare_training_data, r["sources"], r["abcs"], r["name"],
                       r["base_model"], r["seq_len"], name="prepare")
        self.job.done.connect(self._data_ready)
        self.job.failed.connect(self._failed)
        self.job.finished.connect(self._job_finished)
        start_job(self.job)
        return self.job

    @Slot(object)
    def _data_ready(self, data: TrainingData) -> None:
        self.data = data
        self.summary.setText(summary_html(data, self._base_name()))
        self.summary_ready.emit(dict(data.summary, warnings=data.warnings))

    def _base_name(self) -> str | None:
        return self.base_model.currentText() if self.finetune.isChecked() else None

    def summary_box(self, data: TrainingData) -> QMessageBox:
        """The confirmation shown before training: the data summary, Start training / Cancel."""
        base = self._base_name()
        budget = f"{self.budget_value.value():g} {self.budget_unit.currentText()}"
        plan = (f"Fine-tune {html.escape(base)}" if base else
                f"Train a new '{self.preset_name()}' model") + f" for {budget} on:"
        box = QMessageBox(QMessageBox.Icon.Warning if data.summary.get("too_small")
                          else QMessageBox.Icon.Question, "Start training?", "", parent=self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"{plan}<br><br>{summary_html(data, base)}")
        start = box.addButton("Start training", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(start)
        return box

    def _ask_to_start(self, data: TrainingData) -> bool:
        box = self.summary_box(data)
        box.exec()
        accepted = box.buttonRole(box.clickedButton()) == QMessageBox.ButtonRole.AcceptRole
        box.deleteLater()
        return accepted

    def _paths(self) -> tuple[str, str]:
        self.paths.models_dir.mkdir(parents=True, exist_ok=True)
        self.paths.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        return (str(self.paths.models_dir / f"{self.run_name}.safetensors"),
                str(self.paths.checkpoints_dir / f"{self.run_name}.safetensors"))

    def _start_training(self, resume: bool) -> Job:
        out_path, checkpoint = self._paths()
        minutes = steps = None
        if self.budget_unit.currentText() == "minutes":
            minutes = self.budget_value.value()
        else:
            steps = int(self.budget_value.value())
        if resume and self.last_progress is not None and minutes is not None:
            minutes = max(minutes - self.last_progress.elapsed / 60, 0.05)
        self._set_state("training")
        self.job = Job(jobs.run_training, self.data, self.preset_name(), self.base_model_path(),
                       steps, minutes, out_path, checkpoint, resume,
                       self.settings.get(S.TRAIN_THREADS), name="train")
        self.job.progress.connect(self._progress)
        self.job.done.connect(self._trained)
        self.job.failed.connect(self._failed)
        self.job.finished.connect(self._job_finished)
        self._last_sample = time.monotonic()
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
                "preset": self.preset_name(), "finetune": self.finetune.isChecked(),
                "step": self.last_step})

    def _finish_paused_run(self) -> None:
        """Stop a run paused in an earlier session: its checkpoint holds the model."""
        out_path, checkpoint = self._paths()
        if Path(out_path).exists():
            self.model_saved.emit(out_path)
        self._set_state("idle")

    # -- worker signals ---------------------------------------------------------------------
    @Slot(object)
    def _progress(self, p) -> None:
        self.last_progress = p
        self.last_step = p.step
        self.plot.add_point(p.step, p.train_loss, p.val_loss if p.evaluated else None)
        self._show_progress()
        if p.evaluated and time.monotonic() - self._last_sample > SAMPLE_EVERY_S:
            self._sample_now()

    def _show_progress(self) -> None:
        """Draw the bar and the figures from the latest report, marked while paused."""
        p, paused = self.last_progress, "paused at " if self.state == "paused" else ""
        if p is None:
            self.progress.setFormat(f"{paused}step {self.last_step}" if paused else "%p%")
            return
        if self.budget_unit.currentText() == "minutes":
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

    def _sample_now(self) -> None:
        _, checkpoint = self._paths()
        if self.sample_job is not None or not Path(checkpoint).exists():
            return
        self._last_sample = time.monotonic()
        self.sample_job = Job(jobs.sample_checkpoint, checkpoint, self.last_step, name="sample")
        self.sample_job.done.connect(self._sampled)
        self.sample_job.finished.connect(self._sample_finished)
        start_job(self.sample_job)

    @Slot(object)
    def _sampled(self, text: str) -> None:
        self.sample.setPlainText(text)
        self._update_buttons()

    @Slot()
    def _sample_finished(self) -> None:
        job, self.sample_job = self.sample_job, None
        if job is not None and job.thread is not None:
            job.thread.wait(1000)

    @Slot()
    def _keep_sample(self) -> None:
        if self.sample.toPlainText():
            self.sample_ready.emit(self.sample.toPlainText())

    @Slot(object)
    def _trained(self, result) -> None:
        if self._stop_pressed_at:
            self.stop_latency = time.perf_counter() - self._stop_pressed_at
        if self.state == "pausing":
            self.status.emit(f"Training paused at step {result.steps}; Resume carries on")
            return
        self.status.emit(f"Training finished: {result.steps} steps, model saved as "
                         f"{Path(result.path).name}" if result.path else "Training finished")
        if result.path:
            self.model_saved.emit(result.path)

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
        for job in (self.job, self.sample_job):
            if job is not None:
                job.cancel()
                if job.thread is not None:
                    job.thread.wait(5000)

    # -- state ------------------------------------------------------------------------------
    def save_state(self) -> dict:
        return {"data": self.data_choice.currentData(), "preset": self.preset.currentText(),
                "finetune": self.finetune.isChecked(), "budget": self.budget_value.value(),
                "unit": self.budget_unit.currentText()}

    def restore_state(self, state: dict) -> None:
        index = self.data_choice.findData(state.get("data"))
        if index >= 0:
            self.data_choice.setCurrentIndex(index)
        if state.get("preset") in PRESETS:
            self.preset.setCurrentText(state["preset"])
        if state.get("unit") in ("minutes", "steps"):
            self.budget_unit.setCurrentText(state["unit"])
        if state.get("budget"):
            self.budget_value.setValue(float(state["budget"]))
        self.finetune.setChecked(bool(state.get("finetune")) and self.base_model.count() > 0)
        self._restore_paused_run(self.settings.state("train_resume"))

    def _restore_paused_run(self, saved: dict) -> None:
        """Offer Resume for a run that was stopped when the window closed."""
        if not saved.get("run_name") or not saved.get("request"):
            return
        self.run_name, self._request = saved["run_name"], saved["request"]
        if not Path(self._paths()[1]).exists():
            return
        self.preset.setCurrentText(saved.get("preset", DEFAULT_PRESET))
        self.last_step = int(saved.get("step", 0))
        self._set_state("paused")
        self.summary.setText(f"Training of {self._request.get('name', 'your tunes')} was paused "
                             f"at step {self.last_step} when Ceol closed: press Resume to carry on.")
        self.settings.set_state("train_resume", {})
