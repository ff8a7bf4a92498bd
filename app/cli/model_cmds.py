"""`train`, `generate`, `evaluate` and `model-info`: the music model from the command line.

These commands only turn arguments into the model package's configs and print results; torch
and music21 are imported inside the command functions so `python main.py --help` stays fast.
Bad input (an empty corpus, a non-model file, a bad setting, a missing CUDA device) arrives
here as MusicError/ModelError/OSError and becomes one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from model.config import DEFAULT_PRESET, PRESETS, SampleConfig


def register(subparsers) -> None:
    """Add the model commands."""
    _register_train(subparsers)
    _register_generate(subparsers)
    _register_evaluate(subparsers)
    p = subparsers.add_parser("model-info", help="describe a model file",
                              description="Print a model file's configs, vocabulary size and "
                              "training summary (read from its metadata; nothing is executed).")
    p.add_argument("model", metavar="MODEL", help="a .safetensors model file")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.set_defaults(func=run_model_info)


def _register_train(subparsers) -> None:
    presets = "; ".join(f"{p.name}: {p.note}" for p in PRESETS.values())
    p = subparsers.add_parser(
        "train", help="train or fine-tune a music model",
        description="Train a character-level recurrent model of ABC tunes (or fine-tune one with "
        f"--from). Presets: {presets}. Ctrl-C stops early and still saves the best model. "
        "Under `torchrun --nproc_per_node=N main.py train ...` it trains data-parallel.")
    p.add_argument("--data", nargs="+", required=True, metavar="SOURCE",
                   help="ABC/MIDI files, folders, or a built-in corpus: celtic, essen")
    p.add_argument("--out", metavar="MODEL", help="model file to write (default: a new file in "
                   "the user's model folder)")
    p.add_argument("--preset", default=DEFAULT_PRESET, metavar="NAME",
                   help=f"one of {', '.join(PRESETS)} (default {DEFAULT_PRESET})")
    p.add_argument("--from", dest="init_from", metavar="MODEL",
                   help="fine-tune this model file (its vocabulary grows for new characters)")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a checkpoint exactly")
    limit = p.add_mutually_exclusive_group()
    limit.add_argument("--minutes", type=float, metavar="M", help="train for M minutes")
    limit.add_argument("--steps", type=int, metavar="N", help="train for N optimiser steps")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help="where to train (default auto: CUDA, then MPS, then CPU)")
    p.add_argument("--seed", type=int, help="random seed (default the preset's, 0)")
    p.add_argument("--threads", type=int, help="CPU threads (default: one per idle core)")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"],
                   help="override the preset's arithmetic (auto: bf16 where native)")
    p.add_argument("--checkpoint-every", type=int, metavar="N",
                   help="write a resumable checkpoint MODEL.ckpt.safetensors every N steps")
    p.add_argument("--valid-fraction", type=float, default=0.1, metavar="F",
                   help="share of tunes held out for the validation loss (default 0.1)")
    p.add_argument("--eval-every", type=int, metavar="N",
                   help="steps between validation losses and best-model snapshots (default: "
                   "the preset's)")
    p.add_argument("--valid-data", nargs="+", metavar="SOURCE",
                   help="validation tunes from these files or corpora instead of a held-out "
                   "share of --data (all of --data is then trained on)")
    for flag, kind, text in (("--seq-len", int, "characters per window"),
                             ("--batch-size", int, "windows per step"),
                             ("--lr", float, "peak learning rate"),
                             ("--weight-decay", float, "AdamW weight decay"),
                             ("--hidden-size", int, "units per recurrent layer"),
                             ("--layers", int, "recurrent layers"),
                             ("--embedding-size", int, "embedding width"),
                             ("--dropout", float, "dropout")):
        p.add_argument(flag, type=kind, help=f"override the preset's {text}")
    p.add_argument("--cell", choices=["lstm", "gru", "rnn_tanh", "rnn_relu"],
                   help="override the preset's recurrent cell")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_train)


def _register_generate(subparsers) -> None:
    d = SampleConfig()
    p = subparsers.add_parser(
        "generate", help="generate tunes with a model",
        description="Sample tunes from a model and print them as ABC (or write one .abc file per "
        "tune with --out), repaired by the checker's repair (--raw: as the model wrote them); "
        "the repairs of each tune are listed on stderr. Header options go into the prime so the "
        "model writes the body; --bars/--parts end the tune after that many bars; characters of "
        "--prime the model never saw are read as its unknown symbol.")
    p.add_argument("--model", metavar="MODEL", help="model file (default: the bundled model, "
                   "else your newest trained model)")
    p.add_argument("--count", type=int, default=d.count, metavar="N", help="tunes to generate")
    p.add_argument("--temperature", type=float, default=d.temperature, metavar="T",
                   help=f"above 0; lower is safer, higher wilder (default {d.temperature})")
    p.add_argument("--top-k", type=int, default=d.top_k, metavar="K",
                   help="sample only from the K likeliest characters (default 0: all)")
    p.add_argument("--top-p", type=float, default=d.top_p, metavar="P",
                   help="nucleus sampling mass in (0, 1] (default 1)")
    p.add_argument("--seed", type=int, help="random seed (default: a fresh one, printed)")
    p.add_argument("--meter", metavar="M", help="meter, e.g. 6/8")
    p.add_argument("--key", metavar="K", help="key, e.g. D or Ador")
    p.add_argument("--unit-length", metavar="L", help="unit note length (default 1/8)")
    p.add_argument("--rhythm", metavar="R", help="reel, jig, slip jig, hornpipe, polka, waltz...")
    p.add_argument("--title", metavar="T", help="title written into each tune")
    p.add_argument("--prime", metavar="TEXT|FILE", help="ABC text or file to continue")
    p.add_argument("--bars", type=int, metavar="N",
                   help="length in bars (1-256): the tune is closed after bar N")
    p.add_argument("--parts", type=int, metavar="N",
                   help="AABB form: N repeated parts of --part-bars bars (default 8)")
    p.add_argument("--part-bars", type=int, default=8, metavar="N", help="bars per part")
    p.add_argument("--continue", dest="continue_file", metavar="FILE",
                   help="continue the first tune of this ABC file from its first bars")
    p.add_argument("--continue-bars", type=int, default=4, metavar="N",
                   help="bars of the --continue tune to keep (default 4)")
    p.add_argument("--attempts", type=int, default=3, metavar="N",
                   help="sample a tune again when it is not clean after repair, up to N "
                   "tries in all (default 3; 1: keep the first sample)")
    p.add_argument("--free-length", action="store_true",
                   help="without --bars/--parts, let the model decide where each tune ends "
                   "(default: a length drawn from the model's training tunes in that meter)")
    p.add_argument("--no-fit-bars", action="store_true",
                   help="keep bars as sampled (default: a bar too long or too short for the "
                   "meter is sampled again, up to 8 times)")
    p.add_argument("--raw", action="store_true",
                   help="print what the model wrote, unrepaired (default: repaired tunes)")
    p.add_argument("--max-chars", type=int, default=d.max_chars, metavar="N",
                   help=f"length cap per tune in characters (default {d.max_chars})")
    p.add_argument("--out", metavar="DIR", help="write one .abc file per tune into DIR")
    p.add_argument("--json", action="store_true",
                   help="print the results (text, settings, probabilities) as JSON")
    p.set_defaults(func=run_generate)


def _register_evaluate(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="bits per character of held-out tunes",
        description="Score text with a model as the reference lab does: each blank-line separated "
        "block from a fresh state, first character unscored, unknown characters skipped and "
        "counted. Files are scored as raw text; a built-in corpus name scores its validation "
        "split in training format.")
    p.add_argument("--model", metavar="MODEL", help="model file (default as for generate)")
    p.add_argument("--data", nargs="+", required=True, metavar="SOURCE",
                   help="text/ABC files, folders, or celtic/essen (their validation tunes)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_evaluate)


# ---------------------------------------------------------------- train


def _train_configs(args):
    from model.config import preset, updated
    from model.errors import ModelError
    from model.paths import checkpoint_path_for

    chosen = preset(args.preset)
    model_config = updated(chosen.model, hidden_size=args.hidden_size, num_layers=args.layers,
                           embedding_size=args.embedding_size, dropout=args.dropout,
                           cell=args.cell)
    steps, minutes = chosen.train.steps, chosen.train.minutes
    if args.steps is not None:
        steps, minutes = args.steps, None
    elif args.minutes is not None:
        steps, minutes = 10 ** 9, args.minutes
    checkpoint = str(checkpoint_path_for(args.out)) if args.checkpoint_every else None
    config = updated(chosen.train, seq_len=args.seq_len, batch_size=args.batch_size,
                     learning_rate=args.lr, weight_decay=getattr(args, "weight_decay", None),
                     seed=args.seed, device=args.device,
                     threads=args.threads, precision=args.precision,
                     eval_interval=getattr(args, "eval_every", None), checkpoint_interval=args.checkpoint_every,
                     checkpoint_path=checkpoint, out_path=args.out)
    from dataclasses import replace

    config = replace(config, steps=steps, minutes=minutes)
    if not 0.0 <= args.valid_fraction < 1.0:
        raise ModelError(f"--valid-fraction must be in [0, 1), got {args.valid_fraction}")
    model_config.check()
    config.check()
    return config, model_config


def run_train(args: argparse.Namespace) -> int:
    """Load the corpus, train, save the model and print a summary."""
    from app.music.corpus import load_corpus
    from model.distributed import launched_by_torchrun

    if not args.out:
        from model.paths import user_models_dir

        name = "-".join(Path(s).stem for s in args.data)[:40] or "model"
        args.out = str(user_models_dir() /
                       f"{name}-{args.preset}-{datetime.now():%Y%m%d-%H%M%S}.safetensors")
    config, model_config = _train_configs(args)
    from model.device import resolve_device

    resolve_device(config.device)  # a missing CUDA device fails before the corpus loads
    corpus = load_corpus(args.data)
    is_main = int(os.environ.get("RANK", "0")) == 0
    if is_main:
        for problem in corpus.problems:
            print(f"ceol train: skipped: {problem}", file=sys.stderr)
    valid_tunes = None
    if getattr(args, "valid_data", None):
        valid_corpus = load_corpus(args.valid_data)
        if is_main:
            for problem in valid_corpus.problems:
                print(f"ceol train: skipped (validation): {problem}", file=sys.stderr)
        valid_tunes = valid_corpus.tunes
        if not valid_tunes:
            from model.errors import ModelError

            raise ModelError(f"no tunes in the validation data {' '.join(args.valid_data)}")
    from app.training_data import prepare_training_data
    from model.train import train

    prepared = prepare_training_data(corpus.tunes, corpus.name, valid_tunes=valid_tunes,
                                     valid_fraction=args.valid_fraction, seq_len=config.seq_len)
    data = prepared.for_model()
    stop = threading.Event()
    previous = _stop_on_interrupt(stop)
    bar = ProgressBar(enabled=is_main and not args.quiet)
    try:
        result = train(config, data, bar.update, stop, model_config=model_config,
                       init_from=args.init_from, resume_from=args.resume)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise _disk_full(exc, config.checkpoint_path) from None
    finally:
        bar.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if is_main:
        s = result.summary
        bpc = f", validation {s['val_bits_per_char']:.3f} bits/char" \
            if s.get("val_bits_per_char") is not None else ""
        how = " (stopped early)" if result.stopped else ""
        world = f" on {s['world_size']} processes" if launched_by_torchrun() else ""
        print(f"saved {result.path}: {result.steps} steps{how}{world}, "
              f"{s['chars_per_second']:,.0f} chars/s{bpc}")
    return 0


def _disk_full(exc: OSError, checkpoint: str | None):
    """Return the one-line error for a full disk, naming the file and what was kept."""
    from model.errors import ModelError

    kept = "the earlier file is kept"
    if checkpoint and Path(checkpoint).is_file():
        kept += f"; continue later with --resume {checkpoint}"
    return ModelError(f"{exc.filename or 'a file'}: no space left on device; {kept}")


def _stop_on_interrupt(stop: threading.Event):
    """Make the first Ctrl-C set `stop` (training then saves); a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nceol train: stopping after this step (Ctrl-C again to abort)", file=sys.stderr)

    return signal.signal(signal.SIGINT, handler)


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most a few times a second."""

    def __init__(self, enabled: bool = True, stream=None, width: int = 24) -> None:
        self.enabled, self.stream, self.width = enabled, stream or sys.stderr, width
        self.last = 0.0
        self.drawn = False

    def update(self, p) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.25 and not p.evaluated and p.step != p.steps):
            return
        self.last = now
        by_time = p.steps >= 10 ** 9
        if by_time and p.eta is not None:
            done = p.elapsed / max(p.elapsed + p.eta, 1e-9)
        else:
            done = p.step / p.steps
        fill = int(self.width * min(1.0, done))
        val = f" val {p.val_loss / 0.6931471805599453:.3f} bpc" if p.val_loss is not None else ""
        eta = f" ETA {_clock(p.eta)}" if p.eta is not None else ""
        steps = f"{p.step}" if by_time else f"{p.step}/{p.steps}"
        line = (f"\r[{'#' * fill}{'.' * (self.width - fill)}] step {steps} "
                f"loss {p.train_loss:.3f}{val} {p.chars_per_second:,.0f} chars/s{eta}")
        self.stream.write(line.ljust(100)[:120])
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


# ---------------------------------------------------------------- generate


def _load(path: str | None):
    from model.checkpoint import load_model
    from model.paths import default_model_path

    return load_model(path or default_model_path())


def run_generate(args: argparse.Namespace) -> int:
    """Sample tunes with app.generation and print them repaired (or write them into --out DIR).

    Repairs and warnings go to stderr, one line per tune, so stdout stays clean ABC.
    """
    from app.generation import GenerationControls, generate_tunes
    from model.errors import ModelError

    prime_text = args.prime
    if prime_text and len(prime_text) < 4096 and os.path.isfile(prime_text):
        prime_text = Path(prime_text).read_text(encoding="utf-8", errors="replace")
    continue_from = None
    if args.continue_file:
        continue_from = Path(args.continue_file).read_text(encoding="utf-8", errors="replace")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise ModelError(f"{args.out}: exists and is not a folder")
    controls = GenerationControls(
        key=args.key, meter=args.meter, unit_length=args.unit_length, rhythm=args.rhythm,
        title=args.title, bars=args.bars, parts=args.parts, bars_per_part=args.part_bars,
        continue_from=continue_from, continue_bars=args.continue_bars, prime=prime_text,
        count=args.count, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        seed=args.seed, max_chars=args.max_chars, attempts=args.attempts,
        auto_length=not args.free_length, fit_bars=not args.no_fit_bars)
    SampleConfig(count=args.count, temperature=args.temperature, top_k=args.top_k,
                 top_p=args.top_p, max_chars=args.max_chars, seed=args.seed).check()
    loaded = _load(args.model)
    try:
        tunes = generate_tunes(loaded, controls)
    except ValueError as exc:
        raise ModelError(f"{args.continue_file}: {exc}" if args.continue_file
                         and "continue" in str(exc) else str(exc)) from None
    for warning in tunes[0].warnings if tunes else []:
        print(f"ceol generate: {warning}", file=sys.stderr)
    texts = [_numbered(t.original if args.raw else t.text, i + 1) for i, t in enumerate(tunes)]
    for i, t in enumerate(tunes):
        if not args.raw and (t.repairs or not t.ok):
            state = "repaired" if t.ok else "NOT clean after repair"
            what = "; ".join(t.repairs) or "no repair found"
            left = f" (left: {t.problems_left[0].message})" if not t.ok and t.problems_left else ""
            print(f"ceol generate: tune {i + 1} {state}: {what}{left}", file=sys.stderr)
    if args.out:
        from model.checkpoint import write_atomic

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        seed = tunes[0].settings["seed"]
        for i, text in enumerate(texts):
            path = folder / f"tune-{seed}-{i + 1:02d}.abc"
            write_atomic(path, text.encode("utf-8"))
            print(path)
    elif args.json:
        print(json.dumps([{"text": text, "original": t.original, "prime": t.prime,
                           "generated": t.generated, "finished": t.finished,
                           "repairs": t.repairs, "ok": t.ok, "bars": t.bars,
                           "problems_left": [p.message for p in t.problems_left],
                           "warnings": t.warnings, "settings": t.settings,
                           "probabilities": t.probabilities}
                          for text, t in zip(texts, tunes)], ensure_ascii=False))
    else:
        print("\n".join(texts), end="")
    print(f"ceol generate: seed {tunes[0].settings['seed']}", file=sys.stderr)
    return 0


def _numbered(text: str, number: int) -> str:
    if text.startswith("X:"):
        return f"X:{number}" + text[text.find("\n"):] if "\n" in text else f"X:{number}\n"
    return text


# ---------------------------------------------------------------- evaluate


def evaluation_blocks(sources: list[str]) -> list[str]:
    """Return the blocks to score: raw files as written, built-in corpora's validation tunes."""
    from app.music.corpus import BUILTIN_CORPORA, load_corpus
    from app.music.normalize import corpus_text
    from model.evaluate import split_blocks

    blocks: list[str] = []
    for source in sources:
        path = Path(source)
        if not path.exists() and source in BUILTIN_CORPORA:
            _, valid = load_corpus([source]).split()
            blocks += split_blocks(corpus_text(valid))
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            with open(file, encoding="utf-8", errors="replace") as f:
                blocks += split_blocks(f.read())
    return blocks


