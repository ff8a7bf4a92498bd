"""AudioPlayer: plays tunes through QtMultimedia's QAudioSink; the logic is app/music/player.py.

Public API (a QObject; the transport bar owns one):
- `play_abc(abc, instrument=None, tempo=None, transpose=0, swing=0.5, repeats=1,
  soundfont=None)`: render (in a worker thread; cached for the same tune and options) and play.
  Bad ABC or options emit `error(message)` saying why.
- `play()`, `pause()`, `resume()`, `stop()`, `seek(seconds)`, `set_loop(on)`; `duration()`,
  `position()` (seconds), `state()` ("stopped", "playing", "paused").
- Signals: `positionChanged(float seconds)` about 30 times a second while playing,
  `stateChanged(str)`, `finished()` at the end of the tune, `error(str)`, and `message(str)`,
  sent once when there is no audio output: then the player runs silently on the clock (the
  score and piano roll still follow) and everything else, export included, keeps working.
- `audio_available()`: whether a real output device is used.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.music.errors import MusicError
from app.music.player import STOPPED, NullSink, Player

log = logging.getLogger(__name__)
TICK_MS = 30
NO_AUDIO = "No audio output device was found: tunes play silently (export still works)."


class QtAudioSink:
    """The AudioSink of app/music/player.py over a QAudioSink in push mode (mono, 16-bit)."""

    def __init__(self, device) -> None:
        self.device = device
        self._sink = None
        self._io = None
        self._pending = bytearray()

    def open(self, sample_rate: int) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink

        self.stop()
        fmt = QAudioFormat()
        fmt.setSampleRate(sample_rate)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self._sink = QAudioSink(self.device, fmt)
        self._sink.setBufferSize(sample_rate * 2)  # one second
        self._io = self._sink.start()

    def write(self, samples: np.ndarray) -> None:
        self._pending += (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        self.flush()

    def flush(self) -> None:
        if self._sink is None or self._io is None or not self._pending:
            return
        free = self._sink.bytesFree()
        if free > 0:
            written = self._io.write(bytes(self._pending[:free]))
            if written > 0:
                del self._pending[:written]

    def pause(self) -> None:
        if self._sink is not None:
            self._sink.suspend()

    def resume(self) -> None:
        if self._sink is not None:
            self._sink.resume()

    def stop(self) -> None:
        if self._sink is not None:
            self._sink.stop()
        self._sink, self._io = None, None
        self._pending.clear()


class _HookedPlayer(Player):
    def __init__(self, owner: "AudioPlayer", sink, clock) -> None:
        super().__init__(sink, clock or time.monotonic)
        self.owner = owner

    def position_changed(self, seconds: float) -> None:
        self.owner.positionChanged.emit(float(seconds))

    def state_changed(self, state: str) -> None:
        self.owner.stateChanged.emit(state)

    def finished(self) -> None:
        self.owner.finished.emit()

    def error(self, message: str) -> None:
        self.owner.error.emit(message)


def default_output():
    """Return the default QAudioDevice, or None when the system has no audio output."""
    try:
        from PySide6.QtMultimedia import QMediaDevices

        device = QMediaDevices.defaultAudioOutput()
    except Exception as exc:  # QtMultimedia missing or its backend failed to load
        log.warning("no audio backend: %s", exc)
        return None
    return None if device.isNull() else device


class AudioPlayer(QObject):
    """Qt face of the GUI-free Player; see the module docstring."""

    positionChanged = Signal(float)
    stateChanged = Signal(str)
    finished = Signal()
    error = Signal(str)
    message = Signal(str)
    _prepared = Signal(object, object)  # (key, Renderer or error text), from the worker thread

    def __init__(self, parent: QObject | None = None, *, sink=None, clock=None) -> None:
        super().__init__(parent)
        device = None if sink is not None else default_output()
        self._audio = sink is not None or device is not None
        self._sink = sink or (QtAudioSink(device) if device is not None else NullSink())
        self._player = _HookedPlayer(self, self._sink, clock)
        self._told_no_audio = False
        self._key = None
        self._wanted = None
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.stateChanged.connect(self._follow_state)
        self._prepared.connect(self._on_prepared)

    def audio_available(self) -> bool:
        return self._audio

    def play_abc(self, abc: str, instrument=None, tempo: float | None = None, transpose: int = 0,
                 swing: float = 0.5, repeats: int = 1, soundfont: str | None = None) -> None:
        """Render this tune with these options (in a thread, cached) and play it."""
        from app.music.audio import RenderOptions

        try:
            options = RenderOptions(instrument=instrument or "piano", tempo_qpm=tempo or None,
                                    transpose=int(transpose or 0), swing=swing,
                                    repeats=repeats, soundfont=soundfont or None).checked()
        except MusicError as err:
            self.error.emit(f"Cannot play: {err}")
            return
        key = (abc, options)
        if key == self._key and self._player.renderer is not None:
            self.play()
            return
        self._wanted = key
        threading.Thread(target=self._prepare, args=(key,), daemon=True).start()

    def _prepare(self, key) -> None:
        from app.music.audio import abc_events, prepare_events
        from app.music.isolate import shared

        try:
            # music21 parses in the "music21" worker process (as for the piano roll); the
            # synthesiser is set up here, where the SoundFont is cached.
            events, tempo = shared("music21").call(abc_events, key[0], timeout=60.0)
            result = prepare_events(events, key[1], tempo)
        except MusicError as err:
            result = f"Cannot play: {err}"
        except Exception as err:  # a bug, not bad input: say so rather than die in a thread
            log.exception("rendering failed")
            result = f"Cannot play: {err}"
        self._prepared.emit(key, result)

    @Slot(object, object)
    def _on_prepared(self, key, result) -> None:
        if key != self._wanted:
            return  # a newer request replaced this one
        if isinstance(result, str):
            self.error.emit(result)
            self.stateChanged.emit(STOPPED)
            return
        self._key = key
        self._player.load(result)
        self.play()

    def load_renderer(self, renderer) -> None:
        """Take an already prepared synth.Renderer (tests and benchmarks use this)."""
        self._key = None
        self._player.load(renderer)

    @Slot()
    def play(self) -> None:
        if not self._audio and not self._told_no_audio:
            self._told_no_audio = True
            self.message.emit(NO_AUDIO)
        self._player.play()

    @Slot()
    def pause(self) -> None:
        self._player.pause()

    @Slot()
    def resume(self) -> None:
        self._player.resume()

    @Slot()
    def stop(self) -> None:
        self._wanted = None
        self._player.stop()

    @Slot(float)
    def seek(self, seconds: float) -> None:
        self._player.seek(seconds)

    @Slot(bool)
    def set_loop(self, on: bool) -> None:
        self._player.loop = bool(on)

    def duration(self) -> float:
        return self._player.duration

    def position(self) -> float:
        return self._player.position()

    def state(self) -> str:
        return self._player.state

    @Slot(str)
    def _follow_state(self, state: str) -> None:
        if state == "playing":
            self._timer.start()
        else:
            self._timer.stop()

    @Slot()
    def _tick(self) -> None:
        self._player.tick()
        if isinstance(self._sink, QtAudioSink):
            self._sink.flush()
