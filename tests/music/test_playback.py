"""What Ceol plays follows abc2midi where music21 reads the text otherwise: ornaments, endings.

`abc_midi.playback_text` rewrites the text before music21 reads it for notes and MIDI; where
abc2midi is installed, `test_abc2midi_plays_the_same_notes` converts each tune with both and
compares the notes (pitch and onset) of the two MIDI files.
"""

import io
import shutil
import subprocess
from fractions import Fraction as F

import mido
import pytest

from app.music.abc_midi import (abc_note_events, abc_to_midi, abc_to_musicxml, playback_text,
                                played_repeats)
from app.music.abc_score import parse_abc

HEAD = "X:1\nM:4/4\nL:1/8\nQ:1/4=120\nK:G\n"
NAMES = {62: "D", 64: "E", 66: "F", 67: "G", 69: "A", 71: "B", 72: "c", 74: "d", 76: "e",
         78: "f", 79: "g", 81: "a", 83: "b"}

# (body, the notes abc2midi 4.84 plays; lowercase one octave up, F and f are F sharps in G)
TUNES = [
    ("~G2 A2 B4|cd ef g4|]", "AGABcdefg"),
    ("~G3 A B4|cd ef g4|]", "GAGFGABcdefg"),
    ("~c2 A2 ~B4|cd ef g4|]", "dcAcBcdefg"),
    ("(3DEF ~G2 A2 B2|cd ef g4|]", "DEFAGABcdefg"),
    ("~G>A B2 c4|]", "AGABc"),
    ("{A}G2 {Bc}A2 B4|cd ef g4|]", "AGBcABcdefg"),
    ("({g}f>e) ({a}g3/2)a/ B4|]", "gfeaga" + "B"),
    ("({d}e>)d B2 c4|]", "dedBc"),
    ("TG A B2 c4|]", "AGAGABc"),
    ("!trill!c2 B2 A4|]", "dcdcdcdcBA"),
    ("|:GA|Bc|1 de:|fg|ab|]", "GABcdeGABcfgab"),
    ("GA|Bc|1 de:|\nfg|ab|]", "GABcdeGABcfgab"),
    ("GA|Bc|1 de||fg:|ab|]", "GABcdefgGABcfgab"),
    ("|:GA|Bc|1 de:|2 fg|ab|]", "GABcdeGABcfgab"),
]


def names(pitches):
    return "".join(NAMES[p] for p in pitches)


@pytest.mark.parametrize("body, expected", TUNES)
def test_ceol_plays_rolls_and_endings_as_abc2midi_does(body, expected):
    assert names(e.pitch for e in abc_note_events(HEAD + body + "\n")) == expected


def test_a_roll_on_three_units_is_a_full_roll_in_the_notes_time():
    events = abc_note_events(HEAD + "~G3 A B4|]\n")
    assert [(e.pitch, e.onset, e.duration) for e in events[:5]] == [
        (67, 0, F(1, 2)), (69, F(1, 2), F(1, 8)), (67, F(5, 8), F(3, 8)),
        (66, 1, F(1, 8)), (67, F(9, 8), F(3, 8))]
    assert events[5].onset == F(3, 2)


def test_other_rolls_are_the_upper_neighbour_for_a_quarter_unit():
    events = abc_note_events(HEAD + "~B2- B2 ~c'4|]\n")
    assert [(e.pitch, e.onset, e.duration) for e in events] == [
        (72, 0, F(1, 8)), (71, F(1, 8), F(15, 8)), (86, 2, F(1, 8)), (84, F(17, 8), F(15, 8))]


@pytest.mark.parametrize("body", ["[AB]>~c B2 c4|]", "[~GB]2 c6|]", "{A}[GB]2 c6|]", "~G/4 A3/4 c6|]",
                                  "(3~GAB c6|]", "(3TGAB c6|]", "|:GA|Bc|1 de:|\n",
                                  "|:GA|Bc|1 de:|2 fg|]"])
def test_what_the_playback_leaves_as_written(body):
    assert playback_text(HEAD + body + "\n") == HEAD + body + "\n"


