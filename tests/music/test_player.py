"""The player state machine, driven by a fake clock and a recording sink: no audio, no waiting."""

import numpy as np
import pytest

from app.music.player import PAUSED, PLAYING, STOPPED, NullSink, Player
from app.music.synth import Renderer, SynthNote, cached_soundfont


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class RecordingSink(NullSink):
    def __init__(self):
        super().__init__()
        self.calls = []

    def open(self, rate):
        super().open(rate)
        self.calls.append(("open", rate))

    def write(self, samples):
        super().write(samples)
        self.calls.append(("write", len(samples)))

    def pause(self):
        super().pause()
        self.calls.append(("pause",))

    def stop(self):
        super().stop()
        self.calls.append(("stop",))


class HookedPlayer(Player):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.states, self.positions, self.finishes, self.errors = [], [], 0, []

    def state_changed(self, state):
        self.states.append(state)

    def position_changed(self, seconds):
        self.positions.append(seconds)

    def finished(self):
        self.finishes += 1

    def error(self, message):
        self.errors.append(message)


@pytest.fixture
def setup():
    notes = [SynthNote(i * 0.5, 0.45, 60 + i, 90, 0) for i in range(4)]  # 2 s of music
    renderer = Renderer(notes, cached_soundfont(), 22050)
    clock, sink = FakeClock(), RecordingSink()
    player = HookedPlayer(sink, clock, buffer_ahead=0.5)
    player.load(renderer)
    return player, clock, sink


def test_play_hands_a_buffer_to_the_sink_at_once(setup):
    player, clock, sink = setup
    player.play()
    assert player.state == PLAYING and player.states == [PLAYING]
    assert ("open", 22050) in sink.calls
    assert sink.frames == int(0.5 * 22050)
    clock.now += 0.3
    player.tick()
    assert player.positions[-1] == pytest.approx(0.3)
    assert sink.frames == pytest.approx(0.8 * 22050, abs=2)  # kept half a second ahead


def test_pause_holds_and_resume_goes_on(setup):
    player, clock, sink = setup
    player.play()
    clock.now += 0.4
    player.pause()
    clock.now += 5.0
    assert player.state == PAUSED and player.position() == pytest.approx(0.4)
    player.play()  # play while paused resumes
    clock.now += 0.1
    assert player.state == PLAYING and player.position() == pytest.approx(0.5)
    assert player.states == [PLAYING, PAUSED, PLAYING]


def test_seek_while_playing_and_stopped(setup):
    player, clock, sink = setup
    player.seek(1.5)
    assert player.position() == 1.5 and player.state == STOPPED
    player.play()
    clock.now += 0.2
    assert player.position() == pytest.approx(1.7)
    player.seek(99)
    assert player.position() == pytest.approx(player.duration)
    player.seek(-3)
    assert player.position() == pytest.approx(0.0)


def test_stop_goes_back_to_the_start(setup):
    player, clock, sink = setup
    player.play()
    clock.now += 1.0
    player.stop()
    assert player.state == STOPPED and player.position() == 0.0
    assert sink.calls[-1] == ("stop",) and sink.frames == 0


def test_end_of_tune_stops_and_says_finished(setup):
    player, clock, sink = setup
    player.play()
    for _ in range(40):
        clock.now += 0.1
        player.tick()
    assert player.finishes == 1 and player.state == STOPPED
    assert player.states == [PLAYING, STOPPED]
    assert sink.calls.count(("open", 22050)) == 1


def test_loop_starts_again(setup):
    player, clock, sink = setup
    player.loop = True
    player.play()
    for _ in range(30):
        clock.now += 0.1
        player.tick()
    assert player.finishes == 0 and player.state == PLAYING
    assert sink.calls.count(("open", 22050)) == 2
    assert player.position() < 1.0


def test_audio_fed_matches_the_rendered_tune(setup):
    player, clock, _ = setup

    class Collect(NullSink):
        def __init__(self):
            super().__init__()
            self.parts = []

        def write(self, samples):
            self.parts.append(samples)

    sink = Collect()
    player.sink = sink
    player.play()
    while player.state == PLAYING:
        clock.now += 0.05
        player.tick()
    assert np.allclose(np.concatenate(sink.parts), player.renderer.render(), atol=1e-6)


def test_play_with_nothing_loaded_says_why():
    player = HookedPlayer(NullSink(), FakeClock())
    player.play()
    assert player.state == STOPPED and "nothing to play" in player.errors[0]
