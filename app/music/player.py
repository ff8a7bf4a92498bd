"""A GUI-free audio player: play, pause, resume, stop, seek, loop, end of tune.

Like Frescobaldi's MIDI player, the logic is plain Python with hook methods
(`position_changed`, `state_changed`, `finished`, `error`) that a Qt subclass turns into signals.
Audio goes to an `AudioSink` (the Qt adapter wraps QAudioSink; `NullSink` plays silently when
there is no audio device, so the position still advances and the score still follows). Time
comes from an injectable clock, and nothing waits: the owner calls `tick()` every few tens of
milliseconds, which keeps the sink `buffer_ahead` seconds ahead of the position, reports the
position and handles the end of the tune. Audio is rendered window by window from a
`synth.Renderer`, so pressing play hands the first buffer to the sink within milliseconds.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Protocol

import numpy as np

from app.music.synth import Renderer

log = logging.getLogger(__name__)

STOPPED, PLAYING, PAUSED = "stopped", "playing", "paused"


class AudioSink(Protocol):
    """Where rendered PCM goes (mono float32 in -1..1)."""

    def open(self, sample_rate: int) -> None:
        """Get ready for a new stream at sample_rate Hz; drop anything buffered."""

    def write(self, samples: np.ndarray) -> None:
        """Queue samples to be played after those written before."""

    def pause(self) -> None:
        """Hold playback, keeping what is buffered."""

    def resume(self) -> None:
        """Go on after pause."""

    def stop(self) -> None:
        """Stop and drop what is buffered."""


class NullSink:
    """A sink that plays nothing: used when there is no audio output, and in tests."""

    def __init__(self) -> None:
        self.sample_rate = 0
        self.frames = 0
        self.state = STOPPED

    def open(self, sample_rate: int) -> None:
        self.sample_rate, self.frames, self.state = sample_rate, 0, PLAYING

    def write(self, samples: np.ndarray) -> None:
        self.frames += len(samples)

    def pause(self) -> None:
        self.state = PAUSED

    def resume(self) -> None:
        self.state = PLAYING

    def stop(self) -> None:
        self.frames, self.state = 0, STOPPED


class Player:
    """Plays one rendered tune through a sink; call tick() regularly while playing.

    Times are seconds from the start of the tune. `loop` starts again at the end instead of
    stopping.
    """

    def __init__(self, sink: AudioSink, clock: Callable[[], float] = time.monotonic,
                 buffer_ahead: float = 0.5) -> None:
        self.sink = sink
        self.clock = clock
        self.buffer_ahead = buffer_ahead
        self.loop = False
        self.renderer: Renderer | None = None
        self.state = STOPPED
        self._anchor_pos = 0.0    # position at _anchor_time
        self._anchor_time = 0.0
        self._fed_until = 0.0     # tune time up to which audio went to the sink

    # Hooks: a Qt subclass turns these into signals.
    def position_changed(self, seconds: float) -> None:
        """Called from tick() with the current position."""

    def state_changed(self, state: str) -> None:
        """Called when the state becomes STOPPED, PLAYING or PAUSED."""

    def finished(self) -> None:
        """Called when the tune played to its end (not when stopped by the user)."""

    def error(self, message: str) -> None:
        """Called when playing is impossible (nothing loaded); the message says why."""
        log.warning("player: %s", message)

    @property
    def duration(self) -> float:
        """Length in seconds, including the last note's release."""
        if self.renderer is None:
            return 0.0
        return self.renderer.frames / self.renderer.sample_rate

    def load(self, renderer: Renderer | None) -> None:
        """Stop and take a new tune (None unloads)."""
        self.stop()
        self.renderer = renderer

    def position(self) -> float:
        """Return the playback position in seconds."""
        if self.state == PLAYING:
            now = self._anchor_pos + (self.clock() - self._anchor_time)
            return min(now, self.duration)
        return self._anchor_pos

    def play(self) -> None:
        """Start from the current position (resumes when paused)."""
        if self.renderer is None:
            self.error("nothing to play: no tune is loaded")
            return
        if self.state == PAUSED:
            self.resume()
            return
        if self.state == PLAYING:
            return
        if self._anchor_pos >= self.duration:
            self._anchor_pos = 0.0
        self._start_stream(self._anchor_pos)
        self._set_state(PLAYING)

    def pause(self) -> None:
        """Hold at the current position."""
        if self.state != PLAYING:
            return
        self._anchor_pos = self.position()
        self.sink.pause()
        self._set_state(PAUSED)

    def resume(self) -> None:
        """Go on from where pause() held."""
        if self.state != PAUSED:
            return
        # A fresh stream from the held position: simpler than keeping the sink's buffer in
        # step with seeks made while paused, and the first buffer is ready in milliseconds.
        self._start_stream(self._anchor_pos)
        self._set_state(PLAYING)

    def stop(self) -> None:
        """Stop and go back to the start."""
        self.sink.stop()
        self._anchor_pos = 0.0
        self._fed_until = 0.0
        if self.state != STOPPED:
            self._set_state(STOPPED)

    def seek(self, seconds: float) -> None:
        """Move to a position (clamped to the tune); playing goes on from there."""
        seconds = min(max(0.0, seconds), self.duration)
        if self.state == PLAYING:
            self._start_stream(seconds)
        else:
            self._anchor_pos = seconds
        self.position_changed(seconds)

    def tick(self) -> None:
        """Feed the sink, report the position and handle the end of the tune."""
        if self.state != PLAYING:
            return
        position = self.position()
        if position >= self.duration:
            if self.loop:
                self._start_stream(0.0)
                self.position_changed(0.0)
                return
            self.stop()
            self.position_changed(0.0)
            self.finished()
            return
        self._feed(position + self.buffer_ahead)
        self.position_changed(position)

    def _start_stream(self, seconds: float) -> None:
        self.sink.stop()
        self.sink.open(self.renderer.sample_rate)
        self._anchor_pos = seconds
        self._fed_until = seconds
        self._feed(seconds + self.buffer_ahead)
        self._anchor_time = self.clock()

    def _feed(self, until: float) -> None:
        until = min(until, self.duration)
        if until > self._fed_until:
            self.sink.write(self.renderer.render(self._fed_until, until))
            self._fed_until = until

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed(state)
