"""`python main.py info`: tables, JSON, problems on stderr, exit status 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

REPO = Path(__file__).resolve().parents[2]

GOOD = "X:1\nT:The Reel\nM:C|\nL:1/8\nK:D\nDFAF dFAF|\n\nX:2\nT:Broken\nM:6/8\nCDE|\n"


def test_json_has_the_statistics_and_the_problems(tmp_path, capsys):
    path = tmp_path / "book.abc"
    path.write_text(GOOD)
    assert main(["info", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["tunes"] == 1 and data["keys"] == {"D": 1} and data["meters"] == {"C|": 1}
    assert data["rhythms"] == {"reel": 1} and data["unit_lengths"] == {"1/8": 1}
    # the training text as training writes it: the title kept
    assert data["characters"] == len("X:1\nT:The Reel\nR:reel\nM:C|\nL:1/8\nK:D\nDFAF dFAF|\n")
    assert len(data["problems"]) == 1 and "tune 2 (X:2)" in data["problems"][0]
    assert err.count("\n") == 1 and "book.abc: tune 2 (X:2): line 11" in err


def test_table_on_builtin_celtic(capsys):
    assert main(["info", "celtic", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "Corpus:      celtic" in out and "Keys (" in out and "Rhythms (" in out
    tunes = int(out.split("Tunes:")[1].split()[0].replace(",", ""))
    assert 4200 <= tunes <= 4300


@pytest.mark.parametrize("name, data, message", [
    ("empty.abc", b"", "empty file"),
    ("bin.abc", b"\x00\x01\x02\x03", "binary file"),
    ("prose.abc", b"hello\n", "no tune found"),
    ("tune.xyz", b"X:1\nK:C\nC|\n", "unknown file type"),
    ("missing.abc", None, "no such file"),
    ("allbad.abc", b"X:1\nCDE|\n", "no tunes found"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, name, data, message):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ceol info: error: ") and message in err and str(path) in err
    assert err.count("\n") == 1


def test_empty_folder_exit_2(tmp_path, capsys):
    (tmp_path / "readme.txt").write_text("nothing here")
    assert main(["info", str(tmp_path)]) == 2
    assert f"no tunes found in {tmp_path}" in capsys.readouterr().err


def test_runs_from_the_command_line_without_music21():
    code = ("import sys, runpy; sys.argv = ['main.py', 'info', 'essen', '--json'];"
            "import main; rc = main.main(sys.argv[1:]);"
            "print('music21' in sys.modules, 'torch' in sys.modules, file=sys.stderr);"
            "sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0
    assert json.loads(done.stdout)["tunes"] > 8000
    assert done.stderr.strip().endswith("False False")
