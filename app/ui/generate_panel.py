"""The Generate panel: pick a model, set the sampling and musical controls, make tunes.

Sampling runs in a worker thread (app.workers.Job) with progress and cancel; every tune is
handed to the window through `tune_generated((abc, provenance, probabilities))` as soon as
it exists, and the window stores it in the library at once.
"""

from __future__ import annotations

import logging
import random
import shutil
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QMessageBox, QProgressBar, QPushButton,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from app import settings as S
from app.settings import AppPaths, Settings
from app.music.styles import STYLES
from app.ui import jobs
from app.ui.model_files import ModelInfo, list_models, read_model_info
from app.workers import Job, start_job
from model.config import SampleConfig
from model.errors import ModelError

log = logging.getLogger(__name__)
KEYS = ("", "C", "G", "D", "A", "E", "F", "Bb", "Eb", "Am", "Em", "Bm", "Dm", "Gm", "ADor",
        "EDor", "DDor", "GDor", "DMix", "GMix", "AMix")
METERS = ("", "4/4", "6/8", "3/4", "2/4", "9/8", "12/8", "C", "C|")
RHYTHMS = ("", "reel", "jig", "hornpipe", "polka", "slip jig", "waltz", "march", "air",
           "strathspey", "slide", "mazurka")


class GeneratePanel(QWidget):
    tune_generated = Signal(object)     # (abc, provenance, probabilities)
    generation_finished = Signal(int)   # number of tunes made
    status = Signal(str)

    def __init__(self, paths: AppPaths, settings: Settings,
                 selected_abc: Callable[[], str] = lambda: "", parent: QWidget | None = None):
        super().__init__(parent)
        self.paths, self.settings = paths, settings
        self.selected_abc = selected_abc    # the ABC of the tune selected in the library
        self.job: Job | None = None
        self.models: list[ModelInfo] = []
        self._made = 0
        self._build()
        self.refresh_models()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self._add_model_row(form)
        self._add_sampling_rows(form)
        self._add_music_rows(form)
        self.keep_annotations = QCheckBox("Keep performer annotations")
        self.keep_annotations.setToolTip(
            "Keep the fingering digits, bowing marks (u, v) and text in quotes (\"^Fine\") the "
            "model writes (off: they are removed from each tune; chord symbols stay)")
        form.addRow(self.keep_annotations)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Generate tunes with these settings (Ctrl+G)")
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop generating")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.generate_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setToolTip("Generation progress")
        self.progress.setTextVisible(True)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        layout.addStretch(1)

    def _add_model_row(self, form: QFormLayout) -> None:
        row = QHBoxLayout()
        self.model = QComboBox()
        self.model.setToolTip("The model that writes the tunes; hover an entry for its details")
        self.model.currentIndexChanged.connect(self._model_changed)
        add = QToolButton()
        add.setText("+")
        add.setToolTip("Add a model file (.safetensors) to your models")
        add.clicked.connect(self.add_model_dialog)
        row.addWidget(self.model, 1)
        row.addWidget(add)
        form.addRow("Model:", row)

    def _add_sampling_rows(self, form: QFormLayout) -> None:
        """Temperature, top-k, top-p and the seed: how the characters are drawn."""
        self.temperature = self._spin(QDoubleSpinBox(), 0.05, 3.0, SampleConfig.temperature, 0.05,
                                      "Lower: safer, more typical tunes; higher: wilder ones")
        self.top_k = self._spin(QSpinBox(), 0, 200, 0, 1, "Keep only the k likeliest characters "
                                "at each step (0 = all)")
        self.top_k.setSpecialValueText("off")
        self.top_p = self._spin(QDoubleSpinBox(), 0.05, 1.0, 1.0, 0.05,
                                "Nucleus sampling: keep the likeliest characters that together "
                                "hold this much probability (1 = off)")
        form.addRow("Temperature:", self.temperature)
        form.addRow("Top-k:", self.top_k)
        form.addRow("Top-p:", self.top_p)
        row = QHBoxLayout()
        self.seed = QLineEdit()
        self.seed.setPlaceholderText("random")
        self.seed.setToolTip("The same seed and settings give the same tunes again (empty: random)")
        dice = QToolButton()
        dice.setText("Roll")
        dice.setToolTip("Roll a new random seed")
        dice.clicked.connect(self.roll_seed)
        row.addWidget(self.seed, 1)
        row.addWidget(dice)
        form.addRow("Seed:", row)

    def _add_music_rows(self, form: QFormLayout) -> None:
        """Key, meter, rhythm, length, bars, parts, variations and continuing a tune."""
        self.key = self._combo(KEYS, "Key of the new tunes (empty: the model chooses)")
        self.meter = self._combo(METERS, "Meter of the new tunes (empty: the model chooses)")
        self.rhythm = self._combo(RHYTHMS, "Rhythm of the new tunes (empty: the model chooses)")
        form.addRow("Key:", self.key)
        form.addRow("Meter:", self.meter)
        form.addRow("Rhythm:", self.rhythm)
        self.style = QComboBox()
        self.style.addItem("", "")
        for name, what in STYLES.items():
            self.style.addItem(name, name)
            self.style.setItemData(self.style.count() - 1, what, Qt.ItemDataRole.ToolTipRole)
        form.addRow("Style:", self.style)
        self.length = self._spin(QSpinBox(), 100, 5000, 1500, 100,
                                 "Most characters per tune (a tune usually ends before)")
        self.count = self._spin(QSpinBox(), 1, 64, 4, 1, "How many variations to generate")
        form.addRow("Length:", self.length)
        self.bars = self._spin(QSpinBox(), 0, 256, 0, 1, "Length of the tune in bars "
                               "(auto: each variation's length is drawn from the lengths of "
                               "the model's training tunes in its meter)")
        self.bars.setSpecialValueText("auto")
        self.parts = self._spin(QSpinBox(), 0, 8, 0, 1, "AABB form: this many repeated 8-bar "
                                "parts (free: no set form); overrides Bars")
        self.parts.setSpecialValueText("free")
        form.addRow("Bars:", self.bars)
        form.addRow("Parts:", self.parts)
        form.addRow("Variations:", self.count)
        self.continue_selected = QCheckBox("Continue the selected tune, keeping bars")
        self.continue_selected.setToolTip("Keep the first bars of the tune in the ABC tab (its "
                                          "header too) and let the model write the rest")
        self.continue_bars = self._spin(QSpinBox(), 1, 256, 4, 1, "How many bars of the "
                                        "selected tune to keep before the model carries on")
        self.continue_bars.setPrefix("1 to ")
        carry_on = QHBoxLayout()
        carry_on.addWidget(self.continue_selected)
        carry_on.addWidget(self.continue_bars)
        carry_on.addStretch(1)
        form.addRow(carry_on)

    def _spin(self, spin, low, high, value, step, tip):
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

    def _combo(self, items, tip) -> QComboBox:
        combo = QComboBox()
        combo.setEditable(True)
        combo.addItems(items)
        combo.setToolTip(tip)
        return combo

    # -- models -----------------------------------------------------------------------------
    @Slot()
    def refresh_models(self, select: str = "") -> None:
        """Re-list bundled and user models, keeping or setting the choice."""
        current = select or self.model.currentData() or self.settings.get(S.DEFAULT_MODEL)
        self.models = list_models(self.paths.models_dir)
        self.model.blockSignals(True)
        self.model.clear()
        for info in self.models:
            self.model.addItem(info.name + (" (bundled)" if info.bundled else ""), str(info.path))
            self.model.setItemData(self.model.count() - 1, info.describe(),
                                   Qt.ItemDataRole.ToolTipRole)
        index = self.model.findData(str(current)) if current else -1
        self.model.setCurrentIndex(index if index >= 0 else 0)
        self.model.blockSignals(False)
        self._model_changed()

    def model_choices(self) -> list[tuple[str, str]]:
        return [(i.name, str(i.path)) for i in self.models]

    def current_model(self) -> ModelInfo | None:
        index = self.model.currentIndex()
        return self.models[index] if 0 <= index < len(self.models) else None

    @Slot()
    def _model_changed(self) -> None:
        info = self.current_model()
        busy = self.job is not None
        self.generate_button.setEnabled(info is not None and not busy)
        if info is None:
            self.generate_button.setToolTip("No model yet: train one in the Train panel or add "
                                            "a model file with +")
        else:
            self.generate_button.setToolTip("Generate tunes with these settings (Ctrl+G)")
            self.model.setToolTip(info.describe())
        self._show_styles(info)

    def _show_styles(self, info: ModelInfo | None) -> None:
        """The style choice is open only for a model trained with style lines, and lists the
        styles that model learned (asking a model for a style it never saw steers nothing)."""
        known = (info.meta.get("training", {}).get("styles") or {}) if info else {}
        chosen = self.style.currentData() or ""
        names = [n for n in STYLES if n in known] + [n for n in known if n not in STYLES]
        self.style.blockSignals(True)
        self.style.clear()
        self.style.addItem("", "")
        for name in names or STYLES:
            self.style.addItem(name, name)
            self.style.setItemData(self.style.count() - 1, STYLES.get(name, name),
                                   Qt.ItemDataRole.ToolTipRole)
        self.style.setCurrentIndex(max(self.style.findData(chosen), 0))
        self.style.blockSignals(False)
        self.style.setEnabled(bool(known))
        self.style.setToolTip(
            "Style of the new tunes (empty: the model chooses); this model learned "
            + ", ".join(f"{name} ({count:,} tunes)" for name, count in known.items())
            if known else "This model was trained without styles (train it again to steer "
            "the style)")

    @Slot()
    def add_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a model", "",
                                              "Ceol models (*.safetensors);;All files (*)")
        if path:
            self.add_model(path)

    def add_model(self, path: str) -> bool:
        """Copy a model file into the user's models; a clear message if it is not one."""
        try:
            read_model_info(path)
        except ModelError as exc:
            self.status.emit(str(exc))
            QMessageBox.warning(self, "Not a model", str(exc))
            return False
        self.paths.models_dir.mkdir(parents=True, exist_ok=True)
        target = self.paths.models_dir / Path(path).name
        if Path(path).resolve() != target.resolve():
            shutil.copyfile(path, target)
        self.refresh_models(select=str(target))
        self.status.emit(f"Added model {target.name}")
        return True

    # -- generating -------------------------------------------------------------------------
    @Slot()
    def roll_seed(self) -> None:
        self.seed.setText(str(random.randrange(1, 2**31)))

    def sample_options(self) -> dict:
        seed = self.seed.text().strip()
        return {"count": self.count.value(), "temperature": self.temperature.value(),
                "top_k": self.top_k.value(), "top_p": self.top_p.value(),
                "max_chars": self.length.value(), "seed": int(seed) if seed.isdigit() else None,
                "parts": self.parts.value() or None,
                "bars": None if self.parts.value() else self.bars.value() or None,
                "keep_annotations": self.keep_annotations.isChecked(),
                **({"continue_bars": self.continue_bars.value()}
                   if self.continue_selected.isChecked() else {})}

    def headers(self) -> dict:
        return {"key": self.key.currentText().strip(), "meter": self.meter.currentText().strip(),
                "rhythm": self.rhythm.currentText().strip(),
                "style": self.style.currentData() if self.style.isEnabled() else ""}

    @Slot()
    def generate(self) -> Job | None:
        info = self.current_model()
        if info is None or self.job is not None:
            return None
        if not info.path.exists():
            self.status.emit(f"{info.path}: the model file is gone")
            self.refresh_models()
            return None
        prime = self.selected_abc() if self.continue_selected.isChecked() else ""
        self._made = 0
        self.job = Job(jobs.generate_tunes, str(info.path), self.sample_options(),
                       self.headers(), prime, name="generate")
        self.job.progress.connect(self._progress)
        self.job.result.connect(self._tune_ready)
        self.job.failed.connect(self._failed)
        self.job.finished.connect(self._finished)
        self.progress.setRange(0, 0)
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.emit(f"Generating {self.count.value()} tunes with {info.name}…")
        start_job(self.job)
        return self.job

    @Slot()
    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    @Slot(object)
    def _progress(self, info) -> None:
        done, total = info
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    @Slot(object)
    def _tune_ready(self, item) -> None:
        self._made += 1
        self.tune_generated.emit(item)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.status.emit(f"Generation failed: {message}")
        QMessageBox.warning(self, "Cannot generate", message)

    @Slot()
    def _finished(self) -> None:
        job, self.job = self.job, None
        if job is not None and job.thread is not None:
            job.thread.wait(2000)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.cancel_button.setEnabled(False)
        self._model_changed()
        if job is not None and not job.error:
            self.status.emit(f"Generated {self._made} tunes")
        self.generation_finished.emit(self._made)

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.cancel()
            if self.job.thread is not None:
                self.job.thread.wait(3000)

    # -- state ------------------------------------------------------------------------------
    def save_state(self) -> dict:
        return {"model": self.model.currentData() or "", **self.sample_options(),
                **self.headers(), "seed": self.seed.text()}

    def restore_state(self, state: dict) -> None:
        if state.get("model"):
            self.refresh_models(select=state["model"])
        for widget, name in ((self.temperature, "temperature"), (self.top_k, "top_k"),
                             (self.top_p, "top_p"), (self.length, "max_chars"),
                             (self.count, "count")):
            if state.get(name) is not None:
                widget.setValue(state[name])
        self.seed.setText(str(state.get("seed") or ""))
        self.keep_annotations.setChecked(bool(state.get("keep_annotations")))
        for combo, name in ((self.key, "key"), (self.meter, "meter"), (self.rhythm, "rhythm")):
            combo.setCurrentText(state.get(name, ""))
        self.style.setCurrentIndex(max(0, self.style.findData(state.get("style") or "")))
