"""The plain functions the window runs on worker threads (see app.workers.Job).

Each takes a JobContext first (stop flag, progress and result hooks) and calls the core:
reading tune books and MIDI files, loading corpora, exporting, sampling and training. They
hold no widgets; bad input raises MusicError/ModelError with a one-line message naming the
file, which the window shows in its status bar or a dialog.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app import training_data
from app.music.errors import MusicError
from app.training_data import TrainingData

log = logging.getLogger(__name__)
MAX_ABC_BYTES = 20 * 1024 * 1024     # larger "ABC" files are refused before reading
MAX_MIDI_BYTES = 8 * 1024 * 1024
ABC_SUFFIXES = (".abc", ".txt")
MIDI_SUFFIXES = (".mid", ".midi")


@dataclass
class LoadedFile:
    """The tunes read from one file (as ABC texts) and the problems met."""

    path: str
    abcs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _files_of(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*")
                      if p.suffix.lower() in ABC_SUFFIXES + MIDI_SUFFIXES and p.is_file())
    return [path]


def read_tune_file(path: Path) -> LoadedFile:
    """Read one ABC or MIDI file as ABC tunes; MusicError for anything else."""
    if not path.exists():
        raise MusicError("no such file", path=str(path))
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if suffix in MIDI_SUFFIXES:
        if size > MAX_MIDI_BYTES:
            raise MusicError(f"MIDI file too large ({size // 1_000_000} MB)", path=str(path))
        from app.music.midi_to_abc import midi_to_abc

        try:
            return LoadedFile(str(path), [midi_to_abc(str(path), title=path.stem)])
        except MusicError:
            raise
        except Exception as exc:  # mido raises many kinds of errors on corrupt files
            raise MusicError(f"not a readable MIDI file ({exc})", path=str(path)) from exc
    if suffix not in ABC_SUFFIXES:
        raise MusicError("not an ABC or MIDI file; Ceol opens .abc, .txt, .mid, .midi files "
                         "and folders", path=str(path))
    if size > MAX_ABC_BYTES:
        raise MusicError(f"too large to be a tune book ({size / 1e6:.0f} MB; the limit is "
                         f"{MAX_ABC_BYTES // 1_000_000} MB)", path=str(path))
    with open(path, "rb") as f:
        head = f.read(4096)
    if b"\0" in head or head.startswith(b"%PDF"):
        raise MusicError("a binary file, not ABC text", path=str(path))
    from app.music.tunebook import read_tune_book

    book = read_tune_book(str(path))
    loaded = LoadedFile(str(path), [t.abc() for t in book.tunes],
                        [str(p) for p in book.problems])
    if not loaded.abcs:
        raise MusicError("no tunes found (an ABC tune starts with an X: line)", path=str(path))
    return loaded


def load_paths(ctx, paths: list[str]) -> int:
    """Read files and folders; hand each file's tunes (or its error) to ctx.result."""
    files = [f for p in paths for f in _files_of(Path(p))]
    for i, path in enumerate(files):
        if ctx.cancelled:
            break
        ctx.progress((i, len(files), str(path)))
        try:
            ctx.result(read_tune_file(path))
        except MusicError as exc:
            ctx.result(exc)
    return len(files)


def load_builtin(ctx, name: str) -> LoadedFile:
    """Load a built-in corpus (celtic or essen) as ABC texts."""
    from app.music.corpus import load_corpus

    ctx.progress((0, 1, name))
    corpus = load_corpus([name])
    return LoadedFile(name, [t.abc() for t in corpus.tunes], [str(p) for p in corpus.problems])


def render_midi(abc: str, **options) -> bytes:
    """Render a tune to MIDI bytes (what 'playable' means when no sound card exists)."""
    from app.music.abc_midi import abc_to_midi

    return abc_to_midi(abc, **options)


EXPORT_TIMEOUT_S = 300.0   # a long tune's WAV takes seconds; a stuck conversion is stopped


