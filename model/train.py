"""Training the music model: truncated BPTT over random windows, with hooks and a stop flag.

`train(config, data, on_progress, stop)` is a plain function: the CLI draws a progress bar from
its hook, the GUI's worker turns the hook into Qt signals and sets `stop` from the GUI thread.
The loop reads top to bottom as in nanoGPT: `_setup` builds the model, optimiser and data;
`_step` takes one optimiser step (AdamW or the lab's Adam, gradient-norm clipping against
exploding gradients, the warm-up and cosine schedule of model/optim.py, dropout); `_evaluate`
measures the validation loss at intervals and keeps the best weights; `_finish` saves them.
Each step reports a `Progress` (model/train_watch.py); a `Watch` asks for validations by the
clock too and for sample tunes in the reports, the story the window tells while a model learns.
Resumable checkpoints (model/train_state.py) hold weights, optimiser, random generators and
loop position, so a resumed run continues exactly. Under torchrun the model is wrapped in
DistributedDataParallel and only rank 0 writes files.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import torch
import torch.nn.functional as F

from model import distributed
from model.checkpoint import ModelFile, load_model, save_model
from model.config import DEFAULT_PRESET, ModelConfig, Preset, TrainConfig, preset
from model.data import TrainData, as_train_data, check_trainable, encode, random_windows, \
    validation_windows
from model.device import resolve_device, set_threads, training_kernels
from model.errors import ModelError
from model.lm import MusicLM
from model.optim import learning_rate, make_optimizer, time_limited_fraction
from model.train_state import TrainState, restore_checkpoint, rounded, save_checkpoint
from model.train_watch import (Progress, Watch, WatchClock, eta, sample_tune,
                               wait_while_paused)
from model.vocab import Vocab

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a training run produced: the model as saved (the best weights) and its story."""

    model: MusicLM
    vocab: Vocab
    model_config: ModelConfig
    train_config: TrainConfig
    steps: int                   # optimiser steps done in total (resumed ones included)
    train_loss: float | None     # mean of the last 50 step losses
    val_loss: float | None       # validation loss of the saved weights
    best_step: int | None
    stopped: bool                # ended early by the stop flag
    seconds: float
    chars_per_second: float
    path: str | None
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    final_state: dict[str, torch.Tensor] | None = field(default=None, repr=False)  # the last
    # step's weights (the model holds the best)

    @property
    def val_bits_per_char(self) -> float | None:
        """The saved weights' validation loss in bits per character, None if never measured."""
        return None if self.val_loss is None else self.val_loss / math.log(2)


@torch.no_grad()
def validation_loss(model: MusicLM, windows: tuple[torch.Tensor, torch.Tensor] | None,
                    batch_size: int = 64, stop=None) -> float | None:
    """Mean cross-entropy (nats/char) over validation windows, each from a fresh state."""
    if windows is None:
        return None
    was_training = model.training
    model.eval()
    x_all, y_all = windows
    total, count = 0.0, 0
    for i in range(0, x_all.shape[0], batch_size):
        if stop is not None and stop.is_set():
            break
        logits, _ = model(x_all[i:i + batch_size])
        y = y_all[i:i + batch_size]
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                 reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    return total / count if count else None


