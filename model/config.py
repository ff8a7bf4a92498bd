"""Typed configurations of the music model, its training and its sampling, plus named presets.

These dataclasses are the one place that holds defaults: the CLI and the GUI forms both build
them, model files store them as JSON, and `preset(name)` returns the tested combinations. This
module imports no torch, so `--help` and settings forms stay fast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from model.errors import ModelError

CELLS = ("lstm", "gru", "rnn_tanh", "rnn_relu")


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the recurrent core and its heads (the vocabulary travels separately)."""

    cell: str = "lstm"          # recurrent cell: lstm (default), gru, rnn_tanh, rnn_relu
    embedding_size: int = 64    # width of the character embedding, 4..1024
    hidden_size: int = 512      # units per recurrent layer, 8..4096
    num_layers: int = 2         # stacked recurrent layers, 1..8
    dropout: float = 0.1        # dropout between layers and before the head, 0..0.8

    def check(self) -> None:
        """Raise ModelError naming the first value out of range."""
        if self.cell not in CELLS:
            raise ModelError(f"unknown cell {self.cell!r}; choose one of {', '.join(CELLS)}")
        _check_range("embedding_size", self.embedding_size, 1, 65536)
        _check_range("hidden_size", self.hidden_size, 1, 65536)
        _check_range("num_layers", self.num_layers, 1, 64)
        _check_range("dropout", self.dropout, 0.0, 0.95)


@dataclass(frozen=True)
class TrainConfig:
    """How to train: windows, optimiser, schedule, stopping, checkpoints, device."""

    seq_len: int = 128            # characters per training window (BPTT length), 2..4096
    batch_size: int = 32          # windows per step, 1..4096
    optimizer: str = "adamw"      # adamw (decoupled weight decay) or adam (the MIT lab's)
    learning_rate: float = 3e-3   # peak learning rate, 1e-5..1e-1
    weight_decay: float = 0.01    # AdamW decay of matrices (not biases/embeddings), 0..1
    grad_clip: float | None = 1.0  # max global gradient norm; None = no clipping
    warmup_steps: int = 100       # linear warm-up from 0 to the peak rate, 0..steps
    lr_decay: str = "cosine"      # cosine (to min_lr_fraction at the last step) or constant
    min_lr_fraction: float = 0.1  # final rate as a fraction of the peak, 0..1
    steps: int = 3000             # optimiser steps in total (a resumed run counts earlier ones)
    minutes: float | None = None  # wall-clock budget; the run ends at whichever limit comes first
    eval_interval: int = 200      # steps between validation losses (and best-model snapshots)
    eval_chars: int = 65536       # most validation characters scored per evaluation
    checkpoint_interval: int = 0  # steps between resumable checkpoints; 0 = none
    checkpoint_path: str | None = None  # where resumable checkpoints go (atomic writes)
    out_path: str | None = None   # where the final model file goes (the best weights)
    seed: int = 0                 # seeds weights, windows and dropout; CPU runs repeat exactly
    device: str = "auto"          # auto, cpu, cuda, cuda:N, mps
    threads: int = 0              # torch CPU threads; 0 = one per idle core (load-aware)
    precision: str = "auto"       # fp32, bf16 (autocast), or auto: on the CPU the faster of
                                  # the two as measured here on first use of the shape
                                  # (model/kernel_choice.py); bf16 on CUDA that has it

    def check(self) -> None:
        """Raise ModelError naming the first value out of range."""
        _check_range("seq_len", self.seq_len, 2, 1 << 20)
        _check_range("batch_size", self.batch_size, 1, 1 << 20)
        if self.optimizer not in ("adamw", "adam"):
            raise ModelError(f"unknown optimizer {self.optimizer!r}; choose adamw or adam")
        _check_range("learning_rate", self.learning_rate, 1e-9, 10.0)
        _check_range("weight_decay", self.weight_decay, 0.0, 10.0)
        if self.grad_clip is not None:
            _check_range("grad_clip", self.grad_clip, 1e-9, 1e9)
        _check_range("warmup_steps", self.warmup_steps, 0, 1 << 40)
        if self.lr_decay not in ("cosine", "constant"):
            raise ModelError(f"unknown lr_decay {self.lr_decay!r}; choose cosine or constant")
        _check_range("min_lr_fraction", self.min_lr_fraction, 0.0, 1.0)
        _check_range("steps", self.steps, 1, 1 << 40)
        if self.minutes is not None:
            _check_range("minutes", self.minutes, 1e-6, 1e7)
        _check_range("eval_interval", self.eval_interval, 1, 1 << 40)
        _check_range("eval_chars", self.eval_chars, 2, 1 << 40)
        _check_range("checkpoint_interval", self.checkpoint_interval, 0, 1 << 40)
        _check_range("threads", self.threads, 0, 4096)
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ModelError(f"unknown precision {self.precision!r}; choose auto, fp32 or bf16")


