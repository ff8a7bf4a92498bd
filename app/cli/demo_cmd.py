"""`python main.py demo nextword|sentiment --text ...`: the Demos panel's answers, headless.

The work is done by app.demos (the bundled demo models, or ones trained here with --train on
the user's .txt or .csv); this module only parses arguments and prints. With --json the
answer is one JSON object: next word `{"top": [[word, p], ...], "baseline_top": [...]}`,
sentiment `{"positive": p, "baseline_positive": q}`. Bad input is one line on stderr and exit
status 2 (app.cli); notes about the text (unknown words, a cut) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

EPILOG = """\
examples:
  python main.py demo nextword --text "France is where I grew up, but I now live in Boston. I speak fluent"
  python main.py demo sentiment --text "The food was good, not bad at all." --json
  python main.py demo sentiment --train reviews.csv --text "what a lovely day"

--train FILE trains the chosen cell (and the baseline) on FILE first: a .txt of sentences for
nextword, a CSV of text,label rows (label 1 or 0, or positive/negative) for sentiment. It takes
seconds; progress goes to stderr and the held-out accuracy is printed.
"""
CELLS = ("lstm", "gru", "rnn_tanh", "rnn_relu")


def register(subparsers) -> None:
    """Add the `demo` command."""
    parser = subparsers.add_parser(
        "demo", help="next-word prediction and sentiment on the recurrent core",
        description="Ask the demo models (an RNN beside the lecture's baseline) about a text.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=("nextword", "sentiment"),
                        help="nextword: the 5 likeliest next words; sentiment: P(positive)")
    parser.add_argument("--text", help="the text to read (may be empty for nextword)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--train", metavar="FILE",
                        help="train on FILE (.txt for nextword, .csv for sentiment) first")
    parser.add_argument("--cell", choices=CELLS, default="lstm",
                        help="the recurrent cell (default lstm)")
    parser.add_argument("--no-clip", action="store_true",
                        help="with --train: no gradient clipping")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Load or train the demo models, then answer for --text."""
    from app import demos

    if args.text is None and not args.train:
        print("ceol demo: error: give --text (and/or --train FILE)", file=sys.stderr)
        return 2
    if args.train:
        trained = demos.train_demo(args.task, args.cell, args.train, clip=not args.no_clip,
                                   on_progress=_progress)
        print(file=sys.stderr)
        for note in trained.notes:
            print(f"ceol demo: note: {note}", file=sys.stderr)
        if trained.pair is None:
            return 2
        pair = trained.pair
        accuracy = demos.held_out_accuracy(trained)
        if accuracy and not args.json:
            print(f"trained {demos.CELL_NAMES[args.cell]} on {pair.source}: held-out accuracy "
                  f"{accuracy[0]:.1%} (baseline {accuracy[1]:.1%})")
    else:
        pair = demos.load_bundled(args.task, args.cell)
    if args.text is None:
        return 0
    if args.task == "nextword":
        return _print_next(demos.predict_next(pair, args.text), args.json)
    return _print_sentiment(demos.predict_sentiment(pair, args.text), args.json)


def _progress(p) -> None:
    print(f"\rtraining {p.network}: {p.fraction:.0%} (loss {p.loss:.3f})", end="",
          file=sys.stderr, flush=True)


def _print_next(result, as_json: bool) -> int:
    for note in result.notes:
        print(f"ceol demo: note: {note}", file=sys.stderr)
    if as_json:
        print(json.dumps({"top": [[w, round(p, 6)] for w, p in result.top],
                          "baseline_top": [[w, round(p, 6)] for w, p in result.baseline_top]}))
        return 0
    print(f"{'RNN':<24}fixed window (last two words)")
    for (w, p), (bw, bp) in zip(result.top, result.baseline_top):
        print(f"{w:<14}{p:>7.1%}   {bw:<14}{bp:>7.1%}")
    return 0


def _print_sentiment(result, as_json: bool) -> int:
    for note in result.notes:
        print(f"ceol demo: note: {note}", file=sys.stderr)
    if result.positive is None:
        print("ceol demo: error: no words to classify", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps({"positive": round(result.positive, 6),
                          "baseline_positive": round(result.baseline_positive, 6)}))
        return 0
    print(f"positive: {result.positive:.1%} (bag of words: {result.baseline_positive:.1%})")
    print("after each word: " + " ".join(f"{w} {p:.0%}" for w, p in result.per_word))
    return 0
