"""The tune library's own thread: calls queued by the window run there one at a time, in the
order given, on a connection of the thread's own.

SQLite work on the GUI thread froze the window: a commit waits for its fsync (synchronous=FULL,
kept so a commit survives a power cut) while other jobs write the disk (322 ms in the soak),
and a search under a busy training thread hands the GIL back and forth once per row (568 ms).
One thread does every write of the window and every search of its Library panel instead: writes
never race each other, and whatever is queued after a write sees it. On `close` the writes
already queued are still done (a tune handed over is stored), the reads are skipped, and the
wait is bounded: a thread stuck in a write on a hung disk is left behind (a daemon thread;
SQLite commits or rolls back its transaction whole, so no tune is half stored).

No Qt here: results go to `deliver(ticket, value, error)`, called on the library's thread; the
window's adapter (app/ui/library_worker.py) turns that into a queued signal.
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from app.library import Library, LibraryError

log = logging.getLogger(__name__)

Deliver = Callable[[int, Any, "str | None"], None]    # ticket, value, error message or None


@dataclass(frozen=True)
class _Task:
    ticket: int
    fn: Callable[..., Any]
    args: tuple
    kwargs: dict
    write: bool


class LibraryClosed(LibraryError):
    """Work handed to the library's thread after it was closed (the window has gone)."""


class LibraryQueue:
    """A thread with its own connection to the library at `path`, running queued calls."""

    def __init__(self, path: str | Path, deliver: Deliver) -> None:
        self.path = Path(path)
        self._deliver = deliver
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="library", daemon=True)
        self._thread.start()

    def put(self, ticket: int, fn: Callable[..., Any], args: tuple = (),
            kwargs: dict | None = None, *, write: bool = False) -> None:
        """Queue `fn(library, *args, **kwargs)`; its result goes to `deliver` with `ticket`.

        A write runs even if `close` comes first; a read is then skipped. Raises LibraryClosed
        after `close`.
        """
        if self._closing.is_set():
            raise LibraryClosed(f"{self.path}: the library was closed; "
                                f"{getattr(fn, '__name__', fn)} was not done")
        self._tasks.put(_Task(ticket, fn, args, kwargs or {}, write))

    def close(self, timeout_s: float = 30.0) -> bool:
        """Finish the queued writes, skip the queued reads, and end the thread; False when it
        is still busy after `timeout_s` (it is then left to finish on its own)."""
        if not self._closing.is_set():
            self._closing.set()
            self._tasks.put(None)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("the library's thread is still writing after %.0f s; left to finish",
                        timeout_s)
        return not self._thread.is_alive()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    @property
    def closing(self) -> bool:
        """Whether `close` was called (queued reads are skipped from then on)."""
        return self._closing.is_set()

    def _serve(self) -> None:
        library, failure = None, None
        try:
            library = Library(self.path)
        except LibraryError as exc:
            log.error("the library's thread cannot open it: %s", exc)
            failure = str(exc)
        try:
            while (task := self._tasks.get()) is not None:
                if task.write or not self._closing.is_set():
                    self._run(library, failure, task)
        finally:
            if library is not None:
                library.close()

    def _run(self, library: Library | None, failure: str | None, task: _Task) -> None:
        if library is None:
            self._send(task.ticket, None, failure)
            return
        name = getattr(task.fn, "__name__", repr(task.fn))
        try:
            value = task.fn(library, *task.args, **task.kwargs)
        except (LibraryError, KeyError, ValueError) as exc:
            log.warning("library %s failed: %s", name, exc)
            self._send(task.ticket, None, str(exc) or repr(exc))
        except Exception as exc:   # a bug: keep the thread serving and report it
            log.error("library %s crashed:\n%s", name, traceback.format_exc())
            self._send(task.ticket, None, f"unexpected error in the library ({name}): {exc!r}")
        else:
            self._send(task.ticket, value, None)

    def _send(self, ticket: int, value: Any, error: str | None) -> None:
        try:
            self._deliver(ticket, value, error)
        except Exception:   # the receiver is gone (the app is ending): the work itself is done
            log.warning("library result %d not delivered:\n%s", ticket, traceback.format_exc())
