"""The checker reports what abc2midi rejects; each rule against the inputs it was measured on.

The cases come from abc2midi 4.84 runs (benchmarks/abc2midi_judge.py); where abc2midi is
installed, `test_agrees_with_abc2midi` runs it on every case and fails if the two disagree.
"""

import shutil
import subprocess

import pytest

from app.music import abc_tokens as T
from app.music.checker import check_tune, is_clean
from app.music.checker_portable import chord_symbol_problem, portable_findings, respell_octave

HEAD = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"

# (body line, the code abc2midi's error maps to, or None where abc2midi reports no error)
CASES = [
    ("uA vB AB cd|", None),
    ("u(AB) cd ef|", "misplaced-decoration"),
    (".(AB) cd ef|", None),
    ("~(AB) cd ef|", "misplaced-decoration"),
    ("T(AB) cd ef|", "misplaced-decoration"),
    ("!trill!(AB) cd ef|", None),
    ("u{g}A B cdef|", "misplaced-decoration"),
    (".{g}A B cdef|", "misplaced-decoration"),
    ('u"G"A Bcdef|', "misplaced-decoration"),
    ('"G".A Bcdef|', None),
    (".(3ABc de fg|", "misplaced-decoration"),
    ("u A cdefgab|", "misplaced-decoration"),
    ("~[CE] cdefgab|", "misplaced-decoration"),
    (".[CE] cdefgab|", None),
    ("kA BCDEFGA|", None),
    ("vka2 BCDEFG|", "misplaced-decoration"),
    ("A>.B cdefg|", "unequal-broken-rhythm"),
    (".A>.B cdefg|", None),
    (".A>B cdefg|", "unequal-broken-rhythm"),
    ("A>~B cdefg|", None),
    ("A2>B cdefg|", "unequal-broken-rhythm"),
    ("A>B2 cdefg|", "unequal-broken-rhythm"),
    ("A2>B2 cdefgab|", None),
    ("A/>B/ cdefgab|", None),
    ("z2>A cdefg|", "unequal-broken-rhythm"),
    ("A>z cdefgf|", None),
    ("A>B>c defgab|", "unequal-broken-rhythm"),
    ("A>B cd>e>f fg|", "unequal-broken-rhythm"),
    ("[CE]2>D cdefg|", None),
    ("A>{g}B cdefg|", None),
    ("(3A>Bc defg|", None),
    ("A-A cdefgab|", None),
    ("A-.A cdefgab|", None),
    ("A-~A cdefgab|", "tie-mismatch"),
    ("A- A cdefgab|", None),
    ("A-|A cdefgab|", None),
    ("A-a cdefgab|", "tie-mismatch"),
    ("A-B cdefgab|", "tie-mismatch"),
    ("A-z cdefgab|", "tie-mismatch"),
    ("A-(A cd) efg|", None),
    ("A2-[A2c2] cdefg|", None),
    ("cdefgab A-|]", "tie-mismatch"),
    ("d,CDE FDFA|", "bad-octave"),
    ("C'DE FDFAB|", "bad-octave"),
    ("c'DE FDFAB|", None),
    ('"Segno"A cdefgab|', "bad-chord-symbol"),
    ('"D.C."A cdefgab|', "bad-chord-symbol"),
    ('"Gmaj"A cdefgab|', "bad-chord-symbol"),
    ('"A/"A cdefgab|', "bad-chord-symbol"),
    ('" G"A cdefgab|', "bad-chord-symbol"),
    ('"4"A cdefgab|', None),
    ('"^Segno"A cdefgab|', None),
    ('"_f"A cdefgab|', None),
    ('"(Gm)"A cdefgab|', None),
    ('"Bbm7b5"A cdefgab|', None),
    ('"D/F#"A cdefgab|', None),
    ('"G7(b9)"A cdefgab|', None),
    ("HA>B cdefgab|", "unequal-broken-rhythm"),
    ("HA>HB cdefgab|", None),
    ("A>!fermata!B cdefgab|", "unequal-broken-rhythm"),
    ("TA>B cdefgab|", None),
    ("A>-B cdefgab|", "tie-mismatch"),
    ("d>-d cdefgab|", None),
    ("G2-{A}G ABcd|", "tie-mismatch"),
    ("G2{A}-G ABcd|", "tie-mismatch"),
    ("{B}~A Bcdefgab|", "roll-after-grace"),
    ("{B}(~AG) Bcdefg|", "roll-after-grace"),
    ("{B}(AG) Bcdefg|", None),
    ("ABcd efga|:", "repeat-at-end"),
    ("ABcd efga::", "repeat-at-end"),
    ("|:ABcd efga:|", None),
    ("dAF DFA:|EFG ABc||[1 d6:|2 d6|]", "ending-after-repeat"),
    ("dAF DFA:|\nEFG ABc|[1 d6:|2 d6|]", "ending-after-repeat"),
    ("dAF DFA:|EFG ABc|:[1 d6:|2 d6|]", None),
    ("dAF DFA::EFG ABc|[1 d6:|2 d6|]", None),
    ("dAF DFA:||:EFG ABc||[1 d6:|2 d6|]", None),
    ("ABcd efga|[1 ABcd efga:|[2 ABcd efg2|]", None),
    ("ABcd efga:|ABcd efga::ABcd efga:|", "ending-after-repeat"),
    ("ABcd efga::ABcd efga::ABcd efga:|", None),
    ("ABcd efga:|ABcd efga:|:ABcd efga:|", None),
    ("ABcd efga|\nR:reel\nABcd efga|", "body-field"),
    ("ABcd efga|\nN:a note\nABcd efga|", "body-field"),
    ("ABcd efga|\nQ:1/1=00\nABcd efga|", "bad-tempo"),
    ("ABcd efga|\nQ:1/4=90\nM:3/4\nABc def|", None),
    ("ABcd efga|\nT:Part two\nP:B\nABcd efga|", None),
    (".F4-.F2 AB|", "staccato-tie"),
    (".F4-F2 AB|", "staccato-tie"),
    ("F4-.F2 AB|", None),
    (".[DF]4-[DF]2 AB|", None),
    ("ABcd efga [|]|]", "invisible-bar"),
    ("eBTHc d2 efga|", None),
    ("[f2F2]-k[d2F2] ABcd|", "tie-mismatch"),
    ("[f2F2]-[d2F2] ABcd|", "tie-mismatch"),
    ("[A2c2]-[A2c2] defg|", None),
    ("A2-k[A2F2] ABcd|", None),
    ("|-d2~d2 gfga|", "tie-mismatch"),
    ("z-d2 gfgab|", "tie-mismatch"),
    ("A -A cdefgab|", None),
    ("A2 -A2 cdefg|", None),
    ("|:ABcd efga::|abcd efga|]", "double-repeat-bar"),
    ("|:ABcd efga:::|abcd efga|]", None),
    ("ABcd efga|1 ABcd efga|ABcd efga|]", "unclosed-ending"),
    ("|:ABcd efga|[1 ABcd efga|ABcd efga|]", "unclosed-ending"),
    ("ABcd efga|1 ABcd efga:|ABcd efga|]", None),
    ("ABcd efga|[1 ABcd efga:|", None),
    ("ABcd efg Hx|", None),
    ("ABc|1 dBG:|2 dcB|]\nefg|1 fed:|2 fdc|]", None),
    ("ABcd efga|[|]ABcd efga|]", "invisible-bar"),
    ("ABcd efga|1 ABcd efga|ABcd efga|1 ABcd efga:|", "ending-in-ending"),
    ("|:ABcd efga|[1 ABcd efga|[2 ABcd efga:|", "ending-in-ending"),
    ("|:ABcd efga|1 ABcd efga:|2 ABcd efga|3 ABcd efga|]", "ending-in-ending"),
    ("|:ABcd efga|1 ABcd efga:|2 ABcd efga:|3 ABcd efga|]", None),
    ("|:ABcd efga|[1,2 ABcd efga:|[3 ABcd efga|]", None),
    ("|:ABcd efga|[1 ABcd efga:|[2 ABcd efga|ABcd efga|[1 ABcd efga:|[2 ABcd efga|]",
     "ending-in-ending"),
    ("|:ABcd efga|[1 ABcd efga:|[2 ABcd efga|\nABcd efga|[1 ABcd efga:|[2 ABcd efga|]",
     "ending-in-ending"),
    ("|:ABcd efga|[1 ABcd efga:|[2 ABcd efga|\nP:B\nABcd efga|[1 ABcd efga:|[2 ABcd efga|]",
     "ending-in-ending"),
    ("|:ABcd efga|[1 ABcd efga:|[2 ABcd efga||ABcd efga|[1 ABcd efga:|[2 ABcd efga|]", None),
    ("|:ABcd efga|[1 ABcd efga:|[2 ABcd efga|]ABcd efga|[1 ABcd efga:|[2 ABcd efga|]", None),
    ("|:ABcd efga|[1 ABcd efga:|[2 ABcd efga[|ABcd efga|[1 ABcd efga:|[2 ABcd efga|]", None),
    ("ABcd efga|[1 ABcd efga:|[2 ABcd efga|]\n[V:2] abcd efga|]", "voice-field"),
    ("ABcd efga|[1 ABcd efga:|[2 ABcd efga|]\n[V:1] abcd efga|]", "voice-field"),
    ("ABcd efga|[1 ABcd efga:|[2 ABcd efga|]\nV:2\nabcd efga|]", "voice-field"),
    ("ABcd efga:|\n[V:2] abcd efga|]", "voice-field"),
    ("ABcd efga|[1 ABcd efga:|[2 ABcd efga|]\n[V:2] abcd efga|]\n[V:1] ABcd efga|]",
     "voice-field"),
    ("[V:1] ABcd efga|[1 ABcd efga:|[2 ABcd efga|]\n[V:2] ABcd efga|[1 ABcd efga:|[2 ABcd "
     "efga|]", None),
    ("ABcd efga|[1 ABcd efga:|[2 ABcd efga|]", None),
    ("ABcd efga||ABcd efga|[1 ABcd efga:|[2 ABcd efga|]", None),
    ("G/3A/3B/3 Bc defg|", "odd-length"),
    ("[GB]2/6 z/3 A/3 Bc defg|", "odd-length"),
    ("G6/12 G/ Bcdefga|", "odd-length"),
    ("{g/3}G Bcdefga|", "odd-length"),
    ("[G/3B/3]A/3 B/3 Bc defg|", "odd-length"),
    ("G/5A/5B/5c/5d/5 Bc defg|", "odd-length"),
    ("(3:2:1G/2 (3:2:2A/2B/2 Bc defg|", None),
    ("G3/2 G/ Bcdefg|", None),
]

