"""Training a music model: the one service the Train panel and `python main.py train` call.

Both front ends describe a run as a `TrainRequest` (a preset, changes to its configs, a budget in
steps or minutes, where the model and its checkpoints go, a model to fine-tune or a checkpoint to
resume); `training_configs` turns it into the checked `TrainConfig` and `ModelConfig`, and
`train_model` runs `model.train.train` on data prepared by `app.training_data`, with progress,
stop and pause hooks. A request can also ask for validations by the clock and sample tunes in
the progress reports (model/train_watch.py), the story the window tells while it trains;
`watch_for_budget` picks how often for a budget. The CLI calls `train_model` in its own
process; the window calls it in a child process (app.training_process), so a run leaves the
window's memory as it was and a crash in torch costs the run only. GUI-free; torch is imported
only when a run starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from app.training_data import TrainingData
from model.config import DEFAULT_PRESET, ModelConfig, TrainConfig, preset, updated

# The step budget of a run limited by minutes: the clock ends it long before.
STEPS_WHEN_TIMED = 10 ** 9
# With checkpoints at each evaluation, at least this many steps between two.
MIN_CHECKPOINT_INTERVAL = 10
# A watched run validates about this many times in a minutes budget, every 5 s to 2 min...
VALIDATIONS_PER_RUN = 12
EVAL_SECONDS_RANGE = (5.0, 120.0)
# ...and every this many seconds in a steps budget (its length is not known beforehand).
EVAL_SECONDS_BY_STEPS = 20.0
# The sample tune shown while training: at most this long, at most this often.
SAMPLE_CHARS = 600
SAMPLE_SECONDS = 15.0


@dataclass
class TrainRequest:
    """One training run as the user asked for it; None everywhere means the preset's value."""

    preset: str = DEFAULT_PRESET
    steps: int | None = None             # optimiser steps to train for ...
    minutes: float | None = None         # ... or wall-clock minutes (steps win if both)
    out_path: str | None = None          # the model file to write
    checkpoint_path: str | None = None   # where resumable checkpoints go (None: none)
    checkpoint_interval: int | None = None   # steps between them (None: the preset's) ...
    checkpoint_each_evaluation: bool = False  # ... or at every evaluation (the window's way)
    init_from: str | None = None         # a model file to fine-tune
    resume_from: str | None = None       # a checkpoint to continue exactly
    model_changes: dict[str, Any] = field(default_factory=dict)  # ModelConfig fields
    train_changes: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields
    eval_seconds: float | None = None    # also validate this often by the clock (None: by steps)
    sample_chars: int = 0                # a sample tune this long in reports (0: none) ...
    sample_seconds: float = 0.0          # ... at most this often


def watch_for_budget(steps: int | None, minutes: float | None) -> dict[str, Any]:
    """Return the TrainRequest fields of a watched run (the window's): validations by the
    clock about VALIDATIONS_PER_RUN times in a minutes budget (every EVAL_SECONDS_BY_STEPS s
    in a steps budget), and a sample tune of SAMPLE_CHARS after a validation at most every
    SAMPLE_SECONDS (and after the last one)."""
    if minutes is not None and steps is None:
        low, high = EVAL_SECONDS_RANGE
        eval_seconds = min(max(minutes * 60 / VALIDATIONS_PER_RUN, low), high)
    else:
        eval_seconds = EVAL_SECONDS_BY_STEPS
    return {"eval_seconds": eval_seconds, "sample_chars": SAMPLE_CHARS,
            "sample_seconds": SAMPLE_SECONDS}


def training_configs(request: TrainRequest) -> tuple[TrainConfig, ModelConfig]:
    """Return the checked configs of a request; ModelError for an unknown preset or a value out
    of range (before any data is read)."""
    chosen = preset(request.preset)
    model_config = updated(chosen.model, **request.model_changes)
    config = updated(chosen.train, **request.train_changes,
                     checkpoint_interval=request.checkpoint_interval,
                     checkpoint_path=request.checkpoint_path, out_path=request.out_path)
    steps, minutes = config.steps, config.minutes
    if request.steps is not None:
        steps, minutes = request.steps, None
    elif request.minutes is not None:
        steps, minutes = STEPS_WHEN_TIMED, request.minutes
    config = replace(config, steps=steps, minutes=minutes)
    if request.checkpoint_each_evaluation:
        config = replace(config, checkpoint_interval=max(config.eval_interval,
                                                         MIN_CHECKPOINT_INTERVAL))
    model_config.check()
    config.check()
    return config, model_config


def train_model(request: TrainRequest, data: TrainingData, on_progress: Callable | None = None,
                stop=None, pause=None):
    """Train as `request` asks on `data`; return model.train's TrainResult (saved to its
    out_path).

    `on_progress(model.train.Progress)` follows each step; `stop.is_set()` ends the run (the
    best model so far is kept); while `pause.is_set()` it waits between steps. Reports carry
    the validations and sample tunes the request's watch fields ask for. Raises ModelError
    for bad settings or data, OSError when a file cannot be written.
    """
    from model.train import train
    from model.train_watch import Watch

    config, model_config = training_configs(request)
    watch = Watch(request.eval_seconds, request.sample_chars, request.sample_seconds)
    return train(config, data.for_model(), on_progress, stop, pause=pause,
                 model_config=model_config, init_from=request.init_from,
                 resume_from=request.resume_from, watch=watch)

