"""Training and scoring the demo networks: one small loop for all four, with progress hooks.

`train_network(kind, vocab, data, model_config, config, on_progress, stop)` trains a fresh
network of `kind` (see demo_models.KINDS) on the training part of DemoData and returns it with
what happened: losses, the global gradient norm of every step before clipping, how many steps
the clip cut, whether the loss diverged. The hooks are plain callables and a threading.Event-like
flag, so the panel's worker and the CLI share this loop. Next-word networks learn every next
word of a sentence (cross entropy, padding ignored); sentiment networks the label at the last
word (binary cross entropy).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from model.config import ModelConfig
from model.demo_data import DemoData
from model.demo_models import build, last_step, pad_batch
from model.errors import ModelError
from model.words import PAD_ID, WordVocab, tokenize

# The demo networks' shape: small enough to retrain in seconds on two cores.
DEMO_MODEL = ModelConfig(cell="lstm", embedding_size=48, hidden_size=96, num_layers=1,
                         dropout=0.0)


@dataclass(frozen=True)
class DemoTrainConfig:
    """How to train a demo network."""

    epochs: int = 25                 # passes over the training examples, 1..1000
    batch_size: int = 32             # examples per step, 1..4096
    optimizer: str = "adam"          # adam, or sgd (plain, with momentum 0.9: no step-size
                                     # control of its own, so exploding gradients show fully)
    learning_rate: float = 1e-2      # step size, 1e-5..10
    grad_clip: float | None = 1.0    # max global gradient norm; None = no clipping
    max_seconds: float = 25.0        # wall-clock budget; training ends early when it runs out
    seed: int = 0                    # seeds weights and batch order

    def check(self) -> None:
        """Raise ModelError naming the first value out of range."""
        for name, value, low, high in (("epochs", self.epochs, 1, 1000),
                                       ("batch_size", self.batch_size, 1, 4096),
                                       ("learning_rate", self.learning_rate, 1e-5, 10.0),
                                       ("max_seconds", self.max_seconds, 0.01, 1e6)):
            if not low <= value <= high:
                raise ModelError(f"{name} must be between {low} and {high}, got {value!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ModelError(f"unknown optimizer {self.optimizer!r}; choose adam or sgd")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ModelError(f"grad_clip must be above 0 or None, got {self.grad_clip!r}")


@dataclass
class DemoProgress:
    """One training step as the hooks see it."""

    step: int
    steps: int
    loss: float
    grad_norm: float
    seconds: float


@dataclass
class DemoTrainResult:
    """A trained network and what its training did."""

    network: nn.Module
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)   # before clipping, one per step
    clipped_steps: int = 0
    seconds: float = 0.0
    stopped: bool = False          # the stop flag ended it early
    diverged: bool = False         # the loss became inf/NaN; the weights are then unusable

    def summary(self) -> dict:
        """Return a JSON-ready summary for the model file."""
        finite = [g for g in self.grad_norms if math.isfinite(g)]
        return {"steps": len(self.losses), "final_loss": self.losses[-1] if self.losses else None,
                "max_grad_norm": max(finite, default=None), "clipped_steps": self.clipped_steps,
                "seconds": round(self.seconds, 2), "stopped": self.stopped,
                "diverged": self.diverged}


def encode_examples(task: str, vocab: WordVocab, examples: list) -> tuple[list[list[int]], list]:
    """Return id lists (led by the sentence start) and targets: labels, or None for next word."""
    if task == "nextword":
        return [vocab.encode(tokenize(s)) for s in examples], [None] * len(examples)
    return [vocab.encode(tokenize(t)) for t, _ in examples], [label for _, label in examples]


def batch_loss(kind: str, network: nn.Module, rows: list[list[int]], labels: list) -> torch.Tensor:
    """Return the mean loss of one batch of id lists for a network of `kind`."""
    ids, lengths = pad_batch(rows)
    if kind in ("nextword", "window"):
        logits = network(ids[:, :-1])  # (B, T-1, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                               ignore_index=PAD_ID)
    final = last_step(network(ids), lengths)  # (B,)
    return F.binary_cross_entropy_with_logits(final, torch.tensor(labels, dtype=torch.float))


def train_network(kind: str, vocab: WordVocab, data: DemoData,
                  model_config: ModelConfig = DEMO_MODEL,
                  config: DemoTrainConfig = DemoTrainConfig(),
                  on_progress: Callable[[DemoProgress], None] | None = None,
                  stop=None) -> DemoTrainResult:
    """Train a fresh network of `kind` on `data.train`; ModelError if there is nothing to learn.

    Runs on one CPU thread (restored afterwards): networks this small lose more to the
    threads' hand-offs than they gain, many times over on a busy machine.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(kind, vocab, data, model_config, config, on_progress, stop)
    finally:
        torch.set_num_threads(threads)


