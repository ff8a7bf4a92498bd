"""SIGKILL at random moments (tests/crash/kill.py): training resumes from a checkpoint that loads
and loses at most one interval, the library stays intact with every committed tune, an exported
file is the old or the new complete one. benchmarks/crash_safety.py runs the long versions."""

import os
import random

import pytest

from tests.crash.kill import export_kills, library_kills, train_kills


@pytest.mark.slow
def test_training_killed_three_times_resumes_each_time(tmp_path):
    report = train_kills(tmp_path, 3, random.Random(11), aimed=1)
    assert report.problems == []
    killed = [k for k in report.kills if "lost" in k]
    assert len(killed) >= 2 and all(k["lost"] <= 20 for k in killed)
    assert report.kills[0]["temps"] == 1  # the aimed kill left a temp file; the next run removed it


def test_library_killed_five_times_keeps_every_committed_tune(tmp_path):
    report = library_kills(tmp_path, 5, random.Random(3))
    assert report.problems == []
    assert all(k["integrity"] == "ok" and k["stored"] >= k["committed"] for k in report.kills)


@pytest.mark.slow
def test_exports_killed_leave_old_or_new_complete_files(tmp_path):
    report = export_kills(tmp_path, 2, random.Random(5), aimed=1)
    assert report.problems == []


def test_stale_temp_files_of_dead_writers_are_removed(tmp_path):
    from model.checkpoint import remove_stale_temps, write_atomic

    target = tmp_path / "m.ckpt.safetensors"
    dead = tmp_path / ".m.ckpt.safetensors.999999999.x1.tmp"   # no such process
    alive = tmp_path / ".m.ckpt.safetensors.1.x2.tmp"          # init never goes away
    mine = tmp_path / f".m.ckpt.safetensors.{os.getpid()}.x3.tmp"  # a write in progress here
    other = tmp_path / ".other.safetensors.999999999.x4.tmp"
    for path in (dead, alive, mine, other):
        path.write_bytes(b"half a checkpoint")
    write_atomic(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert not dead.exists() and alive.exists() and mine.exists() and other.exists()
    old = tmp_path / ".m.ckpt.safetensors.nopid.tmp"
    old.write_bytes(b"")
    os.utime(old, (0, 0))
    assert remove_stale_temps(target) == [old]
