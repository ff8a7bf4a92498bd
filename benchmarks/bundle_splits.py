#!/usr/bin/env python3
"""Write the files the bundled model is made and judged with, for some corpora.

The split is Ceol's own (10% of tunes held out by a hash of their music, as `train` does), so a
model trained with `main.py train --data SOURCES` never sees the held-out tunes. Written to OUT:

  train.abc           the training tunes as training text (titles, O: style, no annotations;
                      no transposed copies): what the lab recipe is given
  valid.abc           the held-out tunes as training text
  heldout-written.abc the held-out tunes as the books write them (`Tune.abc()`: X: numbers,
                      every title, B:/N:/Z: lines, annotations, comments)
  heldout-real.abc    the same without the bibliographic lines (B: book, D: discography,
                      F: file, H: history, N: notes, S: source, Z: transcription: who typed
                      the tune in, with an e-mail address on every O'Neill tune), the way a
                      player writes a tune: the judge's file ("titles kept, headers cleaned")
  train-real.abc      the training tunes written the same way: what the lab recipe is given,
                      as it would train on tune books ("the same data")
  summary.json        tunes and characters of each

Usage: python3 benchmarks/bundle_splits.py --data celtic miscfolk nottingham --out runs/u
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.music.corpus import load_corpus  # noqa: E402
from app.music.normalize import BIBLIOGRAPHIC as FIELDS, TextOptions, corpus_text  # noqa: E402

BIBLIOGRAPHIC = tuple(f"{letter}:" for letter in sorted(FIELDS))   # the training text's own


def real_abc(tune) -> str:
    """The tune as written, less its bibliographic header lines (see the module docstring)."""
    lines = tune.abc().split("\n")
    head = next((i for i, line in enumerate(lines) if line.startswith("K:")), len(lines))
    return "\n".join(line for i, line in enumerate(lines)
                     if i > head or not line.startswith(BIBLIOGRAPHIC))


def write_bundle_splits(sources: list[str], out: Path) -> dict:
    """Write the four files (see the module docstring) and return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus(sources)
    train, valid = corpus.split()
    texts = {"train.abc": corpus_text(train, options=TextOptions()),
             "valid.abc": corpus_text(valid, options=TextOptions()),
             "heldout-written.abc": "\n".join(tune.abc() for tune in valid),
             "heldout-real.abc": "\n".join(real_abc(tune) for tune in valid),
             "train-real.abc": "\n".join(real_abc(tune) for tune in train)}
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
    summary = {"sources": sources, "train_tunes": len(train), "valid_tunes": len(valid),
               "chars": {name: len(text) for name, text in texts.items()}}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", required=True, help="corpora, files or folders")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    args = parser.parse_args(argv)
    print(json.dumps(write_bundle_splits(args.data, args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
