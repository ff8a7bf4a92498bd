"""Repair on hand-written faulty tunes: one test per repair, the list of repairs, the original
kept, and tunes that cannot be repaired reported as such."""

import pytest

from app.music.checker import is_clean
from app.music.repair import RepairResult, repair_tune

HEAD = "X:1\nT:Test\nM:6/8\nL:1/8\nK:D\n"


def tune(body, head=HEAD):
    return head + body + "\n"


def body_of(result: RepairResult) -> str:
    return result.text.split("K:", 1)[1].split("\n", 1)[1].strip()


def repaired(body, head=HEAD, **kwargs) -> RepairResult:
    result = repair_tune(tune(body, head), **kwargs)
    assert result.ok, (result.problems_left, result.text)
    assert is_clean(result.text)
    assert result.original == tune(body, head)
    return result


def test_a_clean_tune_is_left_alone():
    abc = tune("A|dAF DFA|dAF G2F|EFG ABc|d3 d2|]")
    result = repair_tune(abc)
    assert (result.text, result.repairs, result.problems_left, result.ok) == (abc, [], [], True)


# -- close what is left open ----------------------------------------------------------------
@pytest.mark.parametrize("body, fixed, words", [
    ("dAF DFA|dAF G2F|EFG ABc|d3 d2 (c", "dAF DFA|dAF G2F|EFG ABc|d3 d2 (c)", "closed the slur"),
    ("dAF DFA|dAF G2F|EFG ABc|d3 [df]|", "dAF DFA|dAF G2F|EFG ABc|d3 [df]3|", "lengthened"),
    ("dAF [DF A|dAF G2F|EFG ABc|d6|", "dAF [DF] A|dAF G2F|EFG ABc|d6|", "closed the chord"),
    ("dAF {gDFA|dAF G2F|EFG ABc|d6|", "dAF {g}DFA|dAF G2F|EFG ABc|d6|", "closed the grace"),
    ("|:dAF DFA|dAF G2F|EFG ABc|d6|", "|:dAF DFA|dAF G2F|EFG ABc|d6:|", "closed the repeat"),
    ("|:dAF DFA|dAF G2F|EFG ABc|d6", "|:dAF DFA|dAF G2F|EFG ABc|d6 :|", "closed the repeat"),
    ("|:dAF DFA|dAF G2F|:EFG ABc|d6:|", "|:dAF DFA|dAF G2F:||:EFG ABc|d6:|", "closed the repeat"),
    # abc2midi reads [|] as a chord: the repair's abc2midi pass drops it first.
    ("|:dAF DFA|dAF G2F[|]:|", "|:dAF DFA|dAF G2F:|", "invisible bar line [|]"),
])
def test_what_is_left_open_is_closed(body, fixed, words):
    result = repaired(body)
    assert body_of(result) == fixed
    assert any(words in line for line in result.repairs), result.repairs


@pytest.mark.parametrize("body, fixed", [
    ("dAF) DFA|dAF G2F|EFG ABc|d6|", "dAF DFA|dAF G2F|EFG ABc|d6|"),
    ("dAF DFA|dAF G2F}|EFG ABc|d6|", "dAF DFA|dAF G2F|EFG ABc|d6|"),
    ("dAF DFA]|dAF G2F|EFG ABc|d6|", "dAF DFA|dAF G2F|EFG ABc|d6|"),
    ("dAF []DFA|dAF G2F|EFG ABc|d6|", "dAF DFA|dAF G2F|EFG ABc|d6|"),
])
def test_closers_without_an_opener_are_removed(body, fixed):
    result = repaired(body)
    assert body_of(result) == fixed and result.repairs


def test_a_tuplet_with_too_few_notes_loses_its_marker():
    result = repaired("dAF DFA|dAF (3G2F|EFG ABc|d6|")
    assert body_of(result) == "dAF DFA|dAF G2F|EFG ABc|d6|"
    assert "tuplet (3" in result.repairs[0]


# -- dangling tokens at the end ---------------------------------------------------------------
@pytest.mark.parametrize("tail", ["^", "-", ">", '"Am', "[M:6/", "(", "~", "!tri", "(3", "{",
                                  "[", "=_"])
def test_a_dangling_token_at_the_end_is_dropped(tail):
    result = repaired("dAF DFA|dAF G2F|EFG ABc|d6|" + tail)
    assert body_of(result) == "dAF DFA|dAF G2F|EFG ABc|d6|"
    assert len(result.repairs) >= 1


# -- the last bar ---------------------------------------------------------------------------
@pytest.mark.parametrize("body, fixed", [
    ("dAF DFA|dAF G2F|EFG ABc|d3", "dAF DFA|dAF G2F|EFG ABc|d6"),           # longer last note
    ("A|dAF DFA|dAF G2F|EFG ABc|d3 d", "A|dAF DFA|dAF G2F|EFG ABc|d3 d2"),   # completes pickup
    ("dAF DFA|dAF G2F|EFG ABc|d3 d2 d2 e|", "dAF DFA|dAF G2F|EFG ABc|d3 d3  |"),  # trimmed
    ("dAF DFA|dAF G2F|EFG ABc|d>c", "dAF DFA|dAF G2F|EFG ABc|d>cz4"),       # rest after d>c
    ("dAF DFA|dAF G2F|EFG ABc|(3dcB", "dAF DFA|dAF G2F|EFG ABc|(3dcBz4"),   # rest after tuplet
])
def test_the_last_bar_is_completed_or_trimmed(body, fixed):
    result = repaired(body)
    assert body_of(result) == fixed
    assert any(line.startswith("last bar:") for line in result.repairs)


# -- headers --------------------------------------------------------------------------------
def test_missing_headers_come_from_the_generation_settings():
    result = repaired("dAF DFA|dAF G2F|EFG ABc|d6|", head="T:Gen\n",
                      defaults={"M": "6/8", "L": "1/8", "K": "Ador"})
    assert result.text.split("\n")[:5] == ["X:1", "T:Gen", "M:6/8", "L:1/8", "K:Ador"]
    assert len(result.repairs) == 4


def test_without_settings_the_meter_that_fits_most_bars_is_chosen():
    result = repaired("d2 e2|f2 g2|a4|", head="X:3\nK:G\n")
    assert result.text.startswith("X:3\nM:2/4\nL:1/8\nK:G\n")
    assert any("M:2/4" in line for line in result.repairs)


def test_malformed_header_values_are_replaced():
    result = repaired("dAF DFA|dAF G2F|", head="X:one\nM:6/9\nL:eighth\nK:Dxyz\n",
                      defaults={"M": "6/8"})
    assert result.text.startswith("X:1\nM:6/8\nL:1/8\nK:D\n")
    assert len(result.repairs) == 4


def test_fields_after_k_move_into_the_header():
    result = repaired("M:6/8\nL:1/8\ndAF DFA|dAF G2F|", head="X:1\nT:t\nK:D\n")
    assert result.text.startswith("X:1\nT:t\nM:6/8\nL:1/8\nK:D\ndAF")


# -- text the grammar rejects ---------------------------------------------------------------
@pytest.mark.parametrize("body, fixed", [
    ("dAF D#FA|dAF G2F|", "dAF DFA|dAF G2F|"),
    ("dAF HD2A|dAF G2F|", "dAF !fermata!D2A|dAF G2F|"),
    ("dAF DF x|dAF G2F|", "dAF DF z|dAF G2F|"),
    ("dAF +trill+D2A|dAF G2F|", "dAF !trill!D2A|dAF G2F|"),
    ("+D3F3+ DFA|dAF G2F|", "[D3F3] DFA|dAF G2F|"),
    # abc2midi wants the part with a first ending to start a repeat: ":|" becomes "::".
    ("dAF DFA:|EFG ABc||1 d6:|2 d6|]", "dAF DFA::EFG ABc||[1 d6:|2 d6|]"),
])
def test_unsupported_text_is_rewritten(body, fixed):
    assert body_of(repaired(body)) == fixed


# -- bars in the middle ---------------------------------------------------------------------
def test_a_missing_bar_line_is_added():
    result = repaired("dAF DFA dAF G2F|EFG ABc|d6|]")
    assert body_of(result) == "dAF DFA | dAF G2F|EFG ABc|d6|]"


def test_a_misplaced_bar_line_is_moved():
    result = repaired("dAF DFA|dAF G2|F EFG ABc|d6|]")
    assert body_of(result) == "dAF DFA|dAF G2F | EFG ABc|d6|]"


def test_a_bar_with_an_extra_note_in_the_middle_is_reported_not_guessed():
    abc = tune("dAF DFA|dAF G2F G|EFG ABc|d6|]")
    result = repair_tune(abc)
    assert not result.ok and result.text == abc and result.original == abc
    assert [p.code for p in result.problems_left] == ["bar-too-long"]


def test_a_tune_without_notes_cannot_be_repaired():
    result = repair_tune("X:1\nT:Nothing\nM:6/8\nL:1/8\nK:D\n")
    assert not result.ok
    assert [p.code for p in result.problems_left] == ["empty-tune"]


