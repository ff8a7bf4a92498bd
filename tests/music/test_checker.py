"""The checker on hand-written tunes: one test (or more) per fault class, with positions, the
folk-practice bar rules that must not fire, and agreement with music21 on real Celtic tunes."""

import pytest

from app.music.abc_tokens import length_multiplier, render_body, tokenize_tune
from app.music.checker import Problem, check_tune, is_clean

HEAD = "X:1\nT:Test\nM:{m}\nL:{l}\nK:{k}\n"


def tune(body, m="6/8", l="1/8", k="D"):
    return HEAD.format(m=m, l=l, k=k) + body + "\n"


def codes(abc, severity="error"):
    return [p.code for p in check_tune(abc) if p.severity == severity]


def only(abc, code):
    found = [p for p in check_tune(abc) if p.code == code]
    assert found, f"no {code} in {check_tune(abc)}"
    return found[0]


CLEAN_JIG = tune("|:A|dAF DFA|dAF G2F|EFG ABc|d3 d2:|\n|:e|fdf ece|dcB A2e|fga gfe|d3 d2:|")


def test_a_clean_jig_has_no_problems():
    assert check_tune(CLEAN_JIG) == []
    assert is_clean(CLEAN_JIG)


def test_problem_is_frozen_and_prints_its_position():
    problem = only(tune("dAF DFA|dAF G2F#|"), "bad-token")
    assert (problem.line, problem.column, problem.severity) == (6, 16, "error")
    assert str(problem).startswith("6:16: error: ")
    with pytest.raises(AttributeError):
        problem.line = 3  # type: ignore[misc]
    assert isinstance(problem, Problem)


# -- headers ------------------------------------------------------------------------------
@pytest.mark.parametrize("letter", ["X", "M", "L", "K"])
def test_each_missing_required_header_is_reported(letter):
    lines = [line for line in CLEAN_JIG.split("\n") if not line.startswith(f"{letter}:")]
    problems = [p for p in check_tune("\n".join(lines)) if p.code == "missing-header"]
    assert len(problems) == 1 and f"{letter}:" in problems[0].message


def test_title_is_optional():
    assert is_clean(CLEAN_JIG.replace("T:Test\n", ""))


@pytest.mark.parametrize("field, value", [("M", "6/9"), ("M", "waltz"), ("L", "1/3"),
                                          ("L", "eighth"), ("K", "H"), ("K", "Dxyz"),
                                          ("K", "Q"), ("X", "one")])
def test_malformed_header_values_are_reported_at_their_line(field, value):
    abc = "\n".join(line if not line.startswith(f"{field}:") else f"{field}:{value}"
                    for line in CLEAN_JIG.split("\n"))
    problem = only(abc, "bad-header")
    assert problem.line == ["X", "T", "M", "L", "K"].index(field) + 1


@pytest.mark.parametrize("meter", ["6/8", "C", "C|", "none", "3/4", "2+3/8"])
def test_accepted_meters(meter):
    assert "bad-header" not in codes(tune("A B c|", m=meter))


@pytest.mark.parametrize("key", ["D", "Dmaj", "Ador", "Emin", "Gmix", "Bb", "F#m", "A dorian",
                                 "HP", "none", "G clef=bass", "D ^f _b", "Am treble",
                                 "Bb lydian"])
def test_accepted_keys(key):
    assert "bad-header" not in codes(tune("dAF DFA|", k=key))


def test_k_must_be_the_last_header_field():
    abc = "X:1\nT:t\nK:D\nM:6/8\nL:1/8\ndAF DFA|dAF G2F|\n"
    found = [p for p in check_tune(abc) if p.code == "header-order"]
    assert [p.line for p in found] == [4, 5]
    assert "missing-header" not in codes(abc)


def test_x_inside_the_body_means_two_tunes_ran_together():
    assert only(tune("dAF DFA|\nX:2\ndAF DFA|"), "bad-header").line == 7


# -- tokens -------------------------------------------------------------------------------
@pytest.mark.parametrize("body, column, code", [
    ("dAF D&A|", 6, "bad-token"),
    ("dAF D@A|", 6, "bad-token"),
    ('dAF "Am DFA|', 5, "unclosed-quote"),
    ("dAF DFA|dAF G2F ^|", 17, "dangling-accidental"),
    ("dAF DFA|[M:3/", 9, "unfinished-field"),
    ("dAF !trill DFA|", 5, "bad-token"),
    ("dAF +trill+D2 A|", 5, "bad-token"),
    ("dAF HD2 A|", 5, "unsupported-decoration"),
    ("dAF DF x|", 8, "unsupported-rest"),
    ("dAF D2 A0|", 8, "zero-length"),
])
def test_text_that_does_not_parse_is_reported_where_it_is(body, column, code):
    problem = only(tune(body), code)
    assert (problem.line, problem.column) == (6, column)


