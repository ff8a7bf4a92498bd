"""ScoreView offscreen: the picture is drawn, note heads match the tune, errors show where."""

from pathlib import Path

import pytest

from app.ui.widgets.score_view import SUPERSEDE_AFTER_S, ScoreView

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

KESH = """X:1
T:The Kesh
R:jig
M:6/8
L:1/8
K:G
D|GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|AGF G2:|
"""
# Counted by hand: the pickup D, seven bars of six eighths, then "AGF G2".
KESH_NOTES = 1 + 7 * 6 + 4

LONG_REEL = "X:2\nT:Thirty-Two Bars\nR:reel\nM:4/4\nL:1/8\nQ:1/4=200\nK:D\n" + "\n".join(
    ["|:DFAF dFAF|GBdB AFEF|DFAF dFAF|GBAG FDD2:|", "|:fdfa fdfa|gbge fdfe|fdfa fdfa|gbag fdd2:|"]
    * 4) + "\n"


def dark_pixels(image) -> int:
    return sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
               if image.pixelColor(x, y).lightness() < 128)


def music21_note_count(abc: str) -> int:
    from music21 import converter

    return sum(len(n.pitches) for n in converter.parse(abc, format="abc").flatten().notes)


@pytest.fixture
def view(qtbot):
    widget = ScoreView()
    widget.resize(900, 500)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_kesh_is_drawn_and_note_heads_match(view, qtbot):
    with qtbot.waitSignal(view.engraved, timeout=5000) as signal:
        view.set_abc(KESH)
    assert signal.args == [view.note_count()]
    assert view.note_count() == music21_note_count(KESH) == KESH_NOTES
    image = view.grab().toImage()
    assert dark_pixels(image) > 500
    SHOTS.mkdir(parents=True, exist_ok=True)
    view.grab().save(str(SHOTS / "score_kesh.png"))


def test_long_tune_scrolls_and_follows_playback(view, qtbot):
    view.resize(700, 260)
    with qtbot.waitSignal(view.engraved, timeout=5000):
        view.set_abc(LONG_REEL)
    assert view.note_count() == music21_note_count(LONG_REEL)
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2000)  # taller than the view: scrolls
    view.set_position(0.1)
    first = view.current_note()
    assert first is not None
    # Quarter note 240 (bar 61 of 64 played, on the last line) at 200 qpm is 72 s in: a note
    # far down the page, which the view scrolls to.
    view.set_position(240 * 60 / 200 + 0.01)
    assert view.current_note() not in (None, first)
    assert bar.value() > 0
    with qtbot.waitSignal(view.engraved, timeout=3000):  # re-engraved to the new width
        view.resize(900, 500)
    view.set_position(12.5 * 60 / 200)
    assert view.current_note() is not None
    view.grab().save(str(SHOTS / "score_reel_highlight.png"))


def test_edits_are_debounced(view, qtbot):
    engravings = []
    view.engraved.connect(engravings.append)
    for end in range(10, len(KESH), 10):
        view.set_abc(KESH[:end] + "\n")
    view.set_abc(KESH)
    qtbot.waitUntil(lambda: len(engravings) > 0, timeout=3000)
    qtbot.wait(400)
    assert len(engravings) == 1 and view.note_count() == KESH_NOTES


def message_shown(view) -> str:
    from PySide6.QtWidgets import QLabel

    labels = [label for label in view.findChildren(QLabel) if label.isVisible()]
    return " ".join(label.text() for label in labels)


def test_parse_error_shows_where_not_a_blank_page(view, qtbot):
    with qtbot.waitSignal(view.engraved, timeout=5000):
        view.show_abc_now(KESH)
    with qtbot.waitSignal(view.failed, timeout=5000) as signal:
        view.show_abc_now(KESH.replace("edB dBA", "edB d#BA"))
    assert "line 7" in signal.args[0]
    assert "line 7" in view.error_text()
    assert "Could not engrave this tune:" in message_shown(view)
    assert view.note_count() == KESH_NOTES  # the last good score stays below the message
    view.grab().save(str(SHOTS / "score_error.png"))


def test_text_that_is_not_abc(view, qtbot):
    with qtbot.waitSignal(view.failed, timeout=5000):
        view.show_abc_now("hello world, this is not music")
    assert "K:" in view.error_text()


def test_engraving_does_not_block_the_gui_thread(view, qtbot):
    engravings = []
    view.engraved.connect(engravings.append)
    view.show_abc_now(KESH)
    assert engravings == []  # show_abc_now returned before the engraving came back
    qtbot.waitUntil(lambda: engravings == [KESH_NOTES], timeout=5000)


def test_a_newer_tune_supersedes_an_older_one(view, qtbot):
    engravings = []
    view.engraved.connect(engravings.append)
    view.show_abc_now(LONG_REEL)
    view.show_abc_now("X:1\nK:D\nDFA|\n")
    view.show_abc_now(KESH)
    qtbot.waitUntil(lambda: bool(engravings), timeout=10000)
    qtbot.wait(300)
    assert engravings[-1] == KESH_NOTES and view.note_count() == KESH_NOTES
    assert 3 not in engravings  # the middle request never got its turn


