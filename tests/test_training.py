"""app.training and app.training_data: one request and one data path for both front ends."""

import math
import threading

import pytest

from app.training import (EVAL_SECONDS_BY_STEPS, EVAL_SECONDS_RANGE, MIN_CHECKPOINT_INTERVAL,
                          SAMPLE_CHARS, STEPS_WHEN_TIMED, TrainRequest, train_model,
                          training_configs, watch_for_budget)
from app.training_data import training_data_from_sources
from model.config import TINY, preset
from model.errors import ModelError

BODIES = ["|:ABcd efga|bagf edcB:|", "|:GABc dedB|dBAG FDD2:|", "|:d2fd Adfd|cdeg fdec:|"]


def _tunes(count: int, meter: str = "4/4") -> str:
    return "\n".join(f"X:{i + 1}\nT:T{i}\nM:{meter}\nL:1/8\nK:D\n{BODIES[i % 3]}\n"
                     f"{BODIES[(i + 1) % 3]}\n" for i in range(count))


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("training") / "book.abc"
    path.write_text(_tunes(30))
    return path


def test_budget_in_steps_or_minutes_else_the_presets():
    config, model_config = training_configs(TrainRequest(preset="tiny", steps=7))
    assert (config.steps, config.minutes) == (7, None) and model_config == TINY.model
    config, _ = training_configs(TrainRequest(preset="tiny", minutes=2.5))
    assert (config.steps, config.minutes) == (STEPS_WHEN_TIMED, 2.5)
    config, _ = training_configs(TrainRequest(preset="tiny"))
    assert (config.steps, config.minutes) == (TINY.train.steps, TINY.train.minutes)


def test_changes_apply_and_none_keeps_the_presets_value():
    request = TrainRequest(preset="laptop", model_changes={"hidden_size": 48, "cell": None},
                           train_changes={"learning_rate": 0.5, "seed": None, "threads": 0},
                           out_path="m.safetensors", checkpoint_path="c.safetensors",
                           checkpoint_interval=9)
    config, model_config = training_configs(request)
    laptop = preset("laptop")
    assert model_config.hidden_size == 48 and model_config.cell == laptop.model.cell
    assert (config.learning_rate, config.seed, config.threads) == (0.5, laptop.train.seed, 0)
    assert (config.out_path, config.checkpoint_path, config.checkpoint_interval) == \
        ("m.safetensors", "c.safetensors", 9)


def test_checkpoints_at_each_evaluation():
    config, _ = training_configs(TrainRequest(preset="laptop", checkpoint_each_evaluation=True))
    assert config.checkpoint_interval == preset("laptop").train.eval_interval
    config, _ = training_configs(TrainRequest(preset="tiny", checkpoint_each_evaluation=True,
                                              train_changes={"eval_interval": 3}))
    assert config.checkpoint_interval == MIN_CHECKPOINT_INTERVAL


@pytest.mark.parametrize("request_, message", [
    (TrainRequest(preset="huge"), "unknown preset 'huge'"),
    (TrainRequest(preset="tiny", steps=0), "steps must be between"),
    (TrainRequest(preset="tiny", model_changes={"hidden_size": -1}), "hidden_size"),
])
def test_bad_requests_raise_model_errors(request_, message):
    with pytest.raises(ModelError, match=message):
        training_configs(request_)


def test_sources_and_abc_texts_are_read_together(book, tmp_path):
    extra = _tunes(2, "6/8")
    broken = tmp_path / "broken.abc"
    broken.write_text(_tunes(1) + "\nX:9\nT:No key\nCDEF|\n")
    problems = []
    data = training_data_from_sources([str(book), str(broken)], [extra],
                                      on_problem=lambda p, v: problems.append((str(p), v)))
    assert data.name == "book.abc+broken.abc"
    assert data.summary["tunes"] == 33 and data.summary["meters"]["6/8"] == 2
    assert len(problems) == 1 and "broken.abc: tune 2 (X:9" in problems[0][0]
    assert problems[0][1] is False
    assert set(data.tune_lengths) <= {"4/4", "6/8"}


