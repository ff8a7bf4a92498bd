"""What a training run reports and how it is watched: a `Progress` after each step (with the
time left, `eta`), waiting in place while paused, and for a watched run validations by the
clock and sample tunes, the story the window tells while a model learns.

A preset validates every `eval_interval` steps, which a short run in the window may never
reach (the laptop preset's 1000 steps take about two minutes on two cores). `Watch` asks
model/train.py to validate also when some seconds have passed, and to write a short tune with
the current weights after some validations. `WatchClock` keeps that schedule and its cost
bounded: validations by the clock take at most EVAL_SHARE of the run, samples come at most
every `sample_seconds`. `sample_tune` writes from a CPU copy of the weights with its own seeded
generator, so a sample changes neither the run's weights, device and mode nor torch's random
state: a watched run trains exactly as an unwatched one. The CLI watches nothing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from model.config import SampleConfig, TrainConfig
from model.errors import ModelError
from model.lm import MusicLM
from model.sample import generate
from model.vocab import Vocab

# Validations asked for by the clock are spaced so that they take at most this share of the
# run's time (a validation of the laptop preset's 65,536 characters takes 1.7 s on two cores).
EVAL_SHARE = 0.15


@dataclass(frozen=True)
class Progress:
    """One report from the training loop (model/train.py), after each step, rank 0 only."""

    step: int
    steps: int
    train_loss: float            # mean cross-entropy (nats/char) of this step's batch
    val_loss: float | None       # latest validation loss, None before the first
    best_val_loss: float | None
    learning_rate: float
    chars_per_second: float      # training characters per second (all ranks together)
    elapsed: float               # seconds in this run
    eta: float | None            # seconds left, by the step or the time limit
    evaluated: bool = False      # True when this report carries a fresh validation loss
    sample: str | None = None    # a tune written with this step's weights (a Watch asks for it)

    @property
    def train_bits_per_char(self) -> float:
        """This step's batch loss in bits per character."""
        return self.train_loss / math.log(2)

    @property
    def val_bits_per_char(self) -> float | None:
        """The latest validation loss in bits per character, None before the first."""
        return None if self.val_loss is None else self.val_loss / math.log(2)


@dataclass(frozen=True)
class Watch:
    """What a run reports besides each step's loss; the defaults add nothing."""

    eval_seconds: float | None = None   # also validate once this long has passed since the
    #                                     last validation (or the start), > 0; None: by steps only
    sample_chars: int = 0               # after a validation, a tune of at most this many
    #                                     characters from that step's weights, 0..100000 (0: none)
    sample_seconds: float = 0.0         # at least this long between two samples, >= 0

    def check(self) -> None:
        """Raise ModelError naming a value out of range."""
        if self.eval_seconds is not None and not self.eval_seconds > 0:
            raise ModelError(f"eval_seconds must be above 0, not {self.eval_seconds}")
        if not 0 <= self.sample_chars <= 100_000:
            raise ModelError(f"sample_chars must be 0..100000, not {self.sample_chars}")
        if not self.sample_seconds >= 0:
            raise ModelError(f"sample_seconds must be 0 or more, not {self.sample_seconds}")


class WatchClock:
    """When a watched run validates by the clock and writes a sample; times in seconds from
    any monotonic clock (time.perf_counter in the loop), so tests can pass their own."""

    def __init__(self, watch: Watch, now: float) -> None:
        self.watch = watch
        self.last_eval = now            # when the latest validation ended (or the run began)
        self.eval_cost = 0.0            # how long the latest validation took
        self.last_sample = -math.inf

    def eval_due(self, now: float) -> bool:
        """Tell whether the clock asks for a validation now."""
        if self.watch.eval_seconds is None:
            return False
        spacing = max(self.watch.eval_seconds, self.eval_cost * (1 - EVAL_SHARE) / EVAL_SHARE)
        return now - self.last_eval >= spacing

    def evaluated(self, started: float, ended: float) -> None:
        """Note a validation (by steps or by the clock) that ran from `started` to `ended`."""
        self.last_eval, self.eval_cost = ended, ended - started

    def sample_due(self, now: float, last: bool = False) -> bool:
        """Tell whether a validation that ended `now` gets a sample (the run's `last` one always
        does, when samples are asked for)."""
        if not self.watch.sample_chars:
            return False
        return last or now - self.last_sample >= self.watch.sample_seconds

    def sampled(self, now: float) -> None:
        self.last_sample = now

    def shift(self, seconds: float) -> None:
        """Move the schedule on by a pause, which counts as no time."""
        self.last_eval += seconds
        self.last_sample += seconds


def sample_tune(model: MusicLM, vocab: Vocab, max_chars: int, seed: int) -> str:
    """Write one tune (at most `max_chars` characters after "X:1") with `model`'s weights.

    It samples from a CPU copy drawn with its own generator seeded by `seed`: `model` stays
    where it is, in the mode it is in, and torch's global random state is untouched (building
    the copy would draw initial weights; that draw is undone).
    """
    with torch.random.fork_rng(devices=[]):
        snapshot = MusicLM(model.config, model.vocab_size)
    snapshot.load_state_dict({k: v.detach().to("cpu", copy=True)
                              for k, v in model.state_dict().items()})
    config = SampleConfig(count=1, max_chars=max_chars, seed=seed)
    return generate(snapshot, vocab, config, "X:1\n")[0].text


def eta(config: TrainConfig, step: int, steps_here: int, t0: float,
        train_time: float) -> float | None:
    """Seconds left of a run `steps_here` steps (`train_time` s of training) into it, by its
    steps or its time limit, whichever comes first; None before the first step."""
    if not steps_here:
        return None
    by_steps = (config.steps - step) * train_time / steps_here
    if config.minutes:
        return max(0.0, min(by_steps, config.minutes * 60 - (time.perf_counter() - t0)))
    return by_steps


def wait_while_paused(pause, stop, slice_s: float = 0.05) -> float:
    """Block while `pause` is set and `stop` is not; return the seconds spent waiting."""
    start = time.perf_counter()
    while pause.is_set() and not (stop is not None and stop.is_set()):
        if stop is not None and hasattr(stop, "wait"):
            stop.wait(slice_s)           # wakes at once when stop is set
        else:
            time.sleep(slice_s)
    return time.perf_counter() - start
