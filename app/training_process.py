"""Training in a child process: the window's way to train, so a run costs its process nothing.

A training run allocates native memory (torch's CPU allocator, autograd buffers, the malloc
arena of the thread that trains) that the process keeps after the run: the soak saw the
window's memory step up by 35-78 MiB at each training. And a native crash in torch (an abort,
an out-of-memory kill) would take the window with it. So the window trains as
app.music.isolate runs music21 and verovio, in a child process:

    outcome = train_in_child(request, data, on_progress, stop, pause)

runs `app.training.train_model` in a fresh child (multiprocessing "spawn", started without
re-running the main script, daemon) and follows it from the caller's thread: each Progress
report comes back over a pipe and goes to `on_progress` in that thread; the threading Events
`stop` and `pause` are forwarded as control messages (looked at every POLL_S); the result comes
back as a small `TrainOutcome` (the model stays in its file, named by `path`). A ModelError,
OSError or MusicError raised in the child is raised again in the parent with its message; a
child that dies (a signal, an exit without an answer) becomes a one-line ModelError naming how,
while the checkpoints and the model file it wrote (atomically) stay on disk. A child that
does not end within STOP_GRACE_S of a stop is killed; whatever way the call ends, the child is
reaped before it returns. The child exits when the parent's end of the pipe closes (the parent
died): it stops the run, which saves the best model, and leaves within PARENT_GONE_GRACE_S.
GUI-free; the CLI trains in its own process with `train_model`.
"""

from __future__ import annotations

import faulthandler
import logging
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any, Callable

from app.music.isolate import start_without_main
from app.training import TrainRequest, train_model
from app.training_data import TrainingData
from model.config import ModelConfig, TrainConfig
from model.errors import ModelError

log = logging.getLogger(__name__)

POLL_S = 0.05               # how often the parent looks at stop and pause
STOP_GRACE_S = 60.0         # after a stop, how long the child may take to save and leave
EXIT_GRACE_S = 10.0         # after its answer, how long the child may take to exit
PARENT_GONE_GRACE_S = 10.0  # an orphaned child's time to save the best model before it exits


@dataclass
class TrainOutcome:
    """What the parent learns of a run in the child: model.train.TrainResult without the
    model and its tensors (load the file at `path` for those)."""

    steps: int                   # optimiser steps done in total (resumed ones included)
    train_loss: float | None
    val_loss: float | None       # validation loss of the saved weights
    best_step: int | None
    stopped: bool                # ended early by the stop flag
    seconds: float
    chars_per_second: float
    path: str | None             # the model file written, None if the request named none
    model_config: ModelConfig
    train_config: TrainConfig
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, result) -> "TrainOutcome":
        """The outcome of a model.train.TrainResult."""
        return cls(result.steps, result.train_loss, result.val_loss, result.best_step,
                   result.stopped, result.seconds, result.chars_per_second, result.path,
                   result.model_config, result.train_config, result.history, result.summary)

    @property
    def val_bits_per_char(self) -> float | None:
        """The saved weights' validation loss in bits per character, None if never measured."""
        return None if self.val_loss is None else self.val_loss / math.log(2)


def train_in_child(request: TrainRequest, data: TrainingData,
                   on_progress: Callable | None = None, stop=None, pause=None) -> TrainOutcome:
    """Run `train_model(request, data, ...)` in a child process; see the module docstring."""
    return TrainingProcess(request, data).run(on_progress, stop, pause)


