"""What runs beside a scripted session (tests/ui/session.py): waiting on the event loop, and
the watchers that measure it.

`wait`/`wait_until`/`SignalCatcher` spin a local event loop (no pytest-qt needed, so the soak
runs under a real X server too); `StallMonitor` is a 20 ms timer that records the longest gap
between its ticks (a GUI stall) and, through a watchdog thread, where the GUI thread was;
`DialogWatcher` answers every message box the app opens, as a person would, and keeps its
text; `sample_process()` and `workers_rss()` read resident memory and OS threads.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

ACCEPT_ROLES = (QMessageBox.ButtonRole.AcceptRole, QMessageBox.ButtonRole.YesRole)


# -- waiting ------------------------------------------------------------------------------
def wait(ms: int) -> None:
    """Let the event loop run for ms milliseconds (the user reading the screen)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(predicate, timeout_s: float, step_ms: int = 20) -> bool:
    """Run the event loop until predicate() is true; False after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        wait(step_ms)
    return True


class SignalCatcher:
    """Record every emission of some signals (connect before acting, then wait)."""

    def __init__(self, *signals) -> None:
        self.calls: list[tuple[int, tuple]] = []
        self._connections = []
        for i, signal in enumerate(signals):
            slot = (lambda i: lambda *args: self.calls.append((i, args)))(i)
            signal.connect(slot)
            self._connections.append((signal, slot))

    def wait(self, timeout_s: float, count: int = 1) -> bool:
        return wait_until(lambda: len(self.calls) >= count, timeout_s)

    def close(self) -> None:
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self._connections.clear()


TICK_FILE_SIZE = 64   # the time of the last tick (a double, time.monotonic) and a label


# -- watchers -----------------------------------------------------------------------------
def _where(frame, depth: int = 3) -> str:
    """The innermost few frames of Ceol's own code (app/, model/) on a stack, innermost last."""
    places, innermost = [], None
    while frame is not None and len(places) < depth:
        path = frame.f_code.co_filename
        innermost = innermost or f"{Path(path).name}:{frame.f_lineno} {frame.f_code.co_name}"
        if "/app/" in path or "/model/" in path:
            places.append(f"{Path(path).name}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(places) or innermost or "?"


class StallMonitor:
    """A timer every 20 ms; the longest gap between two ticks is the worst GUI stall.

    A watchdog thread looks at the GUI thread's Python stack whenever the timer is 250 ms
    late, so each stall is counted against the code that held the GUI thread (`stacks`).
    """

    def __init__(self, interval_ms: int = 20) -> None:
        self.interval = interval_ms / 1000
        self.worst = 0.0            # seconds, over the whole session
        self.worst_recent = 0.0     # since the last take_recent()
        self.over_250ms = 0
        self.label = "start"        # what the session was doing (set by Session.log)
        self.worst_by_label: dict[str, float] = {}
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.stacks: dict[str, int] = {}
        self._ticks = None          # see publish_ticks()
        self._gui_thread = threading.main_thread().ident
        self._running = True
        threading.Thread(target=self._watch, name="stall watchdog", daemon=True).start()

    def _watch(self) -> None:
        sampled_at = None
        while self._running:
            time.sleep(0.05)
            late = time.perf_counter() - self._last
            if late > 0.25 and sampled_at != self._last:
                sampled_at = self._last
                frame = sys._current_frames().get(self._gui_thread)
                where = _where(frame)
                self.stacks[where] = self.stacks.get(where, 0) + 1

    def publish_ticks(self, path: Path) -> None:
        """Write each tick's time and the step's label to a small shared file, so that a
        process outside this one (benchmarks/stall_sampler.py) can see a stall while it lasts,
        even when another thread of this process holds the GIL and no Python here can run."""
        import mmap

        with open(path, "wb") as f:
            f.write(bytes(TICK_FILE_SIZE))
        self._tick_file = open(path, "r+b")
        self._ticks = mmap.mmap(self._tick_file.fileno(), TICK_FILE_SIZE)

    def top_stacks(self, n: int = 6) -> list[tuple[str, int]]:
        """Where the GUI thread was when it stalled, most frequent first."""
        return sorted(self.stacks.items(), key=lambda kv: -kv[1])[:n]

    def _tick(self) -> None:
        now = time.perf_counter()
        gap, self._last = now - self._last, now
        if gap > 0.25:
            self.over_250ms += 1
        self.worst = max(self.worst, gap)
        if gap > self.worst_by_label.get(self.label, 0.0):
            self.worst_by_label[self.label] = gap
        self.worst_recent = max(self.worst_recent, gap)
        if self._ticks is not None:
            label = self.label.encode("utf-8", "replace")[:TICK_FILE_SIZE - 8]
            self._ticks[8:] = label.ljust(TICK_FILE_SIZE - 8, b"\0")
            struct.pack_into("d", self._ticks, 0, time.monotonic())

    def take_recent(self) -> float:
        worst, self.worst_recent = self.worst_recent, 0.0
        return worst

    def skip_to_now(self) -> None:
        """Start the next gap now (time the GUI thread spent before a window existed)."""
        self._last = time.perf_counter()

    def reset(self) -> None:
        self.worst = self.worst_recent = 0.0
        self.over_250ms = 0
        self._last = time.perf_counter()

    def stop(self) -> None:
        self._running = False
        self.timer.stop()


class DialogWatcher:
    """Answer message boxes as a person would (Yes, OK, Start training) and keep their text.

    Static QMessageBox calls run a nested event loop; this timer still fires inside it, so a
    warning the app shows never blocks the script. Dialogs the script drives itself (Settings)
    are left alone.
    """

    def __init__(self, interval_ms: int = 100) -> None:
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._look)
        self.timer.start()

    def _look(self) -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                self.seen.append(f"{widget.windowTitle()}: {widget.text()[:200]}")
                buttons = [b for b in widget.buttons() if widget.buttonRole(b) in ACCEPT_ROLES]
                (buttons[0] if buttons else widget.buttons()[0]).click()

    def stop(self) -> None:
        self.timer.stop()


def _proc_status(field_name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def workers_rss() -> float:
    """Resident memory in MiB of this process's children (the engraver and music21 workers):
    what moved out of the window's process still counts."""
    import glob

    total = 0
    for children in glob.glob(f"/proc/{os.getpid()}/task/*/children"):
        try:
            pids = open(children).read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open(f"/proc/{pid}/status") as f:
                    total += next((int(line.split()[1]) for line in f
                                   if line.startswith("VmRSS:")), 0)
            except OSError:
                continue
    return total / 1024


def sample_process() -> tuple[float, int]:
    """Resident memory in MiB and the number of OS threads of this process."""
    try:
        import psutil

        proc = psutil.Process()
        return proc.memory_info().rss / 2**20, proc.num_threads()
    except ImportError:
        return _proc_status("VmRSS") / 1024, _proc_status("Threads")
