"""ABC -> MIDI speed for typical 32-bar tunes, music21 already imported (issue 2 target: < 100 ms).

Tunes: reels and jigs of O'Neill's 1850 whose written body has 16 bars played twice or 32 bars
(32 bars as heard), the first `--tunes` in file order. Each is converted `--repeat` times; the
median per tune is kept and the median and worst over tunes are printed. Reference peer: the same
music21 score written by music21's own MIDI exporter (`midi.translate`), so the ratio shows what
our mido writer and the located-error parsing cost or save.

    python3 benchmarks/bench_abc_midi.py --tunes 20
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def played_bars(tune) -> int:
    """Return the bars a tune plays: bar lines in its body, doubled for a repeated part."""
    body = re.sub(r'"[^"]*"', "", tune.body)
    bars = len(re.findall(r"\|[:\]]?|::", body))
    return bars * 2 if ":|" in body or "::" in body else bars


def typical_tunes(count: int):
    from music21 import corpus

    from app.music.tunebook import read_tune_book

    chosen = []
    for path in sorted(corpus.getComposer("oneills1850")):
        for tune in read_tune_book(path).tunes:
            if tune.meter in ("C", "C|", "4/4", "2/2", "6/8") and 30 <= played_bars(tune) <= 34:
                chosen.append(tune)
                if len(chosen) == count:
                    return chosen
    return chosen


def timed(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    import music21
    from music21.midi import translate

    from app.music.abc_midi import abc_to_midi, parse_abc

    tunes = typical_tunes(args.tunes)
    abc_to_midi(tunes[0])   # warm caches (first music21 parse loads its ABC tables)
    ours, peer, peer_failed = [], [], 0
    for tune in tunes:
        ours.append(timed(lambda: abc_to_midi(tune), args.repeat))
        try:
            peer.append(timed(lambda: translate.streamToMidiFile(parse_abc(tune)).writestr(),
                              args.repeat))
        except Exception:  # noqa: BLE001 - music21's exporter trips on some expanded scores
            peer_failed += 1
    print(f"machine: {platform.machine()} python {platform.python_version()}, "
          f"music21 {music21.__version__}, {os.cpu_count()} CPUs")
    print(f"{len(tunes)} tunes of ~32 played bars, median of {args.repeat} runs each")
    print(f"ceol abc_to_midi:        median {1000 * statistics.median(ours):6.1f} ms, "
          f"worst {1000 * max(ours):6.1f} ms")
    print(f"music21 parse + export:  median {1000 * statistics.median(peer):6.1f} ms, "
          f"worst {1000 * max(peer):6.1f} ms ({peer_failed} tunes it failed on left out)")
    print(f"ratio ceol / music21:    {statistics.median(ours) / statistics.median(peer):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
