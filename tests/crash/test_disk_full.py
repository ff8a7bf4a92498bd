"""A full disk, simulated, for model files, training checkpoints, exports and the library: a
clear error naming the file, the earlier file intact, no temp file left.

`FullDisk` lets the atomic writers (which all write through os.fdopen) put `room` bytes on the
disk and then fails with ENOSPC, as a real full disk does mid-write; the library gets a database
that may not grow past a few pages. When the tests run as root, the same checks also run on a
real tiny tmpfs (skipped elsewhere).
"""

import errno
import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.crash.kill import ROOT, temp_files, train_args, write_book

TUNE = "X:1\nT:Full\nM:4/4\nL:1/8\nK:D\n|:ABcd efga|bagf edcB:|\n"


class FullDisk:
    """Patch os.fdopen: after `skip` files, only `room` more bytes fit, then ENOSPC."""

    def __init__(self, monkeypatch, room: int = 0, skip: int = 0) -> None:
        self.room, self.skip = room, skip
        self.real = os.fdopen
        monkeypatch.setattr(os, "fdopen", self.fdopen)

    def fdopen(self, fd, *args, **kwargs):
        handle = self.real(fd, *args, **kwargs)
        if self.skip:
            self.skip -= 1
            return handle
        return _Filling(handle, self)


class _Filling:
    def __init__(self, handle, disk: FullDisk) -> None:
        self.handle, self.disk = handle, disk

    def write(self, data) -> int:
        fits = max(0, min(len(data), self.disk.room))
        self.handle.write(bytes(data[:fits]))
        self.disk.room -= fits
        if fits < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return fits

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()

    def __getattr__(self, name):
        return getattr(self.handle, name)


@contextmanager
def tmpfs(folder: Path, size: str):
    """Mount a tmpfs of `size` on folder (root only); skip the test where that is impossible."""
    folder.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def _tiny_model():
    import torch

    from model.config import ModelConfig
    from model.lm import MusicLM
    from model.vocab import Vocab

    vocab = Vocab(list("ABCD|: \n"))
    torch.manual_seed(0)
    return MusicLM(ModelConfig(hidden_size=16, num_layers=1), len(vocab)), vocab


# ---------------------------------------------------------------- model files and training


def test_model_save_on_a_full_disk_keeps_the_earlier_file(tmp_path, monkeypatch):
    import torch

    from model.checkpoint import load_model, save_model

    path = tmp_path / "m.safetensors"
    model, vocab = _tiny_model()
    save_model(path, model, vocab)
    before = path.read_bytes()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    FullDisk(monkeypatch, room=len(before) // 2)
    with pytest.raises(OSError) as err:
        save_model(path, model, vocab)
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(path)
    assert "No space left on device" in str(err.value)
    assert path.read_bytes() == before
    load_model(path)
    assert temp_files(tmp_path) == []


def test_train_command_on_a_full_disk_says_so_and_keeps_the_checkpoint(tmp_path, monkeypatch,
                                                                        capsys):
    from app.cli import main
    from model.checkpoint import load_model

    FullDisk(monkeypatch, room=1000, skip=1)  # the first checkpoint fits, the second does not
    args = train_args(tmp_path, 40, 10)
    assert main(["train", *args, "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    ckpt = tmp_path / "m.ckpt.safetensors"
    assert lines == [f"ceol train: error: {ckpt}: no space left on device; the earlier file is "
                     f"kept; continue later with --resume {ckpt}"]
    assert load_model(ckpt).resume["step"] == 10
    assert not (tmp_path / "m.safetensors").exists()
    assert temp_files(tmp_path) == []


@pytest.mark.slow
def test_train_command_on_a_real_full_tmpfs(tmp_path):
    with tmpfs(tmp_path / "small", "256k") as folder:  # one checkpoint fits, not two at once
        args = train_args(folder, 40, 10, book=write_book(tmp_path))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "main.py", "train", *args, "--quiet"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
        ckpt = folder / "m.ckpt.safetensors"
        assert done.returncode == 2, done.stderr
        line = done.stderr.strip().splitlines()[-1]
        assert line.startswith(f"ceol train: error: {folder}/m.")
        assert line.endswith(": no space left on device; the earlier file is kept; "
                             f"continue later with --resume {ckpt}")
        from model.checkpoint import load_model

        assert load_model(ckpt).resume["step"] in (10, 20, 30, 40)
        assert temp_files(folder) == []


# ---------------------------------------------------------------- exports


def _export(kind: str, path: Path) -> None:
    from app.music.abc_midi import abc_to_midi, abc_to_musicxml
    from app.music.export import export_tune

    if kind == "abc_to_midi":  # what `convert` runs, through midi_file.save_bytes
        abc_to_midi(TUNE, path)
    elif kind == "abc_to_musicxml":
        abc_to_musicxml(TUNE, path)
    else:
        export_tune(TUNE, path)


@pytest.mark.parametrize("kind, name", [("export", "t.wav"), ("export", "t.mid"),
                                        ("export", "t.abc"), ("export", "t.musicxml"),
                                        ("abc_to_midi", "t.mid"), ("abc_to_musicxml", "t.xml")])
def test_export_on_a_full_disk_keeps_the_earlier_file(tmp_path, monkeypatch, kind, name):
    from app.music.errors import MusicError

    target = tmp_path / name
    target.write_bytes(b"the earlier export")
    FullDisk(monkeypatch, room=10)
    with pytest.raises(MusicError, match="No space left on device") as err:
        _export(kind, target)
    assert name in str(err.value)
    assert target.read_bytes() == b"the earlier export"
    assert temp_files(tmp_path) == []


def test_export_on_a_real_full_tmpfs(tmp_path):
    from app.music.errors import MusicError
    from app.music.export import export_tune

    with tmpfs(tmp_path / "small", "64k") as folder:
        target = folder / "t.wav"
        target.write_bytes(b"the earlier export")
        with pytest.raises(MusicError, match="No space left on device"):
            export_tune(TUNE, target)
        assert target.read_bytes() == b"the earlier export"
        assert temp_files(folder) == []


# ---------------------------------------------------------------- library


def _fill(lib) -> int:
    """Add tunes until the library refuses; return how many were committed."""
    from app.library import LibraryError

    added = 0
    with pytest.raises(LibraryError) as err:
        for _ in range(10_000):
            lib.add_tunes([TUNE.replace("Full", f"t{added + i}") + "% pad\n" * 50
                           for i in range(20)], source_kind="corpus", source="full")
            added += 20
    assert str(lib.path) in str(err.value)
    assert "no space left on device" in str(err.value)
    return added


def _check_intact(path: Path, added: int) -> None:
    from app.library import Library

    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    with Library(path) as lib:
        assert lib.count() == added > 0


def test_library_on_a_full_disk_raises_and_keeps_the_tunes(tmp_path, monkeypatch):
    from app.library import Library

    connect = sqlite3.connect

    def small_disk(*args, **kwargs):  # this database may not grow past 64 pages
        con = connect(*args, **kwargs)
        con.execute("PRAGMA max_page_count = 64")
        return con

    monkeypatch.setattr(sqlite3, "connect", small_disk)
    path = tmp_path / "library.sqlite"
    with Library(path) as lib:
        added = _fill(lib)
    monkeypatch.undo()
    _check_intact(path, added)


def test_library_on_a_real_full_tmpfs(tmp_path):
    from app.library import Library

    with tmpfs(tmp_path / "small", "256k") as folder:
        path = folder / "library.sqlite"
        with Library(path) as lib:
            added = _fill(lib)
        _check_intact(path, added)
