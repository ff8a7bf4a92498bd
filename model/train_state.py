"""Where a training run stands, and the resumable checkpoints that carry it to the next run.

`TrainState` is the loop's own bookkeeping: the step, the validation history, the best
validation loss with its step and weights, and the latest step losses. `save_checkpoint` writes
it with the weights, the optimiser and the random generators into one model file;
`restore_checkpoint` puts all of it back, so a resumed run continues exactly where the
checkpointed one stood (model/train.py drives both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import torch

from model.checkpoint import ModelFile, save_model
from model.config import TrainConfig
from model.errors import ModelError
from model.lm import MusicLM
from model.vocab import Vocab

RECENT_LOSSES = 50   # step losses kept for the reported mean training loss


@dataclass
class TrainState:
    """The loop's position and story: what a resumable checkpoint stores besides the weights."""

    step: int = 0                                # optimiser steps done (resumed ones included)
    history: list[dict[str, Any]] = field(default_factory=list)   # one entry per validation
    best_val: float | None = None                # lowest validation loss so far
    best_step: int | None = None
    best_state: dict[str, torch.Tensor] | None = None   # the weights at best_step
    recent_losses: list[float] = field(default_factory=list)

    def add_step(self, loss: float) -> None:
        """Count one optimiser step and its batch loss."""
        self.step += 1
        self.recent_losses = (self.recent_losses + [loss])[-RECENT_LOSSES:]

    def record(self, train_loss: float, val_loss: float | None, model: MusicLM) -> None:
        """Add a validation to the history; keep `model`'s weights if they are the best yet."""
        self.history.append({"step": self.step, "train_loss": round(train_loss, 5),
                             "val_loss": None if val_loss is None else round(val_loss, 5)})
        if val_loss is not None and (self.best_val is None or val_loss < self.best_val):
            self.best_val, self.best_step = val_loss, self.step
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def evaluated_last(self) -> bool:
        """Tell whether the latest history entry is for the current step."""
        return bool(self.history) and self.history[-1]["step"] == self.step

    def mean_loss(self) -> float | None:
        """Mean of the latest step losses (nats/char), None before the first step."""
        return sum(self.recent_losses) / len(self.recent_losses) if self.recent_losses else None


def rounded(value: float | None) -> float | None:
    """Round a loss to 5 decimals for the stored summary (None stays None)."""
    return None if value is None else round(float(value), 5)


def save_checkpoint(config: TrainConfig, model: MusicLM, vocab: Vocab,
                    optimizer: torch.optim.Optimizer, data_gen: torch.Generator,
                    state: TrainState, summary: dict[str, Any]) -> None:
    """Write a resumable checkpoint to config.checkpoint_path: weights, optimiser, generators,
    the best weights so far and the loop position."""
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
    if state.best_state is not None:
        extra.update({f"best.{k}": v for k, v in state.best_state.items()})
    resume = {"step": state.step, "history": state.history, "best_val": state.best_val,
              "best_step": state.best_step, "recent_losses": state.recent_losses,
              "param_groups": opt["param_groups"], "optim_scalars": state_meta}
    save_model(config.checkpoint_path, model, vocab, train_config=config,
               training=dict(summary, steps=state.step, train_loss=rounded(state.mean_loss()),
                             history=state.history,
                             date=datetime.now(timezone.utc).isoformat(timespec="seconds")),
               resume=resume, extra_tensors=extra)


def restore_checkpoint(resumed: ModelFile, optimizer: torch.optim.Optimizer,
                       data_gen: torch.Generator, device: torch.device) -> TrainState:
    """Put a checkpoint's optimiser and generators back; return its loop position.

    Raises ModelError when the checkpoint's optimiser state or generators are damaged.
    """
    r, extra = resumed.resume, resumed.extra_tensors
    optim_state: dict[int, dict[str, Any]] = {}
    for name, tensor in extra.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            optim_state.setdefault(int(pid), {})[key] = tensor.to(device) if key != "step" \
                else tensor
    for pid, scalars in (r.get("optim_scalars") or {}).items():
        optim_state.setdefault(int(pid), {}).update(scalars)
    try:
        optimizer.load_state_dict({"state": optim_state, "param_groups": r["param_groups"]})
        torch.set_rng_state(extra["rng.torch"])
        data_gen.set_state(extra["rng.data"])
    except (KeyError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{resumed.path}: damaged checkpoint ({exc})") from None
    best_state = {k[len("best."):]: v.to(device) for k, v in extra.items()
                  if k.startswith("best.")} or None
    return TrainState(int(r["step"]), list(r.get("history") or []), r.get("best_val"),
                      r.get("best_step"), best_state, list(r.get("recent_losses") or []))