def export_tune(ctx, abc: str, path: str, provenance: dict, options: dict) -> str:
    """Write a tune as .abc, .mid, .wav, .musicxml, .svg or .png (by the path's extension).

    The music21 formats run in the "music21" worker process (a stuck or crashing conversion
    costs that process); SVG and PNG go through the engraver's own worker process.
    """
    from app.music.audio import RenderOptions
    from app.music.export import export_tune as export
    from app.music.isolate import shared

    render = RenderOptions(instrument=options.get("instrument") or "piano",
                           tempo_qpm=options.get("tempo") or None,
                           transpose=int(options.get("transpose") or 0),
                           soundfont=options.get("soundfont") or None)
    if Path(path).suffix.lower() in (".svg", ".png"):
        return str(export(abc, path, render, provenance))
    return str(shared("music21").call(export, abc, path, render, provenance,
                                      timeout=EXPORT_TIMEOUT_S))


def _probabilities_over(text: str, generated: str, probabilities: list[float]) -> list[float]:
    """Spread the generated part's probabilities over the whole text (the prime counts as 1)."""
    start = text.rfind(generated) if generated else len(text)
    start = max(start, 0)
    tail = len(text) - start - len(probabilities)
    return [1.0] * start + list(probabilities) + [1.0] * max(tail, 0)


def send_to_midi_port(ctx, abc: str, port: str, program: int, tempo: float | None,
                      transpose: int) -> int:
    """Play a tune on a system MIDI port in real time until it ends or ctx.stop is set."""
    from app.music.midi_out import send_abc

    return send_abc(abc, port, program=program, tempo_qpm=tempo, transpose=transpose,
                    stop=ctx.stop)


_loaded_models: dict[tuple, object] = {}
_models_lock = threading.Lock()


def warm_up(ctx, model_path: str | None, count: int = 8) -> float:
    """Do once, off the GUI thread, what the first Generate and the first Play would pay for:
    start the music21 worker and the engraver, import torch, read the default model and prepare
    its sampling weights. Return the seconds it took. Errors are left to the real job to report."""
    import time

    start = time.perf_counter()
    try:
        from app.music import notation
        from app.music.audio import load_music21
        from app.music.isolate import shared

        shared("music21").call(load_music21, timeout=None)   # playback and the piano roll
        from model.config import SampleConfig
        from model.sample import prepare_sampling

        notation.warm_up()
        if model_path:
            loaded = cached_model(model_path)
            model = loaded.model.to("cpu").eval()
            prepare_sampling(model, SampleConfig(count=count))
    except Exception:  # noqa: BLE001 - a bad model or missing module is reported when used
        log.debug("warm-up stopped early", exc_info=True)
    return time.perf_counter() - start


def cached_model(model_path: str):
    """Load a model file once; a changed or replaced file (new size or time) is read again.

    Thread-safe: the warm-up and a Generate job asking at once load the file once, the second
    waiting for the first."""
    from model.checkpoint import load_model

    stat = Path(model_path).stat()
    key = (model_path, stat.st_mtime_ns, stat.st_size)
    with _models_lock:
        if key not in _loaded_models:
            _loaded_models.clear()          # keep one model in memory
            _loaded_models[key] = load_model(model_path)
        return _loaded_models[key]


