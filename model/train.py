"""Training the music model: truncated BPTT over random windows, with hooks and a stop flag.

`train(config, data, on_progress, stop)` is a plain function: the CLI draws a progress bar from
its hook, the GUI's worker turns the hook into Qt signals and sets `stop` from the GUI thread.
AdamW (or the lab's Adam), gradient-norm clipping against exploding gradients, linear warm-up
then cosine decay, dropout, a validation loss at intervals, the best weights kept. Resumable
checkpoints hold weights, optimiser, random generators and loop position, so a resumed run
continues exactly. Under torchrun the model is wrapped in DistributedDataParallel and only
rank 0 writes files.
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
from model.config import DEFAULT_PRESET, ModelConfig, Preset, TrainConfig, preset, to_dict
from model.data import TrainData, as_train_data, check_trainable, encode, random_windows, \
    validation_windows
from model.device import fastest_threads, resolve_device, resolve_precision, set_threads
from model.errors import ModelError
from model.lm import MusicLM
from model.vocab import Vocab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """One report from the training loop (rank 0 only)."""

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


def learning_rate(config: TrainConfig, step: int, fraction_done: float | None = None) -> float:
    """Return the rate for 0-based `step`: linear warm-up, then cosine decay or constant."""
    peak = config.learning_rate
    if step < config.warmup_steps:
        return peak * (step + 1) / config.warmup_steps
    if config.lr_decay == "constant":
        return peak
    if fraction_done is None:
        span = max(1, config.steps - config.warmup_steps)
        fraction_done = (step - config.warmup_steps) / span
    fraction_done = min(1.0, max(0.0, fraction_done))
    low = peak * config.min_lr_fraction
    return low + (peak - low) * 0.5 * (1 + math.cos(math.pi * fraction_done))


def make_optimizer(model: MusicLM, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW with decay on matrices only (or plain Adam for the lab recipe).

    The fused kernel is used where torch has one: the same update in one pass over the
    weights (4x faster than the per-tensor loop for the lab's 5M weights on this CPU).
    """
    if config.optimizer == "adam":
        cls, groups = torch.optim.Adam, [{"params": list(model.parameters())}]
    else:
        decay, no_decay = [], []
        for name, param in model.named_parameters():
            (decay if param.dim() >= 2 and "embedding" not in name else no_decay).append(param)
        cls = torch.optim.AdamW
        groups = [{"params": decay, "weight_decay": config.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
    try:
        return cls(groups, lr=config.learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return cls(groups, lr=config.learning_rate)


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
          resume_from: str | None = None, pause=None) -> TrainResult:
    """Train a music model on `data` and return the result (saved to config.out_path if set).

    `config` is a TrainConfig, a Preset or a preset name (None = the default preset); with a
    TrainConfig, `model_config` gives the shape (default: the default preset's). `init_from`
    fine-tunes a model file (its vocabulary grows for new characters); `resume_from` continues
    a checkpoint exactly. `stop.is_set()` is checked before every step and during validation.
    While the Event-like `pause` is set the loop waits between steps (one process only; the
    waiting counts toward neither the `minutes` budget nor the speed); `stop` still ends it.
    Raises ModelError for bad configs or data.
    """
    config, model_config = _resolve_configs(config, model_config)
    config.check()
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
                        device, world, pause)
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


def _train(config: TrainConfig, model_config: ModelConfig, data: TrainData, on_progress, stop,
           init_from, resume_from, device: torch.device, world, pause=None) -> TrainResult:
    resumed: ModelFile | None = load_model(resume_from) if resume_from else None
    if resumed is not None and not resumed.resume:
        raise ModelError(f"{resume_from}: not a resumable checkpoint (no optimiser state)")
    base: ModelFile | None = None
    if resumed is not None:
        vocab, model_config = resumed.vocab, resumed.model_config
    elif init_from is not None:
        base = init_from if isinstance(init_from, ModelFile) else load_model(init_from)
        vocab, model_config = base.vocab.grown(data.train_text), base.model_config
    else:
        model_config.check()
        vocab = Vocab.from_text(data.train_text)
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

    start_step, history, best_val, best_step, best_state = 0, [], None, None, None
    recent_losses: list[float] = []
    if resumed is not None:
        start_step, history, best_val, best_step, best_state, recent_losses = _restore(
            resumed, optimizer, data_gen, device)
    net = model
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                      else None)
    train_ids, valid = train_ids.to(device), _to(valid, device)
    summary = {"corpus": data.name, "tune_count": data.tune_count,
               "train_chars": len(data.train_text), "valid_chars": len(data.valid_text),
               "vocab_size": len(vocab), "titles": "\nT:" in "\n" + data.train_text,
               "fine_tuned_from": getattr(base, "path", None)
               if base else (resumed.training.get("fine_tuned_from") if resumed else None)}
    summary.update(getattr(data, "extra", None) or {})

    autocast = resolve_precision(config.precision, device)
    if device.type == "cpu" and config.threads == 0:
        _autotune_threads(model, train_ids, config, autocast)
    summary["precision"] = "bf16" if autocast is not None else "fp32"
    summary["threads"] = torch.get_num_threads() if device.type == "cpu" else None
    chars_per_step = config.batch_size * config.seq_len * world.size
    t0 = time.perf_counter()
    train_time, steps_here, step, val_loss, stopped = 0.0, 0, start_step, None, False
    deadline = t0 + config.minutes * 60 if config.minutes else None
    while step < config.steps:
        if pause is not None and pause.is_set():
            waited = _wait_while_paused(pause, stop)
            t0 += waited                 # the pause counts toward neither budget nor ETA
            if deadline is not None:
                deadline += waited
        halt = bool(stop is not None and stop.is_set())
        if deadline is not None and time.perf_counter() >= deadline:
            halt = True
        if distributed.any_true(halt, world, device):
            stopped = bool(stop is not None and stop.is_set())
            break
        t_step = time.perf_counter()
        fraction = None
        if deadline is not None:
            fraction = max((step - config.warmup_steps) / max(1, config.steps - config.warmup_steps),
                           (t_step - t0) / (config.minutes * 60))
        lr = learning_rate(config, step, fraction)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = random_windows(train_ids, config.batch_size, config.seq_len, data_gen)
        with torch.autocast(device.type, dtype=autocast or torch.float32,
                            enabled=autocast is not None):
            logits, _ = net(x.to(device, non_blocking=True))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                               y.to(device).reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        loss_value = loss.item()
        step += 1
        steps_here += 1
        train_time += time.perf_counter() - t_step
        recent_losses = (recent_losses + [loss_value])[-50:]

        evaluated = False
        if step % config.eval_interval == 0 or step == config.steps:
            if world.is_main:
                val_loss = validation_loss(model, valid, stop=stop)
                evaluated = True
                history.append({"step": step, "train_loss": round(loss_value, 5),
                                "val_loss": None if val_loss is None else round(val_loss, 5)})
                if val_loss is not None and (best_val is None or val_loss < best_val):
                    best_val, best_step = val_loss, step
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if (world.is_main and config.checkpoint_path and config.checkpoint_interval
                and step % config.checkpoint_interval == 0 and step < config.steps):
            _save_checkpoint(config, model, vocab, optimizer, data_gen, step, history, best_val,
                             best_step, best_state, recent_losses, summary)
        if world.is_main and on_progress is not None:
            cps = chars_per_step * steps_here / train_time if train_time else 0.0
            on_progress(Progress(step, config.steps, loss_value, val_loss, best_val, lr, cps,
                                 time.perf_counter() - t0,
                                 _eta(config, step, steps_here, t0, train_time), evaluated))

    if world.is_main and not stopped and steps_here and (not history or history[-1]["step"] != step):
        val_loss = validation_loss(model, valid, stop=stop)  # the time limit ended the run
        history.append({"step": step, "train_loss": round(recent_losses[-1], 5),
                        "val_loss": None if val_loss is None else round(val_loss, 5)})
        if val_loss is not None and (best_val is None or val_loss < best_val):
            best_val, best_step = val_loss, step
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    seconds = time.perf_counter() - t0
    cps = chars_per_step * steps_here / train_time if train_time else 0.0
    if world.is_main and config.checkpoint_path:
        _save_checkpoint(config, model, vocab, optimizer, data_gen, step, history, best_val,
                         best_step, best_state, recent_losses, summary)
    final_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    saved_val = val_loss if history and history[-1]["step"] == step else None
    if best_state is not None and (saved_val is None or best_val < saved_val):
        model.load_state_dict(best_state)
        saved_val = best_val
    elif saved_val is not None:
        best_step = step
    model.eval()
    train_loss = sum(recent_losses) / len(recent_losses) if recent_losses else None
    summary.update({"steps": step, "best_step": best_step, "train_loss": _round(train_loss),
                    "val_loss": _round(saved_val), "val_bits_per_char": _round(
                        saved_val / math.log(2) if saved_val is not None else None),
                    "seconds": round(seconds, 1), "chars_per_second": round(cps, 1),
                    "world_size": world.size, "stopped": stopped,
                    "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "history": history})
    if world.is_main and config.out_path:
        save_model(config.out_path, model.cpu(), vocab, train_config=config, training=summary)
        model.to(device)
    result = TrainResult(model, vocab, model_config, config, step, train_loss, saved_val,
                         best_step, stopped, seconds, cps, config.out_path, history, summary)
    result.final_state = final_state  # the last step's weights (the model holds the best)
    return result


def _wait_while_paused(pause, stop, slice_s: float = 0.05) -> float:
    """Block while `pause` is set and `stop` is not; return the seconds spent waiting."""
    start = time.perf_counter()
    while pause.is_set() and not (stop is not None and stop.is_set()):
        if stop is not None and hasattr(stop, "wait"):
            stop.wait(slice_s)           # wakes at once when stop is set
        else:
            time.sleep(slice_s)
    return time.perf_counter() - start


def _autotune_threads(model, ids, config: TrainConfig, autocast) -> int:
    """Pick the faster CPU thread count by timing a training pass on a throwaway batch.

    The passes leave the weights alone and put the random generators back, so seeded runs
    stay reproducible.
    """
    rng = torch.get_rng_state()
    x, y = random_windows(ids, config.batch_size, config.seq_len, torch.Generator().manual_seed(0))

    def one_pass():
        with torch.autocast("cpu", dtype=autocast or torch.float32, enabled=autocast is not None):
            logits, _ = model(x)
        F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1)).backward()

    best = fastest_threads(one_pass)
    model.zero_grad(set_to_none=True)
    torch.set_rng_state(rng)
    log.info("training on %d CPU thread(s)", best)
    return best


