"""The window's jobs: thin adapters from a JobContext to the GUI-free services.

Each function takes a JobContext first (stop and pause flags, progress and result hooks, see
app.workers.Job) and calls one service, passing `ctx.progress`/`ctx.result` as its hooks and
`ctx.stop` as its stop flag: opening files (app.tune_files), exporting (app.tune_export),
generating (app.generation_records), preparing data and training (app.training_data,
app.training_process). The CLI calls the same services. No Qt here; bad input raises
MusicError/ModelError with a one-line message naming the file, which the window shows in its
status bar or a dialog. The loaded model is shared through app.model_cache.
"""

from __future__ import annotations

import logging
import threading
import time

from app import training_data
from app.model_cache import MODELS
from app.music.normalize import TextOptions
from app.training import TrainRequest
from app.training_data import TrainingData
from app.training_process import TrainOutcome, train_in_child
from app.tune_files import LoadedFile

__all__ = ["LoadedFile", "load_paths", "load_builtin", "render_midi", "export_tune",
           "send_to_midi_port", "warm_up", "cached_model", "generate_tunes",
           "prepare_training_data", "run_training"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- files


def load_paths(ctx, paths: list[str]) -> int:
    """Read files and folders; hand each file's tunes (or its error) to ctx.result."""
    from app.tune_files import load_paths as load

    return load(paths, ctx.result, ctx.progress, ctx.stop)


def load_builtin(ctx, name: str) -> LoadedFile:
    """Load a built-in corpus (celtic or essen) as ABC texts."""
    from app.tune_files import load_builtin as load

    ctx.progress((0, 1, name))
    return load(name)


# ---------------------------------------------------------------- sound and export


def render_midi(abc: str, **options) -> bytes:
    """Render a tune to MIDI bytes (what 'playable' means when no sound card exists)."""
    from app.music.abc_midi import abc_to_midi

    return abc_to_midi(abc, **options)


def export_tune(ctx, abc: str, path: str, provenance: dict, options: dict) -> str:
    """Write a tune as .abc, .mid, .wav, .musicxml, .svg or .png (by the path's extension)."""
    from app.tune_export import export_tune_file

    return export_tune_file(abc, path, provenance, options)


def send_to_midi_port(ctx, abc: str, port: str, program: int, tempo: float | None,
                      transpose: int) -> int:
    """Play a tune on a system MIDI port in real time until it ends or ctx.stop is set."""
    from app.music.midi_out import send_abc

    return send_abc(abc, port, program=program, tempo_qpm=tempo, transpose=transpose,
                    stop=ctx.stop)


# ---------------------------------------------------------------- models and generation


def warm_up(ctx, model_path: str | None, count: int = 8) -> float:
    """Warm up torch, music21, the engraver and the model off the GUI thread (app.warm_up)."""
    from app.warm_up import warm_up as warm

    return warm(model_path, count)


def cached_model(model_path: str):
    """The shared model cache's copy of a model file (app.model_cache)."""
    return MODELS.get(model_path)


def generate_tunes(ctx, model_path: str, options: dict, headers: dict, prime: str) -> int:
    """Sample tunes; hand each to ctx.result as (abc, provenance, probabilities).

    The abc is the repaired tune; the provenance lists the repairs made.
    """
    from app.generation_controls import controls_from_options
    from app.generation_records import generate_records
    from app.music.repair import repair_in_worker
    from model.errors import ModelError

    ctx.progress((0, options["count"]))
    try:
        model_file = cached_model(model_path)
    except FileNotFoundError:
        raise ModelError(f"{model_path}: the model file is gone") from None
    if ctx.cancelled:
        return 0
    controls = controls_from_options(options, headers, prime)
    try:
        # the tunes are checked and repaired in a worker process, so that pure Python work
        # does not hold the GIL against the GUI thread (app.music.repair.repair_in_worker)
        return generate_records(model_file, model_path, controls, headers, ctx.result,
                                ctx.progress, ctx.stop, repair=repair_in_worker)
    except ValueError as exc:
        raise ModelError(str(exc)) from None


# ---------------------------------------------------------------- training


def prepare_training_data(ctx, sources: list[str], abcs: list[str], name: str,
                          base_model: str | None, seq_len: int,
                          text: TextOptions = TextOptions(),
                          transpose: int = 0) -> TrainingData | None:
    """Load tunes (corpora, files, or given ABC texts), split them, write their training text
    as `text` says (with `transpose` copies of each in other keys) and summarise them; None
    when cancelled.

    The work runs in a child process (app.music.isolate.Worker), not on this thread: reading
    and writing out a corpus is seconds of pure Python, and on a thread of the window's process
    it held the GIL against the GUI thread, which waited up to 5 ms for it at every Python call
    of each event-loop pass (stalls of up to 0.7 s at each training start in the soak; py-spy
    dumps in benchmarks/RESULTS.md). Stop kills the child at once.
    """
    from app.music.errors import EngineCancelled
    from app.music.isolate import Worker

    ctx.progress(("Reading the tunes…",))
    worker = Worker("training data preparation")
    finished = threading.Event()
    threading.Thread(target=_cancel_on_stop, args=(ctx.stop, finished, worker),
                     name="prepare-cancel", daemon=True).start()
    try:
        return worker.call(training_data.training_data_from_sources, sources, abcs, name,
                           timeout=None, base_model=base_model, seq_len=seq_len, text=text,
                           transpose=transpose)
    except EngineCancelled:
        if ctx.cancelled:
            return None
        raise
    finally:
        finished.set()
        worker.close()


def _cancel_on_stop(stop, finished, worker, poll_s: float = 0.05) -> None:
    """Kill the worker's call once `stop` is set, unless `finished` comes first."""
    while not finished.wait(poll_s):
        if stop.is_set():
            worker.cancel()
            return


class _Throttle:
    """Pass training progress on at most every `interval` s (always evaluations, the last
    step, and the step before a pause, so a paused display shows where the run waits)."""

    def __init__(self, ctx, interval: float = 0.1) -> None:
        self.ctx, self.interval, self.last = ctx, interval, 0.0

    def __call__(self, progress) -> None:
        now = time.perf_counter()
        if (progress.evaluated or progress.step >= progress.steps or self.ctx.pause.is_set()
                or now - self.last >= self.interval):
            self.last = now
            self.ctx.progress(progress)


def run_training(ctx, data: TrainingData, request: TrainRequest) -> TrainOutcome:
    """Train as the app.training.TrainRequest asks, in a child process (app.training_process:
    the window keeps none of the run's memory and survives a crash in torch); returns the
    TrainOutcome, whose `path` names the model file.

    `ctx.pause` pauses the run in place between steps; `ctx.stop` ends it (also while paused).
    """
    return train_in_child(request, data, _Throttle(ctx), ctx.stop, ctx.pause)
