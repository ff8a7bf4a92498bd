"""Engraving coverage (issue 10): engrave every tune of the built-in corpora, of web-style
variations of the Celtic tunes and of 60 generated tunes, as the app does, and count what fails.

    nice -n 10 python3 benchmarks/engrave_coverage.py [--corpora celtic essen web generated]
        [--sample N] [--seed 1] [--generated DIR] [--baseline] [--json out.json] [--md out.md]

Each tune is `Tune.abc()` engraved through `app.music.notation.engrave` at the score view's
default width, so verovio runs in the engraver worker process; this process must survive every
tune (its own deaths are 0 by construction: a death would end the run). Per corpus the report
gives tunes, engraved, failures counted by their one-line reason, worker deaths (crashes and
timeouts of the child), the fast route (verovio's ABC reader) against the MusicXML fallback,
and the median and p95 time of a tune engraved on the fast route. `--baseline` also feeds the
raw `Tune.abc()` text straight to verovio's ABC reader in the worker (no rewriting, no
fallback), counting the tunes that kill it: what the app did before.

The "web" corpus is written here, never downloaded: each Celtic tune with two repeated parts is
rewritten the way tunes are often typed on the web - the second part's `|:` dropped (a bare
`:|` closes it), chord symbols added on the first note of some bars, and a chord symbol glued to
a second ending (`[2"G"`). Generated tunes come from `--generated DIR` (.abc files, e.g. from
`python main.py generate --count 60 --seed 7 --out DIR`), else from the generation API.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.music.corpus import load_corpus  # noqa: E402
from app.music.errors import EngineCrashed, EngineError, MusicError  # noqa: E402
from app.music.notation import ROUTE_ABC, _render, engrave, engraver  # noqa: E402
from app.music.tunebook import read_tune_book  # noqa: E402

CHORDS = {"C": "CFGAmDm", "G": "GCDEmAm", "D": "DGAEmBm", "A": "ADEF#mBm", "E": "EABC#mF#m",
          "F": "FBbCDmGm"}
_CHORD_NAME_RE = re.compile(r"[A-G][#b]?m?")


def web_style(abc: str, rng: random.Random) -> str | None:
    """Rewrite a tune as often typed on the web, or None when it has fewer than two repeated
    parts: `|:` opens the tune, later parts lose theirs (a bare `:|` closes them), about half
    the bars start with a chord symbol, and second endings carry one at once (`[2"G"`)."""
    head, sep, body = abc.partition("\nK:")
    if not sep:
        return None
    key_line, _, music = body.partition("\n")
    if music.count(":|") < 2:
        return None
    chords = _CHORD_NAME_RE.findall(CHORDS.get(key_line.strip()[:1], CHORDS["G"]))
    first = music.find("|:")
    music = music[:first + 2] + music[first + 2:].replace("|:", "|") if first >= 0 \
        else "|:" + music
    out = []
    for piece in re.split(r"(\|+:?|:\|+:?)", music):
        lead = len(piece) - len(piece.lstrip())
        if piece and piece[0] not in "|:" and rng.random() < 0.5 \
                and re.match(r"[A-Ga-gz]", piece[lead:]):
            piece = f'{piece[:lead]}"{rng.choice(chords)}"{piece[lead:]}'
        out.append(piece)
    music = re.sub(r'(?<=:\|)\[?2\s*("[^"]*")?', lambda _: f'[2"{rng.choice(chords)}"',
                   "".join(out))
    return f"{head}\nK:{key_line}\n{music}"


def load_tunes(name: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    """Return [(label, abc)] of one corpus."""
    if name in ("celtic", "essen"):
        tunes = load_corpus([name]).tunes
        return [(f"{Path(t.path or name).name} #{t.number}", t.abc()) for t in tunes]
    if name == "web":
        rng = random.Random(args.seed)
        out = []
        for t in load_corpus(["celtic"]).tunes:
            varied = web_style(t.abc(), rng)
            if varied is not None:
                out.append((f"web {Path(t.path or '').name} #{t.number}", varied))
        return out
    if name == "generated":
        return generated_tunes(args.generated)
    raise SystemExit(f"unknown corpus {name}")


def generated_tunes(folder: str | None) -> list[tuple[str, str]]:
    """Return the generated tunes of a folder of .abc files, else 60 sampled with seed 7."""
    if folder:
        out = []
        for path in sorted(Path(folder).glob("*.abc")):
            for tune in read_tune_book(path).tunes:
                out.append((f"{path.name} #{tune.number}", tune.abc()))
        return out
    raise SystemExit("--generated DIR is needed: python main.py generate --count 60 "
                     "--seed 7 --out DIR")


def one_line(err: Exception) -> str:
    """The reason of a failure with its file and place left out, so equal reasons count up."""
    message = getattr(err, "message", str(err))
    message = re.sub(r"\d+(\.\d+)?", "N", message)
    return message.splitlines()[0][:120] if message else type(err).__name__


def run_corpus(name: str, tunes: list[tuple[str, str]], baseline: bool) -> dict:
    worker = engraver()
    restarts0 = worker.restarts
    reasons: Counter[str] = Counter()
    routes: Counter[str] = Counter()
    fast_ms: list[float] = []
    fallbacks: list[str] = []
    examples: dict[str, str] = {}      # reason -> the first tune that failed for it
    raw_deaths = raw_errors = 0
    start = time.perf_counter()
    for label, abc in tunes:
        t0 = time.perf_counter()
        try:
            engraving = engrave(abc, label=label)
        except MusicError as err:
            reasons[one_line(err)] += 1
            examples.setdefault(one_line(err), label)
            continue
        ms = (time.perf_counter() - t0) * 1000
        routes[engraving.route] += 1
        if engraving.route == ROUTE_ABC:
            fast_ms.append(ms)
        elif len(fallbacks) < 20:
            fallbacks.append(label)
    deaths = worker.restarts - restarts0
    if baseline:
        options = {"scale": 40, "adjustPageHeight": True, "pageWidth": 2250, "footer": "none",
                   "breaks": "auto", "pageHeight": 60000}
        for label, abc in tunes:
            try:
                worker.call(_render, abc, "abc", options, timeout=20.0)
            except EngineCrashed:
                raw_deaths += 1
            except (EngineError, MusicError):
                raw_errors += 1
    ok = sum(routes.values())
    fast_ms.sort()
    return {
        "corpus": name, "tunes": len(tunes), "engraved": ok, "failed": len(tunes) - ok,
        "reasons": dict(reasons.most_common()), "parent_deaths": 0,
        "worker_deaths": deaths, "fast_route": routes[ROUTE_ABC],
        "fallback": ok - routes[ROUTE_ABC],
        "fast_median_ms": round(statistics.median(fast_ms), 1) if fast_ms else None,
        "fast_p95_ms": round(fast_ms[int(0.95 * (len(fast_ms) - 1))], 1) if fast_ms else None,
        "fallback_examples": fallbacks, "reason_examples": examples,
        "seconds": round(time.perf_counter() - start, 1),
        **({"raw_verovio_deaths": raw_deaths, "raw_verovio_errors": raw_errors}
           if baseline else {}),
    }


def markdown(results: list[dict], note: str) -> str:
    lines = ["| corpus | tunes | engraved | failed | fast route | MusicXML fallback | "
             "worker deaths | app deaths | fast median ms | fast p95 ms | raw verovio deaths |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['corpus']} | {r['tunes']} | {r['engraved']} | {r['failed']} | "
                     f"{r['fast_route']} | {r['fallback']} | {r['worker_deaths']} | "
                     f"{r['parent_deaths']} | {r['fast_median_ms']} | {r['fast_p95_ms']} | "
                     f"{r.get('raw_verovio_deaths', '-')} |")
    lines.append("")
    for r in results:
        if r["reasons"]:
            lines.append(f"Failures in {r['corpus']}: " + "; ".join(
                f"{count} x {reason}" for reason, count in r["reasons"].items()))
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", nargs="+", default=["celtic", "essen", "web", "generated"])
    parser.add_argument("--sample", type=int, default=0,
                        help="engrave a random sample of N tunes of each corpus (0: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generated", metavar="DIR", help="folder of generated .abc files")
    parser.add_argument("--baseline", action="store_true",
                        help="also feed each raw tune to verovio's ABC reader directly")
    parser.add_argument("--json")
    parser.add_argument("--md")
    args = parser.parse_args(argv)
    engraver().start()
    results = []
    for name in args.corpora:
        tunes = load_tunes(name, args)
        if args.sample and len(tunes) > args.sample:
            tunes = random.Random(args.seed).sample(tunes, args.sample)
        result = run_corpus(name, tunes, args.baseline)
        results.append(result)
        print(result, flush=True)
    note = (f"Sample of {args.sample} tunes a corpus (seed {args.seed})." if args.sample else "")
    text = markdown(results, note)
    print(text)
    from _report import write_reports

    write_reports({"results": results, "sample": args.sample}, text, args.json, args.md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