def _eta(config: TrainConfig, step: int, steps_here: int, t0: float, train_time: float):
    if not steps_here:
        return None
    by_steps = (config.steps - step) * train_time / steps_here
    if config.minutes:
        return max(0.0, min(by_steps, config.minutes * 60 - (time.perf_counter() - t0)))
    return by_steps


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 5)


def _to(windows, device):
    return None if windows is None else (windows[0].to(device), windows[1].to(device))


def _save_checkpoint(config, model, vocab, optimizer, data_gen, step, history, best_val,
                     best_step, best_state, recent_losses, summary) -> None:
    """Write a resumable checkpoint: weights, optimiser, generators, loop position."""
    opt = optimizer.state_dict()
    extra = {"rng.torch": torch.get_rng_state(), "rng.data": data_gen.get_state()}
    state_meta = {}
    for pid, entries in opt["state"].items():
        state_meta[str(pid)] = {}
        for key, value in entries.items():
            if torch.is_tensor(value):
                extra[f"optim.{pid}.{key}"] = value
            else:
                state_meta[str(pid)][key] = value
    if best_state is not None:
        extra.update({f"best.{k}": v for k, v in best_state.items()})
    resume = {"step": step, "history": history, "best_val": best_val, "best_step": best_step,
              "recent_losses": recent_losses, "param_groups": opt["param_groups"],
              "optim_scalars": state_meta}
    mean = sum(recent_losses) / len(recent_losses) if recent_losses else None
    save_model(config.checkpoint_path, model, vocab, train_config=config,
               training=dict(summary, steps=step, train_loss=_round(mean), history=history,
                             date=datetime.now(timezone.utc).isoformat(timespec="seconds")),
               resume=resume, extra_tensors=extra)


def _restore(resumed: ModelFile, optimizer, data_gen, device):
    """Put a checkpoint's optimiser, generators and loop position back."""
    r, extra = resumed.resume, resumed.extra_tensors
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in extra.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = tensor.to(device) if key != "step" else tensor
    for pid, scalars in (r.get("optim_scalars") or {}).items():
        state.setdefault(int(pid), {}).update(scalars)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": r["param_groups"]})
        torch.set_rng_state(extra["rng.torch"])
        data_gen.set_state(extra["rng.data"])
    except (KeyError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{resumed.path}: damaged checkpoint ({exc})") from None
    best_state = {k[len("best."):]: v.to(device) for k, v in extra.items()
                  if k.startswith("best.")} or None
    return (int(r["step"]), list(r.get("history") or []), r.get("best_val"), r.get("best_step"),
            best_state, list(r.get("recent_losses") or []))
