"""Find the music models the user can pick: bundled ones and those the user trained.

Reading a model's metadata parses only the safetensors header (model.checkpoint_meta, the same
checks the loader makes), so listing models and showing their metadata on hover never imports
torch; loading the weights is left to `model.checkpoint.load_model` on a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from model.checkpoint_meta import read_metadata
from model.errors import ModelError

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"


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
    """Read a model file's metadata (the header only, no torch); ModelError when it is not a
    Ceol model (model.checkpoint_meta does the checking, with the loader's own limits)."""
    path = Path(path)
    meta = read_metadata(path)
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
