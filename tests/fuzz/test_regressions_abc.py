"""Crashes the ABC fuzzing found, each kept as a named case: bad input gives a result or a
MusicError, never another exception."""

from fractions import Fraction

import pytest

from app.music.abc_midi import abc_note_events, abc_to_midi
from app.music.abc_tokens import ERROR, tokenize_line, tokenize_tune
from app.music.checker import check_tune
from app.music.errors import MusicError
from app.music.repair import repair_tune


@pytest.mark.parametrize("text", ["A/0", "B2/0", "z/0", "[AB]/0", "x/0", "c//00"])
def test_a_length_dividing_by_zero_is_an_error_token_not_a_crash(text):
    tokens = tokenize_line(text, 1)
    assert tokens[-1].kind == ERROR and tokens[-1].value[0] == "zero-length"


def test_the_checker_reports_and_the_repair_fixes_a_zero_length():
    abc = "X:1\nM:4/4\nL:1/8\nK:C\nA/0 B2/0 c4 d|\n"
    assert [p.code for p in check_tune(abc)] == ["zero-length", "zero-length"]
    result = repair_tune(abc)
    assert result.ok and result.text.endswith("K:C\nA B2 c4 d|\n")
    assert tokenize_tune(result.text).body


def test_music21_dividing_by_zero_is_a_music_error():
    with pytest.raises(MusicError, match="divides by zero"):
        abc_note_events("X:1\nM:4/4\nL:1/8\nK:C\nA/0 B c d|\n")


def tune_with(header: str = "", body: str = "ABcd|") -> str:
    return f"X:1\nM:4/4\nL:1/8\n{header}K:C\n{body}\n"


@pytest.mark.parametrize("abc, message", [
    # music21 built a list of 99,999,999 beats (gigabytes, minutes)
    ("X:1\nM:99999999/1\nL:1/8\nK:C\nABcd|\n", "the meter M:99999999/1 is out of range"),
    (tune_with(body="AB[M:99999999/1]cd|"), "the meter M:99999999/1 is out of range"),
    # the default unit length divided by the meter's zero denominator
    ("X:1\nM:3/0\nK:C\nABcd|\n", "the meter M:3/0 is out of range"),
    # music21 reads the digits of a meter it does not know: 355/4, and a minute or more to
    # parse a longer one (found by fuzzing ABC -> MusicXML)
    ("X:1\nM:3>[Bxb5!5/4\nL:1/4\nK:D\nA|d2 f|\n", "the meter M:3>\\[Bxb5!5/4 is out of range"),
    ("X:1\nM:3>[Bxb5!5>[Bxb5!5/4\nL:1/4\nK:D\nA|d2 f|\n", "the meter M:3>"),
    # music21's MusicXML export hung on a note of 10^20 units
    (tune_with(body="A99999999999999999999 B|"), "the number in 999.* is too large"),
    (tune_with(body="A4294967296 B|"), "at most 1,024 units"),
    (tune_with(body="A1025 B|"), "is over 1,024 unit note lengths"),
    (tune_with(body="Z99999999|A|"), "a rest of 99,999,999 bars"),
    ("X:1\nM:4/4\nL:99999/1\nK:C\nABcd|\n", "the unit note length L:99999/1 is over 4 whole"),
])
def test_numbers_music21_cannot_take_are_refused_with_the_line(abc, message):
    with pytest.raises(MusicError, match=message) as info:
        abc_note_events(abc)
    assert info.value.line in (2, 3, 5)


def test_a_zero_tempo_is_ignored_not_a_crash():
    from app.music.abc_midi import abc_to_midi
    from app.music.midi_file import read_midi

    for tempo in ("0", "99999999999999999999"):
        assert read_midi(abc_to_midi(tune_with(f"Q:1/4={tempo}\n"))).tempo_qpm == 120


@pytest.mark.parametrize("text", ["A" + "9" * 5000, "Z" + "9" * 20, "z1111111111/2",
                                  "[AB]/" + "3" * 12])
def test_a_number_too_long_for_int_is_an_error_token_not_a_crash(text):
    # int() refuses strings of more than 4,300 digits with ValueError
    tokens = tokenize_line(text, 1)
    assert tokens[-1].kind == ERROR and tokens[-1].value[0] == "huge-length"


