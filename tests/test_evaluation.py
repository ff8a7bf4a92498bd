"""app.evaluation: which blocks are scored, and the figures of a model over them."""

import pytest

from app.evaluation import evaluate_model, evaluation_blocks
from model.errors import ModelError

TUNE = "X:1\nM:4/4\nL:1/8\nK:D\n|:ABcd efga|bagf edcB:|\n"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from dataclasses import replace

    from model.config import TINY
    from model.train import train

    path = tmp_path_factory.mktemp("evaluation") / "tiny.safetensors"
    text = "\n".join([TUNE] * 30)
    train(replace(TINY.train, steps=3, out_path=str(path)), (text, TUNE))
    return path


def test_files_are_scored_as_written_block_by_block(tmp_path):
    (tmp_path / "a.abc").write_text(f"{TUNE}\n\n{TUNE}")
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "notes.txt").write_text("first block\n\nsecond\n")
    assert evaluation_blocks([str(tmp_path / "a.abc")]) == [TUNE.rstrip("\n")] * 2
    blocks = evaluation_blocks([str(tmp_path)])
    assert len(blocks) == 4 and any(b.startswith("first block") for b in blocks)


def test_a_model_scores_the_blocks(model, tmp_path):
    data = tmp_path / "held_out.abc"
    data.write_text(f"{TUNE}\n{TUNE}")
    figures = evaluate_model(str(model), [str(data)])
    assert set(figures) == {"bits_per_char", "scored_chars", "unknown_chars_skipped",
                            "bits_per_char_all", "chars_all"}
    assert figures["bits_per_char"] > 0 and figures["unknown_chars_skipped"] == 0
    assert figures["bits_per_char_all"] == figures["bits_per_char"]
    assert figures["chars_all"] == figures["scored_chars"]
    # each block and the blank line after it, its first character unscored
    assert figures["scored_chars"] == 2 * (len(TUNE.rstrip("\n") + "\n\n") - 1)


def test_nothing_to_score_is_an_error(model, tmp_path):
    (tmp_path / "empty.abc").write_text("")
    with pytest.raises(ModelError, match="nothing to score in"):
        evaluate_model(str(model), [str(tmp_path / "empty.abc")])


def test_unknown_characters_are_skipped_by_the_lab_figure_and_charged_by_the_other(model,
                                                                                  tmp_path):
    from model.checkpoint import load_model
    from model.evaluate import evaluate

    loaded = load_model(model)
    strange = TUNE.replace("efga", "éfgа")            # a Latin é and a Cyrillic а
    data = tmp_path / "strange.abc"
    data.write_text(f"{TUNE}\n{strange}")
    figures = evaluate_model(loaded, [str(data)])
    assert figures["unknown_chars_skipped"] == 2
    assert figures["chars_all"] == figures["scored_chars"] + 2
    lab = evaluate(loaded.model, loaded.vocab, [TUNE.rstrip("\n"), strange.rstrip("\n")])
    assert figures["bits_per_char"] == pytest.approx(lab["bits_per_char"], abs=2e-4)
    # the unknown symbol was never a target: each unknown character costs more than the rest
    assert figures["bits_per_char_all"] > figures["bits_per_char"] + 0.05


def test_renumbered_and_training_text_readings(model, tmp_path):
    data = tmp_path / "numbered.abc"
    data.write_text("X: 417\r\nT:The Kesh\r\n% a comment\r\nM:4/4\r\nL:1/8\r\nK:D\r\n"
                    "|:ABcd efga|bagf edcB:|\r\n")
    as_written = evaluation_blocks([str(data)])
    assert as_written == ["X: 417\nT:The Kesh\n% a comment\nM:4/4\nL:1/8\nK:D\n"
                          "|:ABcd efga|bagf edcB:|"]
    assert evaluation_blocks([str(data)], "renumbered")[0].startswith("X:1\nT:The Kesh\n%")
    old = evaluation_blocks([str(data)], "training", {})
    assert old == [TUNE.rstrip("\n")]
    titled = evaluation_blocks([str(data)], "training", {"text": {"titles": True}})
    assert titled[0].startswith("X:1\nT:The Kesh\nM:4/4")
    with pytest.raises(ValueError, match="as-written"):
        evaluation_blocks([str(data)], "cleaned")
    figures = {t: evaluate_model(str(model), [str(data)], t)["scored_chars"]
               for t in ("as-written", "renumbered", "training")}
    assert figures["as-written"] > figures["renumbered"] > figures["training"]