def test_validation_sources_train_every_tune(book, tmp_path):
    valid = tmp_path / "valid.abc"
    valid.write_text(_tunes(2))
    data = training_data_from_sources([str(book)], name="mine", valid_sources=[str(valid)])
    assert data.name == "mine" and data.tune_count == 30
    assert data.valid_text.count("X:") == 2


def test_the_window_and_the_cli_store_the_tune_lengths(book, tmp_path):
    """A model trained through the service keeps the length profile generation draws from
    (the window's models once lost it)."""
    from model.checkpoint_meta import read_metadata

    data = training_data_from_sources([str(book)], seq_len=TINY.train.seq_len)
    out = tmp_path / "m.safetensors"
    reports = []
    result = train_model(TrainRequest(preset="tiny", steps=4, out_path=str(out)), data,
                         reports.append)
    assert result.steps == 4 and [p.step for p in reports] == [1, 2, 3, 4]
    meta = read_metadata(out)
    assert meta["training"]["tune_lengths"] == data.tune_lengths
    assert sum(meta["training"]["tune_lengths"]["4/4"].values()) == data.tune_count
    assert all(p.sample is None for p in reports)       # the CLI's runs are not watched


def test_a_watched_budget_validates_by_the_clock_and_samples():
    one_minute = watch_for_budget(None, 1.0)
    assert one_minute == {"eval_seconds": EVAL_SECONDS_RANGE[0], "sample_chars": SAMPLE_CHARS,
                          "sample_seconds": one_minute["sample_seconds"]}
    assert watch_for_budget(None, 15.0)["eval_seconds"] == 75.0
    assert watch_for_budget(None, 600.0)["eval_seconds"] == EVAL_SECONDS_RANGE[1]
    assert watch_for_budget(500, None)["eval_seconds"] == EVAL_SECONDS_BY_STEPS


def test_a_watched_request_reports_samples_and_validations_in_bits(book, tmp_path):
    valid = tmp_path / "valid.abc"
    valid.write_text(_tunes(3))
    data = training_data_from_sources([str(book)], valid_sources=[str(valid)],
                                      seq_len=TINY.train.seq_len)
    reports = []
    request = TrainRequest(preset="tiny", steps=30, eval_seconds=3600.0, sample_chars=50,
                           train_changes={"eval_interval": 10})
    result = train_model(request, data, reports.append)
    assert [p.step for p in reports if p.sample] == [10, 20, 30]
    last = reports[-1]
    assert last.evaluated and last.val_bits_per_char == pytest.approx(last.val_loss / math.log(2))
    assert result.val_bits_per_char == pytest.approx(result.val_loss / math.log(2))
    with pytest.raises(ModelError, match="sample_chars"):
        train_model(TrainRequest(preset="tiny", steps=2, sample_chars=-5), data)


def test_fine_tuning_compares_the_vocabulary_and_stop_ends_the_run(book, tmp_path):
    base = tmp_path / "base.safetensors"
    first = training_data_from_sources([str(book)], seq_len=TINY.train.seq_len)
    train_model(TrainRequest(preset="tiny", steps=2, out_path=str(base)), first)
    new = tmp_path / "new.abc"
    new.write_text(_tunes(25).replace("K:D", 'K:F\n"F"'))
    data = training_data_from_sources([str(new)], base_model=str(base),
                                      seq_len=TINY.train.seq_len)
    assert data.summary["new_characters"] == '"'
    stop = threading.Event()
    stop.set()
    result = train_model(TrainRequest(preset="tiny", steps=50, init_from=str(base),
                                      out_path=str(tmp_path / "tuned.safetensors")), data,
                         stop=stop)
    assert result.stopped and result.steps < 50
    with pytest.raises(ModelError, match="not a Ceol model"):
        training_data_from_sources([str(book)], base_model=str(book))