def train(config: TrainConfig | Preset | str | None, data: TrainData | tuple[str, str] | str,
          on_progress: Callable[[Progress], None] | None = None, stop=None, *,
          model_config: ModelConfig | None = None, init_from: str | ModelFile | None = None,
          resume_from: str | None = None, pause=None, watch: Watch | None = None) -> TrainResult:
    """Train a music model on `data` and return the result (saved to config.out_path if set).

    `config` is a TrainConfig, a Preset or a preset name (None = the default preset); with a
    TrainConfig, `model_config` gives the shape (default: the default preset's). `init_from`
    fine-tunes a model file (its vocabulary grows for new characters); `resume_from` continues
    a checkpoint exactly. `stop.is_set()` is checked before every step and during validation.
    While the Event-like `pause` is set the loop waits between steps (one process only; the
    waiting counts toward neither the `minutes` budget nor the speed); `stop` still ends it.
    `watch` asks for validations by the clock and sample tunes in the reports (see Watch);
    the last report of a run that ends by its budget carries the final validation. Raises
    ModelError for bad configs or data.
    """
    config, model_config = _resolve_configs(config, model_config)
    config.check()
    watch = watch or Watch()
    watch.check()
    data = as_train_data(data)
    device = resolve_device(config.device)
    if device.type == "cpu":
        set_threads(config.threads)
    world = distributed.setup(device)
    if world.distributed and device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    try:
        result = _train(config, model_config, data, on_progress, stop, init_from, resume_from,
                        device, world, pause, watch)
        # Leave together: a rank that tore its gloo group down while rank 0 was still saving
        # was aborted at exit ("terminate called without an active exception") now and then.
        distributed.barrier(world)
        return result
    finally:
        distributed.teardown(world)


def _resolve_configs(config, model_config) -> tuple[TrainConfig, ModelConfig]:
    if config is None or isinstance(config, str):
        config = preset(config or DEFAULT_PRESET)
    if isinstance(config, Preset):
        return config.train, model_config or config.model
    return config, model_config or preset(DEFAULT_PRESET).model


@dataclass
class _Run:
    """Everything the loop works with, built once by `_setup`."""

    config: TrainConfig
    model_config: ModelConfig
    model: MusicLM
    net: torch.nn.Module              # the model, or its DistributedDataParallel wrapper
    vocab: Vocab
    optimizer: torch.optim.Optimizer
    data_gen: torch.Generator         # draws the training windows
    train_ids: torch.Tensor           # (N,) the training text as ids, on the device
    valid: tuple[torch.Tensor, torch.Tensor] | None   # validation windows, on the device
    device: torch.device
    world: distributed.World
    autocast: torch.dtype | None      # bf16 autocast, or None for fp32
    summary: dict[str, Any]           # what the model file tells about its training
    state: TrainState


def _train(config: TrainConfig, model_config: ModelConfig, data: TrainData, on_progress, stop,
           init_from, resume_from, device: torch.device, world, pause=None,
           watch: Watch = Watch()) -> TrainResult:
    """Set up, run the steps (validation and checkpoints at intervals), then keep the best.

    Pausing shifts the clock, so the waiting counts toward neither the budget nor the ETA.
    """
    run = _setup(config, model_config, data, init_from, resume_from, device, world)
    state = run.state
    chars_per_step = config.batch_size * config.seq_len * world.size
    t0 = time.perf_counter()
    clock = WatchClock(watch, t0)
    train_time, steps_here, val_loss, stopped = 0.0, 0, None, False
    deadline = t0 + config.minutes * 60 if config.minutes else None
    while state.step < config.steps:
        if pause is not None and pause.is_set():
            waited = wait_while_paused(pause, stop)
            t0 += waited
            clock.shift(waited)
            if deadline is not None:
                deadline += waited
        halt = bool(stop is not None and stop.is_set())
        if deadline is not None and time.perf_counter() >= deadline:
            halt = True
        if distributed.any_true(halt, world, device):
            stopped = bool(stop is not None and stop.is_set())
            break
        t_step = time.perf_counter()
        fraction = None if deadline is None else time_limited_fraction(config, state.step,
                                                                        t_step - t0)
        lr = learning_rate(config, state.step, fraction)
        loss = _step(run, lr)
        steps_here += 1
        train_time += time.perf_counter() - t_step

        last = state.step == config.steps
        evaluated = world.is_main and (state.step % config.eval_interval == 0 or last
                                       or clock.eval_due(time.perf_counter()))
        sample = None
        if evaluated:
            val_loss, sample = _validate(run, loss, stop, clock, last)
        if (world.is_main and config.checkpoint_path and config.checkpoint_interval
                and state.step % config.checkpoint_interval == 0 and state.step < config.steps):
            _save_checkpoint(run)
        if world.is_main and on_progress is not None:
            cps = chars_per_step * steps_here / train_time if train_time else 0.0
            on_progress(Progress(state.step, config.steps, loss, val_loss, state.best_val, lr,
                                 cps, time.perf_counter() - t0,
                                 eta(config, state.step, steps_here, t0, train_time), evaluated,
                                 sample))

    cps = chars_per_step * steps_here / train_time if train_time else 0.0
    if world.is_main and not stopped and steps_here and not state.evaluated_last():
        val_loss, sample = _validate(run, loss, stop, clock, True)   # the time limit ended it
        if on_progress is not None:
            on_progress(Progress(state.step, config.steps, loss, val_loss, state.best_val, lr,
                                 cps, time.perf_counter() - t0, 0.0, True, sample))
    seconds = time.perf_counter() - t0
    return _finish(run, val_loss, stopped, seconds, cps)


