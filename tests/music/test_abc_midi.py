"""ABC -> notes, MIDI and MusicXML through music21: pitches, repeats, ties, tempo, errors."""

from fractions import Fraction as F

import pytest

from app.music.abc_midi import abc_note_events, abc_to_midi, abc_to_musicxml, default_tempo_qpm
from app.music.abc_score import carry_accidentals, prepare_abc
from app.music.errors import MusicError
from app.music.midi_file import read_midi
from app.music.tunebook import parse_tune_book

JIG = "X:3\nT:Pickup Jig\nM:6/8\nL:1/8\nK:G\nD|GAB dBG|c2A BGE|[1 DEF G2:|[2 ABc d2||\n"


def pitches(abc):
    return [e.pitch for e in abc_note_events(abc)]


def test_note_events_give_pitch_onset_and_duration_in_quarters():
    events = abc_note_events("X:1\nM:4/4\nL:1/8\nK:G\nGAB c d2 e2|f4 z2 g2|\n")
    assert [e.pitch for e in events] == [67, 69, 71, 72, 74, 76, 78, 79]   # f is F# in G
    assert [e.onset for e in events] == [0, F(1, 2), 1, F(3, 2), 2, 3, 4, 7]
    assert [e.duration for e in events][-3:] == [1, 2, 1]


def test_repeats_and_first_and_second_endings_are_expanded():
    events = abc_note_events(JIG)
    # the pickup and two bars, then the first ending; all again with the second ending
    assert len(events) == 2 * (1 + 6 + 5 + 4)
    notes = [e.pitch for e in events]
    assert notes[:2] == [62, 67] and notes[16:18] == [62, 67]
    assert notes[12:16] == [62, 64, 66, 67]          # first ending
    assert notes[28:] == [69, 71, 72, 74]            # second ending
    assert events[-1].onset == F(17) and events[-1].duration == 1


def test_ties_merge_same_pitches_but_keep_a_slur_written_as_a_tie():
    events = abc_note_events("X:1\nM:4/4\nL:1/8\nK:C\nA4- A2 B2- | B4 c-d z2|\n")
    assert [(e.pitch, e.duration) for e in events] == [(69, 3), (71, 3), (72, F(1, 2)),
                                                      (74, F(1, 2))]


def test_accidentals_carry_through_the_bar_in_the_same_octave_only():
    assert pitches("X:1\nM:4/4\nL:1/8\nK:C\n^F F f =F F2 | F2 _B B b B4 |\n") == \
        [66, 66, 77, 65, 65, 65, 70, 70, 83, 70]
    assert carry_accidentals('"F#m"^F !trill!F [K:G] F | F') == '"F#m"^F !trill!^F [K:G] F | F'


def test_missing_unit_length_follows_the_abc_default():
    assert abc_note_events("X:1\nM:2/4\nK:C\nAB|\n")[1].onset == F(1, 4)    # L:1/16
    assert abc_note_events("X:1\nM:6/8\nK:C\nAB|\n")[1].onset == F(1, 2)    # L:1/8
    text, origin = prepare_abc("X:1\nM:6/8\nK:C\nAB|\nX:2\nK:D\nc|\n")
    assert "L:1/8" in text and "X:2" not in text and origin[-1] == 3


def test_midi_header_holds_title_tempo_meter_key_and_program():
    tune = read_midi(abc_to_midi(JIG.replace("K:G", "Q:3/8=100\nK:G"), program=40))
    assert tune.type == 1 and len(tune.tracks) == 1
    assert tune.title == "Pickup Jig"
    assert tune.tempo_qpm == pytest.approx(150)
    assert tune.time_signature == (6, 8) and tune.pickup == F(1, 2)
    assert tune.key_signature == "G"
    assert tune.program == 40
    assert tune.melody() == abc_note_events(JIG)


def test_default_tempo_depends_on_the_meter_and_can_be_overridden():
    assert default_tempo_qpm((6, 8)) == 165 and default_tempo_qpm((4, 4)) == 120
    assert read_midi(abc_to_midi(JIG)).tempo_qpm == pytest.approx(165)
    reel = "X:1\nM:C|\nL:1/8\nK:Dmix\nABcd efge|\n"
    assert read_midi(abc_to_midi(reel)).tempo_qpm == pytest.approx(120)
    assert read_midi(abc_to_midi(reel, tempo_qpm=96)).tempo_qpm == pytest.approx(96)
    assert read_midi(abc_to_midi(reel)).key_signature == "G"   # D mixolydian: one sharp


