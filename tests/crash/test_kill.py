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
    aimed = [k for k in report.kills if k["aimed"]]
    assert aimed and aimed[0]["checkpoint_step"] is not None  # it met an earlier checkpoint


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


def test_exports_remove_temp_files_of_dead_writers(tmp_path):
    from app.music.abc_midi import abc_to_midi
    from app.music.export import export_tune

    tune = "X:1\nT:T\nM:4/4\nL:1/8\nK:D\nABcd efga|\n"
    dead = [tmp_path / ".t.abc.999999999.x1.part", tmp_path / ".t.mid.999999999.x2.part"]
    alive = tmp_path / ".t.abc.1.x3.part"
    for path in (*dead, alive):
        path.write_bytes(b"half an export")
    export_tune(tune, tmp_path / "t.abc")
    abc_to_midi(tune, tmp_path / "t.mid")  # midi_file.save_bytes
    assert not any(p.exists() for p in dead) and alive.exists()
    assert oct((tmp_path / "t.mid").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
