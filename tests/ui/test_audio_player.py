"""AudioPlayer in the test machine's state (no audio device): it says so once and still plays."""

import pytest

from app.music.player import NullSink
from app.ui.widgets.audio_player import NO_AUDIO, AudioPlayer

SHORT = "X:1\nM:2/4\nL:1/8\nQ:1/4=240\nK:D\nDFA2|\n"


@pytest.fixture
def player(qtbot):
    from PySide6.QtCore import QObject

    owner = QObject()
    widget = AudioPlayer(owner)
    yield widget
    widget.stop()


def test_without_a_device_it_says_so_once_and_plays_silently(player, qtbot):
    if player.audio_available():
        pytest.skip("this machine has an audio output")
    messages, states, positions = [], [], []
    player.message.connect(messages.append)
    player.stateChanged.connect(states.append)
    player.positionChanged.connect(positions.append)
    with qtbot.waitSignal(player.finished, timeout=10000):
        player.play_abc(SHORT, instrument="fiddle")
    assert messages == [NO_AUDIO]
    assert states[0] == "playing" and states[-1] == "stopped"
    assert player.duration() == pytest.approx(0.5 + 0.5, abs=0.05)  # 2 quarters at 240 + tail
    moving = [p for p in positions if p > 0]
    assert moving == sorted(moving) and len(moving) >= 5
    with qtbot.waitSignal(player.stateChanged, timeout=5000):
        player.play_abc(SHORT, instrument="fiddle")  # cached: plays at once
    player.stop()
    assert messages == [NO_AUDIO]  # said once only


def test_pause_seek_and_resume(player, qtbot):
    with qtbot.waitSignal(player.stateChanged, timeout=10000):
        player.play_abc(SHORT)
    player.pause()
    assert player.state() == "paused"
    player.seek(0.75)
    assert player.position() == pytest.approx(0.75)
    player.resume()
    assert player.state() == "playing" and player.position() >= 0.75


def test_bad_tune_says_why(player, qtbot):
    with qtbot.waitSignal(player.error, timeout=10000) as signal:
        player.play_abc("X:1\nK:D\nD#FA|\n")
    assert signal.args[0].startswith("Cannot play") and "line 3" in signal.args[0]
    with qtbot.waitSignal(player.error, timeout=2000) as signal:
        player.play_abc(SHORT, tempo=2000)
    assert "tempo" in signal.args[0]


def test_a_fake_sink_receives_the_first_buffer_at_once(qtbot):
    from app.music.audio import RenderOptions, prepare_abc

    class Sink(NullSink):
        pass

    sink = Sink()
    widget = AudioPlayer(sink=sink)
    widget.load_renderer(prepare_abc(SHORT, RenderOptions()))
    widget.play()
    assert sink.frames > 0 and widget.audio_available()
    widget.stop()
