"""abc2midi as an independent judge of ABC text (issue 12): default tunes and training text.

    python3 benchmarks/abc2midi_judge.py [--count 200] [--seed 1] [--tunes FILE ...]
                                         [--valid] [--train] [--json-out PATH]
                                         [--rejected-out PATH]

abc2midi (Debian package `abcmidi`, the reference ABC implementation) is not needed by Ceol; it
is only used here, to count the tunes it reports an error for. Each tune is written to its own
file and converted with `abc2midi tune.abc -o tune.mid`; a line of its output that starts with
"Error" is an error, "Warning" a warning. It judges:

- `--count N --seed S`: N default tunes made exactly as `python main.py generate --count N
  --seed S` makes them (the command is run, its standard output split into tunes);
- `--tunes FILE`: the tunes of ABC files;
- `--valid`: the training text of the built-in Celtic corpus's validation split, as
  `app.training_data.training_data_from_sources(["celtic"])` writes it by default (performer
  annotations dropped by `app.music.annotations`), with the annotations kept, and with the
  repair's abc2midi pass (`app.music.repair_portable.fix_portable`) run on every tune;
- `--train`: the same for the training split.

For each set it prints (JSON) the tunes judged, how many have an abc2midi error, the share
without one, how many of those Ceol's checker calls clean, and the error and warning classes
(the message with numbers and quoted text blanked) with their counts and one example each.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.music.checker import is_clean  # noqa: E402
from app.music.normalize import split_generated_text  # noqa: E402
from app.music.repair_portable import fix_portable  # noqa: E402

_MESSAGE = re.compile(r"^(Error|Warning) in line-char (\d+)-(\d+) : (.*)$")


def abc2midi_messages(abc: str, exe: str = "abc2midi", timeout: float = 20.0) -> list[dict]:
    """Run abc2midi on one tune; return its errors and warnings as dicts.

    Each dict has severity ("error" or "warning"), the 1-based line, the column, the message,
    its class (`message_class`) and the tune's line it is about. A run that times out or crashes
    counts as one error.
    """
    with tempfile.TemporaryDirectory(prefix="ceol-abc2midi-") as folder:
        Path(folder, "tune.abc").write_text(abc, encoding="utf-8")
        try:
            run = subprocess.run([exe, "tune.abc", "-o", "tune.mid"], cwd=folder,
                                 capture_output=True, text=True, timeout=timeout,
                                 errors="replace")
        except subprocess.TimeoutExpired:
            return [_message("error", 0, 0, "abc2midi timed out", abc)]
        output = run.stdout + "\n" + run.stderr
    found = []
    for line in output.splitlines():
        m = _MESSAGE.match(line.strip())
        if m:
            found.append(_message(m.group(1).lower(), int(m.group(2)), int(m.group(3)),
                                  m.group(4).strip(), abc))
    if run.returncode < 0:
        found.append(_message("error", 0, 0, f"abc2midi crashed (signal {-run.returncode})", abc))
    return found


def _message(severity: str, line: int, column: int, text: str, abc: str) -> dict:
    lines = abc.split("\n")
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return {"severity": severity, "line": line, "column": column, "message": text,
            "class": message_class(text), "source": source}


def message_class(message: str) -> str:
    """Blank what varies in an abc2midi message: quoted text, numbers, the note named."""
    text = re.sub(r'"[^"]*"', '"..."', message)
    text = re.sub(r"after note [A-Ga-g]", "after note X", text)
    text = re.sub(r"character: ?\S", "character: X", text)
    text = re.sub(r"reserved character \S", "reserved character X", text)
    text = re.sub(r"instruction !\S*! ignored", "instruction !...! ignored", text)
    text = re.sub(r"\d+(/\d+)?", "N", text)
    return text.split("(Hint")[0].strip()


def judge(tunes: list[str], exe: str = "abc2midi", jobs: int = 2,
          rejected: list[str] | None = None) -> dict:
    """Judge tunes with abc2midi; return the counts, classes and examples (see the module).

    The tunes abc2midi reports an error for are appended to `rejected` when it is given.
    """
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda t: abc2midi_messages(t, exe), tunes))
    classes: dict[str, dict] = {}
    with_error = checker_clean_rejected = 0
    for tune, messages in zip(tunes, results):
        errors = [m for m in messages if m["severity"] == "error"]
        if errors:
            with_error += 1
            if rejected is not None:
                rejected.append(tune)
            checker_clean_rejected += is_clean(tune)
        seen = set()
        for m in messages:
            key = f"{m['severity']}: {m['class']}"
            entry = classes.setdefault(key, {"messages": 0, "tunes": 0,
                                             "example": f"{m['message']} | {m['source'].strip()}"})
            entry["messages"] += 1
            if key not in seen:
                entry["tunes"] += 1
                seen.add(key)
    ordered = dict(sorted(classes.items(), key=lambda kv: (not kv[0].startswith("error"),
                                                           -kv[1]["tunes"])))
    return {"tunes": len(tunes), "with_abc2midi_error": with_error,
            "without_error_percent":
                round(100 * (1 - with_error / len(tunes)), 2) if tunes else None,
            "checker_clean_among_rejected": checker_clean_rejected,
            "seconds": round(time.perf_counter() - start, 1), "classes": ordered}


def generated_tunes(count: int, seed: int) -> tuple[list[str], float]:
    """Run `python main.py generate --count N --seed S`; return its tunes and the seconds."""
    start = time.perf_counter()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="ceol-judge-") as sandbox:
        env.setdefault("CEOL_DATA_DIR", sandbox)
        run = subprocess.run([sys.executable, str(REPO / "main.py"), "generate", "--count",
                              str(count), "--seed", str(seed)], cwd=REPO, env=env,
                             capture_output=True, text=True, check=True)
    return split_generated_text(run.stdout), time.perf_counter() - start


def corpus_split_tunes(which: str, keep_annotations: bool = False) -> list[str]:
    """Return the Celtic corpus's training or validation text ("train" or "valid") as tunes,
    as training writes it by default, or with performer annotations kept."""
    from app.music.normalize import TextOptions
    from app.training_data import training_data_from_sources

    data = training_data_from_sources(["celtic"], text=TextOptions(annotations=keep_annotations))
    return split_generated_text(data.train_text if which == "train" else data.valid_text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=0, help="default tunes to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tunes", nargs="*", default=[], help="ABC files to judge")
    parser.add_argument("--valid", action="store_true", help="judge the Celtic validation text")
    parser.add_argument("--train", action="store_true", help="judge the Celtic training text")
    parser.add_argument("--abc2midi", default="abc2midi", help="the abc2midi program")
    parser.add_argument("--json-out", help="also write the JSON report here")
    parser.add_argument("--rejected-out", help="write the generated tunes abc2midi rejects here")
    args = parser.parse_args()
    if shutil.which(args.abc2midi) is None:
        print(f"{args.abc2midi} not found (Debian package abcmidi)", file=sys.stderr)
        return 2
    report: dict = {"abc2midi": args.abc2midi}
    if args.count:
        tunes, seconds = generated_tunes(args.count, args.seed)
        rejected: list[str] = []
        report["generated"] = {"command": f"python main.py generate --count {args.count} "
                               f"--seed {args.seed}", "generate_seconds": round(seconds, 1),
                               **judge(tunes, args.abc2midi, rejected=rejected)}
        if args.rejected_out:
            Path(args.rejected_out).write_text("\n".join(rejected), encoding="utf-8")
    for path in args.tunes:
        report[path] = judge(split_generated_text(Path(path).read_text(encoding="utf-8")),
                             args.abc2midi)
    for which, wanted in (("valid", args.valid), ("train", args.train)):
        if wanted:
            report[f"celtic_{which}_training_text"] = judge(corpus_split_tunes(which),
                                                            args.abc2midi)
            report[f"celtic_{which}_annotations_kept"] = judge(
                corpus_split_tunes(which, keep_annotations=True), args.abc2midi)
            report[f"celtic_{which}_training_text_portable_pass"] = judge(
                [fix_portable(t, []) for t in corpus_split_tunes(which)], args.abc2midi)
    text = json.dumps(report, indent=1, ensure_ascii=False)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
