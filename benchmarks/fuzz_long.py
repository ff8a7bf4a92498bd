"""Long fuzzing of Ceol's ABC input, one target after another: cases run, crashes, time.

    python benchmarks/fuzz_long.py                      # every target, 100,000 cases each
    python benchmarks/fuzz_long.py tokenizer repair --examples 20000 --seconds 600

Targets are the Hypothesis tests of tests/fuzz/test_fuzz_abc.py in their long mode (random,
CEOL_FUZZ_EXAMPLES cases). A crash (any exception but MusicError, or a broken promise such as
a repair that says ok while the checker still finds errors) is recorded and the run goes on;
an example that runs past --hang seconds or past --memory-gb is a crash too (a hang, a
MemoryError); crashes are counted once per exception type and place in Ceol's code, and the
first input of each is printed so it can become a regression test in tests/fuzz/test_regressions_abc.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGETS = {
    "tokenizer": ["test_tokenizer_never_raises"],
    "tunebook": ["test_tunebook_splits_text_or_raises_music_error",
                 "test_tunebook_reads_bytes_or_raises_music_error"],
    "normalize": ["test_normalize_writes_one_piece_per_tune"],
    "checker": ["test_checker_returns_problems"],
    "repair": ["test_repair_returns_text_the_checker_accepts_or_says_not_ok"],
    "midi": ["test_abc_to_midi_gives_midi_or_music_error"],
    "musicxml": ["test_abc_to_musicxml_gives_xml_or_music_error"],
    "wav": ["test_abc_to_wav_gives_sound_or_music_error"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"targets to run (default: all): {', '.join(TARGETS)}")
    parser.add_argument("--examples", type=int, default=100_000, help="cases per test")
    parser.add_argument("--seconds", type=float, default=0,
                        help="stop each target after this many seconds (0: no limit)")
    parser.add_argument("--hang", type=int, default=60,
                        help="an example running longer than this many seconds is a crash")
    parser.add_argument("--save", metavar="DIR",
                        help="write the whole first input of each crash to DIR (repr, replayable)")
    parser.add_argument("--memory-gb", type=float, default=4,
                        help="address space limit; running out is a crash (MemoryError)")
    args = parser.parse_args()
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {', '.join(sorted(unknown))}")
    os.environ["CEOL_FUZZ_EXAMPLES"] = str(args.examples)
    os.environ["CEOL_FUZZ_KEEP_GOING"] = "1"
    os.environ["CEOL_FUZZ_EXAMPLE_SECONDS"] = str(args.hang)
    if args.save:
        os.environ["CEOL_FUZZ_SAVE_DIR"] = args.save
    import resource

    limit = int(args.memory_gb * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import logging

    logging.disable(logging.WARNING)   # music21's and Ceol's warnings about bad tunes
    from tests.fuzz import abc_mutations as fuzz
    from tests.fuzz import test_fuzz_abc as tests

    crashes = 0
    for target in args.targets or list(TARGETS):
        start = time.perf_counter()
        for name in TARGETS[target]:
            if args.seconds:   # the target's time is shared by its tests
                os.environ["CEOL_FUZZ_SECONDS"] = str(args.seconds / len(TARGETS[target]))
                fuzz.STARTED.pop(target, None)
            try:
                getattr(tests, name)()
            except fuzz.TimeUp:
                pass
            except Exception as exc:  # noqa: BLE001 - Hypothesis's own errors end a target
                print(f"{target}: {name} stopped: {type(exc).__name__}: {exc}", flush=True)
        seconds = time.perf_counter() - start
        found = fuzz.FAILURES.get(target, {})
        crashes += len(found)
        print(f"{target}: {fuzz.RUNS[target]:,} cases, {len(found)} crashes, {seconds:.0f} s",
              flush=True)
        for key, (example, message) in found.items():
            print(f"  {key}: {message}\n    first input: {example}", flush=True)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
