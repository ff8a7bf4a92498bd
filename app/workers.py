"""Qt adapters for long work: run a plain function on a QThread and turn its hooks into signals.

The core (training, sampling, corpus loading) knows nothing of Qt: it takes callbacks and a
`threading.Event`-like stop flag. A `Job` calls such a function on its own thread, passing a
`JobContext` whose `progress()` and `result()` emit signals; the GUI connects those signals to
bound slots of its widgets. Cancel with `job.cancel()` from the GUI thread: it sets the event
directly, because a queued call would reach a busy worker only after it finished. `job.pause()`
and `job.resume()` set and clear a second event the same way, for work that can wait in place
(training waits between steps).
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from app.memory import release_after_job, release_free_memory

log = logging.getLogger(__name__)


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input (shown as a message) rather than a bug (logged too)."""
    from app.library import LibraryError
    from app.music.errors import MusicError
    from model.errors import ModelError

    return (MusicError, ModelError, LibraryError, OSError, UnicodeDecodeError, ValueError)


class JobContext:
    """What the function of a Job sees: the stop and pause flags and its two hooks."""

    def __init__(self, job: "Job") -> None:
        self._job = job
        self.stop = job.stop_event
        self.pause = job.pause_event

    def progress(self, info: Any) -> None:
        """Report progress (any object); delivered to the GUI thread as `Job.progress`."""
        self._job.progress.emit(info)

    def result(self, item: Any) -> None:
        """Hand over one partial result (a tune as soon as it is made) as `Job.result`."""
        self._job.result.emit(item)

    @property
    def cancelled(self) -> bool:
        return self.stop.is_set()


class Job(QObject):
    """One piece of long work: `fn(context, *args, **kwargs)` run on a worker thread."""

    progress = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    done = Signal(object)           # the function's return value
    finished = Signal()             # always last, after done or failed

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str = "job", **kwargs: Any):
        super().__init__()
        self.name = name
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self.thread: QThread | None = None
        self.error: str | None = None
        self.finished_sent = False      # set on the worker thread just before `finished`

    def cancel(self) -> None:
        """Ask the work to stop; safe to call from the GUI thread at any time."""
        self.stop_event.set()

    def pause(self) -> None:
        """Ask work that can wait in place (training) to wait; from the GUI thread."""
        self.pause_event.set()

    def resume(self) -> None:
        """Let paused work carry on."""
        self.pause_event.clear()

    @Slot()
    def run(self) -> None:
        try:
            value = self._fn(JobContext(self), *self._args, **self._kwargs)
        except user_error_types() as exc:
            self.error = str(exc)
            log.warning("%s failed: %s", self.name, exc)
            self.failed.emit(self.error)
        except Exception as exc:  # a bug: keep the worker thread alive and report it
            self.error = f"unexpected error in {self.name}: {exc!r}"
            log.error("%s crashed:\n%s", self.name, traceback.format_exc())
            self.failed.emit(self.error)
        else:
            self.done.emit(value)
        self.finished_sent = True
        self.finished.emit()
        value = None
        release_after_job()   # what the job freed goes back to the system, not to its arena


IDLE_TRIM_MS = 1500   # after the last job ends, when the heap is trimmed again


class _Running(QObject):
    """Every started job, held until its QThread has really ended.

    A job says `finished` from its worker thread before that thread is done; an owner that
    drops the job on that signal (a panel setting `self.job = None`) would free a QThread that
    is still running, and Qt aborts the whole app ("QThread: Destroyed while thread is still
    running": it killed the test suite under load). Freeing it while Qt is ending the thread
    is no better: the destructor waits for the thread, holding the GIL the thread may need. So
    a job is let go only once its thread reports isFinished(), looked at when the thread's own
    `finished` arrives and then every few milliseconds until it is true.
    """

    def __init__(self) -> None:
        super().__init__()
        self.jobs: set[Job] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._sweep)
        # A job trims the C heap as it ends, but its result (a trained model, a batch of tunes)
        # is freed later, on the GUI thread, once the panels are done with it: the soak found
        # 47 MiB left in the heap after a training. So once the last job is let go, the heap
        # is trimmed again a moment later (about 4 ms for a 600 MB heap), if still idle.
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_TRIM_MS)
        self._idle.timeout.connect(self._trim_if_idle)

    def hold(self, job: Job) -> None:
        self.jobs.add(job)
        job.thread.finished.connect(self._sweep, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _sweep(self) -> None:
        ended = {job for job in self.jobs if job.thread.isFinished()}
        self.jobs -= ended
        if ended and not self.jobs:
            self._idle.start()
        ending = any(not job.thread.isRunning() or job.finished_sent for job in self.jobs)
        if ending and not self._timer.isActive():
            self._timer.start()
        elif not ending:
            self._timer.stop()


    @Slot()
    def _trim_if_idle(self) -> None:
        if not self.jobs:
            release_free_memory()


_running: _Running | None = None


def start_job(job: Job) -> Job:
    """Move the job to a new QThread and start it (from the GUI thread); the thread cleans up
    when it ends, and the job is kept alive until then whoever else lets it go."""
    global _running
    if _running is None:
        _running = _Running()
    thread = QThread()
    thread.setObjectName(job.name)
    job.moveToThread(thread)
    job.thread = thread
    thread.started.connect(job.run)
    # QThread.quit is thread-safe; calling it directly lets a GUI thread that waits on the
    # thread (on close) see it end without running its own event loop.
    job.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    _running.hold(job)
    thread.start()
    return job


def running_jobs() -> int:
    """How many started jobs are still held (their threads not yet ended)."""
    return len(_running.jobs) if _running is not None else 0


def wait_for(job: Job, timeout_ms: int = 5000) -> bool:
    """Block until the job's thread has ended (used on close and in tests)."""
    if job.thread is None:
        return True
    return job.thread.wait(timeout_ms)
