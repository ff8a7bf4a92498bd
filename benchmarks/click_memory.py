"""Memory of clicking through a corpus, with parts of the tune view switched off.

The soak's slow memory level was largest in "click tunes"; this clicks library rows in one real
window (tests/ui/session.py) and, every `--every` clicks, after a settle, a full collection and
a heap trim, prints the window's resident memory, the C heap in use (glibc's mallinfo2),
Python's allocated blocks, and which kinds of object the collector tracks grew since the last
line. That count is what named the leak fixed in app/ui/widgets/score_view.py (a Job, its
events and its QThread kept for every tune clicked). `--without` switches one part off to see
its share: the score (no engraving), the drawing of the engraved pages, the piano roll, or the
checker.

    xvfb-run -a python benchmarks/click_memory.py --clicks 300
    QT_QPA_PLATFORM=offscreen python benchmarks/click_memory.py --clicks 300 --without score

Note: the window's collector freezes everything alive whenever modules load
(app/ui/launch.py), and `gc.get_objects()` does not list frozen objects; a module loaded
between two lines hides what grew before it.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import gc
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PARTS = ("score", "render", "roll", "checker")


def switch_off(part: str) -> None:
    """Replace one part of the tune view by a stand-in that only says it is done."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QImage

    from app.ui import tune_view
    from app.ui.widgets import piano_roll, score_view

    if part == "score":
        score_view.ScoreView._engrave = lambda self: QTimer.singleShot(
            0, lambda: self.engraved.emit(0))
    elif part == "render":
        score_view.render_page = lambda svg: QImage(10, 10, QImage.Format.Format_RGB32)
    elif part == "roll":
        piano_roll.PianoRoll.set_abc = lambda self, text: self.laidOut.emit(0)
    elif part == "checker":
        tune_view.check_problems = lambda abc: []


def c_heap_in_use_mib() -> float:
    """Bytes the C heap has handed out and not had back (glibc only; -1 elsewhere)."""
    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks "
                    "keepcost".split()]
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return -1.0
    return (info.uordblks + info.hblkhd) / 2**20


class TypeCounter:
    """Objects the collector tracks, by type, and what grew since the last look."""

    def __init__(self) -> None:
        self.last: collections.Counter = collections.Counter()

    def grown(self, top: int = 8) -> str:
        now = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}"
                                  for o in gc.get_objects())
        grew, self.last = now - self.last, now
        return ", ".join(f"{name} +{n}" for name, n in grew.most_common(top))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=300)
    parser.add_argument("--every", type=int, default=50, help="clicks between lines")
    parser.add_argument("--stride", type=int, default=4, help="rows between clicked tunes")
    parser.add_argument("--corpus", default="celtic")
    parser.add_argument("--without", choices=PARTS, action="append", default=[])
    args = parser.parse_args(argv)
    for part in args.without:
        switch_off(part)
    from app.memory import release_free_memory
    from tests.ui.session import Session, sample_process, wait

    root = Path(tempfile.mkdtemp(prefix="ceol-click-memory-"))
    session = Session(root)
    try:
        session.open_window()
        total = session.open_corpus(args.corpus)
        types = TypeCounter()
        for k in range(args.clicks):
            session.click_row((k * args.stride) % total, timeout_s=20)
            if k % args.every == 0 or k == args.clicks - 1:
                wait(300)
                gc.collect()
                release_free_memory()
                wait(200)
                print(f"{k + 1:5d} clicks  {sample_process()[0]:7.1f} MiB  C heap "
                      f"{c_heap_in_use_mib():6.1f} MiB  Python blocks "
                      f"{sys.getallocatedblocks():,}  grew: {types.grown()}", flush=True)
        session.finish()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
