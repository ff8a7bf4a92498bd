"""Generated tunes are cleaned of performer annotations by default (app.generation_annotations,
the step `app.generation._result` runs before the repair), and kept when the controls ask."""

from app.generation import GenerationControls, _Plan, _result
from app.generation_annotations import strip_annotations
from model.config import SampleConfig

PRIME = "X:1\nT:Up v bow\nM:4/4\nL:1/8\nK:G\n"
BODY = ('"4"a u(GF) "^Fine" "G"B |d2 !upbow!e2 "Am"c4|\n[K:D]\n"Segno"\nP:u v\n% bow u v\n'
        "v^uA4 A4|]\n")
TUNE = PRIME + BODY


def test_annotations_go_from_the_body_and_chord_symbols_stay():
    text, removed = strip_annotations(TUNE)
    # "4", u, "^Fine", !upbow!, "Segno" (a line of its own, dropped), v and u before ^A
    assert removed == 7
    assert text == (PRIME + 'a (GF) "G"B |d2 e2 "Am"c4|\n[K:D]\nP:u v\n% bow u v\n^A4 A4|]\n')


def test_a_tune_without_annotations_comes_back_unchanged():
    tune = PRIME + '|:"G"GABc "D"dedB|"Em"e2 "C"c2 ~A4:|\n'
    assert strip_annotations(tune) == (tune, 0)


def _plan() -> _Plan:
    return _Plan(prime=PRIME, header={}, warnings=[], target=None, titles=False,
                 config=SampleConfig(seed=1), bans={}, profile=None, floor=0, settings={},
                 defaults={"L": "1/8"})


def _row(generated: str) -> tuple:
    return generated, [0.5] * len(generated), True, None, 0


def test_generation_removes_them_before_the_repair_and_lists_it():
    result = _result(GenerationControls(), _plan(), _row(BODY), 1, 1, 1)
    assert result.original == TUNE                  # the model's own text, untouched
    assert "removed performer annotations (fingering, bowing, text in quotes): 7" \
        in result.repairs
    body = result.text.split("K:G\n", 1)[1]
    assert '"4"' not in body and "^Fine" not in body and "Segno" not in body
    assert "!upbow!" not in body and " u(" not in body
    assert '"G"B' in body and '"Am"c4' in body
    assert "T:Up v bow" in result.text             # header lines are never touched


def test_keep_annotations_leaves_them_and_says_so():
    result = _result(GenerationControls(keep_annotations=True), _plan(), _row(BODY), 1, 1, 1)
    assert not any("performer annotations" in r for r in result.repairs)
    body = result.text.split("K:G\n", 1)[1]
    assert '"4"a' in body and '"^Fine"' in body and "!upbow!e2" in body
