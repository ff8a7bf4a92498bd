"""Kill drivers shared by the crash tests and benchmarks/crash_safety.py.

Each driver starts a writer from tests/crash/children.py in a child process, SIGKILLs it at a
random moment (or inside an fsync, when aimed), then checks what the disk holds: the training
checkpoint loads and resuming loses at most one checkpoint interval, the library database is
intact and holds every committed tune, an exported file is an old or a new complete one. A
driver returns a report with one record per kill and the problems it found (empty = passed).
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BODIES = ["|:ABcd efga|bagf edcB:|", "|:GABc dedB|dBAG FDD2:|", "|:d2fd Adfd|cdeg fdec:|",
          "|:FAAB AFED|FAAB d2dB:|", "|:e2ae faef|g2bg afge:|"]
KEYS = ["D", "G", "A", "Em", "Bm", "Ador"]
SLOW_FSYNC_S = 0.3


@dataclass
class Report:
    """What a driver saw: one dict per kill and every broken promise, in words."""

    kills: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Child:
    """A writer from children.py running in its own process; its stdout lines are collected."""

    def __init__(self, folder: Path, *args: str, slow_fsync: bool = False) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
        if slow_fsync:
            env["CRASH_SLOW_FSYNC"] = str(SLOW_FSYNC_S)
        self.stderr_path = folder / "child.err"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.crash.children", *args],
                                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._done = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            with self._changed:
                self.lines.append(raw.decode().strip())
                self._changed.notify_all()
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def wait_for(self, prefix: str, timeout: float = 60.0, after: int = 0) -> bool:
        """Wait until a line from index `after` on starts with prefix; False at exit or timeout."""
        end = time.monotonic() + timeout
        with self._changed:
            while not any(line.startswith(prefix) for line in self.lines[after:]):
                left = end - time.monotonic()
                if self._done or left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def last(self, prefix: str) -> int | None:
        """Return the number on the last line that starts with prefix."""
        with self._changed:
            numbers = [int(line.split()[-1]) for line in self.lines if line.startswith(prefix)]
        return numbers[-1] if numbers else None

    def first(self, prefix: str) -> int | None:
        with self._changed:
            numbers = [int(line.split()[-1]) for line in self.lines if line.startswith(prefix)]
        return numbers[0] if numbers else None

    def kill(self) -> bool:
        """SIGKILL the child; return False if it had already exited."""
        alive = self.proc.poll() is None
        if alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join()
        return alive

    def finish(self, timeout: float = 300.0) -> int:
        rc = self.proc.wait(timeout)
        self._reader.join()
        return rc

    def error_tail(self) -> str:
        text = self.stderr_path.read_text(errors="replace").replace("\r", "\n").strip()
        return text.splitlines()[-1] if text else ""


def temp_files(folder: Path) -> list[Path]:
    """Return the temporary files atomic writers left in folder (hidden .tmp and .part files)."""
    return sorted(p for p in folder.iterdir()
                  if p.name.startswith(".") and p.suffix in (".tmp", ".part"))


def write_book(folder: Path, tunes: int = 60) -> Path:
    """Write a small reel book for the tiny preset and return its path."""
    text = "\n".join(f"X:{i + 1}\nT:Tune {i}\nR:reel\nM:4/4\nL:1/8\nK:{KEYS[i % 6]}\n"
                     f"{BODIES[i % 5]}\n{BODIES[(i * 3 + 1) % 5]}\n" for i in range(tunes))
    path = folder / "book.abc"
    path.write_text(text)
    return path


def spread(aimed: int, kills: int) -> set[int]:
    """Return which of `kills` kills to aim: `aimed` of them, evenly spaced, never the first
    (so an aimed kill meets an earlier file it must not damage)."""
    if not aimed or kills < 2:
        return set()
    step = (kills - 1) / aimed
    return {1 + int(j * step) for j in range(min(aimed, kills - 1))}


# ---------------------------------------------------------------- training


def train_args(folder: Path, steps: int, interval: int, book: Path | None = None) -> list[str]:
    """Return `ceol train` arguments: tiny preset, model and checkpoint in folder."""
    return ["--data", str(book or write_book(folder)), "--preset", "tiny", "--steps", str(steps),
            "--out", str(folder / "m.safetensors"), "--checkpoint-every", str(interval),
            "--seed", "7"]


def checkpoint_step(path: Path) -> int:
    """Load a checkpoint with the model loader and return its step; ModelError if it is bad."""
    from model.checkpoint import load_model

    return int(load_model(path).resume["step"])


def train_kills(folder: Path, kills: int, rng: random.Random, *, steps: int = 600,
                interval: int = 20, window_s: float = 0.6, aimed: int = 0) -> Report:
    """Kill `ceol train` `kills` times (`aimed` of them, spread out, inside a checkpoint's
    fsync), resuming from the checkpoint each time, then let it finish."""
    report, start = Report(), time.perf_counter()
    args = train_args(folder, steps, interval)
    ckpt = folder / "m.ckpt.safetensors"
    aimed_at = spread(aimed, kills)
    for i in range(kills + 1):
        resume_from = checkpoint_step(ckpt) if ckpt.exists() else None
        aim = i in aimed_at
        child = Child(folder, "train", *args, *(["--resume", str(ckpt)] if ckpt.exists() else []),
                      slow_fsync=aim)
        record = {"kill": i + 1, "aimed": aim, "resumed_from": resume_from}
        if i == kills:
            rc = child.finish()
            record.update(finished=rc == 0, first_step=child.first("step "),
                          last_step=child.last("step "))
            if rc != 0:
                report.problems.append(f"the last run failed (exit {rc}): {child.error_tail()}")
            _check_resume(report, record, resume_from, steps)
            report.kills.append(record)
            break
        if aim:  # inside the fsync of a checkpoint that replaces an earlier one
            child.wait_for("step " if resume_from is not None else f"step {interval + 1}")
            child.wait_for("fsync", after=len(child.lines))
            moment = rng.uniform(0, SLOW_FSYNC_S)
        else:
            child.wait_for("step ")
            moment = rng.uniform(0, window_s)
        time.sleep(moment)
        if not child.kill():  # training ended first: no more kills, but check the end
            if child.proc.returncode != 0:
                report.problems.append(f"run {i + 1} failed (exit {child.proc.returncode}): "
                                       f"{child.error_tail()}")
            record.update(finished=True, first_step=child.first("step "))
            _check_resume(report, record, resume_from, steps)
            report.kills.append(record)
            break
        record.update(moment_s=round(moment, 3), first_step=child.first("step "),
                      last_step=child.last("step "), temps=len(temp_files(folder)))
        if record["temps"] > 1:
            report.problems.append(f"kill {i + 1}: temp files of earlier kills were not removed")
        _check_resume(report, record, resume_from, steps)
        _check_checkpoint(report, record, ckpt, interval)
        report.kills.append(record)
    _check_final(report, folder, steps)
    report.seconds = time.perf_counter() - start
    return report


def _check_resume(report: Report, record: dict, resume_from: int | None, steps: int) -> None:
    first = record.get("first_step")
    expected = (resume_from or 0) + 1
    if first is not None and first != expected:
        report.problems.append(f"kill {record['kill']}: resumed at step {first}, "
                               f"the checkpoint said {expected}")


def _check_checkpoint(report: Report, record: dict, ckpt: Path, interval: int) -> None:
    last = record["last_step"] or 0
    if not ckpt.exists():
        record["checkpoint_step"] = None
        if last >= interval:
            report.problems.append(f"kill {record['kill']}: no checkpoint after step {last}")
        record["lost"] = last
        return
    try:
        step = checkpoint_step(ckpt)
    except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
        report.problems.append(f"kill {record['kill']}: the checkpoint does not load: {exc}")
        return
    record.update(checkpoint_step=step, lost=last - step)
    if last - step > interval:
        report.problems.append(f"kill {record['kill']}: lost {last - step} steps "
                               f"(reported {last}, checkpoint {step}, interval {interval})")


def _check_final(report: Report, folder: Path, steps: int) -> None:
    from model.checkpoint import load_model

    try:
        done = load_model(folder / "m.safetensors").training.get("steps")
    except Exception as exc:  # noqa: BLE001
        report.problems.append(f"the final model does not load: {exc}")
        return
    if done != steps:
        report.problems.append(f"the final model has {done} steps, not {steps}")
    left = temp_files(folder)
    if left:
        report.problems.append(f"temporary files left after the last run: {[p.name for p in left]}")


# ---------------------------------------------------------------- library


def library_kills(folder: Path, kills: int, rng: random.Random, *,
                  window_s: float = 0.5) -> Report:
    """Kill a child adding tunes to one library `kills` times; check the database after each."""
    report, start = Report(), time.perf_counter()
    db = folder / "library.sqlite"
    for i in range(kills):
        child = Child(folder, "library", str(db))
        if not child.wait_for("committed "):
            report.problems.append(f"kill {i + 1}: the writer did not start: {child.error_tail()}")
            child.kill()
            break
        moment = rng.uniform(0, window_s)
        time.sleep(moment)
        child.kill()
        committed = child.last("committed ") or 0
        record = {"kill": i + 1, "moment_s": round(moment, 3), "committed": committed}
        record.update(_check_library(report, i + 1, db, committed))
        report.kills.append(record)
    report.seconds = time.perf_counter() - start
    return report


def _check_library(report: Report, kill: int, db: Path, committed: int) -> dict:
    from app.library import Library

    con = sqlite3.connect(db)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        tunes = con.execute("SELECT COUNT(*) FROM tunes").fetchone()[0]
        texts = con.execute("SELECT COUNT(*) FROM tune_text").fetchone()[0]
        titles = {r[0] for r in con.execute("SELECT title FROM tunes")}
    finally:
        con.close()
    if integrity != "ok":
        report.problems.append(f"kill {kill}: integrity_check says {integrity!r}")
    if tunes < committed:
        report.problems.append(f"kill {kill}: {tunes} tunes stored, {committed} were committed")
    if texts != tunes or titles != {f"t{n}" for n in range(tunes)}:
        report.problems.append(f"kill {kill}: half a transaction is stored ({tunes} tunes, "
                               f"{texts} texts, {len(titles)} distinct titles)")
    try:
        with Library(db) as lib:
            lib.count()
    except Exception as exc:  # noqa: BLE001
        report.problems.append(f"kill {kill}: the library does not open: {exc}")
    return {"stored": tunes, "integrity": integrity}


# ---------------------------------------------------------------- exports


def _normal(name: str, data: bytes) -> bytes:
    """Export bytes with what legitimately varies between runs blanked (MusicXML part ids)."""
    return re.sub(rb'id="P[0-9a-f]+"', b'id="P"', data) if name.endswith(".musicxml") else data


def export_kills(folder: Path, kills: int, rng: random.Random, *, window_s: float = 2.0,
                 aimed: int = 0) -> Report:
    """Kill a child exporting two tunes in turn over the same files (`aimed` kills, spread out,
    inside an fsync); each file must stay an old or a new complete export."""
    from tests.crash.children import expected_exports

    report, start = Report(), time.perf_counter()
    expected = {name: {_normal(name, d) for d in datas}
                for name, datas in expected_exports().items()}
    aimed_at = spread(aimed, kills)
    for i in range(kills):
        aim = i in aimed_at
        child = Child(folder, "export", str(folder), slow_fsync=aim)
        if not child.wait_for("exported ", timeout=120):
            report.problems.append(f"kill {i + 1}: the exporter did not start: "
                                   f"{child.error_tail()}")
            child.kill()
            break
        if aim:
            child.wait_for("fsync", after=len(child.lines))
            moment = rng.uniform(0, SLOW_FSYNC_S)
        else:
            moment = rng.uniform(0, window_s)
        time.sleep(moment)
        child.kill()
        record = {"kill": i + 1, "aimed": aim, "moment_s": round(moment, 3),
                  "rounds": child.last("exported "), "temps": len(temp_files(folder))}
        if record["temps"] > 1:
            report.problems.append(f"kill {i + 1}: temp files of earlier kills were not removed")
        for name, datas in expected.items():
            path = folder / name
            if not path.exists():
                report.problems.append(f"kill {i + 1}: {name} is gone")
            elif _normal(name, path.read_bytes()) not in datas:
                report.problems.append(f"kill {i + 1}: {name} is not a complete export "
                                       f"({path.stat().st_size} bytes)")
        report.kills.append(record)
    report.seconds = time.perf_counter() - start
    return report
