"""Where model files live: the bundled default, and the user's own trained models (torch-free).

Without an explicit model, commands use the bundled `resources/models/ceol-celtic.safetensors`;
if that is absent, the newest model the user trained (in `user_data_dir('ceol')/models`).
"""

from __future__ import annotations

from pathlib import Path

from model.errors import ModelError

BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "resources" / "models" / \
    "ceol-celtic.safetensors"
MODEL_SUFFIX = ".safetensors"
CHECKPOINT_SUFFIX = ".ckpt.safetensors"


def user_models_dir() -> Path:
    """Return the folder for the user's trained models (not created here)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("ceol")) / "models"


def default_model_path() -> Path:
    """Return the bundled model, else the user's newest model; ModelError if there is none."""
    if BUNDLED_MODEL.is_file():
        return BUNDLED_MODEL
    folder = user_models_dir()
    models = [p for p in folder.glob(f"*{MODEL_SUFFIX}")
              if p.is_file() and not p.name.endswith(CHECKPOINT_SUFFIX)] if folder.is_dir() else []
    if models:
        return max(models, key=lambda p: p.stat().st_mtime)
    raise ModelError(f"no model given and none found (no bundled {BUNDLED_MODEL.name}, nothing "
                     f"in {folder}); train one with `python main.py train --data celtic` "
                     "or pass --model FILE")


def checkpoint_path_for(out: str | Path) -> Path:
    """Return the resumable checkpoint's path beside model file `out`."""
    out = Path(out)
    stem = out.name[:-len(MODEL_SUFFIX)] if out.name.endswith(MODEL_SUFFIX) else out.name
    return out.with_name(stem + CHECKPOINT_SUFFIX)
