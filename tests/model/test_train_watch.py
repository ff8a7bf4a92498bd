"""A watched run: validations by the clock (their cost bounded), sample tunes in the reports,
the final validation reported, and training exactly as it is unwatched."""

import math
from dataclasses import replace

import pytest
import torch

from model.config import TINY, ModelConfig
from model.errors import ModelError
from model.train import train
from model.train_watch import EVAL_SHARE, Watch, WatchClock, sample_tune

SMALL = ModelConfig(embedding_size=8, hidden_size=16, num_layers=2, dropout=0.1)


def test_the_clock_asks_for_validations_no_more_than_their_share_of_the_time():
    clock = WatchClock(Watch(eval_seconds=5.0), now=100.0)
    assert not clock.eval_due(104.9) and clock.eval_due(105.0)
    clock.evaluated(105.0, 106.0)                      # a validation of 1 s: 5.67 s between
    spacing = 1.0 * (1 - EVAL_SHARE) / EVAL_SHARE
    assert not clock.eval_due(106.0 + spacing - 0.01) and clock.eval_due(106.0 + spacing)
    clock.shift(30.0)                                  # a pause counts as no time
    assert not clock.eval_due(106.0 + spacing + 29.0)
    assert not WatchClock(Watch(), now=0.0).eval_due(1e9)   # unwatched: by steps only


def test_samples_come_after_validations_at_most_so_often():
    clock = WatchClock(Watch(sample_chars=100, sample_seconds=10.0), now=0.0)
    assert clock.sample_due(1.0)                       # the first validation gets one
    clock.sampled(1.0)
    assert not clock.sample_due(5.0) and clock.sample_due(5.0, last=True)
    assert clock.sample_due(11.0)
    assert not WatchClock(Watch(), now=0.0).sample_due(1.0, last=True)


@pytest.mark.parametrize("watch, message", [
    (Watch(eval_seconds=0), "eval_seconds"), (Watch(sample_chars=-1), "sample_chars"),
    (Watch(sample_seconds=-1.0), "sample_seconds")])
def test_bad_watches_are_refused(watch, message):
    with pytest.raises(ModelError, match=message):
        watch.check()


def test_a_sample_leaves_the_model_and_the_random_state_alone(trained):
    model, vocab = trained
    was_training = model.training
    model.train()                                      # as it is between training steps
    try:
        before = {k: v.clone() for k, v in model.state_dict().items()}
        rng = torch.get_rng_state()
        text = sample_tune(model, vocab, max_chars=80, seed=3)
        assert text.startswith("X:1\n") and len(text) <= len("X:1\n") + 81
        assert torch.equal(torch.get_rng_state(), rng) and model.training
        assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
        assert sample_tune(model, vocab, max_chars=80, seed=3) == text
    finally:
        model.train(was_training)


def test_a_watched_run_trains_exactly_as_an_unwatched_one(corpus_texts):
    """Samples after every validation (dropout on, so any draw from torch's generator would
    show) change neither the weights nor the history."""
    config = replace(TINY.train, steps=12, eval_interval=4)
    plain = train(config, corpus_texts, model_config=SMALL)
    reports = []
    watched = train(config, corpus_texts, reports.append, model_config=SMALL,
                    watch=Watch(sample_chars=60))
    for (name, x), (_, y) in zip(plain.model.state_dict().items(),
                                 watched.model.state_dict().items()):
        assert torch.equal(x, y), name
    assert plain.history == watched.history
    sampled = [(p.step, p.evaluated) for p in reports if p.sample is not None]
    assert sampled == [(4, True), (8, True), (12, True)]
    assert all(p.sample.startswith("X:1\n") for p in reports if p.sample is not None)


def test_the_clock_adds_validations_and_reports_them_in_bits(corpus_texts):
    reports = []
    result = train(replace(TINY.train, steps=60, eval_interval=10 ** 6), corpus_texts,
                   reports.append, watch=Watch(eval_seconds=1e-9))
    evaluated = [p for p in reports if p.evaluated]
    assert len(evaluated) >= 3 and evaluated[0].step < 60        # not only the last step
    assert [h["step"] for h in result.history] == [p.step for p in evaluated]
    p = evaluated[-1]
    assert p.val_bits_per_char == pytest.approx(p.val_loss / math.log(2))
    assert p.train_bits_per_char == pytest.approx(p.train_loss / math.log(2))
    assert result.val_bits_per_char == pytest.approx(result.val_loss / math.log(2))


def test_a_run_ended_by_the_clock_reports_its_last_validation_and_sample(corpus_texts):
    reports = []
    result = train(replace(TINY.train, steps=10 ** 9, minutes=0.01, eval_interval=10 ** 6),
                   corpus_texts, reports.append, watch=Watch(sample_chars=40,
                                                             sample_seconds=3600.0))
    last = reports[-1]
    assert last.evaluated and last.step == result.steps and last.eta == 0.0
    assert last.val_loss == pytest.approx(result.history[-1]["val_loss"], abs=1e-5)
    assert last.sample is not None and last.sample.startswith("X:1\n")
    assert sum(p.sample is not None for p in reports) == 1   # once an hour, and the last one
