"""Corpus loading speed (issue 2): load, split and normalise both built-in corpora, side by side
with the reference peer's `load_songs` on the same files; scan a folder of 100,000 unrelated
files; time `python main.py --help`.

    python3 benchmarks/bench_corpus.py [--repeat 5] [--junk 100000]

Prints a Markdown table for benchmarks/RESULTS.md. Each figure is the best of `--repeat` runs
in this process (the files are in the OS cache after the first run; the first run is shown too).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.music.corpus import builtin_corpus_files, load_corpus  # noqa: E402
from app.music.normalize import corpus_text  # noqa: E402
from app.music.stats import corpus_stats  # noqa: E402


def _best(func, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times[0], min(times), result


def load_split_normalise() -> tuple[int, int, int]:
    corpus = load_corpus(["celtic", "essen"])
    train, valid = corpus.split(0.1)
    train_text, valid_text = corpus_text(train), corpus_text(valid)
    return len(corpus.tunes), len(train_text) + len(valid_text), len(valid)


def reference_load(paths: list[Path]):
    path = Path(__file__).resolve().parents[2] / "shared" / "reference" / "mit_lab.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("mit_lab", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports torch; not part of the timed call
    return lambda: module.load_songs([str(p) for p in paths])


def scan_junk(count: int) -> float:
    from app.music.errors import MusicError

    with tempfile.TemporaryDirectory() as folder:
        for group in range(10):
            sub = Path(folder) / f"g{group}"
            sub.mkdir()
            for i in range(count // 10):
                (sub / f"f{i}.dat").touch()
        start = time.perf_counter()
        try:
            load_corpus([folder])
        except MusicError:
            pass
        return time.perf_counter() - start


def help_time(repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, str(REPO / "main.py"), "--help"], check=True,
                       capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--junk", type=int, default=100_000)
    args = parser.parse_args()

    first, best, (tunes, chars, valid) = _best(load_split_normalise, args.repeat)
    _, stats_best, _ = _best(lambda: corpus_stats(load_corpus(["celtic", "essen"]).tunes),
                             args.repeat)
    files = builtin_corpus_files("celtic") + builtin_corpus_files("essen")
    size = sum(p.stat().st_size for p in files)
    reference = reference_load(files)
    ref_first = ref_best = None
    if reference:
        ref_first, ref_best, songs = _best(reference, args.repeat)
    junk = scan_junk(args.junk)
    help_best, help_median = help_time(args.repeat)

    print(f"Machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}; "
          f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}")
    print(f"Corpus: celtic + essen, {len(files)} files, {size / 1e6:.2f} MB, {tunes} tunes "
          f"({valid} in validation), {chars:,} characters of training text\n")
    print("| Measurement | Ceol | Reference peer | Target |")
    print("|---|---|---|---|")
    ratio = f" (Ceol / peer = {best / ref_best:.1f}x)" if ref_best else ""
    peer = (f"{ref_best * 1000:.0f} ms best, {ref_first * 1000:.0f} ms first "
            f"(`load_songs`: split at blank lines only, no split, no normalising){ratio}"
            if ref_best else "n/a")
    print(f"| Load + split + normalise both built-in corpora | {best * 1000:.0f} ms best, "
          f"{first * 1000:.0f} ms first | {peer} | well under 1 s |")
    print(f"| Load + statistics (`info celtic essen` core) | {stats_best * 1000:.0f} ms best | "
          f"n/a | - |")
    print(f"| Scan a folder of {args.junk:,} unrelated files | {junk * 1000:.0f} ms | n/a | "
          f"seconds, no hang |")
    print(f"| `python main.py --help` wall time | {help_best * 1000:.0f} ms best, "
          f"{help_median * 1000:.0f} ms median | n/a | < 500 ms |")


if __name__ == "__main__":
    main()