KITTY_QUINN = """X:163
T:Kitty Quinn
M:6/8
L:1/8
K:Amix
A|(ABd) (.d2 .d)|(edc) (.d2 .d)|(.d2 .d) ede|fdB B2 g|
(fa).f g2 e|(fa)f g2 e|dAd (f2 e)|dBA A2:|
A|(ABc) (dcd)|(Bcd) (ede)|(ABc) (.d2 .e)|fdB B2 g|
(fa).f g2 e|(fa).f g2 e|dAd (f2 e)|dBA A2:|
"""


def test_a_tune_that_crashes_verovio_is_drawn_and_the_app_lives(view, qtbot):
    # Kitty Quinn (O'Neill's 163) killed the whole app in verovio's renderToTimemap.
    with qtbot.waitSignal(view.engraved, timeout=20000) as signal:
        view.show_abc_now(KITTY_QUINN)
    assert signal.args[0] == music21_note_count(KITTY_QUINN)


def test_an_engine_crash_shows_one_line_and_the_next_tune_works(view, qtbot, monkeypatch):
    import app.music.notation as notation

    monkeypatch.setattr(notation, "_render", _crash)
    monkeypatch.setattr(notation, "_render_musicxml", _crash)
    with qtbot.waitSignal(view.failed, timeout=20000) as signal:
        view.show_abc_now(KESH)
    assert "SIGSEGV" in signal.args[0] and "\n" not in signal.args[0]
    assert "Could not engrave this tune:" in message_shown(view)
    monkeypatch.undo()
    with qtbot.waitSignal(view.engraved, timeout=20000):
        view.show_abc_now(KESH)
    assert view.error_text() == ""


def _crash(*args, **kwargs):
    import ctypes

    ctypes.string_at(0)


def test_a_long_engraving_is_stopped_when_a_newer_tune_waits(view, qtbot, monkeypatch):
    import app.music.notation as notation

    monkeypatch.setattr(notation, "_render", _slow)           # a tune stuck in the engraver
    view.show_abc_now(LONG_REEL)
    qtbot.wait(int(1000 * (SUPERSEDE_AFTER_S + 0.5)))
    monkeypatch.undo()
    # Without the cancel the newer tune would wait the 30 s of the stuck one (the wait below
    # is shorter than that).
    with qtbot.waitSignal(view.engraved, timeout=20000) as signal:
        view.show_abc_now(KESH)
    assert signal.args[0] == KESH_NOTES


def _slow(*args, **kwargs):
    import time

    time.sleep(30)


def test_the_highlight_keeps_time_with_the_player_through_a_second_ending(qtbot):
    from app.music.score_follow import written_groups
    from app.ui.tune_view import TuneView

    tune = "X:1\nM:2/4\nL:1/8\nQ:1/4=120\nK:G\n|:GA|Bc|1 de:|2 fg|ab|]\n"
    tunes = TuneView()
    qtbot.addWidget(tunes)
    tunes.resize(900, 500)
    tunes.show()
    with qtbot.waitSignals([tunes.score.engraved, tunes.roll.laidOut], timeout=60000):
        tunes.show_tune(1, tune)
    qtbot.waitUntil(tunes.score.follows_player, timeout=5000)
    engraving = tunes.score._engraving
    groups = written_groups(engraving.timeline, engraving.graces)
    tunes.set_position(5.0 * 60 / 120 + 0.01)     # 5 quarter notes in: the f of ending 2
    assert tunes.score.current_note() == groups[6][0]
    tunes.set_position(3.0 * 60 / 120 + 0.01)     # the repeat: the G again
    assert tunes.score.current_note() == groups[0][0]
    tunes.show_tune(2, "")                         # a new tune forgets the old timing
    tunes.shutdown()


def test_engraving_jobs_are_freed_once_their_threads_end(view, qtbot, monkeypatch):
    # Each engraving ran on a Job whose own `finished` signal held it through a lambda: a
    # cycle through C++ that gc cannot see, so every tune clicked kept its Job and QThread.
    import gc
    import weakref

    import app.ui.widgets.score_view as score_view
    from app.workers import running_jobs

    started = []
    real_start = score_view.start_job
    monkeypatch.setattr(score_view, "start_job",
                        lambda job: (started.append(weakref.ref(job)), real_start(job))[1])
    for bars in range(1, 6):
        with qtbot.waitSignal(view.engraved, timeout=5000):
            view.show_abc_now(f"X:1\nT:T\nM:4/4\nL:1/8\nK:G\n" + "GABc dedB|" * bars + "\n")
    qtbot.waitUntil(lambda: running_jobs() == 0 and view._job is None, timeout=5000)
    gc.collect()
    assert len(started) == 5
    assert [ref() for ref in started] == [None] * 5