def run_evaluate(args: argparse.Namespace) -> int:
    """Print bits per character of the data under the model."""
    from model.errors import ModelError
    from model.evaluate import evaluate

    blocks = evaluation_blocks(args.data)
    if not blocks:
        raise ModelError(f"nothing to score in {', '.join(args.data)}")
    loaded = _load(args.model)
    figures = evaluate(loaded.model, loaded.vocab, blocks)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['bits_per_char']:.4f} bits per character over "
              f"{figures['scored_chars']:,} characters ({figures['unknown_chars_skipped']} "
              "unknown characters skipped)")
    return 0


# ---------------------------------------------------------------- model-info


def run_model_info(args: argparse.Namespace) -> int:
    """Print a model file's metadata (without loading torch)."""
    from model.checkpoint_meta import read_metadata

    meta = read_metadata(args.model)
    if args.json:
        meta = dict(meta, resume=bool(meta.get("resume")))
        print(json.dumps(meta, ensure_ascii=False))
        return 0
    m, t, s = meta["model_config"], meta.get("train_config") or {}, meta.get("training") or {}
    lines = [f"{args.model}",
             f"  model: {m.get('cell')} {m.get('num_layers')}x{m.get('hidden_size')}, "
             f"embedding {m.get('embedding_size')}, dropout {m.get('dropout')}",
             f"  vocabulary: {len(meta['vocab'])} characters (index 0 = unknown)"]
    if t:
        lines.append(f"  training: windows {t.get('seq_len')}, batch {t.get('batch_size')}, "
                     f"{t.get('optimizer')} lr {t.get('learning_rate')}, seed {t.get('seed')}")
    if s:
        bpc = s.get("val_bits_per_char")
        lines.append(f"  corpus: {s.get('corpus') or '?'}, {s.get('tune_count', 0)} tunes, "
                     f"{s.get('train_chars', 0):,} characters")
        lines.append(f"  steps: {s.get('steps')}, train loss {s.get('train_loss')}, "
                     f"validation {bpc if bpc is not None else '?'} bits/char, "
                     f"date {s.get('date', '?')}")
        if s.get("fine_tuned_from"):
            lines.append(f"  fine-tuned from: {s['fine_tuned_from']}")
    if meta.get("resume"):
        lines.append("  resumable checkpoint (optimiser state included)")
    print("\n".join(lines))
    return 0
