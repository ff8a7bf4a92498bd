"""The Transport bar: play, pause, stop, position, tempo, instrument, transpose, loop, export.

Playback is the sound engineer's player widget (app/ui/widgets/audio_player.py); this bar
only wires its buttons to it and follows its position. When the player is missing or no
audio output exists, the play controls are disabled with a tooltip that says why, and export
keeps working. Exports run on a worker thread (`export_finished` / `export_failed`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu,
                               QPushButton, QSlider, QSpinBox, QStyle, QToolButton, QWidget)

from app.tune_export import export_file_name
from app.ui import jobs
from app.ui.widgets.audio_player import AudioPlayer, QtAudioSink
from app.workers import Job, start_job

log = logging.getLogger(__name__)
# The instruments offered first (all are General MIDI programs in app.music.instruments).
COMMON_INSTRUMENTS = ("fiddle", "flute", "tin whistle", "accordion", "piano", "harp",
                      "uilleann pipes", "banjo", "guitar")
EXPORT_FORMATS = (("MIDI", "mid"), ("WAV", "wav"), ("ABC", "abc"), ("MusicXML", "musicxml"),
                  ("SVG", "svg"), ("PNG", "png"))


class Transport(QWidget):
    position_changed = Signal(float)
    export_finished = Signal(str)
    export_failed = Signal(str)
    status = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.abc = ""
        self.title = ""
        self.provenance: dict = {}
        self.soundfont = ""
        self.audio_device = ""
        self.midi_port = ""
        self.midi_job: Job | None = None
        self._jobs: set[Job] = set()
        self.ask_export_path = self._ask_export_path   # (name, suffix) -> path; tests replace it
        self.player = self._make_player()
        self._build()
        self.set_tune("", "")

    def apply_settings(self, soundfont: str, audio_device: str, midi_port: str) -> None:
        """Use this SoundFont, audio output (by name; "" = default) and MIDI port ("" = none)."""
        self.soundfont, self.midi_port = soundfont, midi_port
        if audio_device != self.audio_device:
            self.audio_device = audio_device
            self.stop()
            old, self.player = self.player, self._make_player(audio_device)
            if old is not None:
                old.deleteLater()
            self.set_tune(self.abc, self.title, self.provenance)

    def _make_player(self, device_name: str = "") -> AudioPlayer | None:
        try:
            player = AudioPlayer(self, sink=self._sink_for(device_name))
        except Exception as exc:   # no audio backend at all: the rest of the window works
            log.exception("cannot create the audio player")
            self._player_reason = f"Playback is not available: {exc}"
            return None
        self._player_reason = ""
        player.positionChanged.connect(self._player_position)
        player.stateChanged.connect(self._player_state)
        player.error.connect(self._player_error)
        player.message.connect(self._player_error)
        return player

    def _sink_for(self, device_name: str) -> QtAudioSink | None:
        """An audio sink on the named output, or None for the system default."""
        if not device_name:
            return None
        from PySide6.QtMultimedia import QMediaDevices

        for device in QMediaDevices.audioOutputs():
            if device.description() == device_name:
                return QtAudioSink(device)
        self.status.emit(f"Audio device {device_name!r} is not there; using the default")
        return None

    def _build(self) -> None:
        style = self.style()
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        self.play_button = QToolButton()
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play_toggled)
        self.stop_button = QToolButton()
        self.stop_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.stop_button.setToolTip("Stop and go back to the start")
        self.stop_button.clicked.connect(self.stop)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 1000)
        self.slider.setToolTip("Playback position: drag to seek")
        self.slider.sliderMoved.connect(self._seek)
        self.time_label = QLabel("0:00")
        self.time_label.setToolTip("Playback position")
        self.tempo = QSpinBox()
        self.tempo.setRange(0, 320)
        self.tempo.setSpecialValueText("Tune's tempo")
        self.tempo.setSuffix(" bpm")
        self.tempo.setToolTip("Tempo in quarter notes per minute (0 = the tune's own Q:)")
        self.instrument = QComboBox()
        self.instrument.setToolTip("The instrument that plays the tune")
        self.instrument.addItems(COMMON_INSTRUMENTS)
        self.transpose = QSpinBox()
        self.transpose.setRange(-12, 12)
        self.transpose.setPrefix("transpose ")
        self.transpose.setToolTip("Transpose by semitones when playing and exporting audio")
        self.loop = QCheckBox("Loop")
        self.loop.setToolTip("Start again at the end of the tune")
        self.loop.toggled.connect(self._loop_toggled)
        self.export_button = QPushButton("Export")
        self.export_button.setToolTip("Save the tune as MIDI, WAV, ABC, MusicXML, SVG or PNG "
                                      "(Ctrl+E)")
        menu = QMenu(self)
        for label, suffix in EXPORT_FORMATS:
            act = menu.addAction(f"{label} (.{suffix})…")
            act.setData(suffix)
            act.setToolTip(f"Save the tune as {label}")
        menu.triggered.connect(self._export_chosen)
        self.export_button.setMenu(menu)
        for w in (self.play_button, self.stop_button, self.slider, self.time_label, self.tempo,
                  self.instrument, self.transpose, self.loop, self.export_button):
            row.addWidget(w, 1 if w is self.slider else 0)

    # -- tune -------------------------------------------------------------------------------
    def set_tune(self, abc: str, title: str, provenance: dict | None = None) -> None:
        """Make this the tune that plays and exports."""
        if self.abc != abc and self.is_playing():
            self.stop()
        self.abc, self.title, self.provenance = abc, title, provenance or {}
        has_tune = bool(abc.strip())
        self.export_button.setEnabled(has_tune)
        can_play = has_tune and self.player is not None
        for w in (self.play_button, self.stop_button, self.slider):
            w.setEnabled(can_play)
        if self.player is None:
            self.play_button.setToolTip(self._player_reason)
        else:
            self.play_button.setToolTip("Play or pause (Space)" if has_tune else "Open a tune first")

    def playable(self, abc: str | None = None) -> bool:
        """Tell whether a tune renders to notes that can be played (MIDI with note events)."""
        try:
            return len(jobs.render_midi(abc if abc is not None else self.abc)) > 0
        except Exception as exc:
            log.info("not playable: %s", exc)
            return False

    # -- playback ---------------------------------------------------------------------------
    def options(self) -> dict:
        return {"instrument": self.instrument.currentText(), "tempo": self.tempo.value() or None,
                "transpose": self.transpose.value(), "soundfont": self.soundfont or None}

    def is_playing(self) -> bool:
        return self.play_button.isChecked()

    @Slot()
    def toggle_play(self) -> None:
        if self.play_button.isEnabled():
            self.play_button.toggle()

    @Slot(bool)
    def _play_toggled(self, on: bool) -> None:
        style = self.style()
        self.play_button.setIcon(style.standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay))
        if self.player is None:
            return
        try:
            if on:
                opts = self.options()
                self.player.play_abc(self.abc, **opts)
                self._start_midi_out()
            else:
                self.player.pause()
                self._stop_midi_out()
        except Exception as exc:
            self.play_button.blockSignals(True)
            self.play_button.setChecked(False)
            self.play_button.blockSignals(False)
            self.status.emit(f"Cannot play {self.title or 'this tune'}: {exc}")

    def _start_midi_out(self) -> None:
        """Also play the tune on the chosen MIDI port (from the start), when there is one."""
        if not self.midi_port or self.midi_job is not None:
            return
        from app.music.instruments import program_for

        opts = self.options()
        self.midi_job = Job(jobs.send_to_midi_port, self.abc, self.midi_port,
                            program_for(opts["instrument"]), opts["tempo"], opts["transpose"],
                            name="midi out")
        self.midi_job.failed.connect(self._player_error)
        self.midi_job.finished.connect(self._midi_finished)
        start_job(self.midi_job)

    def _stop_midi_out(self) -> None:
        if self.midi_job is not None:
            self.midi_job.cancel()

    @Slot()
    def _midi_finished(self) -> None:
        job, self.midi_job = self.midi_job, None
        if job is not None and job.thread is not None:
            job.thread.wait(1000)

    @Slot()
    def stop(self) -> None:
        self._stop_midi_out()
        if self.player is not None:
            self.player.stop()
        self.play_button.blockSignals(True)
        self.play_button.setChecked(False)
        self.play_button.blockSignals(False)
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.slider.setValue(0)

    @Slot(int)
    def _seek(self, value: int) -> None:
        if self.player is not None:
            self.player.seek(self.player.duration() * value / 1000)

    @Slot(bool)
    def _loop_toggled(self, on: bool) -> None:
        if self.player is not None:
            self.player.set_loop(on)

    @Slot(float)
    def _player_position(self, seconds: float) -> None:
        duration = self.player.duration() if self.player is not None else 0.0
        if duration:
            self.slider.setValue(int(1000 * seconds / duration))
        self.time_label.setText(f"{int(seconds) // 60}:{int(seconds) % 60:02d}")
        self.position_changed.emit(float(seconds))

    @Slot(object)
    def _player_state(self, state) -> None:
        if str(state).lower().endswith(("stopped", "finished")) and self.is_playing():
            self.stop()

    @Slot(str)
    def _player_error(self, message: str) -> None:
        self.status.emit(str(message))

    # -- export -----------------------------------------------------------------------------
    @Slot()
    def export_dialog(self) -> None:
        self.export_button.showMenu()

    @Slot(QAction)
    def _export_chosen(self, action: QAction) -> None:
        suffix = action.data()
        name = export_file_name(self.title, suffix)
        path = self.ask_export_path(name, suffix)
        if path:
            self.export_to(path)

    def _ask_export_path(self, name: str, suffix: str) -> str:
        """Ask where to save the export (a file dialog); "" when the user cancels."""
        path, _ = QFileDialog.getSaveFileName(self, "Export tune", name, f"*.{suffix}")
        return path

    def export_to(self, path: str | Path) -> Job:
        """Export the tune; the format comes from the file name's extension."""
        job = Job(jobs.export_tune, self.abc, str(path), self.provenance, self.options(),
                  name="export")
        job.done.connect(self._export_done)
        job.failed.connect(self._export_error)
        job.finished.connect(self._job_finished)
        self._jobs.add(job)
        start_job(job)
        return job

    @Slot(object)
    def _export_done(self, path) -> None:
        self.export_finished.emit(str(path))
        self.status.emit(f"Exported {path}")

    @Slot(str)
    def _export_error(self, message: str) -> None:
        self.export_failed.emit(message)
        self.status.emit(f"Export failed: {message}")

    @Slot()
    def _job_finished(self) -> None:
        self._jobs = {j for j in self._jobs if not j.thread.isFinished()}

    def save_state(self) -> dict:
        return {"instrument": self.instrument.currentText(), "tempo": self.tempo.value(),
                "transpose": self.transpose.value(), "loop": self.loop.isChecked()}

    def restore_state(self, state: dict) -> None:
        if state.get("instrument"):
            self.instrument.setCurrentText(state["instrument"])
        self.tempo.setValue(int(state.get("tempo", 0)))
        self.transpose.setValue(int(state.get("transpose", 0)))
        self.loop.setChecked(bool(state.get("loop", False)))
