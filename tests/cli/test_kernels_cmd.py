"""`python main.py kernels`: lists the remembered kernel choices, measures them again into the
file in the data folder, forgets them, and reads a broken file as none."""

import json

import pytest

from app.cli import main
from model import kernel_choice


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A data folder of its own, and the process's store put back afterwards."""
    monkeypatch.setenv("CEOL_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(kernel_choice, "_store", kernel_choice.KernelStore())
    monkeypatch.setattr(kernel_choice, "BUDGET_SECONDS", 0.0)
    return tmp_path


def run_json(capsys, *argv) -> dict:
    assert main(["kernels", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_measure_remembers_then_lists_then_forgets(sandbox, capsys):
    assert run_json(capsys) == {"file": str(sandbox / "kernels.json"), "choices": []}
    measured = run_json(capsys, "--measure", "--preset", "laptop", "--count", "2", "--no-train")
    (row,) = measured["choices"]
    assert "sample | lstm 1x512 batch 2" in row["key"]
    assert row["kernel"] in ("fp32", "bf16", "int8", "int8dyn") and row["threads"] >= 1
    assert f"{row['kernel']}@{row['threads']}" in row["seconds"]
    saved = json.loads((sandbox / "kernels.json").read_text())
    assert list(saved["entries"]) == [row["key"]]
    assert run_json(capsys)["choices"] == [row]
    assert main(["kernels"]) == 0
    shown = capsys.readouterr().out
    assert f"-> {row['kernel']} on {row['threads']} thread(s)" in shown
    assert run_json(capsys, "--forget")["choices"] == []
    assert not (sandbox / "kernels.json").exists()


def test_training_is_measured_for_the_preset_shape(sandbox, capsys):
    rows = run_json(capsys, "--measure", "--preset", "tiny")["choices"]
    (row,) = rows                          # tiny (32 units) samples in fp32 without measuring
    assert "train | MusicLM lstm 1x32 emb 16 batch" in row["key"]
    assert row["kernel"] in ("fp32", "bf16")


def test_a_broken_file_is_listed_as_empty(sandbox, capsys):
    (sandbox / "kernels.json").write_text("{broken")
    assert run_json(capsys)["choices"] == []


def test_bad_input_exits_2(sandbox, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["kernels", "--measure", "--count", "0"])
    assert exc.value.code == 2
    assert main(["kernels", "--measure", "--preset", "huge"]) == 2
    err = capsys.readouterr().err
    assert "preset 'huge'" in err and "Traceback" not in err


def test_the_window_and_the_commands_use_the_same_file(sandbox):
    from app.kernels import kernels_file
    from app.settings import AppPaths

    assert AppPaths.default().kernels_file == kernels_file() == sandbox / "kernels.json"
