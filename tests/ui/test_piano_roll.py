"""PianoRoll offscreen: bars on the grid, bar lines, cursor, zoom, and note selection."""

from pathlib import Path

import pytest

from app.music.pianoroll import layout_abc, pitch_name
from app.ui.widgets.piano_roll import KEYS_WIDTH, PianoRoll

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TUNE = ("X:1\nT:Roll\nM:2/4\nL:1/8\nQ:1/4=120\nK:D\n"
        "|:DF A2|[1 B2 {c}A2:|[2 d4-|d2 [DF]2|]\n")


def test_layout_expands_repeats_and_keeps_abc_places():
    lay = layout_abc(TUNE)
    assert [(n.pitch, n.start, n.length) for n in lay.notes] == [
        (62, 0.0, 0.5), (66, 0.5, 0.5), (69, 1.0, 1.0), (71, 2.0, 1.0), (69, 3.0, 1.0),
        (62, 4.0, 0.5), (66, 4.5, 0.5), (69, 5.0, 1.0), (74, 6.0, 3.0), (62, 9.0, 1.0),
        (66, 9.0, 1.0)]
    assert lay.bar_lines == [2.0, 4.0, 6.0, 8.0] and lay.length == 10.0
    # The second time through, the first note is still the D at line 7, column 3.
    assert (lay.notes[5].line, lay.notes[5].column) == (7, 3)
    assert (lay.notes[-1].line, lay.notes[-1].column) == (7, 34)  # the F of [DF]
    assert pitch_name(66) == "F#4" and lay.notes[1].describe() == "F#4 at line 7, column 4"


def test_layout_repeats_a_first_ending_with_no_second_as_the_player_does():
    from app.music.abc_midi import abc_note_events

    tune = "X:1\nM:2/4\nL:1/8\nQ:1/4=120\nK:G\n|:GA|Bc|1 de:|fg|ab|]\n"
    lay = layout_abc(tune)
    played = abc_note_events(tune)
    assert [n.pitch for n in lay.notes] == [e.pitch for e in played]
    assert [(n.start, n.length) for n in lay.notes] == [
        (float(e.onset), float(e.duration)) for e in played]
    assert len(lay.notes) == 14 and lay.length == 7.0
    # the repeated bars point at the notes written once
    assert (lay.notes[6].line, lay.notes[6].column) == (lay.notes[0].line, lay.notes[0].column)


@pytest.fixture
def roll(qtbot):
    widget = PianoRoll()
    widget.resize(700, 320)
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.laidOut, timeout=5000):
        widget.set_abc(TUNE)
    return widget


def test_click_selects_a_note_and_says_where(roll, qtbot):
    from PySide6.QtCore import QPoint, Qt

    canvas = roll._scroll.widget()
    note = roll.roll_layout().notes[3]  # the B
    rect = canvas.note_rect(note)
    with qtbot.waitSignal(roll.noteSelected, timeout=1000) as signal:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton,
                         pos=QPoint(int(rect.center().x()), int(rect.center().y())))
    assert signal.args == ["B4 at line 7, column 12", 7, 12]
    assert roll.selected_text() == "B4 at line 7, column 12"


def test_bars_are_drawn_and_zoom_widens(roll, qtbot):
    canvas = roll._scroll.widget()
    image = canvas.grab().toImage()
    note = roll.roll_layout().notes[0]
    centre = canvas.note_rect(note).center()
    assert image.pixelColor(int(centre.x()), int(centre.y())).blue() > 150  # a blue note bar
    empty = image.pixelColor(int(KEYS_WIDTH + 0.25 * roll.zoom()), 2)
    assert empty.lightness() > 200  # nothing drawn where no note is
    width = canvas.width()
    roll.zoom_in()
    assert canvas.width() > width
    roll.set_zoom(1000)
    assert roll.zoom() == 400


def test_cursor_follows_playback(roll, qtbot):
    canvas = roll._scroll.widget()
    roll.set_position(1.0)  # 2 quarter notes at 120: the B
    image = canvas.grab().toImage()
    x = int(KEYS_WIDTH + 2.0 * roll.zoom())
    column = [image.pixelColor(x, y) for y in range(0, canvas.height(), 3)]
    assert any(c.red() > 200 and c.green() < 60 for c in column)  # the red cursor line
    b = canvas.note_rect(roll.roll_layout().notes[3]).center()
    lit = image.pixelColor(int(b.x()) + 6, int(b.y()))
    assert lit.red() > 200 and lit.green() > 100  # the sounding note is orange
    roll.set_quarter_position(3.2)
    roll.select_note(8)
    roll.set_zoom(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    roll.grab().save(str(SHOTS / "piano_roll.png"))


def test_bad_abc_says_why(qtbot):
    widget = PianoRoll()
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.failed, timeout=3000) as signal:
        widget.show_abc_now("X:1\nK:D\nDF#A|\n")
    assert "line 3" in signal.args[0] and "line 3" in widget.error_text()


def test_a_real_tune_with_repeats(qtbot):
    from tests.ui.test_score_view import KESH, KESH_NOTES

    widget = PianoRoll()
    widget.resize(900, 330)
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.laidOut, timeout=5000) as signal:
        widget.show_abc_now(KESH)
    assert signal.args == [2 * KESH_NOTES]  # |: ... :| is heard twice
    widget.set_zoom(22)
    widget.set_quarter_position(5.2)
    widget.select_note(12)
    widget.grab().save(str(SHOTS / "piano_roll_kesh.png"))