def test_several_faults_of_a_generated_tune_at_once():
    generated = "T:Gen\nK:D\n|:A|dAF (DFA|dAF G2F|[EFG ABc|d3 d^"
    result = repair_tune(generated, defaults={"M": "6/8", "L": "1/8"})
    assert result.ok, result.problems_left
    assert result.original == generated
    assert len(result.repairs) >= 6
    assert result.text.startswith("X:1\nT:Gen\nM:6/8\nL:1/8\nK:D\n")


def test_repaired_tunes_convert_to_midi_in_music21():
    music21 = pytest.importorskip("music21")
    from music21.midi import translate

    for abc in ("T:Gen\nK:D\n|:A|dAF (DFA|dAF G2F|[EFG ABc|d3 d^",
                "X:1\nM:3/4\nL:1/8\nK:G\n|:d2 e2 f2|g2 (3fed e2|d>c"):
        result = repair_tune(abc, defaults={"M": "6/8", "L": "1/8"})
        assert result.ok
        score = music21.converter.parse(result.text, format="abc")
        assert translate.music21ObjectToMidiFile(score).writestr()


def test_random_text_never_breaks_the_checker_or_the_repair():
    import random

    from app.music.checker import check_tune

    rng = random.Random(3)
    alphabet = "ABCDEFGabcdefgz,'/23|:[]()<>{}-~^=_\"!.+ \n%HxZ\\MLKX#&"
    for _ in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        for abc in (text, HEAD + text):
            check_tune(abc)
            result = repair_tune(abc, defaults={"M": "6/8", "L": "1/8", "K": "D"})
            assert result.original == abc
            assert not result.ok or is_clean(result.text)


def test_clean_corpus_tunes_cut_short_like_a_generation_are_repaired():
    """The generator's main fault: a tune cut off anywhere in its body."""
    import random

    from app.music.corpus import builtin_corpus_files
    from app.music.tunebook import read_tune_book

    rng = random.Random(5)
    tunes = [t.abc() for path in builtin_corpus_files("celtic")[:3]
             for t in read_tune_book(path).tunes]
    clean = [t for t in tunes if is_clean(t)][:40]
    repaired_ok = 0
    for abc in clean:
        body_start = abc.index("\nK:") + 4
        cut = abc[:rng.randint(body_start + 5, len(abc) - 1)]
        result = repair_tune(cut)
        repaired_ok += result.ok
        assert not result.ok or is_clean(result.text)
    assert len(clean) == 40 and repaired_ok >= 38


def test_a_tune_over_the_repair_limit_comes_back_not_ok_with_the_limit():
    from app.music.limits import MAX_REPAIR_CHARS

    abc = "X:1\nM:4/4\nL:1/8\nK:C\n" + "ABcd efg|" * (MAX_REPAIR_CHARS // 9 + 1) + "\n"
    result = repair_tune(abc)
    assert not result.ok and not result.repairs
    assert [p.code for p in result.problems_left] == ["too-long"]
    assert f"at most {MAX_REPAIR_CHARS:,} characters" in result.problems_left[0].message


# -- repair_in_worker: the window's repairs, in a worker process --------------------------------
BROKEN = "X:1\nT:Worker\nM:4/4\nL:1/8\nK:D\n|:ABcd efga|bagf e2:|]]\n"


def test_repair_in_worker_repairs_as_here_in_another_process(monkeypatch):
    from app.music import repair as repair_module

    expected = repair_tune(BROKEN, defaults={"M": "4/4"})

    def not_here(*args, **kwargs):
        raise AssertionError("the tune was analysed in this process")

    monkeypatch.setattr(repair_module, "analyse_tune", not_here)
    got = repair_module.repair_in_worker(BROKEN, {"M": "4/4"})
    assert (got.text, got.repairs, got.ok) == (expected.text, expected.repairs, expected.ok)
    assert got.problems_left == expected.problems_left


def test_a_failed_worker_costs_one_tune_its_repair(monkeypatch):
    from app.music import repair as repair_module
    from app.music.errors import EngineCrashed

    class Crashing:
        def call(self, *args, **kwargs):
            raise EngineCrashed("the repair crashed (SIGSEGV)")

    monkeypatch.setattr(repair_module, "shared", lambda name: Crashing())
    got = repair_module.repair_in_worker(BROKEN)
    assert got.text == BROKEN and not got.ok and got.repairs == []
    assert [p.code for p in got.problems_left] == ["repair-failed"]
    assert "SIGSEGV" in got.problems_left[0].message