def _train(kind: str, vocab: WordVocab, data: DemoData, model_config: ModelConfig,
           config: DemoTrainConfig, on_progress, stop) -> DemoTrainResult:
    config.check()
    rows, labels = encode_examples(data.task, vocab, data.train)
    keep = [i for i, r in enumerate(rows) if len(r) > 1]
    if not keep:
        raise ModelError("no training examples with words in them")
    rows, labels = [rows[i] for i in keep], [labels[i] for i in keep]
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    network = build(kind, model_config, len(vocab))
    network.train()
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(network.parameters(), lr=config.learning_rate, momentum=0.9)
    else:
        optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    per_epoch = math.ceil(len(rows) / config.batch_size)
    result = DemoTrainResult(network)
    steps, start = per_epoch * config.epochs, time.perf_counter()
    for step in range(steps):
        if step % per_epoch == 0:
            order = torch.randperm(len(rows), generator=generator).tolist()
        part = order[(step % per_epoch) * config.batch_size:][:config.batch_size]
        loss = batch_loss(kind, network, [rows[i] for i in part], [labels[i] for i in part])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        limit = config.grad_clip if config.grad_clip is not None else math.inf
        norm = float(nn.utils.clip_grad_norm_(network.parameters(), limit))
        result.clipped_steps += int(config.grad_clip is not None and norm > config.grad_clip)
        value = loss.item()
        result.losses.append(value)
        result.grad_norms.append(norm)
        if not math.isfinite(value) or not math.isfinite(norm):
            result.diverged = True
            break
        optimizer.step()
        result.seconds = time.perf_counter() - start
        if on_progress:
            on_progress(DemoProgress(step + 1, steps, value, norm, result.seconds))
        if (stop is not None and stop.is_set()) or result.seconds > config.max_seconds:
            result.stopped = stop is not None and stop.is_set()
            break
    network.eval()
    return result


@torch.no_grad()
def next_word_accuracy(network: nn.Module, vocab: WordVocab, sentences: list[str]) -> float:
    """Return the share of sentences whose last word (before the final mark) is top-1 predicted."""
    hits = 0
    for sentence in sentences:
        ids = vocab.encode(tokenize(sentence))
        target = len(ids) - 2 if tokenize(sentence)[-1] in ".!?" else len(ids) - 1
        logits = network(torch.tensor([ids[:target]]))[0, -1]  # (V,)
        hits += int(int(logits.argmax()) == ids[target])
    return hits / max(1, len(sentences))


@torch.no_grad()
def sentiment_accuracy(network: nn.Module, vocab: WordVocab,
                       rows: list[tuple[str, int]]) -> float:
    """Return the share of (text, label) rows classified right (positive when p > 0.5)."""
    if not rows:
        return 0.0
    ids, lengths = pad_batch([vocab.encode(tokenize(t)) for t, _ in rows])
    final = last_step(network(ids), lengths)
    labels = torch.tensor([label for _, label in rows])
    return float(((final > 0).long() == labels).float().mean())
