"""The repair writes what abc2midi rejects the way it reads it, and no note changes length."""

import shutil
import subprocess
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.music import abc_tokens as T
from app.music.checker import analyse_tune
from app.music.checker_portable import portable_findings
from app.music.repair import repair_tune
from app.music.repair_portable import fix_portable, length_text
from tests.music.test_checker_portable import CASES, HEAD


def fixed(abc):
    notes = []
    return fix_portable(abc, notes), notes


def bar_durations(abc):
    return [bar.duration for bar in analyse_tune(abc).bars]


def pitches(abc):
    return [t.text.rstrip("0123456789/").upper().replace(",", "").replace("'", "")
            for t in T.tokenize_tune(abc).body if t.kind == T.NOTE]


@pytest.mark.parametrize("body, code", [c for c in CASES if c[1]])
def test_every_case_is_fixed_without_changing_bar_lengths(body, code):
    abc = HEAD + body + "\n"
    text, notes = fixed(abc)
    assert notes and portable_findings(T.tokenize_tune(text)) == []
    if code != "bad-chord-symbol" and "A-B" not in body and "A-a" not in body:
        assert bar_durations(text) == bar_durations(abc)


@pytest.mark.parametrize("body, expected", [
    ("u(GF) ABcd efga|", "(uGF) ABcd efga|"),
    ("A2>B cdefg|", "A3B/ cdefg|"),
    ("A>B>c defgab|", "A3/2B3/4c/ defgab|"),
    ("A>.B cdefg|", "A3/2.B/ cdefg|"),
    ("~{g}A2 Bcdefg|", "{g}~A2 Bcdefg|"),
    ('u"G"A Bcdef|', '"G"uA Bcdef|'),
    ('."4".e ABcdef|', '"4".e ABcdef|'),
    ("d,CDE FDFA|", "DCDE FDFA|"),
    ("A-B cdefgab|", "AB cdefgab|"),
    ('"Gmaj"A "Segno"B cdefga|', '"G"A B cdefga|'),
    ("~[CE] cdefgab|", "[CE] cdefgab|"),
    ("ABcd efga u|", "ABcd efga |"),
    ("G2{A}-G ABcd|", "G2{A}G ABcd|"),
    ("{B}(~AG) Bcdefg|", "{B}(AG) Bcdefg|"),
    ("ABcd efga|:", "ABcd efga|"),
    ("ABcd efga::", "ABcd efga:|"),
    ("dAF DFA:|EFG ABc||[1 d6:|2 d6|]", "dAF DFA::EFG ABc||[1 d6:|2 d6|]"),
    ("dAF DFA:||EFG ABc|[1 d6:|2 d6|]", "dAF DFA:||:EFG ABc|[1 d6:|2 d6|]"),
    ("HA>B cdefgab|", "HA3/2B/ cdefgab|"),
    ("ABcd efga:|ABcd efga::ABcd efga:|", "ABcd efga::ABcd efga::ABcd efga:|"),
    ("ABcd efga|\nR:reel\nABcd efga|", "ABcd efga|\nABcd efga|"),
    (".F4-.F2 AB|", "F4-.F2 AB|"),
    ("|:ABcd efga::|abcd efga|]", "|:ABcd efga:|abcd efga|]"),
    ("[f2F2]-[d2F2] ABcd|", "[f2F2][d2F2] ABcd|"),
    ("ABcd efga|1 ABcd efga|ABcd efga|]", "ABcd efga|| ABcd efga|ABcd efga|]"),
    ("|:ABcd efga|[1 ABcd efga|ABcd efga|]", "|:ABcd efga|| ABcd efga|ABcd efga|]"),
    ("ABcd efga [|]|]", "ABcd efga |]"),
    ("ABcd efga [|][|]|]", "ABcd efga |]"),
    ("ABcd [|]efga|]", "ABcd |efga|]"),
    ("ABcd efga|\nQ:1/1=00\nABcd efga|", "ABcd efga|\nABcd efga|"),
    ("ABcd efga:|\n[V:2] abcd efga|]", "ABcd efga:|\n abcd efga|]"),
    ("ABcd efga|[1 ABcd efga:|[2 ABcd efga|]\nV:2\nabcd efga|]",
     "ABcd efga|[1 ABcd efga:|[2 ABcd efga|]\nabcd efga|]"),
    ("ABcd efga|1 ABcd efga|ABcd efga|1 ABcd efga:|",
     "ABcd efga|1 ABcd efga|ABcd efga|| ABcd efga:|"),
    ("|:ABcd efga|[1 ABcd efga|[2 ABcd efga:|", "|:ABcd efga|[1 ABcd efga|| ABcd efga:|"),
])
def test_what_the_repair_writes(body, expected):
    assert fixed(HEAD + body + "\n")[0] == HEAD + expected + "\n"


