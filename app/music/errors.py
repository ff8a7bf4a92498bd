"""Errors of the music core: each names the file, tune and line it is about, when known.

The CLI prints `str(error)` as one line and exits with status 2; the GUI shows it in a dialog.
"""

from __future__ import annotations


class MusicError(Exception):
    """A problem with a music file or tune, located as precisely as is known."""

    def __init__(self, message: str, *, path: str | None = None, tune: int | str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.path = path
        self.tune = tune
        self.line = line
        self.column = column
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.tune is not None:
            where.append(f"tune {self.tune}")
        if self.line is not None:
            where.append(f"line {self.line}" + (f", column {self.column}" if self.column else ""))
        return f"{': '.join(where)}: {self.message}" if where else self.message


class EngineError(MusicError):
    """A native engine run in a worker process (app.music.isolate) failed as a whole."""


class EngineCrashed(EngineError):
    """The worker process died during a call (a signal such as SIGSEGV or SIGABRT)."""


class EngineTimeout(EngineError):
    """A call ran past its time limit; the worker process was killed."""


class EngineCancelled(EngineError):
    """A call was cancelled from another thread; the worker process was killed."""
