"""The optimiser's schedule: warm-up, cosine decay, constant, and time-limited runs."""

import pytest

from model.config import TrainConfig
from model.optim import learning_rate, time_limited_fraction


def test_learning_rate_warms_up_then_decays():
    config = TrainConfig(learning_rate=1.0, warmup_steps=10, steps=110, min_lr_fraction=0.1)
    assert learning_rate(config, 0) == pytest.approx(0.1)
    assert learning_rate(config, 9) == pytest.approx(1.0)
    assert learning_rate(config, 60) == pytest.approx(0.55)
    assert learning_rate(config, 110) == pytest.approx(0.1)
    lab = TrainConfig(learning_rate=5e-3, warmup_steps=0, lr_decay="constant")
    assert learning_rate(lab, 2999) == 5e-3


def test_a_time_limited_run_decays_by_steps_or_clock_whichever_is_further():
    config = TrainConfig(learning_rate=1.0, warmup_steps=10, steps=110, min_lr_fraction=0.1,
                         minutes=1)
    assert time_limited_fraction(config, 60, 6.0) == pytest.approx(0.5)    # steps lead
    assert time_limited_fraction(config, 60, 45.0) == pytest.approx(0.75)  # the clock leads
    assert learning_rate(config, 60, time_limited_fraction(config, 60, 60.0)) == \
        pytest.approx(0.1)
