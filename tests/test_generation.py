"""app.generation: every control takes effect, bad input gets a clear message, generation ends."""

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from app.generation import GenerationControls, generate_tunes
from app.music.bars import bar_end_index, body_bars, count_bars
from app.music.checker import is_clean

TUNES = [
    ("reel", "4/4", "D", "|:FA|d2fd Adfd|gfed cdeg|fdAd Bdcd|BAGF E2FA:|\n"),
    ("jig", "6/8", "G", "|:GAG GAB|ABA ABd|edd gdd|edB dBA:|\n"),
    ("waltz", "3/4", "Ador", "|:A2 cB A2|e2 dc B2|A2 cB AG|E6:|\n"),
    ("polka", "2/4", "Em", "|:EF GA|B2 BA|GF ED|E2 E2:|\n"),
]


def _corpus() -> str:
    texts = []
    for i in range(48):
        rhythm, meter, key, body = TUNES[i % 4]
        texts.append(f"X:1\nR:{rhythm}\nM:{meter}\nL:1/8\nK:{key}\n{body}{body}")
    return "\n".join(texts)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    from model.config import TINY
    from model.train import train

    path = tmp_path_factory.mktemp("gen") / "tiny.safetensors"
    text = _corpus()
    train(replace(TINY.train, steps=300, seq_len=64, out_path=str(path), eval_interval=300),
          (text, text[:800]), model_config=replace(TINY.model, hidden_size=64))
    return path


@pytest.fixture(scope="module")
def loaded(model):
    from model.checkpoint import load_model

    return load_model(model)