def generate_tunes(ctx, model_path: str, options: dict, headers: dict, prime: str) -> int:
    """Sample tunes with app.generation; hand each to ctx.result as (abc, provenance, probs).

    The abc is the repaired tune; the provenance lists the repairs made.
    """
    from datetime import datetime, timezone

    from app.generation import GenerationControls, generate_tunes as generate
    from model.errors import ModelError

    ctx.progress((0, options["count"]))
    try:
        model_file = cached_model(model_path)
    except FileNotFoundError:
        raise ModelError(f"{model_path}: the model file is gone") from None
    if ctx.cancelled:
        return 0
    known = {"count", "temperature", "top_k", "top_p", "seed", "max_chars", "bars", "parts"}
    carry_on = {}
    if prime and options.get("continue_bars"):   # continue the selected tune from bar N
        carry_on = {"continue_from": prime, "continue_bars": options["continue_bars"]}
        prime = ""
    controls = GenerationControls(
        meter=headers.get("meter") or None, key=headers.get("key") or None,
        rhythm=headers.get("rhythm") or None, prime=prime or None,
        **carry_on, **{k: v for k, v in options.items() if k in known})
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    name = Path(model_path).name.removesuffix(".safetensors")
    done = []

    def hand_over(tune) -> None:
        """Each variation goes to the library the moment it is final (the first one while the
        rest of the batch is still being sampled)."""
        if ctx.cancelled:
            return
        provenance = {"date": date, "index": tune.settings.get("variation", len(done) + 1) - 1,
                      "arrival": len(done),      # 0: the first ready (the window shows it)
                      **{k: v for k, v in tune.settings.items() if not isinstance(v, list)},
                      "model": name, "model_path": model_path,
                      **{k: v for k, v in headers.items() if v}}
        if prime or carry_on:
            provenance["continued"] = True
        if tune.repairs:
            provenance["repairs"] = "; ".join(tune.repairs)
        text = tune.text
        ctx.result((text, provenance,
                    _probabilities_over(text, tune.generated, tune.probabilities)))
        done.append(tune)
        ctx.progress((len(done), options["count"]))

    try:
        generate(model_file, controls, on_tune=hand_over, stop=_Cancelled(ctx))
    except ValueError as exc:
        raise ModelError(str(exc)) from None
    return len(done)


class _Cancelled:
    """The job's cancel flag as the Event-like `stop` the generation service takes."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def is_set(self) -> bool:
        return bool(self.ctx.cancelled)


def prepare_training_data(ctx, sources: list[str], abcs: list[str], name: str,
                          base_model: str | None, seq_len: int) -> TrainingData:
    """Load tunes (corpora, files, or given ABC texts), split them and summarise them."""
    from app.music.corpus import load_corpus
    from app.music.tunebook import parse_tune_book

    ctx.progress(("Reading the tunes…",))
    tunes = list(load_corpus(sources).tunes) if sources else []
    for abc in abcs:
        tunes.extend(parse_tune_book(abc).tunes)
    base_vocab = None
    if base_model:
        from app.ui.model_files import read_model_info

        base_vocab = read_model_info(base_model).meta.get("vocab", [])
    return training_data.prepare_training_data(tunes, name, base_vocab=base_vocab,
                                               seq_len=seq_len)


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


def run_training(ctx, data: TrainingData, preset_name: str, base_model: str | None,
                 steps: int | None, minutes: float | None, out_path: str, checkpoint_path: str,
                 resume: bool, threads: int):
    """Train (or resume a checkpoint); returns model.train's TrainResult.

    `ctx.pause` pauses the run in place between steps; `ctx.stop` ends it (also while paused).
    """
    from dataclasses import replace

    from model.config import preset
    from model.train import train

    chosen = preset(preset_name)
    config = replace(chosen.train, out_path=out_path, checkpoint_path=checkpoint_path,
                     checkpoint_interval=max(chosen.train.eval_interval, 10), threads=threads,
                     steps=steps or 10_000_000, minutes=minutes)
    train_data = data.for_model()
    kwargs = {"model_config": chosen.model}
    if resume and Path(checkpoint_path).exists():
        kwargs["resume_from"] = checkpoint_path
    elif base_model:
        kwargs["init_from"] = base_model
    return train(config, train_data, _Throttle(ctx), ctx.stop, pause=ctx.pause, **kwargs)


def sample_checkpoint(ctx, checkpoint_path: str, seed: int) -> str:
    """Write one tune with the weights of a training checkpoint (the sample shown while training)."""
    from model.checkpoint import load_model
    from model.config import SampleConfig
    from model.sample import generate

    model_file = load_model(checkpoint_path)
    return generate(model_file.model, model_file.vocab,
                    SampleConfig(count=1, max_chars=800, seed=seed), "X:1\n")[0].text