def test_grace_notes_and_trills_take_their_notes_time():
    events = abc_note_events(HEAD + "{Bc}A2 TG B4|]\n")
    assert [(e.pitch, e.onset, e.duration) for e in events[:3]] == [
        (71, 0, F(1, 8)), (72, F(1, 8), F(1, 8)), (69, F(1, 4), F(3, 4))]
    trill = events[3:-1]
    assert [e.pitch for e in trill] == [69, 67] * 2
    assert [e.onset for e in trill] == [1 + F(k, 8) for k in range(4)]
    assert events[-1].onset == F(3, 2)


def test_played_repeats_rewrites_the_endings_only():
    text = HEAD + "~G2 {A}G2|1 AB:|\ncd|]\n"
    assert played_repeats(text) == HEAD + "~G2 {A}G2|1 AB:|2\ncd|]\n"
    score = parse_abc(text, expand_repeats=True, playback=played_repeats)
    sounding = [n for n in score.flatten().notes if n.quarterLength > 0]
    assert len(sounding) == 4 + 2 + 2       # G G A B, again without the first ending, c d


@pytest.mark.parametrize("tempo, pieces", [("1/4=60", 16), ("1/4=72", 16), ("1/4=75", 8),
                                           ("1/4=148", 8), ("1/4=150", 4), ("3/8=110", 4),
                                           ("1/2=100", 4), ("", 8)])
def test_trill_notes_get_longer_as_the_tempo_rises(tempo, pieces):
    # measured on abc2midi 4.84: the shortest quarter, eighth, 16th ... note over 50 ms
    head = HEAD.replace("Q:1/4=120\n", f"Q:{tempo}\n" if tempo else "")
    events = abc_note_events(head + "TG2 A2 B4|]\n")
    assert [e.pitch for e in events] == [69, 67] * (pieces // 2) + [69, 71]
    assert events[1].onset == F(1, pieces)


def test_lines_stay_where_they_are():
    text = HEAD + "~G3 A B2|1 c2:|\nde fg|1 ab||\nc'2 d'2:|\nb4|]\n"
    assert len(playback_text(text).split("\n")) == len(text.split("\n"))


def test_a_playback_reading_that_fails_falls_back_to_the_text():
    def broken(text):
        raise ValueError("no")
    score = parse_abc(HEAD + "~G2 A2 B4|]\n", playback=broken)
    assert len(score.flatten().notes) == 3


def test_musicxml_shows_the_text_as_written():
    xml = abc_to_musicxml(HEAD + "~G3 A B4|cd ef g4|]\n").decode()
    assert xml.count("<note") == 8


def midi_notes(data):
    midi = mido.MidiFile(file=io.BytesIO(data))
    notes, now = [], 0
    for message in mido.merge_tracks(midi.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity and message.channel == 0:
            notes.append((now / midi.ticks_per_beat, message.note))
    return sorted(notes)


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (abcmidi) not installed")
@pytest.mark.parametrize("body, expected", TUNES + [
    ("Q:1/4=60", "AG" * 8 + "AB"), ("Q:1/4=180", "AGAGAB"), ("Q:3/8=110", "AGAGAB")])
def test_abc2midi_plays_the_same_notes(tmp_path, body, expected):
    abc = HEAD + body + "\n"
    if body.startswith("Q:"):       # a trill at another tempo
        abc = HEAD.replace("Q:1/4=120", body) + "TG2 A2 B4|]\n"
    (tmp_path / "t.abc").write_text(abc)
    subprocess.run(["abc2midi", "t.abc", "-o", "t.mid"], cwd=tmp_path, capture_output=True,
                   timeout=20, check=True)
    theirs = midi_notes((tmp_path / "t.mid").read_bytes())
    ours = midi_notes(abc_to_midi(abc))
    assert names(p for _, p in theirs) == names(p for _, p in ours) == expected
    # abc2midi starts each note a few ticks late: onsets within 1/100 of a quarter
    assert all(abs(a - b) < 0.01 for (a, _), (b, _) in zip(theirs, ours))
