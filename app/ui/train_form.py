"""The Train panel's form: which tunes to learn from and how their training text is written
(titles, styles, performer annotations, copies in other keys), a new model of a preset's size
or a model to fine-tune, and the budget in minutes or steps.

The form holds the choices, reads them out and keeps them between sessions; the panel
(app/ui/train_panel.py) runs the training they describe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout,
                               QGridLayout, QHBoxLayout, QRadioButton, QSpinBox, QWidget)

from app.music.normalize import TextOptions
from app.training_data import MAX_TRANSPOSE
from app.ui.model_files import list_models
from app.ui.train_summary import counted
from model.config import DEFAULT_PRESET, PRESETS

DATA_CHOICES = (("Celtic corpus (built-in)", "celtic"), ("Essen corpus (built-in)", "essen"),
                ("Nottingham corpus (built-in)", "nottingham"),
                ("Other folk tunes (built-in)", "miscfolk"),
                ("All built-in corpora", "all"),
                ("Opened files", "files"), ("Selected tunes", "selected"))
BUILT_IN = ("celtic", "essen", "nottingham", "miscfolk", "all")


class TrainForm(QWidget):
    """Data, start (from scratch with a preset, or fine-tune a model) and budget."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.data_choice = QComboBox()
        for label, value in DATA_CHOICES:
            self.data_choice.addItem(label, value)
        self.data_choice.setToolTip("The tunes to learn from; MIDI files among opened files are "
                                    "transcribed to ABC")
        form.addRow("Data:", self.data_choice)
        form.addRow("Text:", self._text_row())
        form.addRow("Keys:", self._keys_row())
        form.addRow("Start:", self._start_rows())
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

    def _text_row(self) -> QGridLayout:
        """What the training text keeps (the copies in other keys are the next row's)."""
        defaults = TextOptions()
        self.titles = QCheckBox("Titles")
        self.titles.setToolTip("Keep each tune's first T: title, so the model learns to name "
                               "its tunes")
        self.styles = QCheckBox("Styles")
        self.styles.setToolTip("Write O:<style> (irish, scottish, german...) where the tune's "
                               "style is known, so generation can ask for one")
        self.annotations = QCheckBox("Annotations")
        self.annotations.setToolTip("Keep performer annotations: fingerings, bowing marks and "
                                    "text in quotes")
        self.numbers = QCheckBox("X: numbers")
        self.numbers.setToolTip("Keep the X: reference number as the file writes it for one "
                                "tune in 8 (the others X:1): helps a model score tune books "
                                "as written")
        self.headers = QCheckBox("Headers")
        self.headers.setToolTip("Keep each tune's header fields in its file's order and "
                                "spelling (less bibliographic B: D: F: H: N: S: Z: lines) "
                                "instead of the normalised X O T R M L Q K")
        for box, value in ((self.titles, defaults.titles), (self.styles, defaults.styles),
                           (self.annotations, defaults.annotations),
                           (self.numbers, defaults.numbers), (self.headers, defaults.headers)):
            box.setChecked(value)
        grid = QGridLayout()            # three to a row, so the panel stays narrow
        for i, widget in enumerate(self._text_boxes()):
            grid.addWidget(widget, i // 3, i % 3)
        grid.setColumnStretch(3, 1)
        return grid

    def _text_boxes(self) -> tuple[QCheckBox, ...]:
        return (self.titles, self.styles, self.annotations, self.numbers, self.headers)

    def _keys_row(self) -> QHBoxLayout:
        self.transpose = QSpinBox()
        self.transpose.setRange(0, MAX_TRANSPOSE)
        self.transpose.setPrefix("each tune in its own key + ")
        self.transpose.setSuffix(" others")
        self.transpose.setSpecialValueText("each tune in its own key only")
        self.transpose.setToolTip("Also train on each tune in this many other keys of its mode, "
                                  "the plainest first: more to learn from, the same melodies")
        row = QHBoxLayout()
        row.addWidget(self.transpose, 1)
        return row

    def _start_rows(self) -> QGridLayout:
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
        return row

    def refresh_models(self, models_dir: Path) -> None:
        """List the models there is to fine-tune, keeping the choice where it is still there."""
        current = self.base_model.currentData()
        self.base_model.clear()
        for info in list_models(models_dir):
            self.base_model.addItem(info.name, str(info.path))
            self.base_model.setItemData(self.base_model.count() - 1, info.describe(), 3)
        index = self.base_model.findData(current)
        self.base_model.setCurrentIndex(max(index, 0))

    def set_busy(self, busy: bool) -> None:
        """Lock the choices while a run is alive; fine-tuning needs a model to start from."""
        for widget in (self.data_choice, *self._text_boxes(), self.transpose):
            widget.setEnabled(not busy)
        self.preset.setEnabled(self.scratch.isChecked() and not busy)
        self.base_model.setEnabled(self.finetune.isChecked() and not busy)
        self.finetune.setEnabled(self.base_model.count() > 0)
        if not self.base_model.count():
            self.finetune.setToolTip("No model to fine-tune yet")

    # -- reading the choices --------------------------------------------------------------
    def data_request(self, opened_files: Callable[[], list[str]],
                     selected_tunes: Callable[[], list[str]]) -> tuple[list[str], list[str], str]:
        """Return (sources, ABC texts, name) of the chosen tunes: a built-in corpus, the
        files opened in the window, or the tunes selected in the library."""
        choice = self.data_choice.currentData()
        if choice in BUILT_IN:
            return [choice], [], choice
        if choice == "files":
            return list(opened_files()), [], "opened files"
        return [], list(selected_tunes()), "selected tunes"

    def text_options(self) -> TextOptions:
        """How the training text is written (app.music.normalize.TextOptions)."""
        return TextOptions(titles=self.titles.isChecked(), styles=self.styles.isChecked(),
                           annotations=self.annotations.isChecked(),
                           numbers=self.numbers.isChecked(), headers=self.headers.isChecked())

    def transpose_copies(self) -> int:
        """Copies of each training tune in other keys (0: none)."""
        return self.transpose.value()

    def preset_name(self) -> str:
        if self.finetune.isChecked():
            return DEFAULT_PRESET
        return self.preset.currentText()

    def base_model_path(self) -> str | None:
        return self.base_model.currentData() if self.finetune.isChecked() else None

    def base_name(self) -> str | None:
        return self.base_model.currentText() if self.finetune.isChecked() else None

    def by_minutes(self) -> bool:
        return self.budget_unit.currentText() == "minutes"

    def budget(self) -> tuple[int | None, float | None]:
        """Return (steps, minutes): the one the user chose, the other None."""
        if self.by_minutes():
            return None, self.budget_value.value()
        return int(self.budget_value.value()), None

    def budget_text(self) -> str:
        """The budget in words: "1 minute", "15 minutes", "500 steps"."""
        return counted(self.budget_value.value(), self.budget_unit.currentText().rstrip("s"))

    # -- state ----------------------------------------------------------------------------
    def save_state(self) -> dict:
        return {"data": self.data_choice.currentData(), "preset": self.preset.currentText(),
                "finetune": self.finetune.isChecked(), "budget": self.budget_value.value(),
                "unit": self.budget_unit.currentText(), "titles": self.titles.isChecked(),
                "styles": self.styles.isChecked(), "annotations": self.annotations.isChecked(),
                "numbers": self.numbers.isChecked(), "headers": self.headers.isChecked(),
                "transpose": self.transpose.value()}

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
        for box, name in zip(self._text_boxes(),
                             ("titles", "styles", "annotations", "numbers", "headers")):
            if isinstance(state.get(name), bool):
                box.setChecked(state[name])
        if isinstance(state.get("transpose"), int):
            self.transpose.setValue(state["transpose"])
        self.finetune.setChecked(bool(state.get("finetune")) and self.base_model.count() > 0)
