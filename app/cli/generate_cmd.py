"""`python main.py generate`: sample tunes from a model and print them as ABC (or write files).

The options become `app.generation.GenerationControls` and the tunes come from
`app.generation.generate_tunes`, the service the Generate panel uses too; this module only
prints them (stdout clean ABC or JSON, repairs and warnings on stderr, one line per tune) or
writes one .abc file per tune. torch is imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from model.config import SampleConfig


def register(subparsers) -> None:
    """Add the `generate` command."""
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
    p.add_argument("--style", metavar="S", help="irish, scottish, american, english, german or "
                   "chinese: the O: line of the prime (models trained with styles)")
    p.add_argument("--title", metavar="T", help="title written into each tune (default: the "
                   "model's own, for models trained with titles)")
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
    p.add_argument("--keep-annotations", action="store_true",
                   help="keep the performer annotations the model writes: fingering digits "
                   "(\"4\"a), bowing marks (u, v, !upbow!) and text in quotes (\"^Fine\") "
                   "(default: removed from each tune before its repair; chord symbols stay)")
    p.add_argument("--raw", action="store_true",
                   help="print what the model wrote, unrepaired (default: repaired tunes)")
    p.add_argument("--max-chars", type=int, default=d.max_chars, metavar="N",
                   help=f"length cap per tune in characters (default {d.max_chars})")
    p.add_argument("--out", metavar="DIR", help="write one .abc file per tune into DIR, named "
                   "after its title (else tune-SEED-N.abc)")
    p.add_argument("--json", action="store_true",
                   help="print the results (text, settings, probabilities) as JSON")
    p.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    """Sample tunes with app.generation and print them repaired (or write them into --out DIR).

    Repairs and warnings go to stderr, one line per tune, so stdout stays clean ABC.
    """
    from app.generation import generate_tunes
    from model.checkpoint import load_model
    from model.errors import ModelError
    from model.paths import default_model_path

    controls = generation_controls(args)
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise ModelError(f"{args.out}: exists and is not a folder")
    SampleConfig(count=args.count, temperature=args.temperature, top_k=args.top_k,
                 top_p=args.top_p, max_chars=args.max_chars, seed=args.seed).check()
    loaded = load_model(args.model or default_model_path())
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
        if "training tune" in t.settings.get("title_note", ""):
            print(f"ceol generate: tune {i + 1}: a training tune has the title too",
                  file=sys.stderr)
    _output(args, tunes, texts)
    print(f"ceol generate: seed {tunes[0].settings['seed']}", file=sys.stderr)
    return 0


def generation_controls(args: argparse.Namespace):
    """Return the app.generation.GenerationControls the options ask for (--prime and
    --continue files read)."""
    from app.generation import GenerationControls

    prime_text = args.prime
    if prime_text and len(prime_text) < 4096 and os.path.isfile(prime_text):
        prime_text = Path(prime_text).read_text(encoding="utf-8", errors="replace")
    continue_from = None
    if args.continue_file:
        continue_from = Path(args.continue_file).read_text(encoding="utf-8", errors="replace")
    return GenerationControls(
        key=args.key, meter=args.meter, unit_length=args.unit_length, rhythm=args.rhythm,
        style=args.style, title=args.title, bars=args.bars, parts=args.parts,
        bars_per_part=args.part_bars,
        continue_from=continue_from, continue_bars=args.continue_bars, prime=prime_text,
        count=args.count, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        seed=args.seed, max_chars=args.max_chars, attempts=args.attempts,
        auto_length=not args.free_length, fit_bars=not args.no_fit_bars,
        keep_annotations=args.keep_annotations)


def _output(args: argparse.Namespace, tunes: list, texts: list[str]) -> None:
    """Write one file per tune into --out, or print the tunes as JSON or as ABC."""
    if args.out:
        from app.generation_titles import header_title
        from app.tune_export import export_file_name
        from model.checkpoint import write_atomic

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        seed = tunes[0].settings["seed"]
        used: set[str] = set()
        for i, text in enumerate(texts):
            name = export_file_name(header_title(text), "abc", f"tune-{seed}-{i + 1:02d}")
            stem, n = name.removesuffix(".abc"), 2
            while name.casefold() in used or (folder / name).exists():
                name, n = f"{stem}-{n}.abc", n + 1
            used.add(name.casefold())
            write_atomic(folder / name, text.encode("utf-8"))
            print(folder / name)
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


def _numbered(text: str, number: int) -> str:
    """Give a tune the X: number `number` (its place in the output)."""
    if text.startswith("X:"):
        return f"X:{number}" + text[text.find("\n"):] if "\n" in text else f"X:{number}\n"
    return text
