"""Crash safety, the long runs: SIGKILL training, library writes and exports many times.

    python benchmarks/crash_safety.py [--train-kills 20] [--library-kills 50] [--export-kills 20]

Training (`ceol train --preset tiny`) is killed at random moments, the first few aimed inside a
checkpoint's fsync, and resumed from the checkpoint each time; after each kill the checkpoint
must load, and the steps lost (last step reported - checkpoint step) must not exceed the
interval. The finished model is compared with one trained without interruption. The library
and export writers are killed the same way (tests/crash/kill.py holds the drivers, also used by
tests/crash/test_kill.py with 2-5 kills). Last, the cost of a durable library commit
(synchronous=FULL) against the previous setting (NORMAL). Prints the figures; `--json` saves them.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crash.kill import Child, Report, export_kills, library_kills, train_args, train_kills  # noqa: E402


def reference_run(folder: Path, steps: int, interval: int) -> Path:
    """Train the same model without a kill; return its model file."""
    child = Child(folder, "train", *train_args(folder, steps, interval))
    if child.finish() != 0:
        raise SystemExit(f"the reference run failed: {child.error_tail()}")
    return folder / "m.safetensors"


def max_weight_difference(a: Path, b: Path) -> float:
    from model.checkpoint import load_model

    x, y = load_model(a).model.state_dict(), load_model(b).model.state_dict()
    return max(float((x[k] - y[k]).abs().max()) for k in x)


def commit_cost(folder: Path, synchronous: str, commits: int = 200) -> float:
    """Return milliseconds per single-tune commit with the given synchronous setting."""
    from app.library import Library

    with Library(folder / f"cost-{synchronous}.sqlite") as lib:
        lib._db.execute(f"PRAGMA synchronous={synchronous}")  # the setting under comparison
        start = time.perf_counter()
        for i in range(commits):
            lib.add_tune(f"X:1\nT:t{i}\nK:D\nABcd|\n", source_kind="generated")
        return (time.perf_counter() - start) * 1000 / commits


def summary_train(report: Report, interval: int) -> dict:
    killed = [k for k in report.kills if "lost" in k]
    lost = [k["lost"] for k in killed]
    return {"kills": len(killed), "aimed_in_fsync": sum(k["aimed"] for k in killed),
            "interval": interval, "lost_max": max(lost, default=None),
            "lost_mean": round(statistics.mean(lost), 1) if lost else None,
            "checkpoint_loaded": sum(k.get("checkpoint_step") is not None for k in killed),
            "no_checkpoint_yet": sum(k.get("checkpoint_step") is None for k in killed),
            "temp_left_by_kill": sum(bool(k.get("temps")) for k in killed),
            "resumed_at_the_right_step": sum(1 for k in report.kills[1:]
                                             if k.get("first_step") in (None,
                                                                        (k["resumed_from"] or 0) + 1)),
            "finished": any(k.get("finished") for k in report.kills),
            "problems": report.problems, "seconds": round(report.seconds, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-kills", type=int, default=20)
    parser.add_argument("--aimed", type=int, default=5, help="of them, kills inside an fsync")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--interval", type=int, default=25)
    parser.add_argument("--library-kills", type=int, default=50)
    parser.add_argument("--export-kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("train", "reference", "library", "export", "cost"):
            (tmp / name).mkdir()
        if args.train_kills:
            report = train_kills(tmp / "train", args.train_kills, rng, steps=args.steps,
                                 interval=args.interval, window_s=1.0, aimed=args.aimed)
            figures["train"] = summary_train(report, args.interval)
            figures["train"]["records"] = report.kills
            if not report.problems:
                ref = reference_run(tmp / "reference", args.steps, args.interval)
                figures["train"]["max_weight_difference_vs_uninterrupted"] = \
                    max_weight_difference(ref, tmp / "train" / "m.safetensors")
        if args.library_kills:
            report = library_kills(tmp / "library", args.library_kills, rng, window_s=0.5)
            figures["library"] = {
                "kills": len(report.kills),
                "integrity_ok": sum(k["integrity"] == "ok" for k in report.kills),
                "committed_last": report.kills[-1]["committed"] if report.kills else 0,
                "stored_last": report.kills[-1]["stored"] if report.kills else 0,
                "stored_beyond_reported_max": max((k["stored"] - k["committed"]
                                                   for k in report.kills), default=None),
                "problems": report.problems, "seconds": round(report.seconds, 1)}
        if args.export_kills:
            report = export_kills(tmp / "export", args.export_kills, rng, window_s=2.0,
                                  aimed=min(args.aimed, args.export_kills))
            figures["export"] = {
                "kills": len(report.kills), "aimed_in_fsync": sum(k["aimed"] for k in report.kills),
                "files_checked_per_kill": 5,
                "temp_left_by_kill": sum(bool(k["temps"]) for k in report.kills),
                "problems": report.problems, "seconds": round(report.seconds, 1)}
        figures["library_commit_ms"] = {s: round(commit_cost(tmp / "cost", s), 2)
                                        for s in ("NORMAL", "FULL")}
    for part, values in figures.items():
        print(f"{part}:")
        for key, value in (values.items() if isinstance(values, dict) else []):
            if key != "records":
                print(f"  {key}: {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    problems = [p for v in figures.values() if isinstance(v, dict) for p in v.get("problems", [])]
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
