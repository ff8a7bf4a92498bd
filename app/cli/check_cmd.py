"""`python main.py check SOURCE`: list the problems of ABC tunes, and repair them on request.

    python main.py check book.abc              problems of every tune, as file:line:column
    python main.py check book.abc --tune 3     only the tune with X:3 (else the 3rd tune)
    python main.py check book.abc --repair     also print each repaired tune and its repairs
    python main.py check celtic --json         one JSON object for the built-in corpus

SOURCE is an .abc file or a built-in corpus name (celtic, essen). Positions are lines of the
file (a problem in a field the tune takes from the file header is shown at the tune's X: line).
Exit status: 0 when every tune checked is clean (after repair, with --repair), 1 when some are
not, 2 for bad input (a missing or unreadable file, no such tune).
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def register(subparsers) -> None:
    """Add the `check` command."""
    parser = subparsers.add_parser(
        "check", help="check ABC tunes for problems (and repair them)",
        description="List the problems of the tunes in an ABC file or a built-in corpus: missing "
        "or malformed header fields, text that is not ABC, unbalanced chords, slurs, grace notes "
        "and repeats, short tuplets, and bars whose length does not fit the meter.")
    parser.add_argument("source", metavar="FILE", help="an .abc file, or a built-in corpus: "
                        "celtic, essen")
    parser.add_argument("--tune", type=int, metavar="N",
                        help="only the tune with X:N (else the N-th tune) of the file")
    parser.add_argument("--repair", action="store_true",
                        help="print the repaired ABC of each tune and the list of repairs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Check (and repair) the tunes; print a report; return 0 if all clean, else 1."""
    tunes, skipped = _load(args.source, args.tune)
    reports = [_report(tune, text, offset, args.repair) for tune, text, offset in tunes]
    bad = sum(not r["clean"] for r in reports)
    if args.json:
        print(json.dumps({"source": args.source, "tunes": len(reports), "not_clean": bad,
                          "skipped": skipped, "reports": reports}, ensure_ascii=False))
    else:
        for problem in skipped:
            print(f"ceol check: skipped: {problem}", file=sys.stderr)
        for report in reports:
            _print_report(report, args.repair, verbose=len(reports) == 1)
        print(f"{len(reports) - bad} of {len(reports)} tune(s) clean"
              + (" after repair" if args.repair else ""))
    return 1 if bad else 0


def _load(source: str, number: int | None):
    """Return [(tune, abc text, line map)] and the book problems (as strings)."""
    from app.music.corpus import BUILTIN_CORPORA, load_corpus
    from app.music.errors import MusicError
    from app.music.tunebook import read_tune_book

    if not os.path.exists(source) and source in BUILTIN_CORPORA:
        corpus = load_corpus([source])
        tunes, problems = corpus.tunes, corpus.problems
        if number is not None:
            raise MusicError("--tune needs a file, not a whole corpus", path=source)
    else:
        book = read_tune_book(source)
        tunes, problems = book.tunes, book.problems
        if number is not None:
            from app.music.convert import pick_tune
            tunes = [pick_tune(book, number)]
    files: dict[str, list[str]] = {}
    return [_tune_text(tune, files) for tune in tunes], [str(p) for p in problems]


def _tune_text(tune, files: dict[str, list[str]]):
    """Return (tune, its ABC text as in the file, a function from text line to file line)."""
    from app.music.tunebook import decode_abc

    lines = None
    if tune.path:
        if tune.path not in files:
            try:
                with open(tune.path, "rb") as handle:
                    files[tune.path] = decode_abc(handle.read(), tune.path).splitlines()
            except (OSError, ValueError):
                files[tune.path] = []
        lines = files[tune.path]
    raw = []
    if lines and 0 < tune.line <= len(lines):
        for text in lines[tune.line - 1:]:
            if raw and (not text.strip() or text.startswith("X:")):
                break
            raw.append(text)
    if not raw:
        return tune, tune.abc(), lambda line: None
    own = {name for name, _ in tune.fields[tune.book_fields:]}
    book = [f"{n}:{v}" for n, v in tune.fields[:tune.book_fields] if n not in own and n != "X"]
    text = "\n".join(raw[:1] + book + raw[1:]) + "\n"
    extra = len(book)

    def file_line(line: int) -> int:
        return tune.line if line <= 1 + extra else tune.line + line - 1 - extra

    return tune, text, file_line


def _report(tune, text: str, file_line, repair: bool) -> dict:
    from app.music.checker import ERROR, check_tune

    problems = check_tune(text)
    report = {"tune": tune.label, "path": tune.path, "x_line": tune.line,
              "problems": [_problem(p, file_line) for p in problems],
              "clean": not any(p.severity == ERROR for p in problems)}
    if repair:
        from app.music.repair import repair_tune

        result = repair_tune(text)
        report["repair"] = {"text": result.text, "repairs": result.repairs, "ok": result.ok,
                            "problems_left": [_problem(p, lambda line: None)
                                              for p in result.problems_left]}
        report["clean"] = result.ok
    return report


def _problem(problem, file_line) -> dict:
    return {"code": problem.code, "message": problem.message, "severity": problem.severity,
            "line": file_line(problem.line) or problem.line, "column": problem.column,
            "tune_line": problem.line}


def _print_report(report: dict, repair: bool, verbose: bool) -> None:
    if not report["problems"] and not repair and not verbose:
        return
    name = os.path.basename(report["path"]) if report["path"] else "tune"
    print(f"{report['tune']}: {len(report['problems'])} problem(s)")
    for p in report["problems"]:
        print(f"  {name}:{p['line']}:{p['column']}: {p['severity']}: {p['message']} "
              f"[{p['code']}]")
    if repair:
        fixed = report["repair"]
        status = "repaired" if fixed["ok"] else "NOT repaired"
        print(f"  {status}; {len(fixed['repairs'])} repair(s) (lines counted within the tune):")
        for line in fixed["repairs"]:
            print(f"    - {line}")
        for p in fixed["problems_left"]:
            print(f"    left: tune line {p['line']}:{p['column']}: {p['severity']}: "
                  f"{p['message']}")
        print("\n".join("    " + line for line in fixed["text"].rstrip("\n").split("\n")))
