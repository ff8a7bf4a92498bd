"""Damaged tune libraries and settings files for fuzzing: a real seed of each, and mutations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.fuzz.raw_midi import MUTATIONS as BYTE_MUTATIONS

REEL = "X:1\nT:The Silver Spear\nR:reel\nM:4/4\nL:1/8\nK:D\nFAAB A2FA|\n"
JIG = "X:2\nT:Out on the Ocean\nR:Jig\nM:6/8\nL:1/8\nK:G\nGBd gdB|\n"


def library_seed(tmp: Path) -> bytes:
    """Return the bytes of a small real library (checkpointed: no WAL file beside it)."""
    from app.library import Library

    path = tmp / "seed.db"
    with Library(path) as library:
        ids = library.add_tunes([REEL, JIG] * 20, source_kind="corpus", source="celtic")
        library.set_favourite(ids[0], True)
        library.add_tune(REEL, source_kind="generated", source="tiny", provenance={"seed": 7})
        library.delete(ids[3:5])
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    return path.read_bytes()


def mutate_bytes(data: bytes, pick) -> bytes:
    out = bytearray(data)
    for _ in range(pick(1, 4)):
        out = bytearray(BYTE_MUTATIONS[pick(0, len(BYTE_MUTATIONS) - 1)](out, pick))
    return bytes(out)


def exercise_library(path: Path) -> None:
    """Open a library and use every reading path the window uses."""
    from app.library import Library, Query

    with Library(path) as library:
        library.count()
        rows = library.search(Query(), limit=100)
        library.search(Query(text="Spear", key="D", favourite=True))
        for column in ("key", "meter", "rhythm", "source", "source_kind"):
            library.values(column)
        library.sources()
        for row in rows[:10]:
            try:
                library.get(row[0])
            except KeyError:   # documented: a listed tune whose text row is missing
                pass


SETTINGS_SEED = b"""[General]
ui\\theme=dark

[audio]
soundfont=/usr/share/sounds/sf2/FluidR3_GM.sf2
instrument=fiddle

[files]
recent=/home/u/a.abc, /home/u/b.abc
last_folder=/home/u

[train]
threads=4

[view]
heatmap=true

[window]
geometry=@ByteArray(\\x1\\xd9\\xd0\\xcb\\0\\x3)

[state]
library=\"{\\\"column\\\": 2}\"
"""