def test_transpose_moves_notes_and_key_signature():
    tune = read_midi(abc_to_midi(JIG, transpose=2))
    assert [n.pitch for n in tune.melody()] == [p + 2 for p in pitches(JIG)]
    assert tune.key_signature == "A"
    with pytest.raises(MusicError, match="outside the MIDI range"):
        abc_to_midi(JIG, transpose=100)


def test_musicxml_keeps_repeats_as_written():
    data = abc_to_musicxml(JIG)
    assert data.startswith(b"<?xml") and b"<score-partwise" in data
    assert b"<repeat" in data and b"<ending" in data
    assert b"Pickup Jig" in data


def test_writes_atomically_to_a_path(tmp_path):
    out = tmp_path / "jig.mid"
    data = abc_to_midi(JIG, out)
    assert out.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["jig.mid"]


def test_unparseable_tune_names_the_label_and_line():
    bad = "X:1\nT:Broken\nM:4/4\nL:1/8\nK:C\nABcd|\nef [CEG g|\n"
    with pytest.raises(MusicError) as info:
        abc_to_midi(bad, label="set.abc tune 2")
    assert info.value.line == 7
    assert str(info.value).startswith("set.abc tune 2: line 7: music21 cannot read this ABC")


def test_error_in_a_book_gives_the_line_in_the_file(tmp_path):
    path = tmp_path / "book.abc"
    path.write_text("% my book\nL:1/8\n\nX:1\nT:Good\nK:C\nABC|\n\nX:2\nT:Bad\nM:3/4\nK:C\n"
                    "ABC|\nA/0B c|\n")
    tune = parse_tune_book(path.read_text(), str(path)).tunes[1]
    with pytest.raises(MusicError) as info:
        abc_note_events(tune)
    assert info.value.line == 14
    assert "book.abc tune 2 (X:2 Bad)" in str(info.value)


@pytest.mark.parametrize("abc, problem", [
    ("", "empty ABC text"),
    ("X:1\nT:Only a header\nK:C\n", "no notes"),
    ("X:1\nK:C\nz4 z4|\n", "no notes"),
])
def test_tunes_without_playable_notes_are_refused(abc, problem):
    with pytest.raises(MusicError, match=problem):
        abc_to_midi(abc)


def long_tune(bars: int) -> str:
    lines = ["|".join(["ABcd efge"] * 4) + "|" for _ in range(bars // 4)]
    return "X:7\nT:Long\nM:4/4\nL:1/8\nK:G\n" + "\n".join(lines) + "\n"


def test_count_bars_counts_bars_with_music():
    from app.music.limits import count_bars

    assert count_bars(long_tune(8)) == 8
    assert count_bars("X:1\nK:C\n|:ABc|]\n") == 1
    assert count_bars("X:1\nK:C\nAB|CD\n") == 2
    assert count_bars('X:1\nK:C\n"|"A % | | |\n') == 1


def test_a_tune_over_the_bar_limit_is_refused_naming_tune_line_and_limit(tmp_path):
    from app.music.limits import MAX_MUSICXML_BARS, MAX_TUNE_BARS

    book = parse_tune_book("X:1\nK:C\nABC|\n\n" + long_tune(MAX_TUNE_BARS + 4),
                           str(tmp_path / "long.abc"))
    tune = book.tunes[1]
    with pytest.raises(MusicError) as info:
        abc_to_midi(tune)
    assert str(info.value) == (f"long.abc tune 2 (X:7 Long): line 5: the tune has "
                               f"{MAX_TUNE_BARS + 4:,} bars; Ceol converts tunes of at most "
                               f"{MAX_TUNE_BARS:,} bars")
    assert info.value.line == 5
    with pytest.raises(MusicError, match=f"at most {MAX_MUSICXML_BARS:,} bars to this format"):
        abc_to_musicxml(long_tune(MAX_MUSICXML_BARS + 4))


def test_a_tune_over_the_character_limit_is_refused():
    from app.music.limits import MAX_TUNE_CHARS

    abc = "X:1\nM:4/4\nL:1/8\nK:C\n" + "A" * MAX_TUNE_CHARS + "\n"
    with pytest.raises(MusicError, match=f"characters; Ceol converts tunes of at most "
                       f"{MAX_TUNE_CHARS:,} characters"):
        abc_note_events(abc)


def test_lean_parse_gives_the_same_notes_as_the_full_parse():
    from app.music.abc_midi import parse_abc, score_note_events

    abc = "X:1\nM:6/8\nL:1/8\nK:D\n|:d2A BAF|ABd e2f|gfe dcB|1 A3 A2:|2 A3 d3||\n"
    full = score_note_events(parse_abc(abc))
    assert score_note_events(parse_abc(abc, lean=True)) == full
    assert abc_note_events(abc) == full
