"""The training progress bar: steps or share of the time, validation in bits, redraw rate."""

import io
import math
from types import SimpleNamespace

from app.cli.progress import ProgressBar, clock
from app.training import STEPS_WHEN_TIMED


def _progress(step, steps, val_loss=None, eta=30.0, elapsed=10.0, evaluated=False):
    return SimpleNamespace(step=step, steps=steps, train_loss=1.5, val_loss=val_loss,
                           chars_per_second=12345.0, elapsed=elapsed, eta=eta,
                           evaluated=evaluated)


def test_bar_by_steps_shows_the_step_and_validation_bits():
    stream = io.StringIO()
    bar = ProgressBar(stream=stream, width=10)
    bar.update(_progress(5, 10, val_loss=math.log(2) * 1.25, evaluated=True))
    line = stream.getvalue()
    assert line.startswith("\r[#####.....] step 5/10 loss 1.500 val 1.250 bpc 12,345 chars/s")
    assert line.rstrip().endswith("ETA 0:30")
    bar.update(_progress(6, 10))          # a quarter second has not passed: not redrawn
    assert stream.getvalue() == line
    bar.update(_progress(10, 10))         # the last step always is
    assert "step 10/10" in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\n")


def test_bar_by_time_shows_the_share_of_the_time():
    stream = io.StringIO()
    ProgressBar(stream=stream, width=8).update(_progress(7, STEPS_WHEN_TIMED, eta=30.0,
                                                         elapsed=10.0))
    assert stream.getvalue().startswith("\r[##......] step 7 loss")


def test_disabled_bar_writes_nothing():
    stream = io.StringIO()
    bar = ProgressBar(enabled=False, stream=stream)
    bar.update(_progress(10, 10))
    bar.close()
    assert stream.getvalue() == ""


def test_clock():
    assert [clock(s) for s in (-3, 59.9, 61, 3600, 3725)] == ["0:00", "0:59", "1:01",
                                                               "1:00:00", "1:02:05"]
