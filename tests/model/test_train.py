"""Training: it learns, repeats with a seed, resumes exactly, stops on the flag, fine-tunes."""

import threading
from dataclasses import replace

import pytest
import torch

from model.checkpoint import load_model
from model.config import TINY, ModelConfig, TrainConfig
from model.errors import ModelError
from model.train import train

SMALL = ModelConfig(embedding_size=8, hidden_size=16, num_layers=2, dropout=0.1)


def _config(**changes) -> TrainConfig:
    return replace(TINY.train, **changes)


def test_tiny_model_learns_and_reports_progress(corpus_texts):
    reports = []
    result = train(_config(steps=40, eval_interval=20), corpus_texts, reports.append)
    assert [p.step for p in reports] == list(range(1, 41))
    first, last = reports[0], reports[-1]
    assert last.train_loss < first.train_loss - 1.0
    assert last.val_loss is not None and last.chars_per_second > 0 and last.eta == 0
    assert [h["step"] for h in result.history] == [20, 40]
    assert result.val_loss == min(h["val_loss"] for h in result.history) or \
        abs(result.val_loss - min(h["val_loss"] for h in result.history)) < 1e-4


def test_seeded_runs_repeat_exactly(corpus_texts):
    a = train(_config(steps=8), corpus_texts, model_config=SMALL)
    b = train(_config(steps=8), corpus_texts, model_config=SMALL)
    for (name, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(x, y), name


def test_resume_continues_exactly(corpus_texts, tmp_path):
    """2 x 50 steps with a resume in between == 100 steps straight (dropout on, CPU, seeded)."""
    config = _config(steps=100, eval_interval=30, batch_size=4, seq_len=16)
    straight = train(replace(config, checkpoint_path=str(tmp_path / "a.ckpt")), corpus_texts,
                     model_config=SMALL)

    stop = threading.Event()

    def halt_at_50(p):
        if p.step == 50:
            stop.set()

    ckpt = str(tmp_path / "b.ckpt")
    first = train(replace(config, checkpoint_path=ckpt), corpus_texts, halt_at_50, stop,
                  model_config=SMALL)
    assert first.stopped and first.steps == 50
    second = train(replace(config, checkpoint_path=ckpt), corpus_texts, model_config=SMALL,
                   resume_from=ckpt)
    assert second.steps == 100
    a, b = load_model(tmp_path / "a.ckpt"), load_model(ckpt)
    for (name, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(x, y), name
    for (name, x), (_, y) in zip(straight.model.state_dict().items(),
                                 second.model.state_dict().items()):
        assert torch.equal(x, y), name  # the best weights too
    assert straight.history == second.history


def test_stop_flag_ends_quickly_and_saves_a_usable_model(corpus_texts, tmp_path):
    stop = threading.Event()
    out = tmp_path / "m.safetensors"
    result = train(_config(steps=10_000, out_path=str(out)), corpus_texts,
                   lambda p: stop.set() if p.step == 3 else None, stop)
    assert result.stopped and result.steps == 3
    loaded = load_model(out)
    assert loaded.training["steps"] == 3 and loaded.training["stopped"] is True
    logits, _ = loaded.model(torch.tensor([loaded.vocab.encode("X:1\n")]))
    assert torch.isfinite(logits).all()


def test_fine_tuning_grows_the_vocabulary_and_keeps_rows(corpus_texts, tmp_path):
    base_path = tmp_path / "base.safetensors"
    train(_config(steps=5, out_path=str(base_path)), corpus_texts)
    base = load_model(base_path)
    new_text = corpus_texts[0].replace("K:D", "K:Bm\n\"Em\"w: ~ é")
    tuned = train(_config(steps=1, learning_rate=1e-9, warmup_steps=0), (new_text, ""),
                  init_from=str(base_path))
    old_n = len(base.vocab)
    assert tuned.vocab.chars[:old_n] == base.vocab.chars
    assert set("\"Emw~é") <= set(tuned.vocab.chars[old_n:]) | set(base.vocab.chars)
    assert "é" in tuned.vocab and tuned.vocab.index["é"] >= old_n
    emb_old = base.model.core.embedding.weight
    emb_new = tuned.model.core.embedding.weight
    assert emb_new.shape[0] == len(tuned.vocab)
    assert torch.allclose(emb_new[:old_n], emb_old, atol=1e-6)  # a 1e-9 step barely moves them
    assert torch.allclose(tuned.model.head.weight[:old_n], base.model.head.weight, atol=1e-6)
    assert tuned.summary["fine_tuned_from"] == str(base_path)


def test_bad_data_and_devices_are_refused(corpus_texts, tmp_path):
    out = tmp_path / "m.safetensors"
    with pytest.raises(ModelError, match="empty"):
        train(_config(out_path=str(out)), ("", ""))
    with pytest.raises(ModelError, match="fewer than one training window"):
        train(_config(out_path=str(out)), ("X:1\nK:D\nABc\n", ""))
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="no CUDA"):
            train(_config(device="cuda", out_path=str(out)), corpus_texts)
    with pytest.raises(ModelError, match="unknown preset"):
        train("enormous", corpus_texts)
    with pytest.raises(ModelError, match="seq_len"):
        train(_config(seq_len=0), corpus_texts)
    assert not out.exists() and list(tmp_path.iterdir()) == []
