"""`python main.py check`: problems with file positions, --tune, --repair, --json, bad input."""

import json

from app.cli import main

BOOK = """% a tune book
M:6/8

X:1
T:Good
L:1/8
K:D
A|dAF DFA|dAF G2F|EFG ABc|d3 d2:|

X:2
T:Bad
L:1/8
K:D
|:dAF DFA|dAF G2F|EFG (ABc|d3 [df
"""


def write_book(tmp_path):
    path = tmp_path / "book.abc"
    path.write_text(BOOK)
    return path


def test_lists_problems_with_file_line_and_column(tmp_path, capsys):
    path = write_book(tmp_path)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "book.abc tune 2 (X:2 Bad)" in out and "tune 1" not in out
    assert "book.abc:14:1: error: repeat |: is never closed with :| [unclosed-repeat]" in out
    assert "book.abc:14:23: error: slur ( is not closed with ) [unclosed-slur]" in out
    assert "book.abc:14:31: error: chord [ is not closed with ] [unclosed-chord]" in out
    assert out.strip().endswith("1 of 2 tune(s) clean")


def test_one_clean_tune_exits_zero(tmp_path, capsys):
    path = write_book(tmp_path)
    assert main(["check", str(path), "--tune", "1"]) == 0
    out = capsys.readouterr().out
    assert "tune 1 (X:1 Good): 0 problem(s)" in out


def test_repair_prints_the_repaired_tune_and_the_repairs(tmp_path, capsys):
    path = write_book(tmp_path)
    assert main(["check", str(path), "--tune", "2", "--repair"]) == 0
    out = capsys.readouterr().out
    assert "repaired; 4 repair(s)" in out
    assert "closed the slur ( after the last note" in out
    assert "|:dAF DFA|dAF G2F|EFG (ABc|d3) [df]3 :|" in out
    assert out.strip().endswith("1 of 1 tune(s) clean after repair")


def test_json_report(tmp_path, capsys):
    path = write_book(tmp_path)
    assert main(["check", str(path), "--json", "--repair"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["tunes"], data["not_clean"]) == (2, 0)
    bad = data["reports"][1]
    assert {p["code"] for p in bad["problems"]} == {"unclosed-repeat", "unclosed-slur",
                                                    "unclosed-chord", "bar-too-short"}
    assert bad["repair"]["ok"] and bad["repair"]["text"].startswith("X:2\n")


def test_bad_input_is_one_line_and_status_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.abc")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ceol check: error:") and "missing.abc" in err
    assert main(["check", str(write_book(tmp_path)), "--tune", "7"]) == 2
    assert "no tune 7" in capsys.readouterr().err
