"""model.paths: the names of model files, run names and checkpoints, in one place."""

from datetime import datetime
from pathlib import Path

import model.paths as paths
from model.paths import checkpoint_path_for, new_model_path, run_files, run_name

WHEN = datetime(2026, 3, 4, 5, 6, 7)


def test_run_name_is_the_label_and_the_start_time():
    assert run_name("celtic", WHEN) == "celtic-20260304-050607"
    assert run_name("opened files", WHEN) == "opened-files-20260304-050607"


def test_cli_model_is_named_after_sources_and_preset(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "user_models_dir", lambda: tmp_path)
    assert new_model_path(["tunes/reels.abc", "celtic"], "tiny", WHEN) == \
        tmp_path / "reels-celtic-tiny-20260304-050607.safetensors"
    assert new_model_path(["x" * 50 + ".abc"], "lab", WHEN).name == \
        "x" * 40 + "-lab-20260304-050607.safetensors"
    assert new_model_path([], "lab", WHEN).name == "model-lab-20260304-050607.safetensors"


def test_checkpoints_beside_the_model_or_in_their_own_folder():
    assert checkpoint_path_for("m/reels.safetensors") == Path("m/reels.ckpt.safetensors")
    assert checkpoint_path_for("m/reels") == Path("m/reels.ckpt.safetensors")
    assert run_files("celtic-1", Path("models"), Path("ckpt")) == \
        (Path("models/celtic-1.safetensors"), Path("ckpt/celtic-1.safetensors"))
