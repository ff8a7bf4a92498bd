"""Checker and repair on the built-in Celtic corpus (issue 4), side by side with music21.

    python3 benchmarks/bench_checker.py [--music21 all|N|0] [--audit 20] [--repeat 3]

For every tune of `celtic` (as `Tune.abc()` gives it) it measures the checker's time per tune,
how many tunes it calls clean, which problems it finds, how many bars it flags (the bar-length
false-positive bound), and what the repair achieves. With --music21 it also converts tunes to
MIDI with music21 (`converter.parse(text, format="abc")` then a MIDI file in memory), the only
other validator at hand (the reference peer has none: it trusts abc2midi), and cross-tabulates:
a tune the checker calls clean must convert (that cell must be 0). It also converts the tunes
the repair calls ok. --audit N prints N randomly chosen flagged bars for a by-hand check.
Prints Markdown for benchmarks/RESULTS.md; music21 on all 4,242 tunes takes about 10 minutes.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.music.checker import ERROR, analyse_tune, check_tune  # noqa: E402
from app.music.corpus import load_corpus  # noqa: E402
from app.music.repair import repair_tune  # noqa: E402


def music21_converts(text: str) -> bool:
    """Tell whether music21 turns the ABC text into a MIDI file."""
    from music21 import converter
    from music21.midi import translate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            score = converter.parse(text, format="abc")
            return bool(translate.music21ObjectToMidiFile(score).writestr())
        except Exception:  # noqa: BLE001 - any failure counts as "does not convert"
            return False


def timed(function, items, repeat: int) -> tuple[float, list]:
    best, result = None, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = [function(item) for item in items]
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


@dataclass
class Measured:
    """What the checker and the repair made of every tune, and how long they took."""

    texts: list[str]
    problems: list      # per tune, the checker's problems
    clean: list[bool]   # per tune, no problem of severity ERROR
    analyses: list      # per tune, its bars and the faults found in them
    repairs: list       # per tune, the repair's result
    check_s: float      # best checker time over the whole corpus
    repair_s: float


def main() -> None:
    args = _parse_args()
    corpus = load_corpus(["celtic"])
    measured = _measure([tune.abc() for tune in corpus.tunes], args.repeat)
    _print_checker(corpus, measured, args.repeat)
    if args.music21 != "0":
        _print_music21(measured, args.music21)
    if args.audit:
        _print_audit(corpus, measured, args.audit)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--music21", default="all",
                        help="tunes to convert with music21: all, a number (evenly spread), 0")
    parser.add_argument("--audit", type=int, default=20, help="flagged bars to print")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (best is kept)")
    return parser.parse_args()


def _measure(texts: list[str], repeat: int) -> Measured:
    """Check (timed, best of `repeat`), analyse and repair (timed once) every tune."""
    check_s, problems = timed(check_tune, texts, repeat)
    clean = [not any(p.severity == ERROR for p in ps) for ps in problems]
    analyses = [analyse_tune(t) for t in texts]
    repair_s, repairs = timed(repair_tune, texts, 1)
    return Measured(texts, problems, clean, analyses, repairs, check_s, repair_s)


def _print_checker(corpus, m: Measured, repeat: int) -> None:
    """Print the checker's and the repair's table and the tunes with errors by problem code."""
    n = len(m.texts)
    tunes_by_code = collections.Counter(code for ps in m.problems for code in
                                        {p.code for p in ps if p.severity == ERROR})
    bars = sum(len(a.bars) for a in m.analyses)
    flagged = sum(sum(k in ("long", "short") for k in a.faults.values()) for a in m.analyses)
    flagged_tunes = sum(any(k in ("long", "short") for k in a.faults.values())
                        for a in m.analyses)
    clean = sum(m.clean)
    print(f"Corpus: celtic, {n} tunes ({len(corpus.problems)} broken tunes skipped by the "
          f"loader), {bars} bars")
    print()
    print("| Measurement | Value |")
    print("|---|---|")
    print(f"| Checker time per tune (best of {repeat}) | {1000 * m.check_s / n:.2f} ms |")
    print(f"| Tunes the checker calls clean | {clean} ({100 * clean / n:.1f}%) |")
    print(f"| Bars flagged too long or too short | {flagged} of {bars} "
          f"({100 * flagged / bars:.2f}%), in {flagged_tunes} tunes "
          f"({100 * flagged_tunes / n:.1f}%) |")
    print(f"| Repair time per tune | {1000 * m.repair_s / n:.2f} ms |")
    ok = sum(r.ok for r in m.repairs)
    print(f"| Tunes clean after repair | {ok} ({100 * ok / n:.1f}%) |")
    print()
    print("Tunes with at least one error, by problem code: "
          + ", ".join(f"{code} {count}" for code, count in tunes_by_code.most_common()))


def _print_music21(m: Measured, which: str) -> None:
    """Cross-tabulate the checker against music21 on `which` tunes ("all" or a number evenly
    spread), then convert those of them the repair changed and called ok."""
    n = len(m.texts)
    step = 1 if which == "all" else max(1, n // int(which))
    sample = list(range(0, n, step))
    start = time.perf_counter()
    converts = {i: music21_converts(m.texts[i]) for i in sample}
    m21_s = time.perf_counter() - start
    table = collections.Counter((m.clean[i], converts[i]) for i in sample)
    print()
    print(f"music21 on {len(sample)} tunes ({1000 * m21_s / len(sample):.0f} ms per tune, "
          f"{m21_s / m.check_s * n / len(sample):.0f}x the checker's time):")
    print()
    print("| | music21 converts | music21 fails |")
    print("|---|---|---|")
    print(f"| checker: clean | {table[True, True]} | {table[True, False]} |")
    print(f"| checker: not clean | {table[False, True]} | {table[False, False]} |")
    fixed = [i for i in sample if m.repairs[i].ok and m.repairs[i].repairs][:400]
    fixed_ok = sum(music21_converts(m.repairs[i].text) for i in fixed)
    print()
    print(f"Repaired tunes (changed by the repair and called ok) that music21 converts: "
          f"{fixed_ok} of {len(fixed)}")


def _print_audit(corpus, m: Measured, count: int) -> None:
    """Print `count` flagged bars drawn at random (seeded), each with its line, to check."""
    rng = random.Random(4)
    cases = [(i, b) for i, a in enumerate(m.analyses) for b, k in a.faults.items()
             if k in ("long", "short")]
    print()
    print(f"Audit sample: {count} of {len(cases)} flagged bars")
    for i, b in rng.sample(cases, min(count, len(cases))):
        bar = m.analyses[i].bars[b]
        line = m.texts[i].split("\n")[bar.line - 1]
        print(f"  {corpus.tunes[i].label}: {m.analyses[i].faults[b]}: "
              f"M:{bar.meter_text} | {line.strip()[:100]}")


if __name__ == "__main__":
    main()
