"""`python main.py evaluate`: bits per character of held-out tunes under a model.

The scoring is `app.evaluation.evaluate_model` (each blank-line separated block from a fresh
state, as the reference lab scores); this module only prints its figures, as one line or JSON.
torch is imported when the command runs.
"""

from __future__ import annotations

import argparse
import json

from app.evaluation import EVAL_TEXTS


def register(subparsers) -> None:
    """Add the `evaluate` command."""
    p = subparsers.add_parser(
        "evaluate", help="bits per character of held-out tunes",
        description="Score text with a model as the reference lab does: each blank-line separated "
        "block from a fresh state, first character unscored, unknown characters skipped and "
        "counted; a second figure keeps them, each read as the model's unknown symbol. Files "
        "are scored as written (only line endings changed); a built-in corpus name scores its "
        "validation split in training format.")
    p.add_argument("--model", metavar="MODEL", help="model file (default as for generate)")
    p.add_argument("--data", nargs="+", required=True, metavar="SOURCE",
                   help="text/ABC files, folders, or a built-in corpus (celtic, essen, all...: "
                   "their validation tunes)")
    p.add_argument("--text", choices=EVAL_TEXTS, default="as-written",
                   help="how files are read: as-written (default), renumbered (every X: made 1, "
                   "so numbering costs nothing) or training (normalised as training text, the "
                   "old way)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="cpu",
                   help="where to score (default cpu; auto: CUDA, then MPS, then CPU)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    """Print bits per character of the data under the model."""
    from app.evaluation import evaluate_model

    figures = evaluate_model(args.model, args.data, args.text, args.device)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['bits_per_char']:.4f} bits per character over "
              f"{figures['scored_chars']:,} characters ({figures['unknown_chars_skipped']} "
              "unknown characters skipped)")
        if figures["unknown_chars_skipped"]:
            print(f"{figures['bits_per_char_all']:.4f} bits per character over all "
                  f"{figures['chars_all']:,}, unknown characters read as the unknown symbol")
    return 0