def test_tokens_write_back_to_the_same_text():
    body = '"Am"!trill!(3A/B/c/ [^F,2A]>G {/g}a2|[M:3/4] z3/ x// Z2 % note\n:|2 d3-d :: y\\'
    tokens = tokenize_tune(tune(body))
    assert render_body(tokens.body) == body + "\n"


@pytest.mark.parametrize("text, value", [("", 1), ("2", 2), ("3/2", 1.5), ("/", 0.5),
                                         ("//", 0.25), ("/4", 0.25), ("3//", 0.75)])
def test_length_multipliers(text, value):
    assert length_multiplier(text) == value


# -- balance ------------------------------------------------------------------------------
@pytest.mark.parametrize("body, code, column", [
    ("dAF [DF A|dAF G2F|", "unclosed-chord", 5),
    ("dAF DF]A|dAF G2F|", "unbalanced-chord", 7),
    ("dAF []DFA|dAF G2F|", "empty-chord", 6),
    ("dAF (DFA|dAF G2F|", "unclosed-slur", 5),
    ("dAF DF)A|dAF G2F|", "unbalanced-slur", 7),
    ("dAF {gDFA|dAF G2F|", "unclosed-grace", 5),
    ("dAF DF}A|dAF G2F|", "unbalanced-grace", 7),
    ("dAF (3DF|A dAF G2F|", "short-tuplet", 5),
    ("dAF DFA|dAF G(3FG", "short-tuplet", 14),
    ("dAF (3D{e}FA|dAF G2F|", "bad-tuplet", 8),
    ("dAF (3(3DFADFA|dAF G2F|", "bad-tuplet", 7),
    ("dAF DFA>|dAF G2F|", "dangling-broken-rhythm", 8),
    ("dAF DFA|>dAF G2F|", "dangling-broken-rhythm", 9),
])
def test_unbalanced_groups_are_reported_at_the_opening(body, code, column):
    problem = only(tune(body), code)
    assert (problem.line, problem.column) == (6, column)


def test_balanced_groups_are_clean():
    assert is_clean(tune("(dAF) [DF]A {g}A|(3dcB A (G2F)|{/a}d3 d>e f|[d3f3] d3|"))


# -- repeats and endings ------------------------------------------------------------------
def test_a_repeat_start_without_end_is_an_error():
    problem = only(tune("dAF DFA|:dAF G2F|EFG ABc|d3 d3|"), "unclosed-repeat")
    assert (problem.column, problem.severity) == (8, "error")


def test_a_repeat_end_without_start_repeats_from_the_top():
    assert is_clean(tune("dAF DFA|dAF G2F|EFG ABc|d3 d3:|"))


def test_two_repeat_starts_report_the_first():
    problem = only(tune("|:dAF DFA|dAF G2F|:EFG ABc|d3 d3:|"), "unclosed-repeat")
    assert problem.column == 1


def test_an_empty_bar_closed_by_a_repeat_sign_is_an_error():
    problem = only(tune("|:dAF DFA|dAF G2F| :|"), "empty-bar")
    assert problem.column == 20


def test_first_and_second_endings():
    assert is_clean(tune("|:dAF DFA|dAF G2F|1 EFG ABc:|2 EFG Adc||"))
    assert is_clean(tune("|:dAF DFA|dAF G2F|[1 EFG ABc:|[2 EFG Adc|]"))
    assert only(tune("|:dAF DFA|dAF G2F|1 EFG ABc|2 EFG Adc||"), "bad-ending").column == 29
    assert only(tune("dAF DFA|dAF G2F|2 EFG Adc||"), "bad-ending").column == 17
    assert only(tune("|:dAF DFA|[1,2 dAF G2F:|[3 EFG ABc|]"), "bad-ending").column == 11
    assert only(tune("dAF DFA:|EFG ABc||1 d6:|2 d6|]"), "bad-ending").column == 19


# -- bar lengths --------------------------------------------------------------------------
def test_too_long_and_too_short_bars_in_the_middle():
    abc = tune("dAF DFA|dAF G2F A|EFG AB|d3 d3|]")
    long_, short = only(abc, "bar-too-long"), only(abc, "bar-too-short")
    assert (long_.column, short.column) == (9, 19)
    assert long_.message == "bar 2 is too long: 7/8 in M:6/8"
    assert short.message == "bar 3 is too short: 5/8 in M:6/8"


def test_pickup_and_a_last_bar_that_completes_it():
    assert is_clean(tune("A|dAF DFA|dAF G2F|EFG ABc|d3 d2|]"))
    assert only(tune("A|dAF DFA|dAF G2F|EFG ABc|d3 d|]"), "bar-too-short").column == 27
    assert only(tune("dAF DFA|dAF G2F|EFG ABc|d3 d2|]"), "bar-too-short")