class TrainingProcess:
    """One training run in one child process: `run()` starts it and follows it to the end."""

    def __init__(self, request: TrainRequest, data: TrainingData) -> None:
        self.request, self.data = request, data
        self._process = None

    @property
    def pid(self) -> int | None:
        """The child's process id while `run` follows it, else None."""
        process = self._process
        return process.pid if process is not None else None

    def run(self, on_progress: Callable | None = None, stop=None, pause=None) -> TrainOutcome:
        """Train in a fresh child; hand each Progress to `on_progress` in this thread, forward
        `stop` and `pause` (Event-like); return the TrainOutcome. Raises what train_model
        raised (ModelError, OSError, ...), or ModelError when the child died or would not
        stop."""
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        # Only the pipe goes with the start: the request and the training text (megabytes) are
        # sent over it afterwards. Written during the start, they would fill the start pipe
        # and hold the process-start lock (which the music workers' restarts share) until the
        # child had imported torch and read them: stalls of half a second in the soak.
        process = context.Process(target=_child_main, args=(child_end,),
                                  name="ceol-training", daemon=True)
        start_without_main(process)
        child_end.close()
        self._process = process
        try:
            _send(parent_end, (self.request, self.data))
            return self._follow(process, parent_end, on_progress, stop, pause)
        except BaseException:
            process.kill()      # it answered with an error, died, or this thread failed
            raise
        finally:
            self._process = None
            _reap(process)
            parent_end.close()

    def _follow(self, process, conn, on_progress, stop, pause) -> TrainOutcome:
        paused, stopped_at = False, None
        while True:
            if stopped_at is None and stop is not None and stop.is_set():
                _send(conn, "stop")
                stopped_at = time.monotonic()
            elif stopped_at is not None and time.monotonic() - stopped_at > STOP_GRACE_S:
                process.kill()
                raise ModelError(f"the training process did not stop within "
                                 f"{STOP_GRACE_S:g} s and was ended; {self._kept()}")
            wanted = bool(pause is not None and pause.is_set())
            if wanted != paused:
                _send(conn, "pause" if wanted else "resume")
                paused = wanted
            ready = wait([conn, process.sentinel], POLL_S)
            if conn in ready:
                try:
                    kind, value = conn.recv()
                except (EOFError, OSError):
                    raise self._died(process) from None
                except Exception as err:  # noqa: BLE001 - a message this side cannot rebuild
                    raise ModelError(f"the training process's answer could not be read: "
                                     f"{type(err).__name__}: {err}") from None
                if kind == "progress":
                    if on_progress is not None:
                        on_progress(value)
                elif kind == "done":
                    return value
                else:
                    error, child_traceback = value
                    log.info("training in the child process failed:\n%s", child_traceback)
                    raise error
            elif process.sentinel in ready:
                raise self._died(process)

    def _died(self, process) -> ModelError:
        process.join(EXIT_GRACE_S)
        return ModelError(f"training process died ({exit_reason(process.exitcode)}); "
                          f"{self._kept()}")

    def _kept(self) -> str:
        """What the run left on disk, in words (files are written atomically: whole or old)."""
        checkpoint, out = self.request.checkpoint_path, self.request.out_path
        if checkpoint and os.path.exists(checkpoint):
            return f"its last checkpoint (the best weights so far with it) is kept in {checkpoint}"
        if out and os.path.exists(out):
            return f"the model saved before is kept in {out}"
        return "no model was saved yet"


def exit_reason(exitcode: int | None) -> str:
    """How a child ended, in words: "signal 9, SIGKILL" or "exit status 1"."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"signal {-exitcode}, {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit status {exitcode}"


def _send(conn, message) -> None:
    try:
        conn.send(message)
    except (OSError, EOFError):
        pass        # the child is gone; its sentinel tells the loop


def _reap(process) -> None:
    """Wait for the child to leave, killing it if it lingers: no zombie, no orphan."""
    process.join(EXIT_GRACE_S if process.exitcode is None else 0)
    if process.is_alive():
        process.kill()
        process.join(EXIT_GRACE_S)


# ------------------------------------------------------------------------- in the child


def _child_main(conn) -> None:
    """The child: read the request and the data, train, sending each report, then the
    outcome or the error."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the parent's to handle
    faulthandler.enable()                            # a native crash leaves a trace on stderr
    try:
        request, data = conn.recv()
    except (EOFError, OSError):
        os._exit(1)                                  # the parent is gone before it asked
    stop, pause = threading.Event(), threading.Event()
    threading.Thread(target=_listen, args=(conn, stop, pause), name="control",
                     daemon=True).start()

    def report(progress) -> None:
        try:
            conn.send(("progress", progress))
        except (OSError, EOFError):
            stop.set()          # the parent is gone: end the run, which saves the model

    try:
        answer = ("done", TrainOutcome.of(train_model(request, data, report, stop, pause)))
    except BaseException as err:  # noqa: BLE001 - every failure goes back to the parent
        answer = ("raise", (_portable(err), traceback.format_exc()))
    try:
        conn.send(answer)
    except (OSError, EOFError):
        pass
    # Leave at once: the files are written and closed, and tearing down torch at interpreter
    # exit costs the waiting window most of a second.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _listen(conn, stop: threading.Event, pause: threading.Event) -> None:
    """Apply the parent's control messages; when the parent is gone, stop the run and make
    sure the process leaves soon after even if the run does not end."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message == "stop":
            stop.set()
        elif message == "pause":
            pause.set()
        elif message == "resume":
            pause.clear()
    stop.set()
    pause.clear()
    time.sleep(PARENT_GONE_GRACE_S)
    os._exit(1)


def _portable(err: BaseException) -> BaseException:
    """The error itself if the parent can rebuild it, else a ModelError with its words."""
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:  # noqa: BLE001 - any exception that does not survive the pipe
        return ModelError(f"training failed: {type(err).__name__}: {err}")
