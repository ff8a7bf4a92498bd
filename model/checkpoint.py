"""Model files: safetensors weights with the metadata JSON in the same file's header.

One file holds everything a model needs and nothing that runs: tensors named `model.*`, and
in the safetensors header `__metadata__["ceol"]` a JSON object with the model and training
configs, the vocabulary and a training summary (corpus, tune count, steps, losses, date).
Resumable checkpoints add the optimiser state (`optim.*`), the best weights so far (`best.*`),
the random generators (`rng.*`) and the loop position in the same JSON. Files are written to a
temporary file, flushed to disk and moved into place, so a crash never leaves half a model and
a full disk leaves the earlier file as it was. Loading parses the header ourselves before
handing the file to safetensors: pickles, truncated files, other safetensors files and metadata
that does not match the weights are refused with ModelError.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from model.config import ModelConfig, TrainConfig, from_dict, to_dict
from model.errors import ModelError
from model.lm import MusicLM
from model.vocab import Vocab

from model.checkpoint_meta import FORMAT, FORMAT_VERSION, _read_header, read_metadata  # noqa: F401


@dataclass
class ModelFile:
    """A loaded model with its vocabulary and metadata."""

    model: MusicLM
    vocab: Vocab
    model_config: ModelConfig
    train_config: TrainConfig | None
    training: dict[str, Any]
    path: str | None = None
    resume: dict[str, Any] | None = None
    extra_tensors: dict[str, torch.Tensor] = field(default_factory=dict)


def save_model(path: str | os.PathLike, model: MusicLM, vocab: Vocab, *,
               train_config: TrainConfig | None = None, training: dict[str, Any] | None = None,
               resume: dict[str, Any] | None = None,
               extra_tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Write a model file atomically (temp file + os.replace).

    `resume` and `extra_tensors` (named optim.*, best.*, rng.*) make it a resumable checkpoint.
    """
    from safetensors.torch import save

    if len(vocab) != model.vocab_size:
        raise ModelError(f"vocabulary has {len(vocab)} characters but the model {model.vocab_size}")
    meta = {"format": FORMAT, "version": FORMAT_VERSION,
            "model_config": to_dict(model.config), "vocab": vocab.chars,
            "train_config": to_dict(train_config) if train_config else None,
            "training": training or {}, "resume": resume}
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update(extra_tensors or {})
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    blob = save(tensors, metadata={"format": FORMAT, "ceol": json.dumps(meta)})
    write_atomic(path, blob)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes to `path` through a temporary file in the same folder and os.replace.

    The temporary file reaches the disk (fsync) before it replaces `path`, so a writer killed
    at any moment leaves `path` holding the old bytes or the new ones, never a mixture. Raises
    OSError with `filename` set to `path` when it cannot be written (full disk, no permission);
    the temporary file is then removed and an earlier file at `path` is left as it was. Temporary
    files that killed writers left beside `path` are removed before each write and after it, so
    a writer killed in turn leaves at most its own.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=".tmp",
                                   dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    _fsync_folder(path.parent)
    remove_stale_temps(path)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_stale_temps(path: str | os.PathLike, max_age_s: float = 3600.0) -> list[Path]:
    """Remove temporary files that killed writers of `path` left behind; return them.

    A temporary file names its writer's process id: on POSIX it is stale once that process is
    gone; elsewhere, or without a process id, once it is older than `max_age_s`.
    """
    path = Path(path)
    prefix = _temp_prefix(path)
    removed = []
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return removed
    for name in names:
        tmp = path.parent / name
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and os.name == "posix":
            stale = int(pid) != os.getpid() and not _alive(int(pid))
        else:
            try:
                stale = time.time() - tmp.stat().st_mtime > max_age_s
            except OSError:
                continue
        if stale:
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # POSIX only: signal 0 checks for the process and sends nothing
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> ModelFile:
    """Load a model file without executing any code from it; ModelError if it is not one."""
    from safetensors.torch import load_file

    meta, header = _read_header(path)
    demo = meta.get("demo")
    if isinstance(demo, dict):
        raise ModelError(f"{path}: a {demo.get('task', 'word')} demo model of the Demos panel, "
                         "not a music model")
    try:
        model_config = from_dict(ModelConfig, meta["model_config"])
        model_config.check()
        vocab = Vocab(meta["vocab"])
        tc = meta.get("train_config")
        train_config = from_dict(TrainConfig, tc) if tc else None
    except (ModelError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: damaged Ceol metadata ({exc})") from None
    check_shapes(path, header, lambda: MusicLM(model_config, len(vocab)))
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ModelError(f"{path}: damaged model file ({exc})") from None
    model = MusicLM(model_config, len(vocab))
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(weights)
    model.eval()
    extra = {k: v for k, v in tensors.items() if not k.startswith("model.")}
    return ModelFile(model.to(device), vocab, model_config, train_config,
                     meta.get("training") or {}, str(path), meta.get("resume"), extra)


def check_shapes(path: str | os.PathLike, header: dict[str, Any], build) -> None:
    """Compare the header's `model.*` tensor shapes with the network `build()` makes from the
    metadata, before any weights are allocated: a file whose config claims a huge model is
    refused in seconds and without allocating it (the "meta" device holds shapes only).
    Used for music and demo model files alike; ModelError names the file."""
    try:
        with torch.device("meta"):
            expected = build().state_dict()
    except (TypeError, ValueError, RuntimeError) as exc:   # e.g. a hidden size of 8.5
        raise ModelError(f"{path}: damaged Ceol metadata ({exc})") from None
    shapes = {k[len("model."):]: tuple(v["shape"]) for k, v in header.items()
              if k.startswith("model.")}
    if set(shapes) != set(expected):
        missing = sorted(set(expected) ^ set(shapes))[:3]
        raise ModelError(f"{path}: the weights do not match the metadata "
                         f"(missing or extra tensors, e.g. {missing})")
    for name, tensor in expected.items():
        if shapes[name] != tuple(tensor.shape):
            raise ModelError(f"{path}: the weights do not match the metadata ({name} has shape "
                             f"{shapes[name]}, the config says {tuple(tensor.shape)})")
