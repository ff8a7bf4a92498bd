"""Atomic file writing for app/music: `atomic_write(path, data)`, used by every writer.

It writes to a hidden temporary file beside the target, named `.<name>.<pid>.<random>.part`,
fsyncs it, gives it the usual file mode and os.replaces it over the target, so a process killed
at any moment leaves the old file or the new one; the rename itself is made durable, and the
temporary files that killed writers left behind are removed by the next write. It imports only
app.music.errors, so every writer (export, MIDI, WAV) can use it without an import cycle.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Iterable

from app.music.errors import MusicError

CHUNK_BYTES = 1 << 20
TEMP_SUFFIX = ".part"
STALE_AGE_S = 3600.0   # where a writer's process cannot be checked, a temp file this old is stale


def make_temp(path: Path, suffix: str) -> tuple[int, str]:
    """Create the temporary file for `path` in its folder; return (fd, name) as mkstemp does."""
    return tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix,
                            dir=str(path.parent) or ".")


def file_mode(path: Path) -> int:
    """The mode a new file gets (mkstemp makes 0600): the old file's, else 0666 less umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def finish(path: Path, suffix: str) -> None:
    """After a successful rename: make it durable and remove temp files of killed writers."""
    folder = path.parent if str(path.parent) else Path(".")
    fsync_folder(folder)
    remove_stale_temps(path, suffix)


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(path: Path, suffix: str) -> list[Path]:
    """Remove the temporary files that killed writers of `path` left; return them.

    On POSIX a temp file is stale once the process its name gives is gone; elsewhere, or
    without a process id, once it is older than STALE_AGE_S.
    """
    prefix = f".{path.name}."
    folder = path.parent if str(path.parent) else Path(".")
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(suffix)]
    except OSError:
        return []
    removed = []
    for name in names:
        tmp = folder / name
        pid = name[len(prefix):].split(".", 1)[0]
        try:
            if pid.isdigit() and os.name == "posix":
                stale = int(pid) != os.getpid() and not _alive(int(pid))
            else:
                stale = time.time() - tmp.stat().st_mtime > STALE_AGE_S
            if stale:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # POSIX only: signal 0 checks that the process exists, sends nothing
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to another user
    return True


def _write_chunks(handle, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        handle.write(chunk)


def atomic_write(path: str | os.PathLike, data: bytes | Iterable[bytes]) -> None:
    """Write data to path through a temp file in the same folder and os.replace.

    Raises MusicError naming the path when the folder is missing or unwritable or the disk
    fills; the temp file is removed and an existing file at path is left untouched. The temp
    file is fsynced before the rename, so a kill at any moment leaves the old or the new file;
    temp files that killed writers left are removed by the next write (app.music.atomic).
    """
    path = Path(path)
    chunks = [data[i:i + CHUNK_BYTES] for i in range(0, max(1, len(data)), CHUNK_BYTES)] \
        if isinstance(data, (bytes, bytearray)) else data
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MusicError("cannot write here: the folder does not exist", path=str(path))
    try:
        fd, tmp = make_temp(path, TEMP_SUFFIX)
    except OSError as err:
        raise MusicError(f"cannot write here: {err.strerror or err}", path=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_chunks(handle, chunks)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode(path))
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)
        raise MusicError(f"could not write the file: {err.strerror or err}", path=str(path)) from None
    except BaseException:
        _remove(tmp)
        raise
    finish(path, TEMP_SUFFIX)


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass
