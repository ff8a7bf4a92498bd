"""`python main.py kernels`: show the kernels measured on this machine, or measure them again.

Sampling and training pick their arithmetic (fp32, bf16, int8) and thread count by measuring
on first use of a model shape; `app.kernels` remembers the choices in the user's data folder.
This command lists them (every candidate's best time included), `--measure` times them again
for a model file or a preset's shape, `--forget` drops them all.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    """Add the `kernels` command."""
    p = subparsers.add_parser(
        "kernels", help="show or re-measure the fastest kernels for this CPU",
        description="List the sampling and training kernels (fp32, bf16, int8 weights; bf16 "
        "autocast; threads) measured on this machine and remembered per CPU, torch version, "
        "cores and model shape. --measure times them again (about a second each).")
    p.add_argument("--measure", action="store_true",
                   help="measure again: sampling one variation and a batch, and training")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--model", metavar="MODEL",
                        help="model file to measure with (default as for generate)")
    source.add_argument("--preset", metavar="NAME",
                        help="measure a preset's shape instead (tiny, laptop, lab, large)")
    p.add_argument("--count", type=_positive, action="append", metavar="N",
                   help="variations to measure sampling for (repeatable; default 1 and 8)")
    p.add_argument("--no-train", action="store_true", help="measure sampling only")
    p.add_argument("--forget", action="store_true", help="drop every remembered choice")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_kernels)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def run_kernels(args: argparse.Namespace) -> int:
    """List, re-measure or forget the remembered kernel choices."""
    from app.kernels import SAMPLE_COUNTS, kernels_file, measure, remember_kernels, remembered

    store = remember_kernels()
    if args.forget:
        store.forget()
    if args.measure:
        rows = measure(args.model, args.preset, tuple(args.count or SAMPLE_COUNTS),
                       train=not args.no_train)
    else:
        rows = remembered()
    if args.json:
        print(json.dumps({"file": str(kernels_file()), "choices": rows}, ensure_ascii=False))
        return 0
    print(f"{kernels_file()}: {len(rows)} {'measured now' if args.measure else 'remembered'}")
    for row in rows:
        print(f"  {row['key']}\n    -> {row['kernel']} on {row['threads']} thread(s), "
              f"measured {row['measured_at']} at load {row['load_per_core']} per core")
        ranked = sorted(row["seconds"].items(), key=lambda item: item[1])
        print("       " + ", ".join(f"{name} {1e6 * s:.0f} us" for name, s in ranked))
    return 0
