"""`python main.py train`: train or fine-tune a music model from the command line.

The options become an `app.training.TrainRequest`; the tunes are read and prepared by
`app.training_data` and the run goes through `app.training.train_model`, the services the Train
panel uses too. This module adds what a terminal needs: a progress bar (app.cli.progress),
Ctrl-C to stop early and still save, a default model file name (model.paths), a one-line error
for a full disk, and printing under `torchrun` from the main process only. torch is imported
when the command runs, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
from pathlib import Path

from model.config import DEFAULT_PRESET, PRESETS

# Options that change the preset's ModelConfig / TrainConfig, by field name.
MODEL_OPTIONS = {"hidden_size": "hidden_size", "layers": "num_layers",
                 "embedding_size": "embedding_size", "dropout": "dropout", "cell": "cell"}
TRAIN_OPTIONS = {"seq_len": "seq_len", "batch_size": "batch_size", "lr": "learning_rate",
                 "weight_decay": "weight_decay", "seed": "seed", "device": "device",
                 "threads": "threads", "precision": "precision", "eval_every": "eval_interval"}


def register(subparsers) -> None:
    """Add the `train` command."""
    presets = "; ".join(f"{p.name}: {p.note}" for p in PRESETS.values())
    p = subparsers.add_parser(
        "train", help="train or fine-tune a music model",
        description="Train a character-level recurrent model of ABC tunes (or fine-tune one with "
        f"--from). Presets: {presets}. Ctrl-C stops early and still saves the best model. "
        "Under `torchrun --nproc_per_node=N main.py train ...` it trains data-parallel.")
    _data_and_budget(p)
    _run_options(p)
    _overrides(p)
    _text_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_train)


def _data_and_budget(p) -> None:
    """What to train on, where the model goes, from what, and for how long."""
    p.add_argument("--data", nargs="+", required=True, metavar="SOURCE",
                   help="ABC/MIDI files, folders, or a built-in corpus: celtic, essen, miscfolk, "
                   "nottingham, all")
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


def _run_options(p) -> None:
    """Where and how the run goes: device, seed, threads, checkpoints, validation."""
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


def _overrides(p) -> None:
    """The preset's settings, one option each."""
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


def _text_options(p) -> None:
    """What the training text keeps, and the tunes in other keys."""
    text = p.add_argument_group("training text")
    moves = text.add_mutually_exclusive_group()
    moves.add_argument("--transpose", type=int, default=0, metavar="N",
                       help="also train on each tune in N other keys of its mode, the plainest "
                       "first (0-11; default 0)")
    moves.add_argument("--transpose-keys", nargs="+", default=(), metavar="TONIC",
                       help="also train on each tune moved to these tonics (e.g. D G A), "
                       "its mode kept")
    text.add_argument("--no-titles", action="store_true",
                      help="drop T: titles from the training text (default: the first kept)")
    text.add_argument("--no-styles", action="store_true",
                      help="no O:<style> line (default: irish, scottish, german... when known)")
    text.add_argument("--keep-annotations", action="store_true",
                      help="keep fingerings, bowing marks and text in quotes (default: dropped)")
    text.add_argument("--keep-numbers", action="store_true",
                      help="keep the X: number as the file writes it for one tune in 8 (chosen by "
                      "a hash; the others X:1): a model then scores tune books as written "
                      "better, and X:1, with which generation starts, stands for any tune")
    text.add_argument("--keep-headers", action="store_true",
                      help="keep each tune's header fields as its file writes them, in order, "
                      "less bibliographic ones (B D F H N S Z) (default: X O T R M L Q K, "
                      "normalised)")


def train_request(args: argparse.Namespace):
    """Return the app.training.TrainRequest the options ask for (--out filled in first)."""
    from app.training import TrainRequest
    from model.paths import checkpoint_path_for

    return TrainRequest(
        preset=args.preset, steps=args.steps, minutes=args.minutes, out_path=args.out,
        checkpoint_path=str(checkpoint_path_for(args.out)) if args.checkpoint_every else None,
        checkpoint_interval=args.checkpoint_every, init_from=args.init_from,
        resume_from=args.resume,
        model_changes={field: getattr(args, option, None)
                       for option, field in MODEL_OPTIONS.items()},
        train_changes={field: getattr(args, option, None)
                       for option, field in TRAIN_OPTIONS.items()})


def text_options(args: argparse.Namespace):
    """Return the app.music.normalize.TextOptions the options ask for."""
    from app.music.normalize import TextOptions

    return TextOptions(titles=not args.no_titles, styles=not args.no_styles,
                       annotations=args.keep_annotations, numbers=args.keep_numbers,
                       headers=args.keep_headers)


def run_train(args: argparse.Namespace) -> int:
    """Load the corpus, train, save the model and print a summary."""
    from app.cli.progress import ProgressBar
    from app.training import train_model, training_configs
    from app.training_data import training_data_from_sources
    from model.device import resolve_device
    from model.distributed import launched_by_torchrun
    from model.errors import ModelError
    from model.paths import new_model_path

    if not args.out:
        args.out = str(new_model_path(args.data, args.preset))
    request = train_request(args)
    config, _ = training_configs(request)
    if not 0.0 <= args.valid_fraction < 1.0:
        raise ModelError(f"--valid-fraction must be in [0, 1), got {args.valid_fraction}")
    resolve_device(config.device)  # a missing CUDA device fails before the corpus loads
    is_main = int(os.environ.get("RANK", "0")) == 0

    def skipped(problem, validation: bool) -> None:
        if is_main:
            where = " (validation)" if validation else ""
            print(f"ceol train: skipped{where}: {problem}", file=sys.stderr)

    data = training_data_from_sources(args.data, valid_sources=getattr(args, "valid_data", None),
                                      valid_fraction=args.valid_fraction,
                                      seq_len=config.seq_len, on_problem=skipped,
                                      text=text_options(args), transpose=args.transpose,
                                      transpose_keys=args.transpose_keys)
    if is_main and (args.transpose or args.transpose_keys):
        s = data.summary
        print(f"ceol train: {s['train_tunes']:,} tunes and {s['transposed_copies']:,} "
              f"transposed copies, {len(data.train_text):,} characters "
              f"({s['untransposable_tunes']} tunes kept in their own key only)", file=sys.stderr)
    stop = threading.Event()
    previous = _stop_on_interrupt(stop)
    bar = ProgressBar(enabled=is_main and not args.quiet)
    try:
        result = train_model(request, data, bar.update, stop)
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