@dataclass(frozen=True)
class SampleConfig:
    """How to sample tunes from a trained model."""

    count: int = 1                # variations sampled together as one batch, 1..256
    # Divides the logits; <1 safer, >1 wilder; must be > 0. 0.9 by default: with the bundled
    # model, bar fitting and resampling, 200 of 200 tunes were clean after repair at 0.8 and at
    # 0.9 (199 at 1.0), and 0.9 copies less of the training tunes and spreads note lengths
    # more like them (benchmarks/quality.py, RESULTS.md).
    temperature: float = 0.9
    top_k: int = 0                # keep only the k likeliest characters; 0 = all
    top_p: float = 1.0            # nucleus: smallest set with this much probability, (0, 1]
    max_chars: int = 1500         # length cap per tune (the blank line usually ends it first)
    seed: int | None = None       # None picks one; the result records the seed used
    device: str = "cpu"           # batch-1 sampling is fastest on the CPU for small models
    quantize: str = "auto"        # recurrent weights' arithmetic while sampling: auto (the
                                  # fastest measured here: fp32, bf16, int8 or int8dyn),
                                  # on (int8), bf16, off (fp32, exact)

    def check(self) -> None:
        """Raise ModelError naming the first value out of range."""
        _check_range("count", self.count, 1, 4096)
        if not self.temperature > 0:
            raise ModelError(f"temperature must be above 0, got {self.temperature}")
        _check_range("top_k", self.top_k, 0, 1 << 20)
        if not 0 < self.top_p <= 1:
            raise ModelError(f"top-p must be in (0, 1], got {self.top_p}")
        _check_range("max_chars", self.max_chars, 1, 1 << 24)
        if self.quantize not in ("auto", "on", "bf16", "off"):
            raise ModelError(f"unknown quantize {self.quantize!r}; choose auto, on, bf16 or off")


@dataclass(frozen=True)
class Preset:
    """A tested pair of model and training configurations with a note on when to use it."""

    name: str
    model: ModelConfig
    train: TrainConfig
    note: str = ""


# tiny: unit tests and smoke runs; trains in seconds, quality irrelevant.
TINY = Preset("tiny", ModelConfig(embedding_size=16, hidden_size=32, num_layers=1, dropout=0.0),
              TrainConfig(seq_len=32, batch_size=8, learning_rate=1e-2, warmup_steps=5,
                          steps=50, eval_interval=25, eval_chars=4096, threads=1,
                          precision="fp32"),
              "tests and smoke runs: seconds on any CPU")

# laptop (the default): the best held-out bits/char on a 2-core CPU in ~15 minutes: a 1-layer
# 512 LSTM, small batches of 128-char windows (more updates beat bigger ones this early), strong
# regularisation for a 1 MB corpus (dropout, and AdamW weight decay on the matrices, which is
# what helped most), a cosine schedule over the time budget. The variants measured are in
# benchmarks/RESULTS.md ("Music model side by side").
LAPTOP = Preset("laptop", ModelConfig(embedding_size=64, hidden_size=512, num_layers=1,
                                      dropout=0.45),
                TrainConfig(seq_len=128, batch_size=8, learning_rate=4e-3, weight_decay=0.1,
                            warmup_steps=50, steps=100_000, minutes=15.0, eval_interval=1000),
                "default: a good model on a 2-core CPU in about 15 minutes")

# lab: exactly the MIT 6.S191 lab 1 recipe, for side-by-side comparisons with the peer.
LAB = Preset("lab", ModelConfig(embedding_size=256, hidden_size=1024, num_layers=1, dropout=0.0),
             TrainConfig(seq_len=100, batch_size=8, optimizer="adam", learning_rate=5e-3,
                         weight_decay=0.0, grad_clip=None, warmup_steps=0, lr_decay="constant",
                         steps=3000, eval_interval=500),
             "the MIT lab recipe: Embedding 256, LSTM 1024, windows 100, batch 8, Adam 5e-3")
# (its arithmetic is the machine's: precision auto, measured, as for every preset)

# large: for a GPU; a deeper, wider core with more dropout on longer windows.
LARGE = Preset("large", ModelConfig(embedding_size=256, hidden_size=1024, num_layers=3,
                                    dropout=0.25),
               TrainConfig(seq_len=256, batch_size=128, learning_rate=2e-3, warmup_steps=300,
                           steps=20000, eval_interval=500, eval_chars=262144),
               "a GPU: three layers of 1024 on 256-char windows")

PRESETS: dict[str, Preset] = {p.name: p for p in (TINY, LAPTOP, LAB, LARGE)}
DEFAULT_PRESET = "laptop"


def preset(name: str) -> Preset:
    """Return the preset called `name`; ModelError lists the known names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ModelError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def to_dict(config: Any) -> dict[str, Any]:
    """Return a JSON-ready dict of a config dataclass."""
    return asdict(config)


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build config `cls` from a dict, ignoring unknown keys (newer files) and using defaults."""
    if not isinstance(data, dict):
        raise ModelError(f"{cls.__name__} must be a JSON object")
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:
        raise ModelError(f"bad {cls.__name__}: {exc}") from None


def updated(config: Any, **changes: Any) -> Any:
    """Return a copy of `config` with the non-None `changes` applied."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ModelError(f"{name} must be between {low} and {high}, got {value!r}")


__all__ = ["CELLS", "ModelConfig", "TrainConfig", "SampleConfig", "Preset", "PRESETS",
           "DEFAULT_PRESET", "preset", "to_dict", "from_dict", "updated"]