# Voice fields after the first note of a tune whose header declares no voice: abc2midi warns
# "First V: field occurs past body" (errors follow only with a repeat that has no |:, above),
# and plays a V:2 there as a second track at the same time as the notes before it.
VOICE_CASES = [
    ("|:ABcd efga:|\n[V:2] abcd efga|]", True),
    ("ABcd efga|\n[V:1] abcd efga|]", True),
    ("ABcd efga|\nV:2\nabcd efga|]", True),
    ("[CE]2 [V:2] ABcd ef|]", True),
    ("z8|\n[V:2] abcd efga|]", False),
    ('"G" z8|[V:1] abcd efga|]', False),
    ("[V:1] ABcd efga|\n[V:2] ABcd efga|]", False),
    ("V:1\nABcd efga|\nV:2\nABcd efga|]", False),
    ("P:A\n[V:1] ABcd efga|]", False),
]


def portable_codes(abc):
    return sorted({f.code for f in portable_findings(T.tokenize_tune(abc))})


@pytest.mark.parametrize("body, code", CASES)
def test_each_rule(body, code):
    abc = HEAD + body + "\n"
    assert portable_codes(abc) == ([code] if code else [])
    if code:
        assert code in {p.code for p in check_tune(abc) if p.severity == "error"}


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (abcmidi) not installed")
@pytest.mark.parametrize("body, code", CASES)
def test_agrees_with_abc2midi(tmp_path, body, code):
    (tmp_path / "t.abc").write_text(HEAD + body + "\n")
    run = subprocess.run(["abc2midi", "t.abc", "-o", "t.mid"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=20)
    errors = [line for line in (run.stdout + run.stderr).splitlines()
              if line.startswith("Error")]
    assert bool(errors) == bool(code), errors


def abc2midi_output(tmp_path, abc):
    (tmp_path / "t.abc").write_text(abc)
    run = subprocess.run(["abc2midi", "t.abc", "-o", "t.mid"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=20)
    return (run.stdout + run.stderr).splitlines()


@pytest.mark.parametrize("body, flagged", VOICE_CASES)
def test_voice_fields(body, flagged):
    abc = HEAD + body + "\n"
    assert portable_codes(abc) == (["voice-field"] if flagged else [])
    if flagged:
        voices = [t for t in T.tokenize_tune(abc).body if t.text.lstrip("[").startswith("V:")]
        found = [p for p in check_tune(abc) if p.code == "voice-field"]
        assert [(p.line, p.column) for p in found] == [(t.line, t.column) for t in voices]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (abcmidi) not installed")
@pytest.mark.parametrize("body, flagged", VOICE_CASES)
def test_voice_fields_agree_with_abc2midi(tmp_path, body, flagged):
    output = abc2midi_output(tmp_path, HEAD + body + "\n")
    assert any("First V: field occurs past body" in line for line in output) == flagged


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (abcmidi) not installed")
def test_voices_declared_in_the_header_are_left_alone(tmp_path):
    # abc2midi warns here too, but the tune says it has voices: Ceol does not judge them.
    abc = HEAD.replace("K:G", "V:1\nK:G") + "ABcd efga|\n[V:2] abcd efga|]\n"
    assert portable_codes(abc) == []
    assert not [line for line in abc2midi_output(tmp_path, abc) if line.startswith("Error")]


@pytest.mark.parametrize("meter, bad", [("C|", True), ("2/2", True), ("6/8", True),
                                        ("C", False), ("4/4", False), ("2/4", False)])
def test_hornpipe_meter(meter, bad):
    abc = f"X:1\nR:Hornpipe\nM:{meter}\nL:1/8\nK:G\nABcd efga|\n"
    assert portable_codes(abc) == (["hornpipe-meter"] if bad else [])
    if bad:
        problem = next(p for p in check_tune(abc) if p.code == "hornpipe-meter")
        assert (problem.line, problem.column) == (2, 1)
    assert portable_codes(abc.replace("R:Hornpipe\n", "R:reel\n")) == []


@pytest.mark.parametrize("tempo, bad", [("1/4=120", False), ("120", False), ("3/8=100", False),
                                        ('"Allegro" 1/4=120', False), ('"Allegro"', False),
                                        ("C=120", False), ("1/1=00", True), ("1/4=0", True),
                                        ("1/4=", True), ("x", True), ("0", True),
                                        ("1/0=120", True), ("3/08=90", False)])
def test_tempo(tempo, bad):
    abc = f"X:1\nM:4/4\nL:1/8\nQ:{tempo}\nK:G\nABcd efga|\n"
    assert portable_codes(abc) == (["bad-tempo"] if bad else [])
    if bad:
        assert [(p.code, p.line) for p in check_tune(abc)] == [("bad-tempo", 4)]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (abcmidi) not installed")
@pytest.mark.parametrize("header, code", [("Q:1/1=00", "bad-tempo"), ("Q:1/4=96", None),
                                          ("R:hornpipe\nM:C|", "hornpipe-meter"),
                                          ("R:hornpipe\nM:C", None),
                                          ("R:jig\nR:Hornpipe\nM:C|", "hornpipe-meter"),
                                          ("I:A:||", "bad-instruction"),
                                          ("I:linebreak $", "bad-instruction"),
                                          ("I::: ::", None), ("I:|| ::", None)])
def test_headers_agree_with_abc2midi(tmp_path, header, code):
    abc = f"X:1\nT:t\n{header}\nL:1/8\nK:G\nABcd efga|\n"
    if "M:" not in header:
        abc = abc.replace("L:1/8", "M:4/4\nL:1/8")
    assert portable_codes(abc) == ([code] if code else [])
    (tmp_path / "t.abc").write_text(abc)
    run = subprocess.run(["abc2midi", "t.abc", "-o", "t.mid"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=20)
    assert any(line.startswith("Error") for line in run.stdout.splitlines()) == bool(code)


def test_positions_point_at_the_token():
    problems = [p for p in check_tune(HEAD + "ABcd u(ef) ga|\n") if p.code != "bar-too-long"]
    assert [(p.code, p.line, p.column) for p in problems] == [("misplaced-decoration", 6, 6)]


@pytest.mark.parametrize("note, expected", [("d,", "D"), ("d,,2", "D,2"), ("C'", "c"),
                                            ("C''/", "c'/"), ("^f,3", "^F3"), ("c'", "c'")])
def test_respell_octave(note, expected):
    assert respell_octave(note) == expected


def test_chord_symbol_messages_name_the_text():
    assert "Segno" in chord_symbol_problem("Segno")
    assert '"maj"' in chord_symbol_problem("Gmaj")
    assert chord_symbol_problem("^anything") is None


def test_clean_means_no_portable_finding():
    abc = HEAD + "|:GABc dBAF|G>AB>c d2B2:|\n"
    assert is_clean(abc)
    assert not is_clean(abc.replace("G>A", ".G>A"))
