"""What training costs the window's memory: trains in-process (the old way) or in a child process
(app.training_process, the window's way now), round after round, and prints the resident
memory of this process (VmRSS) before and after each run.

Each round is what the soak's "train and stop" does through the Train panel: a watched, checkpointed
run of the Celtic corpus in a worker thread (a new thread each time, as each Job gets a QThread),
stopped after `--stop-at` steps, then the C heap trimmed as the app does after a job
(app.memory.release_after_job). Torch is imported and the data prepared before the first round
in both modes, as the window has done by then. Linux only (reads /proc/self/status):

    python benchmarks/train_memory.py --mode child --rounds 10
    python benchmarks/train_memory.py --mode inprocess --rounds 10 --preset laptop --stop-at 20
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.memory import release_free_memory  # noqa: E402
from app.training import TrainRequest, train_model, watch_for_budget  # noqa: E402
from app.training_data import training_data_from_sources  # noqa: E402
from app.training_process import train_in_child  # noqa: E402
from model.config import preset  # noqa: E402


def rss_mib() -> float:
    """This process's resident memory in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise OSError("no VmRSS in /proc/self/status")


def one_run(mode: str, data, folder: Path, name: str, stop_at: int) -> int:
    """Train in a new thread until `stop_at` steps, as the panel does; return the steps."""
    stop = threading.Event()
    request = TrainRequest(preset=name, steps=100_000, out_path=str(folder / "m.safetensors"),
                           checkpoint_path=str(folder / "m.ckpt.safetensors"),
                           checkpoint_each_evaluation=True, **watch_for_budget(100_000, None))

    def on_progress(progress) -> None:
        if progress.step >= stop_at:
            stop.set()

    run = train_in_child if mode == "child" else train_model
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(
        steps=run(request, data, on_progress, stop).steps))
    thread.start()
    thread.join()
    release_free_memory()
    return outcome["steps"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("child", "inprocess"), required=True)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--stop-at", type=int, default=100)
    parser.add_argument("--corpus", default="celtic")
    args = parser.parse_args()

    import torch  # noqa: F401 - the window has torch loaded long before it trains

    data = training_data_from_sources([args.corpus], seq_len=preset(args.preset).train.seq_len)
    release_free_memory()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        start = rss_mib()
        for i in range(args.rounds):
            before = rss_mib()
            steps = one_run(args.mode, data, Path(folder), args.preset, args.stop_at)
            after = rss_mib()
            rows.append({"round": i + 1, "steps": steps, "before_mib": round(before, 1),
                         "after_mib": round(after, 1), "step_mib": round(after - before, 1)})
            print(f"round {i + 1:2d}: {steps:4d} steps  RSS {before:7.1f} -> {after:7.1f} MiB "
                  f"({after - before:+6.1f})", flush=True)
    end = rows[-1]["after_mib"]
    print(json.dumps({"mode": args.mode, "preset": args.preset, "rounds": args.rounds,
                      "start_mib": round(start, 1), "end_mib": end,
                      "growth_mib": round(end - start, 1),
                      "growth_after_round1_mib": round(end - rows[0]["after_mib"], 1)}))


if __name__ == "__main__":
    main()
