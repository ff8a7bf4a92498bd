"""Data-parallel training: torchrun with 2 CPU processes (gloo) trains one model, rank 0 saves."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_torchrun_two_cpu_processes_train_the_tiny_preset(tmp_path, corpus_texts):
    book = tmp_path / "book.abc"
    tunes = corpus_texts[0].split("\n\n")
    book.write_text("\n\n".join(f"X:{i + 1}\nT:T{i}\n" + t.split("\n", 1)[1].replace(
        "K:D", f"K:{'DGA'[i % 3]}") for i, t in enumerate(tunes)))
    out = tmp_path / "ddp.safetensors"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(ROOT / "main.py"), "train", "--data", str(book), "--preset", "tiny", "--steps", "4",
         "--out", str(out), "--quiet", "--device", "cpu"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("saved ") == 1 and "on 2 processes" in run.stdout
    info = subprocess.run([sys.executable, str(ROOT / "main.py"), "model-info", str(out),
                           "--json"], capture_output=True, text=True, check=True)
    training = json.loads(info.stdout)["training"]
    assert training["world_size"] == 2 and training["steps"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.abc", "ddp.safetensors"]
