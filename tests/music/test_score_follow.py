"""The score's highlight timed by the player's notes (app.music.score_follow)."""

from app.music.notation import engrave
from app.music.pianoroll import RollLayout, RollNote, layout_abc
from app.music.score_follow import note_at, played_timeline, written_groups

ENDINGS = "X:1\nM:2/4\nL:1/8\nQ:1/4=120\nK:G\n|:GA|Bc|1 de:|2 fg|ab|]\n"


def test_written_groups_put_chords_together_and_leave_grace_notes_out():
    timeline = [(0.0, 0.25, "grace"), (0.0, 1.0, "c1"), (0.0, 1.0, "c2"), (1.0, 2.0, "n"),
                (2.0, 3.0, "c1"), (2.0, 3.0, "c2")]              # a repeat plays c1, c2 again
    assert written_groups(timeline, {"grace"}) == [["c1", "c2"], ["n"]]


def test_played_notes_take_their_written_notes_ids_and_a_chord_is_one_entry():
    timeline = [(0.0, 1.0, "a"), (1.0, 2.0, "b1"), (1.0, 2.0, "b2")]
    layout = RollLayout([RollNote(60, 0.0, 1.0, written=0), RollNote(62, 1.0, 1.0, written=1),
                         RollNote(65, 1.0, 1.0, written=1), RollNote(60, 2.0, 1.0, written=0)],
                        written=2)
    assert played_timeline(timeline, (), layout) == [(0.0, 1.0, "a"), (1.0, 2.0, "b1"),
                                                     (2.0, 3.0, "a")]
    layout.written = 3                     # the readings count different notes: no match
    assert played_timeline(timeline, (), layout) is None


def test_second_ending_is_highlighted_when_it_is_heard():
    engraving, layout = engrave(ENDINGS), layout_abc(ENDINGS)
    groups = written_groups(engraving.timeline, engraving.graces)
    assert len(groups) == layout.written == 10       # G A B c d e f g a b
    # verovio plays the first ending on both passes: at 5.0 quarters it shows the d again,
    # a bar behind what the player plays there (the f of the second ending)
    assert engraving.note_at(5.0) == groups[4][0]
    timeline = played_timeline(engraving.timeline, engraving.graces, layout)
    assert note_at(timeline, 5.0) == groups[6][0]
    assert note_at(timeline, 3.0) == groups[0][0]    # the repeat starts again at the G
    assert timeline[-1][1] == 7.0


def test_grace_notes_do_not_shift_the_written_order():
    tune = "X:1\nM:2/4\nL:1/8\nQ:1/4=120\nK:D\n{g}fe dB|{a}g2 f2|]\n"
    engraving, layout = engrave(tune), layout_abc(tune)
    assert len(engraving.graces) == 2 and layout.written == 6
    timeline = played_timeline(engraving.timeline, engraving.graces, layout)
    groups = written_groups(engraving.timeline, engraving.graces)
    assert [note_at(timeline, q) for q in (0.0, 2.0, 3.0)] == [groups[0][0], groups[4][0],
                                                               groups[5][0]]
