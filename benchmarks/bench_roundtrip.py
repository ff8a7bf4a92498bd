"""Round trip ABC -> MIDI -> ABC -> MIDI on Celtic tunes from music21's corpus (issue 2, item 8).

A tune passes when the second MIDI file holds exactly the (pitch, onset, duration) sequence of
the first (all notes of the melody track, times in quarter lengths). Failures are grouped by
cause. The sample is deterministic: tunes of O'Neill's 1850 and Ryan's Mammoth collections in
file order, every k-th so that `--tunes` are spread over both books.

    python3 benchmarks/bench_roundtrip.py --tunes 300
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from app.music.errors import MusicError  # noqa: E402


def celtic_tunes():
    """Return the tunes of O'Neill's 1850 and Ryan's Mammoth, in file order."""
    from music21 import corpus

    from app.music.tunebook import read_tune_book

    tunes = []
    for collection in ("oneills1850", "ryansMammoth"):
        for path in sorted(corpus.getComposer(collection)):
            if str(path).endswith(".abc"):
                tunes.extend(read_tune_book(path).tunes)
    return tunes


def sample(tunes, count):
    """Pick `count` tunes spread evenly over the list (deterministic)."""
    if count >= len(tunes):
        return list(tunes)
    step = len(tunes) / count
    return [tunes[int(i * step)] for i in range(count)]


def round_trip(tune):
    """Return None when the tune survives the round trip, else a failure category and detail."""
    from app.music.abc_midi import abc_to_midi
    from app.music.midi_file import read_midi
    from app.music.midi_to_abc import midi_to_abc

    try:
        first = abc_to_midi(tune)
    except MusicError as exc:
        return "music21 cannot read the original ABC", str(exc)
    notes1 = read_midi(first).tracks[0].notes if read_midi(first).tracks else []
    try:
        text = midi_to_abc(first)
    except MusicError as exc:
        return "MIDI -> ABC failed", str(exc)
    try:
        second = abc_to_midi(text)
    except MusicError as exc:
        return "written ABC unreadable", str(exc)
    notes2 = read_midi(second).tracks[0].notes
    if notes1 == notes2:
        return None
    return classify(notes1, notes2)


def classify(notes1, notes2):
    """Name why two note sequences differ."""
    onsets = collections.Counter(n.onset for n in notes1)
    if any(count > 1 for count in onsets.values()):
        return "chords (MIDI -> ABC keeps the highest note)", ""
    if len(notes1) != len(notes2):
        return "note count differs", f"{len(notes1)} vs {len(notes2)}"
    for a, b in zip(notes1, notes2):
        if a.pitch != b.pitch:
            return "pitch differs", f"{a} vs {b}"
        if a.onset != b.onset or a.duration != b.duration:
            return "timing differs", f"{a} vs {b}"
    return "other", ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=300, help="how many tunes (default 300)")
    parser.add_argument("--show", type=int, default=3, help="examples shown per category")
    args = parser.parse_args(argv)
    import music21  # noqa: F401 - import time is not part of the measurement

    tunes = sample(celtic_tunes(), args.tunes)
    failures = collections.defaultdict(list)
    started = time.perf_counter()
    for tune in tunes:
        result = round_trip(tune)
        if result is not None:
            failures[result[0]].append((tune.label, result[1]))
    elapsed = time.perf_counter() - started
    failed = sum(len(v) for v in failures.values())
    passed = len(tunes) - failed
    print(f"machine: {platform.machine()} {platform.processor() or ''} "
          f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"round trip exact: {passed}/{len(tunes)} tunes = {100 * passed / len(tunes):.1f}% "
          f"({elapsed:.1f} s, {1000 * elapsed / len(tunes):.0f} ms per tune)")
    for category, items in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(items):4d}  {category}")
        for label, detail in items[:args.show]:
            print(f"          {label}: {detail[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
