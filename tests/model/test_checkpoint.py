"""Model files: round trips, and refusal of pickles, truncated, foreign and mismatched files."""

import json
import os
import pickle
import struct

import pytest
import torch

from model.checkpoint import load_model, save_model
from model.checkpoint_meta import read_metadata
from model.config import ModelConfig, TrainConfig
from model.errors import ModelError
from model.lm import MusicLM
from model.vocab import UNKNOWN, Vocab


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    vocab = Vocab.from_text("X:1\nK:D\nABcd|\n")
    model = MusicLM(ModelConfig(embedding_size=4, hidden_size=8, num_layers=2), len(vocab))
    path = tmp_path / "m.safetensors"
    save_model(path, model, vocab, train_config=TrainConfig(seq_len=16),
               training={"corpus": "inline", "tune_count": 1, "steps": 7})
    return path, model, vocab


def test_round_trip_keeps_weights_vocab_and_metadata(saved):
    path, model, vocab = saved
    loaded = load_model(path)
    assert loaded.vocab == vocab and loaded.vocab.chars[0] == UNKNOWN
    assert loaded.model_config == model.config
    assert loaded.train_config.seq_len == 16
    assert loaded.training["steps"] == 7
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.model.state_dict().items()):
        assert torch.equal(a, b), name
    meta = read_metadata(path)
    assert meta["training"]["corpus"] == "inline" and meta["vocab"] == vocab.chars
    assert [p.name for p in path.parent.iterdir()] == ["m.safetensors"]  # no temp file left


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_a_pickle_that_runs_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"state_dict": _Evil(str(marker))}))
    torch_file = tmp_path / "evil.pt"
    torch.save({"x": _Evil(str(marker))}, torch_file)
    for path in (evil, torch_file):
        with pytest.raises(ModelError, match="not a Ceol model file"):
            load_model(path)
    assert not marker.exists()


def test_truncated_file_is_refused(saved, tmp_path):
    path, _, _ = saved
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelError, match="truncated"):
        load_model(cut)
    cut.write_bytes(path.read_bytes()[:5])
    with pytest.raises(ModelError, match="not a Ceol model file"):
        load_model(cut)


def test_metadata_that_does_not_match_the_weights_is_refused(saved, tmp_path):
    path, _, _ = saved
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = json.loads(header["__metadata__"]["ceol"])
    meta["model_config"]["hidden_size"] = 9
    header["__metadata__"]["ceol"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", len(raw)) + raw + blob[8 + n:])
    with pytest.raises(ModelError, match="do not match the metadata"):
        load_model(bad)


def test_other_files_are_refused(tmp_path):
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    text = tmp_path / "tunes.abc"
    text.write_text("X:1\nK:D\nABc|\n")
    with pytest.raises(ModelError, match="not a Ceol model"):
        load_model(foreign)
    with pytest.raises(ModelError, match="not a Ceol model file"):
        load_model(text)
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "missing.safetensors")
