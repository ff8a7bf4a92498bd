"""The abc2midi judge: its message classes, and its counts on two tiny tunes (abc2midi only)."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

from abc2midi_judge import judge, message_class  # noqa: E402

needs_abc2midi = pytest.mark.skipif(shutil.which("abc2midi") is None,
                                    reason="abc2midi (abcmidi) not installed")

CLEAN = "X:1\nM:4/4\nL:1/8\nK:G\n|:GABc dBAF|G>AB>c d2B2:|\n"
REJECTED = "X:1\nM:4/4\nL:1/8\nK:G\n|:u(GA)Bc dBAF|G>AB>c d2B2:|\n"


@pytest.mark.parametrize("message, cls", [
    ('Unrecognized chord name "ine"', 'Unrecognized chord name "..."'),
    ("Track 0 Bar 12 has 9/2 time units while the time signature has 3",
     "Track N Bar N has N time units while the time signature has N"),
    ("Bad pitch specifier , after note d", "Bad pitch specifier , after note X"),
    ("Ignoring reserved character `", "Ignoring reserved character X"),
    ('Unrecognized chord name "o7"\n(Hint: use %MIDI chordname to define it.',
     'Unrecognized chord name "..."'),
])
def test_message_class(message, cls):
    assert message_class(message) == cls


@needs_abc2midi
def test_judge_counts_tunes_with_errors():
    report = judge([CLEAN, REJECTED, CLEAN])
    assert (report["tunes"], report["with_abc2midi_error"]) == (3, 1)
    assert report["without_error_percent"] == pytest.approx(66.67)
    assert report["checker_clean_among_rejected"] == 0     # the checker flags u(GA) too
    entry = report["classes"]["error: Malformed note : expecting a-g or A-G"]
    assert entry["tunes"] == 1 and "u(GA)" in entry["example"]


def test_judge_without_the_program_fails_loudly(tmp_path):
    # main() says "abc2midi not found" before it gets here; judge itself never counts it clean.
    with pytest.raises(FileNotFoundError):
        judge([CLEAN], exe=str(tmp_path / "no-abc2midi"))
