"""The window's door to the tune library's own thread (app/library_queue.py): panels queue
reads and writes here and get the results back on the GUI thread, in the order queued.

`read(fn, *args, then=..., **kwargs)` and `write(...)` queue `fn(library, *args, **kwargs)`,
run on the library's thread with its own connection; its return value reaches `then(value)`
through a queued signal. A failure is logged there, said by `failed` (the window's status bar)
and handed to `otherwise(message)` when one is given. `close` (on quit) drops the callbacks,
since the widgets are going, and waits a bounded time while the queued writes are done.
"""

from __future__ import annotations

import itertools
import logging
import threading
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from app.library_queue import LibraryQueue

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


class LibraryWorker(QObject):
    """Queues library calls on the library's thread and calls back on the GUI thread."""

    failed = Signal(str)                # a one-line message for the status bar
    _delivered = Signal(object)         # (ticket, value, error), emitted on the library thread

    def __init__(self, path: str | Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._callbacks: dict[int, tuple[Callback | None, Callback | None]] = {}
        self._tickets = itertools.count(1)
        self.closed = False
        # Emitted from the library's thread to this GUI-thread object: a queued connection.
        self._delivered.connect(self._deliver)
        self._queue = LibraryQueue(path, self._send)

    @property
    def thread(self) -> threading.Thread:
        """The library's thread (tests check where the SQLite work ran)."""
        return self._queue.thread

    def read(self, fn: Callable[..., Any], *args: Any, then: Callback | None = None,
             otherwise: Callback | None = None, **kwargs: Any) -> int | None:
        """Queue a read; skipped if the window closes first. Returns its ticket."""
        return self._put(False, fn, args, kwargs, then, otherwise)

    def write(self, fn: Callable[..., Any], *args: Any, then: Callback | None = None,
              otherwise: Callback | None = None, **kwargs: Any) -> int | None:
        """Queue a write; done even if the window closes first. Returns its ticket, or None
        after `close` (the write is then logged and not done: the window has gone)."""
        return self._put(True, fn, args, kwargs, then, otherwise)

    def busy(self) -> bool:
        """Whether work was queued whose result has not come back yet."""
        return bool(self._callbacks)

    def close(self, timeout_s: float = 30.0) -> bool:
        """Do the queued writes, skip the reads, end the thread; False if it was still writing
        after `timeout_s` (left to finish; nothing committed before is lost)."""
        self.closed = True
        self._callbacks.clear()
        return self._queue.close(timeout_s)

    def _put(self, write: bool, fn: Callable[..., Any], args: tuple, kwargs: dict,
             then: Callback | None, otherwise: Callback | None) -> int | None:
        if self.closed:
            log.warning("library %s asked for after the window closed: not done", fn.__name__)
            return None
        ticket = next(self._tickets)
        self._callbacks[ticket] = (then, otherwise)
        self._queue.put(ticket, fn, args, kwargs, write=write)
        return ticket

    def _send(self, ticket: int, value: Any, error: str | None) -> None:
        self._delivered.emit((ticket, value, error))

    @Slot(object)
    def _deliver(self, delivered: tuple) -> None:
        if self.closed:
            return
        ticket, value, error = delivered
        then, otherwise = self._callbacks.pop(ticket, (None, None))
        if error is None:
            if then is not None:
                then(value)
            return
        self.failed.emit(error)
        if otherwise is not None:
            otherwise(error)
