"""Evaluation scores bits per character exactly like the reference peer's `evaluate`."""

import argparse
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from model.config import ModelConfig
from model.evaluate import evaluate, split_blocks
from model.lm import MusicLM
from model.vocab import Vocab

REFERENCE = Path("/work/shared/reference/mit_lab.py")
if not REFERENCE.exists():
    REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "mit_lab.py"


def _reference_module():
    spec = importlib.util.spec_from_file_location("mit_lab_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.EMBEDDING_DIM, module.HIDDEN_SIZE = 6, 10  # same code, a tiny model
    return module


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference peer not present")
def test_same_weights_give_the_reference_figures(tmp_path, capsys):
    ref = _reference_module()
    train_text = "X:1\nK:D\n|:ABcd efga|\n\nX:1\nK:G\nGABc|dBAG|\n"
    ref_vocab = sorted(set(train_text))
    torch.manual_seed(3)
    ref_model = ref.LSTMModel(len(ref_vocab))
    ckpt = tmp_path / "ref.pt"
    torch.save({"state_dict": ref_model.state_dict(), "vocab": ref_vocab}, ckpt)
    held_out = "X:1\nK:A\n|:edcB A2 z|Q\n\n\nX:1\nK:D\nfed\n\n  \nX\n\nX:1\nK:Em\nEFGA|\n"
    data = tmp_path / "held_out.txt"
    data.write_text(held_out)
    ref.evaluate(argparse.Namespace(ckpt=str(ckpt), data=[str(data)]))
    expected = json.loads(capsys.readouterr().out)

    # Ceol's vocabulary adds the unknown symbol at index 0; its output row is made impossible
    # so the softmax over the other characters is the reference's.
    vocab = Vocab.from_text(train_text)
    model = MusicLM(ModelConfig(embedding_size=6, hidden_size=10, num_layers=1, dropout=0),
                    len(vocab))
    with torch.no_grad():
        model.core.embedding.weight[1:] = ref_model.embedding.weight
        for name, value in ref_model.lstm.named_parameters():
            getattr(model.core.rnn, name).copy_(value)
        model.head.weight[1:] = ref_model.fc.weight
        model.head.bias[1:] = ref_model.fc.bias
        model.head.weight[0] = 0
        model.head.bias[0] = -1e30
    got = evaluate(model, vocab, split_blocks(held_out), batch_chars=40)
    assert got == expected
    assert got["unknown_chars_skipped"] == 7  # 2 z Q E m E F: not in the training text


def test_split_blocks_matches_blank_lines_with_spaces():
    assert split_blocks("a\nb\n\n \n\nc\r\n\r\nd\n") == ["a\nb", "c", "d"]