def test_short_bars_on_both_sides_of_a_boundary_that_add_up():
    assert is_clean(tune("dAF DFA|dAF G2F|EFG A :: Bc|dAF d3:|"))
    assert is_clean(tune("dAF DFA|dAF G2F|EFG A2 || B|dAF d3|]"))
    assert is_clean(tune("A|dAF DFA|dAF G2F|1 EFG ABc|d3 d2:|2 EFG ABc|d3 d2|]"))
    assert is_clean(tune("|:dAF DFA|dAF G2F|EFG ABc|d3 d2:|\n|:e|fdf ece|fga gfe|d3 d2:|"))


def test_a_short_bar_in_the_middle_of_a_section_is_an_error():
    assert only(tune("dAF DFA|dAF G2|EFG ABc|d3 d3|]"), "bar-too-short").column == 9


@pytest.mark.parametrize("body, meter, unit", [
    ("d3/2e/2 f/g/a/b/ c'2|d>e f<g a2|", "3/4", "1/8"),      # 3/2, /2, /, dotted rhythms
    ("d//e//f//g// a/b/ c'|d3/4e/4 f/a/ b|", "3/4", "1/4"),   # // and 3/4
    ("(3def g2|(3:2:2d2e f g|", "2/4", "1/8"),                # tuplets, explicit q and r
    ("(3d2e2f2 g2|(5defga b2 c'2|", "3/4", "1/8"),           # (3 of quarters; (5 in time of 2
    ("[df]2 [ce] g|[d2f2] [ce]/[ce]/ z|", "2/4", "1/8"),      # chords: length of first note
    ("z4|Z2|x4|", "2/4", "1/8"),                              # rests and a multi-bar rest
    ("dAF DFA|[M:3/4] d2 e2 f2|[L:1/16] d4e4f4|", "6/8", "1/8"),  # inline M: and L:
    ("dAF DFA|\nM:2/4\nd2 e2|\nL:1/4\nd e|", "6/8", "1/8"),    # field lines in the body
    ("(3def (3gfe|(6defgab f2|", "2/4", "1/8"),                 # (6: six in the time of two
    ("(3dBG (3def|", "6/8", "1/8"),                           # (3 in compound meter
    ("d>e f>g|d>>e f<<g|", "2/4", "1/8"),                     # > and >>
])
def test_note_lengths_add_up(body, meter, unit):
    found = codes(tune(body, m=meter, l=unit))
    assert not [c for c in found if c.startswith("bar-")], check_tune(tune(body, m=meter, l=unit))


def test_free_meter_has_no_bar_lengths():
    assert is_clean(tune("dAF DFA dAF|d2|dAF DFA|", m="none"))


def test_multi_bar_rest_is_a_warning_and_fills_its_bars():
    abc = tune("dAF DFA|Z2|dAF DFA|")
    assert codes(abc) == [] and codes(abc, "warning") == ["multi-rest"]
    assert only(tune("dAF DFA|Z2 d|dAF DFA|"), "bad-bar")


def test_empty_tune():
    assert codes(tune("")) == ["empty-tune"]


def test_dangling_tie_at_the_end_is_a_warning_for_music21_and_an_error_for_abc2midi():
    abc = tune("dAF DFA|d6-")
    assert codes(abc) == ["tie-mismatch"] and codes(abc, "warning") == ["dangling-tie"]


# -- agreement with music21 ---------------------------------------------------------------
@pytest.mark.slow
def test_every_tune_the_checker_calls_clean_converts_to_midi():
    """About 60 tunes of O'Neill's 1850: each one the checker calls clean must convert to MIDI."""
    import re
    import warnings

    music21 = pytest.importorskip("music21")
    from music21.midi import translate

    paths = music21.corpus.getComposer("oneills1850")
    tunes = []
    for path in paths[::4]:
        text = path.read_text(encoding="latin-1")
        tunes += [t for t in re.split(r"(?m)^(?=X:)", text) if t.startswith("X:")][:6]
    tunes = tunes[:60]
    clean = [t for t in tunes if is_clean(t)]
    assert len(tunes) == 60 and len(clean) >= 30
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for text in clean:
            try:
                score = music21.converter.parse(text, format="abc")
                assert translate.music21ObjectToMidiFile(score).writestr()
            except Exception as exc:  # noqa: BLE001 - any failure is a disagreement
                failures.append((text.split("\n")[0], repr(exc)[:80]))
    assert failures == []


def test_instruction_lines_in_the_header_are_fields_not_music():
    # Aird's and O'Neill's books carry "I:|| :: ::" lines before K:; read as music, the header
    # ended there and 179 Celtic tunes were refused for having no K: field.
    from app.music.abc_tokens import tokenize_tune

    tokens = tokenize_tune("X:45\nT:Dance in Queen Mab\nM:6/8\nL:1/8\nI:|| :: :: ::\nK:G\n"
                           "A|B2c ded|c2B ABc:|\ne:|z:|\n")
    assert tokens.has_key
    assert [t.value[0] for t in tokens.header] == ["X", "T", "M", "L", "I", "K"]
    assert not any(t.kind == "field" for t in tokens.body)   # "e:|" and "z:|" stay music
