"""Where model files live and what they are called (torch-free): the one place for file names.

Without an explicit model, commands use the bundled `resources/models/ceol-celtic.safetensors`;
if that is absent, the newest model the user trained (in `user_data_dir('ceol')/models`).
A training run is named after its data and its start time (`run_name`); its model file is
`RUN.safetensors`. The CLI writes a run's resumable checkpoint beside its model as
`RUN.ckpt.safetensors` (`checkpoint_path_for`); the window keeps its checkpoints in a folder of
their own under the run's name (`run_files`).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Iterable

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


def run_name(label: str, when: datetime | None = None) -> str:
    """Return a training run's name: `label` (blanks as hyphens) and the start time, to the
    second (`when`, default now, local time): `celtic-20250101-120000`."""
    stamp = f"{when or datetime.now():%Y%m%d-%H%M%S}"
    return re.sub(r"\s", "-", label) + "-" + stamp


def new_model_path(sources: Iterable[str], preset: str, when: datetime | None = None) -> Path:
    """Return the model file a training run writes when none is named: in the user's model
    folder, named after the sources (at most 40 characters), the preset and the start time."""
    data = "-".join(Path(s).stem for s in sources)[:40] or "model"
    return user_models_dir() / (run_name(f"{data}-{preset}", when) + MODEL_SUFFIX)


def run_files(run: str, models_dir: Path, checkpoints_dir: Path) -> tuple[Path, Path]:
    """Return (model file, resumable checkpoint) of run `run` whose checkpoints live in a folder
    of their own (the window's layout)."""
    return models_dir / (run + MODEL_SUFFIX), checkpoints_dir / (run + MODEL_SUFFIX)