def _header(text: str, letter: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(f"{letter}:"):
            return line[2:]
        if line.startswith("K:"):
            break
    return None


def test_count_bars_skips_strings_fields_and_repeats():
    body = '|:A2 "G|D"B2|[K:D]cd ef:|\nK:G\n|1 AB|2 cd||\n'
    assert count_bars(body) == 4
    assert body[:bar_end_index(body, 2)] == '|:A2 "G|D"B2|[K:D]cd ef:|'
    assert bar_end_index(body, 9) is None
    assert body_bars("X:1\nM:4/4\nK:C\nA4|B4|]\n") == 2


def test_key_meter_rhythm_title_go_into_the_header(loaded):
    tunes = generate_tunes(loaded, GenerationControls(key="A dorian", rhythm="jig", title="Mine",
                                                      count=3, seed=4, temperature=0.7))
    assert len(tunes) == 3
    for t in tunes:
        assert _header(t.text, "K") == "Ador" and _header(t.original, "K") == "Ador"
        assert _header(t.text, "M") == "6/8" and _header(t.text, "R") == "jig"
        assert _header(t.text, "T") == "Mine"
        assert len(t.probabilities) == len(t.generated)
        assert t.settings["seed"] == 4 and t.settings["header_K"] == "Ador"


def test_contradictory_rhythm_and_meter_meter_wins_with_a_warning(loaded):
    t = generate_tunes(loaded, GenerationControls(rhythm="reel", meter="6/8", seed=1))[0]
    assert _header(t.text, "M") == "6/8"
    assert any("meter you gave wins" in w for w in t.warnings)


def test_length_in_bars_is_obeyed_and_closed(loaded):
    for bars in (1, 6, 20):
        for t in generate_tunes(loaded, GenerationControls(bars=bars, count=3, seed=bars)):
            assert t.finished
            assert body_bars(t.original) == bars
            assert t.bars == bars, t.text
            assert t.text.rstrip().endswith(("|]", ":|", "||"))


def test_parts_make_aabb_repeats(loaded):
    for t in generate_tunes(loaded, GenerationControls(parts=2, bars_per_part=4, key="D",
                                                       count=2, seed=3, temperature=0.6)):
        assert t.bars == 8, t.text
        body = t.text.split("\nK:D\n", 1)[1]
        assert body.count(":|") >= 2, t.text
        assert body.rstrip().endswith(":|")


def test_continue_keeps_the_given_bars_verbatim(loaded):
    given = "X:5\nT:Given\nM:6/8\nL:1/8\nK:G\n% a comment\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|\n"
    for t in generate_tunes(loaded, GenerationControls(continue_from=given, continue_bars=2,
                                                       bars=6, count=2, seed=8, key="D")):
        assert t.prime.endswith("K:G\n|:GAG GAB|ABA ABd|")
        assert t.original.startswith(t.prime)
        assert "|:GAG GAB|ABA ABd|" in t.text and t.bars == 6
        assert any("header is kept" in w for w in t.warnings)


def test_seed_repeats_and_variations_differ(loaded):
    a = generate_tunes(loaded, GenerationControls(count=4, seed=11, bars=8))
    b = generate_tunes(loaded, GenerationControls(count=4, seed=11, bars=8))
    assert [t.original for t in a] == [t.original for t in b]
    assert len({t.original for t in a}) > 1
    c = generate_tunes(loaded, GenerationControls(count=4, seed=12, bars=8))
    assert [t.original for t in a] != [t.original for t in c]


def test_top_k_one_is_greedy_and_settings_are_kept(loaded):
    tunes = generate_tunes(loaded, GenerationControls(count=3, top_k=1, temperature=0.5,
                                                      top_p=0.9, seed=2, bars=4))
    assert len({t.original for t in tunes}) == 1
    assert tunes[0].settings["top_k"] == 1 and tunes[0].settings["top_p"] == 0.9
    assert tunes[0].settings["temperature"] == 0.5


def test_default_tunes_are_repaired_clean(model):
    tunes = generate_tunes(str(model), GenerationControls(count=4, seed=5, temperature=0.6))
    for t in tunes:
        assert t.ok == is_clean(t.text)
        assert t.original.startswith(t.prime)
    assert sum(t.ok for t in tunes) >= 3


def test_attempts_resample_tunes_that_are_not_clean(loaded):
    once = generate_tunes(loaded, GenerationControls(count=12, seed=9, attempts=1))
    thrice = generate_tunes(loaded, GenerationControls(count=12, seed=9, attempts=3))
    assert sum(t.ok for t in thrice) >= sum(t.ok for t in once)
    for a, b in zip(once, thrice):
        if a.ok:
            assert a.original == b.original and b.settings["attempt"] == 1
        elif b.settings["attempt"] > 1:
            assert b.ok and b.settings["sample_seed"] != 9
        else:
            assert any("no clean tune in 3 attempt(s)" in w for w in b.warnings)


@pytest.mark.parametrize("controls, message", [
    (GenerationControls(attempts=0), "attempts must be"),
    (GenerationControls(bars=0), "bars must be 1..256"),
    (GenerationControls(bars=10_000), "bars must be 1..256"),
    (GenerationControls(parts=0), "parts must be"),
    (GenerationControls(bars=8, parts=2), "not both"),
    (GenerationControls(key="H#"), "not a key"),
    (GenerationControls(meter="7/0"), "not a meter"),
    (GenerationControls(unit_length="1/3"), "unit note length"),
    (GenerationControls(prime="hello world, this is not music at all"), "prime is not ABC"),
    (GenerationControls(continue_from="just some words\nand more"), "not ABC"),
    (GenerationControls(continue_from="X:1\nM:4/4\nK:C\nCDEF|\n", continue_bars=4), "fewer"),
    (GenerationControls(continue_from="X:1\nM:4/4\nK:C\nCDEF|GABc|\n", continue_bars=2,
                        bars=2), "already gives"),
])
def test_bad_controls_raise_a_clear_message(loaded, controls, message):
    with pytest.raises(ValueError, match=message):
        generate_tunes(loaded, controls)


def test_unknown_key_is_best_effort_with_a_warning(loaded):
    t = generate_tunes(loaded, GenerationControls(key="C#loc", bars=4, seed=1))[0]
    assert _header(t.text, "K") == "C#loc"
    assert any("never saw" in w for w in t.warnings)


def test_generation_always_ends(loaded):
    t = generate_tunes(loaded, GenerationControls(max_chars=15, seed=1))[0]
    assert len(t.generated) <= 15
    stop = threading.Event()
    stop.set()
    tunes = generate_tunes(loaded, GenerationControls(count=2), stop=stop)
    assert len(tunes) == 2 and all(t.generated == "" for t in tunes)


def test_cli_controls_and_raw(model, tmp_path, capsys):
    from app.cli import main

    given = tmp_path / "given.abc"
    given.write_text("X:1\nM:4/4\nL:1/8\nK:D\n|:FA|d2fd Adfd|gfed cdeg|fdAd Bdcd:|\n")
    assert main(["generate", "--model", str(model), "--seed", "3", "--bars", "5",
                 "--continue", str(given), "--continue-bars", "2", "--count", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("|:FA|d2fd Adfd|") == 2 and out.startswith("X:1")
    args = ["generate", "--model", str(model), "--seed", "3", "--parts", "2", "--part-bars", "3"]
    assert main(args + ["--raw"]) == 0
    raw = capsys.readouterr().out
    assert main(args + ["--json"]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert raw == result["original"] and result["bars"] == 6
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out == result["text"]
    assert ("tune 1 " in captured.err) == bool(result["repairs"] or not result["ok"])
    import app.generation

    seen = []
    real = app.generation.generate_tunes
    app.generation.generate_tunes = lambda m, c, **kw: seen.append(c) or real(m, c, **kw)
    try:
        assert main(args + ["--no-fit-bars", "--free-length"]) == 0
        assert main(args) == 0
    finally:
        app.generation.generate_tunes = real
    capsys.readouterr()
    assert [(c.fit_bars, c.auto_length) for c in seen] == [(False, False), (True, True)]
    assert main(["generate", "--model", str(model), "--bars", "0"]) == 2
    assert "bars must be 1..256" in capsys.readouterr().err
    assert main(["generate", "--model", str(model), "--continue", str(tmp_path / "nope")]) == 2


def test_length_profile_and_draw_length():
    import random

    from app.music.bars import draw_length, length_profile

    tunes = ["X:1\nM:6/8\nK:G\n|:GAG GAB|ABA ABd:|\n", "X:1\nM:6/8\nK:G\nGAG GAB|ABA ABd|\n",
             "X:1\nM:C\nK:D\nABcd efga|\n"]
    assert length_profile(tunes) == {"6/8": {"2": 2}, "C": {"1": 1}}
    rng = random.Random(1)
    profile = {"6/8": {"16": 30, "32": 10}}
    drawn = [draw_length(profile, "6/8", rng) for _ in range(400)]
    assert set(drawn) == {16, 32} and 0.65 < drawn.count(16) / 400 < 0.85
    assert draw_length(profile, "3/4", rng) is None          # no tunes in that meter
    assert draw_length({"6/8": {"16": 5}}, "6/8", rng) is None  # too few to trust
    assert {draw_length(profile, "6/8", rng, most=20) for _ in range(50)} == {16}  # fits the cap


def test_lengths_are_drawn_from_the_model_profile(loaded):
    import copy

    model = copy.copy(loaded)
    model.training = dict(loaded.training, tune_lengths={"4/4": {"12": 40}})
    results = generate_tunes(model, GenerationControls(meter="4/4", key="D", count=6, seed=2))
    for r in results:
        assert r.settings["length"] == "drawn from the model's tunes"
        assert r.bars == 12 and r.settings["bars"] == 12
    free = generate_tunes(model, GenerationControls(meter="4/4", key="D", count=2, seed=2,
                                                    auto_length=False))
    assert all("length" not in r.settings for r in free)


def test_fitting_bars_leaves_fewer_bars_of_the_wrong_length(loaded):
    from app.music.checker import analyse_tune

    def faults(fit):
        results = generate_tunes(loaded, GenerationControls(
            count=12, seed=9, temperature=1.6, attempts=1, fit_bars=fit, bars=8))
        return sum(len(analyse_tune(r.original).faults) for r in results), results

    fitted, results = faults(True)
    free, _ = faults(False)
    assert fitted < free
    assert sum(r.settings["bars_resampled"] for r in results) > 0


def test_asked_key_and_meter_are_never_changed_in_the_body(loaded):
    import torch

    from app.tune_hook import TuneHook

    index = {ch: i + 1 for i, ch in enumerate(' \n|[KMAB"')}
    hook = TuneHook("X:1\nM:6/8\nL:1/8\nK:D\n", [None], {"\n": {"K", "M"}, "[": {"K", "M"}},
                    None, 1, index)
    hook.begin(1, hook.prime)
    for text, banned in (("AB|\n", True), ("AB [", True), ('AB "[', False), ("AB ", False)):
        hook.texts[0] = []
        hook.counters[0] = type(hook.counters[0])()
        for ch in text:
            hook.counters[0].feed(ch)
            hook.texts[0].append(ch)
        logits = torch.zeros(1, 10)
        hook.mask(logits, [0])
        assert bool(logits[0, index["K"]] == float("-inf")) is banned, text
        assert bool(logits[0, index["M"]] == float("-inf")) is banned, text
    results = generate_tunes(loaded, GenerationControls(key="Em", meter="6/8", count=8, seed=3,
                                                        temperature=1.8, attempts=1))
    for r in results:
        body = r.original.split("K:Em\n", 1)[1]
        assert "[K:" not in body and "[M:" not in body
        assert not any(line.startswith(("K:", "M:")) for line in body.splitlines()), r.original


def test_records_for_the_library_carry_provenance_and_probabilities(loaded, model):
    from app.generation_controls import controls_from_options
    from app.generation_records import generate_records, probabilities_over

    headers = {"key": "D", "meter": "", "rhythm": "reel"}
    options = {"count": 3, "seed": 6, "bars": 4, "temperature": 0.8, "top_k": 0, "top_p": 1.0,
               "max_chars": 400, "parts": None}
    controls = controls_from_options(options, headers)
    records, progress = [], []
    assert generate_records(loaded, str(model), controls, headers, records.append,
                            progress.append) == 3
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert [p["arrival"] for _, p, _ in records] == [0, 1, 2]
    by_index = {p["index"]: (text, p, probs) for text, p, probs in records}
    for i, tune in enumerate(generate_tunes(loaded, controls)):     # the same seed
        text, provenance, probs = by_index[i]
        assert text == tune.text and len(probs) == len(text)
        assert probs == probabilities_over(text, tune.generated, tune.probabilities)
        assert provenance["model"] == "tiny" and provenance["model_path"] == str(model)
        assert provenance["seed"] == 6 and provenance["bars"] == 4
        assert provenance["key"] == "D" and provenance["rhythm"] == "reel"
        assert "meter" not in provenance and "continued" not in provenance
        assert provenance.get("repairs") == ("; ".join(tune.repairs) or None)
    stop = threading.Event()
    stop.set()
    records.clear()
    assert generate_records(loaded, str(model), controls, headers, records.append,
                            stop=stop) == 0 and records == []


def test_a_continued_tune_is_marked_in_its_provenance(loaded, model):
    from app.generation_controls import controls_from_options
    from app.generation_records import generate_records

    given = "X:1\nM:4/4\nL:1/8\nK:D\n|:FA|d2fd Adfd|gfed cdeg|\n"
    controls = controls_from_options({"count": 1, "seed": 2, "bars": 4, "continue_bars": 2},
                                     {}, given)
    records = []
    generate_records(loaded, str(model), controls, {}, records.append)
    assert records[0][1]["continued"] is True and records[0][1]["continued_bars"] == 2
    assert "|:FA|d2fd Adfd|" in records[0][0]