def _setup(config: TrainConfig, model_config: ModelConfig, data: TrainData, init_from,
           resume_from, device: torch.device, world) -> _Run:
    """Build the model (new, fine-tuned or resumed), its optimiser and the data on `device`.

    The seeding order here is what makes seeded runs and resumed ones repeat exactly.
    """
    resumed, base, vocab, model_config = _starting_point(model_config, data, init_from,
                                                         resume_from)
    train_ids = encode(data.train_text, vocab)
    check_trainable(train_ids, config.seq_len)
    valid = validation_windows(encode(data.valid_text, vocab), config.seq_len, config.eval_chars)

    torch.manual_seed(config.seed)
    model = MusicLM(model_config, len(vocab))
    if base is not None:
        model = base.model
        model.grow_vocab(len(vocab), generator=torch.Generator().manual_seed(config.seed))
        model.config = model_config
    if resumed is not None:
        model = resumed.model
    model.to(device).train()
    optimizer = make_optimizer(model, config)
    data_gen = torch.Generator().manual_seed(config.seed * 1009 + world.rank)
    torch.manual_seed(config.seed + world.rank)
    state = TrainState()
    if resumed is not None:
        state = restore_checkpoint(resumed, optimizer, data_gen, device)
    net = model
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                      else None)
    train_ids, valid = train_ids.to(device), _to(valid, device)
    summary = _data_summary(data, vocab, base, resumed)

    autocast = training_kernels(model, train_ids, precision=config.precision,
                                threads=config.threads, batch_size=config.batch_size,
                                seq_len=config.seq_len, device=device)
    summary["precision"] = "bf16" if autocast is not None else "fp32"
    summary["threads"] = torch.get_num_threads() if device.type == "cpu" else None
    return _Run(config, model_config, model, net, vocab, optimizer, data_gen, train_ids, valid,
                device, world, autocast, summary, state)


def _starting_point(model_config: ModelConfig, data: TrainData, init_from, resume_from
                    ) -> tuple[ModelFile | None, ModelFile | None, Vocab, ModelConfig]:
    """Return (checkpoint to resume, model to fine-tune, vocabulary, shape) for this run."""
    if resume_from:
        resumed = load_model(resume_from)
        if not resumed.resume:
            raise ModelError(f"{resume_from}: not a resumable checkpoint (no optimiser state)")
        return resumed, None, resumed.vocab, resumed.model_config
    if init_from is not None:
        base = init_from if isinstance(init_from, ModelFile) else load_model(init_from)
        return None, base, base.vocab.grown(data.train_text), base.model_config
    model_config.check()
    return None, None, Vocab.from_text(data.train_text), model_config


