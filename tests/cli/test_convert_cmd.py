"""`python main.py convert`: conversions, --all, and every bad input as one line with exit 2."""

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.music.midi_file import read_midi, write_midi
from app.music.midi_file import NoteEvent

ROOT = Path(__file__).parents[2]
GOOD = "X:1\nT:Kesh\nM:6/8\nL:1/8\nK:G\nD|GAB dBG|c2A BGE|DEF G2:|\n"
NOTES = [NoteEvent(62, 0, 1), NoteEvent(64, 1, 1)]


def run(capsys, *args):
    status = main(["convert", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def test_converts_abc_to_midi_and_midi_to_abc(tmp_path, capsys):
    source = tmp_path / "kesh.abc"
    source.write_text(GOOD)
    status, out, err = run(capsys, source, tmp_path / "kesh.mid", "--instrument", "tin whistle",
                           "--tempo", "100", "--transpose", "2")
    assert (status, err) == (0, "") and out == f"wrote {tmp_path / 'kesh.mid'}\n"
    tune = read_midi(tmp_path / "kesh.mid")
    assert tune.program == 78 and tune.melody()[0].pitch == 64
    status, out, err = run(capsys, tmp_path / "kesh.mid", tmp_path / "back.abc")
    assert status == 0
    assert (tmp_path / "back.abc").read_text().startswith("X:1\nT:Kesh\nM:6/8\n")


def test_all_reports_broken_tunes_and_writes_the_good_ones(tmp_path, capsys):
    source = tmp_path / "book.abc"
    source.write_text(GOOD + "\nX:2\nT:Bad\nK:C\nA/0 B|\n\nX:3\nT:Fine\nK:D\nABc|\n")
    status, out, err = run(capsys, source, tmp_path / "out" / "{index}.mid", "--all")
    assert status == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["1.mid", "3.mid"]
    assert out == f"wrote 2 files ({tmp_path / 'out' / '1.mid'} ... {tmp_path / 'out' / '3.mid'})\n"
    lines = err.splitlines()
    assert lines[0].startswith("ceol convert: skipped: book.abc tune 2 (X:2 Bad): line 11: ")
    assert lines[1] == "ceol convert: 1 tune(s) could not be converted"


def _midi_bytes():
    return write_midi(NOTES, title="t")


BAD_INPUTS = {
    "binary file": ("tune.abc", b"\x00\x01\x02\xff" * 200, "binary file"),
    "empty file": ("tune.abc", b"", "empty file"),
    "text without a tune": ("notes.abc", b"Just some words\nabout tunes.\n", "no tune found"),
    "tune music21 cannot parse": ("bad.abc", b"X:1\nT:Bad\nK:C\nAB [CEG c|\n",
                                  "bad.abc tune 1 (X:1 Bad): line 4: music21 cannot read"),
    "truncated MIDI": ("cut.mid", None, "truncated MIDI file"),
    "corrupt MIDI": ("junk.mid", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff\x00",
                     "MIDI file"),
    "not MIDI at all": ("text.mid", b"X:1\nK:C\nABC|\n", "not a MIDI file"),
    "unknown extension": ("tune.xyz", b"X:1\nK:C\nABC|\n", "unknown input type '.xyz'"),
    "missing file": ("missing.abc", "absent", "no such file"),
    "folder": ("folder.abc", "folder", "is a folder"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_naming_the_file_and_exit_2(tmp_path, capsys, case):
    name, content, message = BAD_INPUTS[case]
    source = tmp_path / name
    if content is None:
        content = _midi_bytes()[:-9]
    if content == "folder":
        source.mkdir()
    elif content != "absent":
        source.write_bytes(content)
    target = tmp_path / ("out.abc" if name.endswith(".mid") else "out.mid")
    status, out, err = run(capsys, source, target)
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("ceol convert: error: ")
    assert name in err and message in err
    assert not target.exists()


def test_unknown_output_extension(tmp_path, capsys):
    source = tmp_path / "kesh.abc"
    source.write_text(GOOD)
    status, _, err = run(capsys, source, tmp_path / "kesh.flac")
    assert status == 2 and "cannot convert abc to '.flac'; supported: abc -> .mid" in err


def test_runs_from_main_py_and_help_documents_all(tmp_path):
    source = tmp_path / "kesh.abc"
    source.write_text(GOOD)
    done = subprocess.run([sys.executable, "main.py", "convert", str(source),
                           str(tmp_path / "k.musicxml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "k.musicxml").read_bytes().startswith(b"<?xml")
    helped = subprocess.run([sys.executable, "main.py", "convert", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert "{title}" in helped.stdout and "--instrument" in helped.stdout


def test_a_tune_over_the_bar_limit_is_refused_naming_file_tune_line_and_limit(tmp_path, capsys):
    from app.music.limits import MAX_TUNE_BARS

    bars = "|".join(["ABcd efge"] * 4) + "|\n"
    source = tmp_path / "long.abc"
    source.write_text("X:1\nT:Short\nK:C\nABC|\n\nX:2\nT:Long\nM:4/4\nL:1/8\nK:G\n"
                      + bars * (MAX_TUNE_BARS // 4 + 1))
    status, out, err = run(capsys, source, tmp_path / "out.mid", "--tune", "2")
    assert status == 2 and out == "" and not (tmp_path / "out.mid").exists()
    assert err.strip() == (f"ceol convert: error: long.abc tune 2 (X:2 Long): line 6: the tune "
                           f"has {MAX_TUNE_BARS + 4:,} bars; Ceol converts tunes of at most "
                           f"{MAX_TUNE_BARS:,} bars")


def test_a_book_over_the_size_limit_is_refused(tmp_path, capsys, monkeypatch):
    from app.music import limits

    monkeypatch.setattr(limits, "MAX_BOOK_BYTES", 100)
    source = tmp_path / "big.abc"
    source.write_text(GOOD * 10)
    status, _, err = run(capsys, source, tmp_path / "out.mid")
    assert status == 2 and "big.abc: the file has" in err and "at most 0.0 MB" in err
