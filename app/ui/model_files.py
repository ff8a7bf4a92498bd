"""Find the music models the user can pick: bundled ones and those the user trained.

Reading a model's metadata here parses only the safetensors header (8-byte length, JSON), so
listing models and showing their metadata on hover never imports torch; loading the weights
is left to `model.checkpoint.load_model` on a worker thread.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from model.errors import ModelError

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"
MAX_HEADER = 64 * 1024 * 1024


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    bundled: bool
    meta: dict

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".safetensors")

    def describe(self) -> str:
        """A few lines for a tooltip: size, corpus, steps, loss, date."""
        cfg = self.meta.get("model_config", {})
        training = self.meta.get("training", {})
        lines = [f"{self.name} ({'bundled' if self.bundled else 'yours'})", str(self.path),
                 f"{cfg.get('cell', '?')} {cfg.get('num_layers', '?')}x"
                 f"{cfg.get('hidden_size', '?')}, vocabulary {len(self.meta.get('vocab', []))}"]
        if training:
            lines.append(f"trained on {training.get('corpus') or '?'} "
                         f"({training.get('tune_count', '?')} tunes), "
                         f"{training.get('steps', '?')} steps")
            bpc = training.get("val_bits_per_char")
            if bpc is not None:
                lines.append(f"validation: {bpc:.3f} bits/char")
            if training.get("date"):
                lines.append(f"date: {training['date']}")
        return "\n".join(lines)


def read_model_info(path: str | Path, bundled: bool = False) -> ModelInfo:
    """Read a model file's metadata; ModelError when it is not a Ceol model."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            n = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            if not 2 <= n <= MAX_HEADER:
                raise ModelError(f"{path}: not a Ceol model file")
            header = json.loads(f.read(n))
        meta = json.loads(header["__metadata__"]["ceol"])
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({exc.strerror})") from exc
    except (ValueError, KeyError, TypeError):
        raise ModelError(f"{path}: not a Ceol model file") from None
    if "vocab" not in meta:
        raise ModelError(f"{path}: not a Ceol model file (no vocabulary)")
    return ModelInfo(path, bundled, meta)


def list_models(user_dir: Path) -> list[ModelInfo]:
    """Bundled models first, then the user's newest first; unreadable files are skipped."""
    found = []
    for folder, bundled in ((BUNDLED_DIR, True), (user_dir, False)):
        files = sorted(folder.glob("*.safetensors"), key=lambda p: p.stat().st_mtime,
                       reverse=not bundled) if folder.is_dir() else []
        for path in files:
            try:
                found.append(read_model_info(path, bundled))
            except ModelError:
                continue
    return found