def _data_summary(data: TrainData, vocab: Vocab, base: ModelFile | None,
                  resumed: ModelFile | None) -> dict[str, Any]:
    """The training data's part of the stored summary (the run adds its figures later)."""
    summary = {"corpus": data.name, "tune_count": data.tune_count,
               "train_chars": len(data.train_text), "valid_chars": len(data.valid_text),
               "vocab_size": len(vocab), "titles": "\nT:" in "\n" + data.train_text,
               "fine_tuned_from": getattr(base, "path", None)
               if base else (resumed.training.get("fine_tuned_from") if resumed else None)}
    summary.update(getattr(data, "extra", None) or {})
    return summary


def _step(run: _Run, lr: float) -> float:
    """One optimiser step at rate `lr` on a batch of random windows; return its loss."""
    config, device = run.config, run.device
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    x, y = random_windows(run.train_ids, config.batch_size, config.seq_len, run.data_gen)
    with torch.autocast(device.type, dtype=run.autocast or torch.float32,
                        enabled=run.autocast is not None):
        logits, _ = run.net(x.to(device, non_blocking=True))   # (B, T, V)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                           y.to(device).reshape(-1))
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if config.grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), config.grad_clip)
    run.optimizer.step()
    loss_value = loss.item()
    run.state.add_step(loss_value)
    return loss_value


def _evaluate(run: _Run, train_loss: float, stop) -> float | None:
    """Measure the validation loss, add it to the history and keep the best weights."""
    val_loss = validation_loss(run.model, run.valid, stop=stop)
    run.state.record(train_loss, val_loss, run.model)
    return val_loss


def _validate(run: _Run, train_loss: float, stop, clock: WatchClock,
              last: bool) -> tuple[float | None, str | None]:
    """Validate (`_evaluate`), then write the sample tune the watch asks for, if any; return
    (validation loss, sample or None)."""
    started = time.perf_counter()
    val_loss = _evaluate(run, train_loss, stop)
    ended = time.perf_counter()
    clock.evaluated(started, ended)
    if (stop is not None and stop.is_set()) or not clock.sample_due(ended, last):
        return val_loss, None
    clock.sampled(ended)
    return val_loss, sample_tune(run.model, run.vocab, clock.watch.sample_chars,
                                 run.config.seed + run.state.step)


def _save_checkpoint(run: _Run) -> None:
    save_checkpoint(run.config, run.model, run.vocab, run.optimizer, run.data_gen, run.state,
                    run.summary)


def _finish(run: _Run, val_loss: float | None, stopped: bool, seconds: float,
            cps: float) -> TrainResult:
    """Write the last checkpoint, keep the better of the best and the last weights, save the
    model file and return the result."""
    config, model, state, world = run.config, run.model, run.state, run.world
    if world.is_main and config.checkpoint_path:
        _save_checkpoint(run)
    final_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    saved_val = val_loss if state.evaluated_last() else None
    best_step = state.best_step
    if state.best_state is not None and (saved_val is None or state.best_val < saved_val):
        model.load_state_dict(state.best_state)
        saved_val = state.best_val
    elif saved_val is not None:
        best_step = state.step
    model.eval()
    train_loss = state.mean_loss()
    summary = run.summary
    summary.update({"steps": state.step, "best_step": best_step, "train_loss": rounded(train_loss),
                    "val_loss": rounded(saved_val), "val_bits_per_char": rounded(
                        saved_val / math.log(2) if saved_val is not None else None),
                    "seconds": round(seconds, 1), "chars_per_second": round(cps, 1),
                    "world_size": world.size, "stopped": stopped,
                    "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "history": state.history})
    if world.is_main and config.out_path:
        save_model(config.out_path, model.cpu(), run.vocab, train_config=config, training=summary)
        model.to(run.device)
    return TrainResult(model, run.vocab, run.model_config, config, state.step, train_loss,
                       saved_val, best_step, stopped, seconds, cps, config.out_path,
                       state.history, summary, final_state)


def _to(windows, device):
    return None if windows is None else (windows[0].to(device), windows[1].to(device))
