"""`python main.py info SOURCE...`: statistics of a corpus (files, folders, `celtic`, `essen`).

Prints a human table by default or one JSON object with `--json`. Broken tunes are listed on
stderr, one line each, and the command still succeeds when some tunes loaded; when none did, the
core's MusicError becomes one line on stderr and exit status 2 (see app.cli.main).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    """Add the `info` command."""
    parser = subparsers.add_parser(
        "info", help="print statistics of a corpus",
        description="Print the statistics of the tunes in ABC or MIDI files, folders (searched "
        "recursively) and built-in corpora (celtic, essen): tunes, characters of the training "
        "text, character set, keys, meters, unit note lengths and rhythms.")
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="an .abc/.mid file, a folder, or a built-in corpus: celtic, essen")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of a table")
    parser.add_argument("--top", type=int, default=12, metavar="N",
                        help="rows shown per count in the table (default 12; 0 shows all)")
    parser.set_defaults(func=run_info)


def run_info(args: argparse.Namespace) -> int:
    """Load the sources, report problems on stderr and print the statistics."""
    from app.music.corpus import load_corpus
    from app.music.stats import corpus_stats

    corpus = load_corpus(args.sources)
    for problem in corpus.problems:
        print(f"ceol info: skipped: {problem}", file=sys.stderr)
    stats = corpus_stats(corpus.tunes)
    if args.json:
        data = {"name": corpus.name, **stats.to_dict(),
                "problems": [str(problem) for problem in corpus.problems]}
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(format_table(corpus.name, stats, len(corpus.problems), args.top))
    return 0


def _counts(title: str, counts: dict[str, int], total: int, top: int) -> list[str]:
    shown = list(counts.items())[:top] if top > 0 else list(counts.items())
    lines = [f"{title} ({len(counts)} distinct"
             + (f", top {len(shown)}):" if len(shown) < len(counts) else "):")]
    width = max((len(name) for name, _ in shown), default=0)
    for name, count in shown:
        lines.append(f"  {name:<{width}}  {count:>7,}  {100 * count / max(total, 1):5.1f}%")
    return lines


def format_table(name: str, stats, problems: int, top: int = 12) -> str:
    """Return the human-readable statistics table."""
    charset = stats.charset.replace("\n", "\\n").replace("\t", "\\t")
    lines = [f"Corpus:      {name}",
             f"Tunes:       {stats.tunes:,}",
             f"Characters:  {stats.characters:,} (training text)",
             f"Characters used ({len(stats.charset)}): {charset}",
             f"Problems:    {problems:,}" + (" (listed on stderr)" if problems else ""),
             ""]
    for title, counts in (("Keys", stats.keys), ("Meters", stats.meters),
                          ("Unit note lengths", stats.unit_lengths), ("Rhythms", stats.rhythms)):
        lines += _counts(title, counts, stats.tunes, top) + [""]
    return "\n".join(lines).rstrip()
