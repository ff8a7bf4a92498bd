"""Demo model files: one network of a demo with its word vocabulary, in Ceol's model format.

The same safetensors layout as the music model (`checkpoint.py`): tensors named `model.*` and
the metadata JSON in the header, written atomically, read without executing anything. The
metadata adds `demo`: the task (nextword or sentiment) and the network's kind (nextword, window,
sentiment, bag), and `vocab` holds words instead of characters. Loading parses the header with
checkpoint_meta's checks first, then compares every tensor's shape with the network the
metadata describes (on the meta device) before reading weights, so a music model, a foreign
file or a doctored one is refused with ModelError naming the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from model.checkpoint import check_shapes, write_atomic
from model.checkpoint_meta import FORMAT, FORMAT_VERSION, _read_header
from model.config import ModelConfig, from_dict, to_dict
from model.demo_models import KINDS, build
from model.errors import ModelError
from model.words import WordVocab

TASK_OF = {"nextword": "nextword", "window": "nextword", "sentiment": "sentiment",
           "bag": "sentiment"}
MAX_VOCAB = 50_000


@dataclass
class DemoModelFile:
    """A loaded demo network with its vocabulary and metadata."""

    kind: str
    network: nn.Module
    vocab: WordVocab
    model_config: ModelConfig
    training: dict[str, Any]
    path: str | None = None


def save_demo(path: str | os.PathLike, kind: str, network: nn.Module, vocab: WordVocab,
              training: dict[str, Any] | None = None) -> None:
    """Write a demo model file atomically; ModelError if `kind` is unknown."""
    from safetensors.torch import save

    if kind not in KINDS:
        raise ModelError(f"unknown demo network {kind!r}; choose one of {', '.join(KINDS)}")
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "model_config": to_dict(network.config),
            "vocab": vocab.words, "demo": {"task": TASK_OF[kind], "kind": kind},
            "train_config": None, "training": training or {}, "resume": None}
    tensors = {f"model.{k}": v.detach().to("cpu").contiguous().clone()
               for k, v in network.state_dict().items()}
    write_atomic(path, save(tensors, metadata={"format": FORMAT, "ceol": json.dumps(meta)}))


def load_demo(path: str | os.PathLike, kind: str | None = None) -> DemoModelFile:
    """Load a demo model file (of `kind`, when given) without executing code from it.

    ModelError for anything that is not a complete demo model file of that kind.
    """
    from safetensors.torch import load_file

    meta, header = _read_header(path)
    name = Path(path).name
    demo = meta.get("demo")
    if not isinstance(demo, dict) or demo.get("kind") not in KINDS:
        raise ModelError(f"{name}: a Ceol model, but not a demo model (a music model?)")
    if kind is not None and demo["kind"] != kind:
        raise ModelError(f"{name}: a {demo['kind']} demo model, not a {kind} one")
    try:
        config = from_dict(ModelConfig, meta["model_config"])
        config.check()
        vocab = WordVocab(meta["vocab"])
    except (ModelError, TypeError, ValueError) as exc:
        raise ModelError(f"{name}: damaged Ceol metadata ({exc})") from None
    if len(vocab) > MAX_VOCAB:
        raise ModelError(f"{name}: vocabulary of {len(vocab):,} words is larger than the demos "
                         f"allow ({MAX_VOCAB:,})")
    if any(key != "__metadata__" and not key.startswith("model.") for key in header):
        raise ModelError(f"{name}: the weights do not match the metadata (tensors outside the "
                         "network)")
    check_shapes(name, header, lambda: build(demo["kind"], config, len(vocab)))
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ModelError(f"{name}: damaged model file ({exc})") from None
    network = build(demo["kind"], config, len(vocab))
    network.load_state_dict({k[len("model."):]: v for k, v in tensors.items()})
    network.eval()
    training = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    return DemoModelFile(demo["kind"], network, vocab, config, training, str(path))