def test_hornpipe_in_cut_time_loses_its_rhythm_field():
    abc = "X:1\nR:hornpipe\nM:C|\nL:1/8\nK:D\nABcd efga|\n"
    text, notes = fixed(abc)
    assert text == "X:1\nM:C|\nL:1/8\nK:D\nABcd efga|\n" and "R:" in notes[0]


def test_a_second_rhythm_field_naming_a_hornpipe_goes_too():
    abc = "X:1\nR:cornpipe\nM:C|\nL:1/8\nR:Hornpipe\nK:G\nABcd efga|\n"
    text, notes = fixed(abc)
    assert text == "X:1\nR:cornpipe\nM:C|\nL:1/8\nK:G\nABcd efga|\n" and "R:" in notes[0]


def test_an_instruction_abc2midi_does_not_know_goes_and_a_repeat_plan_stays():
    abc = "X:1\nM:C\nL:1/8\nI:A:||\nI::: ::\nK:D\nABcd efga|\n"
    text, notes = fixed(abc)
    assert text == "X:1\nM:C\nL:1/8\nI::: ::\nK:D\nABcd efga|\n" and "I:A:||" in notes[0]


def test_a_tempo_that_divides_by_zero_goes_and_the_tune_plays():
    from app.music.abc_midi import abc_to_midi

    text, notes = fixed("X:1\nM:C\nL:1/8\nQ:1/0=120\nK:G\nABcd efga|\n")
    assert text == "X:1\nM:C\nL:1/8\nK:G\nABcd efga|\n" and "tempo" in notes[0]
    assert len(abc_to_midi(text)) > 0


def test_unreadable_tempo_line_goes():
    abc = "X:1\nM:4/4\nL:1/8\nQ:1/1=00\nK:G\nABcd efga|\n"
    text, notes = fixed(abc)
    assert text == "X:1\nM:4/4\nL:1/8\nK:G\nABcd efga|\n" and "tempo" in notes[0]


def test_repair_tune_runs_the_pass_and_says_so():
    result = repair_tune(HEAD + "|:u(GA) B2>c d,C/E|\"Segno\"A2-B2 \"G\"c2 A>.B:|\n")
    assert result.ok, result.problems_left
    assert portable_findings(T.tokenize_tune(result.text)) == []
    assert any("broken rhythm written out" in r for r in result.repairs)


@pytest.mark.parametrize("value, text", [(Fraction(1), ""), (Fraction(2), "2"),
                                         (Fraction(1, 2), "/"), (Fraction(1, 4), "/4"),
                                         (Fraction(3, 2), "3/2"), (Fraction(3, 4), "3/4")])
def test_length_text(value, text):
    assert length_text(value) == text
    assert T.length_multiplier(text) == value


_PIECES = st.sampled_from(["A", "B2", "c/", "d3", "z", "z2", ">", "<", ">>", ".", "u", "v", "~",
                           "T", "(", ")", "{g}", '"G"', '"Segno"', "-", " ", "d,", "C'", "[CE]",
                           "(3", "e'", "F,", "[V:2]", "|[2", "|1", "G/3", "c2/3", "{g/3}",
                           "[CE]/3", "z/6"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_PIECES, min_size=1, max_size=12), min_size=1, max_size=4))
def test_notes_keep_their_lengths(bars):
    abc = HEAD + "|".join("".join(bar) for bar in bars) + "|\n"
    text = abc
    for _ in range(3):
        text, _ = fixed(text)
    assert pitches(text) == pitches(abc)
    left = {f.code for f in portable_findings(T.tokenize_tune(text))}
    assert not left & {"bad-octave", "bad-chord-symbol", "misplaced-decoration", "voice-field",
                       "ending-in-ending"}
    dangling = any(p.code == "dangling-broken-rhythm" for p in analyse_tune(abc).problems)
    if "-" not in abc and not dangling and not ({"tie-mismatch", "unequal-broken-rhythm"} & left):
        assert bar_durations(text) == bar_durations(abc)


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (abcmidi) not installed")
@pytest.mark.parametrize("body, code", [c for c in CASES if c[1]])
def test_abc2midi_reads_the_repaired_cases(tmp_path, body, code):
    result = repair_tune(HEAD + body + "\n")
    assert result.ok, result.problems_left
    (tmp_path / "t.abc").write_text(result.text)
    run = subprocess.run(["abc2midi", "t.abc", "-o", "t.mid"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=20)
    assert not [line for line in (run.stdout + run.stderr).splitlines()
                if line.startswith("Error")]
