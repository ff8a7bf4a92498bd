"""Lengths abc2midi refuses (`G/3`) are written as tuplets that sound the same in both readers.

music21 (Ceol's reader) must give every note the same pitch and length before and after the
repair, and abc2midi, where installed, must read the result without an error and play each
note as long as music21 does.
"""

import shutil
import subprocess
from fractions import Fraction

import mido
import music21
import pytest

from app.music import abc_tokens as T
from app.music.checker_portable import portable_findings
from app.music.repair import repair_tune
from app.music.repair_lengths import fix_lengths, odd_part

HEAD = "X:1\nT:t\nM:4/4\nL:1/8\nQ:1/4=120\nK:C\n"

REWRITES = [
    ("G/3A/3B/3 Bc defg|", "(3G/A/B/ Bc defg|"),
    ("G/3 A/3B/3c/3 B2/3 c defg|", "(3:2:5G/ A/B/c/ B c defg|"),
    ("G/3A/3 B/3 Bc defg|", "(3G/A/ B/ Bc defg|"),
    ("~G/3 A2/3 Bc defg|", "(3:2:2~G/ A Bc defg|"),
    ("G/3>A/3 B/3 Bc defg|", "(3G/>A/ B/ Bc defg|"),
    ("[G/3B/3]A/3 B/3 Bc defg|", "(3[GB]/A/ B/ Bc defg|"),
    ("z2/6 [GB]2/6 A/3 Bc defg|", "(3z/ [GB]/ A/ Bc defg|"),
    ("G/5A/5B/5c/5d/5 Bc defg|", "(5:4:5G/4A/4B/4c/4d/4 Bc defg|"),
    ("G6/12 G/ Bcdefga|", "G/ G/ Bcdefga|"),
    ("{g/3}G Bcdefga|", "{g/4}G Bcdefga|"),
    ('"G"G/3A/3B/3 Bc defg|', '"G"(3G/A/B/ Bc defg|'),
]


def fixed(body):
    notes = []
    return fix_lengths(HEAD + body + "\n", notes), notes


@pytest.mark.parametrize("body, expected", REWRITES)
def test_what_the_repair_writes(body, expected):
    text, notes = fixed(body)
    assert text == HEAD + expected + "\n" and notes
    assert not [f for f in portable_findings(T.tokenize_tune(text)) if f.code == "odd-length"]


def music21_notes(abc):
    score = music21.converter.parse(abc, format="abc")
    return [(tuple(p.midi for p in n.pitches), Fraction(n.duration.quarterLength))
            for n in score.flatten().notesAndRests if n.duration.quarterLength]


@pytest.mark.parametrize("body, expected", REWRITES)
def test_music21_plays_the_same_notes(body, expected):
    assert music21_notes(fixed(body)[0]) == music21_notes(HEAD + body + "\n")


@pytest.mark.parametrize("body", ["(3G/3AB c2 defg|", "[G/3B/6]A Bc defg|", "G/11 Bcdefg|"])
def test_what_cannot_sound_the_same_is_left(body):
    # A length inside a tuplet (abc2midi refuses nested tuplets), a chord of unequal notes, a
    # tuplet of 11: left for the checker to report.
    assert fixed(body) == (HEAD + body + "\n", [])


def test_odd_part():
    assert [odd_part(Fraction(n, d)) for n, d in [(1, 3), (1, 6), (3, 8), (2, 5), (4, 1)]] == \
        [3, 3, 1, 5, 1]


def abc2midi_notes(tmp_path, abc):
    (tmp_path / "t.abc").write_text(abc)
    run = subprocess.run(["abc2midi", "t.abc", "-o", "t.mid"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=20)
    errors = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]
    midi = mido.MidiFile(tmp_path / "t.mid")
    starts, notes, now = {}, [], 0
    for message in mido.merge_tracks(midi.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity:
            starts[message.note] = now
        elif message.type in ("note_on", "note_off") and message.note in starts:
            notes.append((starts[message.note], now - starts.pop(message.note)))
    return errors, [length / midi.ticks_per_beat for _, length in sorted(notes)]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (abcmidi) not installed")
@pytest.mark.parametrize("body", [b for b, e in REWRITES if not set(b) & set("[{~\"")])
def test_abc2midi_plays_the_lengths_music21_reads(tmp_path, body):
    # Chords (abc2midi staggers their notes), grace notes, rolls and chord symbols (extra
    # notes) aside.
    result = repair_tune(HEAD + body + "\n")
    errors, lengths = abc2midi_notes(tmp_path, result.text)
    assert result.ok and not errors, (result.problems_left, errors)
    expected = [float(length) for _, length in music21_notes(HEAD + body + "\n")
                if _ != ()]
    # abc2midi ends each note a few ticks early (articulation): within 1/100 of a quarter.
    assert len(lengths) == len(expected)
    assert all(0 <= e - a < 0.01 for a, e in zip(lengths, expected)), (lengths, expected)
