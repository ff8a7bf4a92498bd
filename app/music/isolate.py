"""A warm child process that runs native engines at arm's length: a crash costs one call only.

Some C++ libraries (verovio on unusual ABC, say) abort or segfault the whole process on user
input. `Worker` keeps one child process (multiprocessing "spawn": the parent may hold Qt and
threads, which fork would copy half-alive) that runs module-level functions on request:

    from app.music.isolate import Worker
    worker = Worker("engraver")
    pages = worker.call(some_module.render, abc, timeout=20.0, width=900)

`call(func, *args, timeout=..., **kwargs)` pickles `func` by reference (so it must be a
module-level function of an importable module, not of the main script, which the child does not
run) and its arguments, runs it in the child and
returns its result. An exception raised by `func` comes back as itself (a MusicError keeps its
message, file, tune, line and column); one that cannot be pickled comes back as EngineError.
If the child dies during the call (the signal is named: SIGSEGV, SIGABRT, ...) the call raises
EngineCrashed; past `timeout` seconds the child is killed and the call raises EngineTimeout;
`cancel()` from another thread kills a running call, which raises EngineCancelled. After any of
these the next call starts a fresh child. Calls are serialised (one at a time per worker, a
lock), the child stays up between calls, `start()` spawns it ahead of the first call, and every
worker is closed at interpreter exit (atexit), so no child outlives the app. The child ignores
SIGINT (Ctrl-C is the parent's to handle) and exits when the parent's end of the pipe closes.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import signal
import sys
import threading
import weakref
from multiprocessing.connection import wait
from typing import Any, Callable

from app.music.errors import EngineCancelled, EngineCrashed, EngineError, EngineTimeout

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0      # seconds a call may take, unless the caller says otherwise
START_TIMEOUT = 60.0        # seconds a fresh child may take to start (imports included)
_workers: "weakref.WeakSet[Worker]" = weakref.WeakSet()
_start_lock = threading.Lock()


def _serve(conn) -> None:
    """The child's loop: run each (func, args, kwargs) request and send back its outcome."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            func, args, kwargs = request
            outcome = ("ok", func(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - every failure goes back to the caller
            outcome = ("raise", err)
        try:
            conn.send(outcome)
        except Exception as err:  # noqa: BLE001 - an unpicklable result or exception
            conn.send(("raise", EngineError(f"the worker could not send back "
                                            f"{'its result' if outcome[0] == 'ok' else repr(outcome[1])}"
                                            f": {type(err).__name__}: {err}")))


def start_without_main(process) -> None:
    """Start a spawn child that does not run the parent's __main__ again: the functions it
    serves live in importable modules, and re-running the main script is slow at best and
    fails at worst (a script read from stdin, an embedded interpreter). app.training_process
    starts its children this way too."""
    main = sys.modules["__main__"]
    with _start_lock:
        saved_spec = getattr(main, "__spec__", None)
        saved_file = main.__dict__.pop("__file__", None)
        main.__spec__ = None
        try:
            process.start()
        finally:
            main.__spec__ = saved_spec
            if saved_file is not None:
                main.__file__ = saved_file


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit status {exitcode}"


class Worker:
    """One child process running functions on request; see the module docstring."""

    def __init__(self, name: str = "ceol-worker", max_calls: int | None = None) -> None:
        self.name = name
        # Libraries that cache what they have seen (music21) grow with every tune; a child that
        # has served `max_calls` calls is replaced by a fresh one before the next call.
        self.max_calls = max_calls
        self._calls = 0
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()         # one call at a time
        self._state = threading.Lock()        # guards _process and _cancelled across threads
        self._process = None
        self._conn = None
        self._cancelled = False
        self._tag: object = None                # the tag of the call running (or last run)
        self.restarts = 0                     # children started after a crash, timeout or cancel
        _workers.add(self)

    # -- public API -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the child now if it is not running (the first call would otherwise wait)."""
        with self._lock:
            self._ensure_started()

    def call(self, func: Callable[..., Any], *args: Any, timeout: float | None = DEFAULT_TIMEOUT,
             tag: object = None, **kwargs: Any) -> Any:
        """Run func(*args, **kwargs) in the child and return its result; see the module docs.

        `tag` names the caller, so that `cancel(tag)` stops this call and no other.
        Raises what func raised, or EngineCrashed / EngineTimeout / EngineCancelled (all
        MusicError) when the child died, ran past `timeout` seconds or was cancelled.
        """
        with self._lock:
            with self._state:
                self._cancelled = False
                self._tag = tag
            if self.max_calls and self._calls >= self.max_calls and self._process is not None:
                self.close()            # retire a healthy child that served its calls
            self._ensure_started()
            self._calls += 1
            process, conn = self._process, self._conn
            try:
                conn.send((func, args, kwargs))
            except (OSError, EOFError):
                return self._failed(process, None)
            except Exception as err:  # noqa: BLE001 - pickling the request failed
                raise EngineError(f"cannot send this call to the worker: {err}") from None
            ready = wait([conn, process.sentinel], timeout)
            if conn in ready:
                try:
                    kind, value = conn.recv()
                except (EOFError, OSError):
                    return self._failed(process, None)
                except Exception as err:  # noqa: BLE001 - an exception we cannot rebuild
                    raise EngineError(f"the worker's answer could not be read: {err}") from None
                if kind == "ok":
                    return value
                raise value
            # the sentinel alone: the child is gone; nothing ready: the time is up
            return self._failed(process, None if ready else timeout)

    def cancel(self, tag: object = None) -> bool:
        """Kill a running call from another thread (only one made with this `tag`, when one is
        given); return whether a child was killed."""
        with self._state:
            process = self._process
            if process is None or not self._lock.locked():
                return False
            if tag is not None and tag != self._tag:
                return False
            self._cancelled = True
        process.kill()
        return True

    def close(self) -> None:
        """Stop the child (asking first, then killing) and reap it; the worker may be reused."""
        process, conn = self._take()
        if process is None:
            return
        try:
            conn.send(None)
        except Exception:  # noqa: BLE001 - the child is gone or busy: kill it below
            pass
        process.join(1.0)
        if process.is_alive():
            process.kill()
            process.join(2.0)
        conn.close()

    @property
    def pid(self) -> int | None:
        """The child's process id, or None when no child is running."""
        process = self._process
        return process.pid if process is not None else None

    # -- internals ------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        if self._process is not None:
            self._discard()
        self._calls = 0
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child_end,), name=self.name,
                                        daemon=True)
        start_without_main(process)
        child_end.close()
        with self._state:
            self._process, self._conn = process, parent_end
        if not parent_end.poll(START_TIMEOUT):
            self._discard()
            raise EngineTimeout(f"the {self.name} process did not start within "
                                f"{START_TIMEOUT:g} s")
        try:
            parent_end.recv()
        except (EOFError, OSError):
            exitcode = process.exitcode
            self._discard()
            raise EngineCrashed(f"the {self.name} process died while starting "
                                f"({_death(exitcode)})") from None

    def _take(self):
        """Detach the child and its pipe from the worker; return (process, conn)."""
        with self._state:
            process, conn = self._process, self._conn
            self._process = self._conn = None
        return process, conn

    def _discard(self) -> None:
        """Kill and reap the child (it crashed, hung or was cancelled)."""
        process, conn = self._take()
        if process is None:
            return
        if process.is_alive():
            process.kill()
        process.join(5.0)
        conn.close()
        self.restarts += 1

    def _failed(self, process, timeout: float | None):
        cancelled = self._cancelled
        if timeout is not None and not cancelled:
            self._discard()
            raise EngineTimeout(f"the {self.name} took longer than {timeout:g} s and was stopped")
        process.join(5.0)
        exitcode = process.exitcode
        self._discard()
        if cancelled:
            raise EngineCancelled(f"the {self.name} was cancelled")
        raise EngineCrashed(f"the {self.name} crashed ({_death(exitcode)})")


# Shared workers replaced by a fresh child after this many calls: music21 and verovio keep what
# they have parsed, so a child that serves a whole session grows (the soak measured the workers
# at 140 -> 231 MiB over 1,200 tunes).
RECYCLE_AFTER_CALLS = {"music21": 200, "engraver": 500, "repair": 5000}
_shared: dict[str, "Worker"] = {}
_shared_lock = threading.Lock()


def shared(name: str, max_calls: int | None = None) -> "Worker":
    """Return the app's one worker called `name` (started on its first call), e.g. "music21"
    for the parsing behind the piano roll and playback; `max_calls` applies when it is made."""
    with _shared_lock:
        if name not in _shared:
            _shared[name] = Worker(name, max_calls or RECYCLE_AFTER_CALLS.get(name))
        return _shared[name]


@atexit.register
def _close_all() -> None:
    for worker in list(_workers):
        try:
            worker.close()
        except Exception:  # noqa: BLE001 - exiting anyway
            log.debug("closing worker %s failed", worker.name, exc_info=True)

