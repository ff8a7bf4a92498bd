"""Child processes for the crash tests: each does real writes and reports on stdout what it has
made durable, so the parent can SIGKILL it at any moment and check what the disk holds.

    python -m tests.crash.children train ARGS...      `ceol train ARGS`, printing "step N" per step
    python -m tests.crash.children library DB         add tunes for ever, printing "committed N"
    python -m tests.crash.children export FOLDER      export two tunes in turn over the same files

`CRASH_SLOW_FSYNC=S` makes every fsync sleep S seconds first (after printing "fsync"), so a kill
can be aimed inside a write.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

TUNE_A = "X:1\nT:Kill A\nM:4/4\nL:1/8\nK:D\n|:ABcd efga|bagf edcB:|\n|:d2fd Adfd|cdeg fdec:|\n"
TUNE_B = "X:1\nT:Kill B\nM:6/8\nL:1/8\nK:G\n|:GAB cde|dBG AFD|GAB cde|dBG G3:|\n"
EXPORT_SUFFIXES = (".abc", ".mid", ".wav", ".musicxml")


def say(text: str) -> None:
    os.write(1, (text + "\n").encode())


def _slow_fsync(seconds: float) -> None:
    real = os.fsync

    def fsync(fd):
        say("fsync")
        time.sleep(seconds)
        real(fd)

    os.fsync = fsync


def train(argv: list[str]) -> int:
    from app.cli import main, progress

    update = progress.ProgressBar.update

    def report(self, p):
        say(f"step {p.step}")
        update(self, p)

    progress.ProgressBar.update = report
    return main(["train", *argv])


def library(db: str) -> int:
    from app.library import Library

    with Library(db) as lib:
        n = lib.count()
        while True:
            batch = [f"X:1\nT:t{n + i}\nM:4/4\nK:D\n|:ABcd efga|bagf edcB:|\n" + "% pad\n" * 20
                     for i in range(1 + n % 7)]
            if len(batch) == 1:
                lib.add_tune(batch[0], source_kind="generated", source="kill")
            else:
                lib.add_tunes(batch, source_kind="corpus", source="kill")
            n += len(batch)
            say(f"committed {n}")


def export(folder: str) -> int:
    from app.music.convert import convert
    from app.music.export import export_bytes, export_tune

    out = Path(folder)
    for name, tune in (("a", TUNE_A), ("b", TUNE_B)):
        (out / f"{name}.abc").write_text(tune)
    say("ready")
    i = 0
    while True:
        name, tune = ("a", TUNE_A) if i % 2 == 0 else ("b", TUNE_B)
        for suffix in EXPORT_SUFFIXES:
            export_tune(tune, out / f"export{suffix}", provenance={"seed": 1})
        convert(out / f"{name}.abc", out / "convert.mid")
        i += 1
        say(f"exported {i}")


def expected_exports() -> dict[str, set[bytes]]:
    """Return, for each file the export child writes, the complete contents it may hold."""
    from app.music.abc_midi import abc_to_midi
    from app.music.export import export_bytes

    files: dict[str, set[bytes]] = {}
    for tune in (TUNE_A, TUNE_B):
        for suffix in EXPORT_SUFFIXES:
            files.setdefault(f"export{suffix}", set()).add(
                export_bytes(tune, suffix, provenance={"seed": 1}))
        files.setdefault("convert.mid", set()).add(abc_to_midi(tune))
    return files


if __name__ == "__main__":
    if os.environ.get("CRASH_SLOW_FSYNC"):
        _slow_fsync(float(os.environ["CRASH_SLOW_FSYNC"]))
    command, args = sys.argv[1], sys.argv[2:]
    sys.exit({"train": train, "library": lambda a: library(a[0]),
              "export": lambda a: export(a[0])}[command](args))
