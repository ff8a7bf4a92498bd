"""The Settings dialog: SoundFont, audio device, MIDI output, default model, threads, theme.

It reads and writes only through `app.settings`; `apply()` stores the choices and the main
window reacts to the `applied` signal.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget)

from app import settings as S


def audio_devices() -> list[str]:
    """Names of the audio outputs Qt knows (empty when QtMultimedia or devices are missing)."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return []
    return [d.description() for d in QMediaDevices.audioOutputs()]


def midi_ports() -> list[str]:
    """Names of the system's MIDI outputs (empty without mido/rtmidi or ports)."""
    try:
        from app.music.midi_out import output_ports
    except ImportError:
        return []
    return output_ports()


class SettingsDialog(QDialog):
    applied = Signal()

    def __init__(self, settings: S.Settings, models: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ceol settings")
        self.setMinimumWidth(480)
        self.settings = settings
        form = QFormLayout(self)

        self.soundfont = QLineEdit(settings.get(S.SOUNDFONT))
        self.soundfont.setPlaceholderText("bundled General MIDI SoundFont")
        self.soundfont.setToolTip("A .sf2 or .sf3 SoundFont used to play and export audio")
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose a SoundFont file")
        browse.clicked.connect(self._browse_soundfont)
        row = QHBoxLayout()
        row.addWidget(self.soundfont)
        row.addWidget(browse)
        form.addRow("SoundFont:", row)

        self.audio_device = self._combo(["System default", *audio_devices()],
                                        settings.get(S.AUDIO_DEVICE) or "System default",
                                        "The audio output that plays tunes")
        form.addRow("Audio device:", self.audio_device)
        self.midi_port = self._combo(["None", *midi_ports()], settings.get(S.MIDI_PORT) or "None",
                                     "Also send the notes to this MIDI port (a DAW or synth)")
        form.addRow("MIDI output:", self.midi_port)

        self.default_model = QComboBox()
        self.default_model.setToolTip("The model the Generate panel starts with")
        self.default_model.addItem("Bundled model", "")
        for name, path in models:
            self.default_model.addItem(name, path)
        index = self.default_model.findData(settings.get(S.DEFAULT_MODEL))
        self.default_model.setCurrentIndex(max(index, 0))
        form.addRow("Default model:", self.default_model)

        self.threads = QSpinBox()
        self.threads.setRange(0, os.cpu_count() or 1)
        self.threads.setSpecialValueText("All cores")
        self.threads.setValue(settings.get(S.TRAIN_THREADS))
        self.threads.setToolTip("CPU threads used for training (0 = all cores)")
        form.addRow("Training threads:", self.threads)

        self.theme = self._combo(["system", "light", "dark"], settings.get(S.THEME),
                                 "Follow the system's light/dark setting, or force one")
        form.addRow("Theme:", self.theme)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _combo(self, items: list[str], current: str, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.addItems(items)
        if combo.findText(current) < 0:
            combo.addItem(current)
        combo.setCurrentText(current)
        combo.setToolTip(tip)
        return combo

    def _browse_soundfont(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a SoundFont", "",
                                              "SoundFonts (*.sf2 *.sf3)")
        if path:
            self.soundfont.setText(path)

    def apply(self) -> None:
        """Store the dialog's values in the settings."""
        s = self.settings
        s.set(S.SOUNDFONT, self.soundfont.text().strip())
        device = self.audio_device.currentText()
        s.set(S.AUDIO_DEVICE, "" if device == "System default" else device)
        port = self.midi_port.currentText()
        s.set(S.MIDI_PORT, "" if port == "None" else port)
        s.set(S.DEFAULT_MODEL, self.default_model.currentData() or "")
        s.set(S.TRAIN_THREADS, self.threads.value())
        s.set(S.THEME, self.theme.currentText())
        s.sync()
        self.applied.emit()

    def accept(self) -> None:
        self.apply()
        super().accept()
