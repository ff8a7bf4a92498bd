"""Crashes the ABC fuzzing found, each kept as a named case: bad input gives a result or a
MusicError, never another exception."""

import pytest

from app.music.abc_midi import abc_note_events
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