def test_huge_numbers_in_header_fields_are_problems_or_music_errors():
    abc = f"X:1\nM:{'9' * 5000}/8\nL:1/{'8' * 5000}\nQ:1/4={'8' * 5000}\nK:C\nABcd|\n"
    problems = check_tune(abc)
    assert {p.code for p in problems} == {"bad-header"}
    assert all(len(p.message) < 80 for p in problems)
    assert repair_tune(abc).ok
    with pytest.raises(MusicError, match="the meter M:9999"):
        abc_note_events(abc)
    with pytest.raises(MusicError):
        abc_note_events(f"X:1\nM:4/4\nL:1/{'8' * 5000}\nK:C\nABcd|\n")


def test_a_note_with_a_huge_length_is_repaired_by_dropping_the_length():
    result = repair_tune("X:1\nM:4/4\nL:1/8\nK:C\nA9999999999 B2 c4 d|\n")
    assert result.ok and result.text.endswith("K:C\nA B2 c4 d|\n")


def test_a_tune_too_long_to_repair_is_not_ok_though_the_checker_may_pass_it():
    # found by fuzz_long: a 5,000-digit V: value made the tune too long to repair
    from tests.fuzz.test_fuzz_abc import _repair

    _repair("X:5\nV:1/" + "8" * 25_000 + "\nK:C\nABcd|\n")


@pytest.mark.parametrize("q", ["1/4=1", "1/4=3", "1/8=5"])
def test_a_tempo_slower_than_a_midi_file_holds_is_ignored_not_a_crash(q):
    # Q:1/4=1 is 60,000,000 microseconds a quarter note; MIDI's set_tempo holds 24 bits
    # (ValueError "attribute must be in range 0..16777215" from mido, found by fuzzing).
    data = abc_to_midi(tune_with(f"Q:{q}\n"), label="slow")
    assert data.startswith(b"MThd")


def test_write_midi_refuses_a_tempo_it_cannot_hold_by_name():
    from app.music.midi_file import NoteEvent, write_midi

    with pytest.raises(MusicError, match="tempo 2 quarter notes per minute is outside 4-1000"):
        write_midi([NoteEvent(60, Fraction(0), Fraction(1))], None, tempo_qpm=2)


def _pitches(abc: str) -> list[str]:
    from app.music.abc_score import parse_abc

    return [n.name for n in parse_abc(abc, "repeats").recurse().notes]


@pytest.mark.parametrize("body, played", [
    ("C|D:|E|F:|", "C D C D E F E F"),
    ("C|D:|E|F:|G|A:|", "C D C D E F E F G A G A"),
    ("|:C|D:|E|F:|", "C D C D E F E F"),
    ("C|D:|E|F|G|A:|", "C D C D E F G A E F G A"),
    ("|:C|D:||:E|F:|", "C D C D E F E F"),
])
def test_a_section_that_ends_in_a_repeat_repeats_from_the_previous_repeat(body, played):
    # music21 repeated it from the very start, earlier repeats included (C D C D E F C D C D
    # E F for the first); these are abc2midi's readings (checked with abc2midi 20230208).
    assert " ".join(_pitches(f"X:1\nM:2/4\nL:1/4\nK:C\n{body}\n")) == played


def test_many_sections_ending_in_repeats_expand_once_each_not_doubling():
    # Found by fuzzing ABC -> WAV: a tune of 20 sections each ending ":|" (lines duplicated)
    # took 93 s in music21's repeat expansion, which doubled the notes with each section.
    section = "A|def ecA|d3 A2G/F/|GAB AFD|E2E E2\nA|def edc|BgB AGF|GAB cAc|d3 d2:|\n"
    written = "X:1\nM:6/8\nL:1/8\nK:D\n" + "".join(
        section.replace("d2:|", f"d2|{'e' if k % 2 else 'f'}3 d3:|") for k in range(12))
    assert len(_pitches(written)) == 2 * len(_pitches(written.replace(":|", "|")))


def test_midi_and_the_piano_roll_open_sections_too_so_endings_do_not_double():
    # Found by the long ABC -> MIDI fuzz run: eleven sections `D|..|[1 DEF G2:|[2 ABc d2||`
    # took 79 s and made a 590 KB MIDI file: abc_to_midi parses with repeats kept and expands
    # afterwards, and the sections were only opened when parse_abc expanded them itself.
    from app.music.abc_midi import abc_to_midi, abc_to_score, score_note_events

    section = "D|GAB dBG|c2A BGE|[1 DEF G2:|[2 ABc d2||\n"
    tune = "X:1\nT:Endings\nM:6/8\nL:1/8\nK:G\n" + section * 11
    notes = len(score_note_events(abc_to_score(tune)))
    assert notes == 11 * (2 * 12 + 4 + 4)   # each section: twice, then its two endings
    midi = abc_to_midi(tune)
    assert len(midi) < 20_000                         # was 589,631 bytes
