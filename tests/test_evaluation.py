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
    assert set(figures) == {"bits_per_char", "scored_chars", "unknown_chars_skipped"}
    assert figures["bits_per_char"] > 0 and figures["unknown_chars_skipped"] == 0
    # each block and the blank line after it, its first character unscored
    assert figures["scored_chars"] == 2 * (len(TUNE.rstrip("\n") + "\n\n") - 1)


def test_nothing_to_score_is_an_error(model, tmp_path):
    (tmp_path / "empty.abc").write_text("")
    with pytest.raises(ModelError, match="nothing to score in"):
        evaluate_model(str(model), [str(tmp_path / "empty.abc")])
