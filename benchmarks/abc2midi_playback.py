"""Do abc2midi and Ceol play the same notes? Pitch sequences of both MIDI files, tune by tune.

    python3 benchmarks/abc2midi_playback.py [--count 200] [--seed 1] [--tunes FILE ...]
                                            [--json-out PATH] [--differ-out PATH]

abc2midi (Debian `abcmidi`, the reference ABC implementation; benchmarks only, Ceol never runs
it) and Ceol (`app.music.abc_midi.abc_to_midi`, music21 underneath, what the window plays and
exports) each write a MIDI file of the same tune; both are read with mido. A tune's pitch
sequence is its melody's MIDI pitches in the order they start (chord notes starting together
sorted by pitch); abc2midi's accompaniment channels (from chord symbols) are left out: Ceol
plays no chord symbols. Only tunes abc2midi converts without an "Error" line are compared.

The tunes: `--count N --seed S` as `python main.py generate --count N --seed S` makes them
(`abc2midi_judge.generated_tunes`), or the tunes of ABC files (`--tunes`). Each disagreement is
classed by what makes the two agree:

- `roll`, `trill`, `grace`: the two agree once every roll `~`, trill `T` or grace note group
  `{...}` is taken out of the body (abc2midi plays them as extra notes; Ceol plays them the
  same way since `abc_midi.playback_text`, but not inside a tuplet or on a chord);
  `roll+grace` ...: only with both taken out;
- `repeat`: with the ornaments taken out, the same notes in a different order or number, in
  a tune with repeat or ending marks (`:|`, `|:`, `::`, `[1`, `|1`); `repeat+roll` ...: the
  tune has those ornaments too;
- `other`: anything else.

It prints (JSON) the tunes compared, how many agree, the classes with counts and the first
tune of each class; `--differ-out` writes the tunes that disagree.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import mido  # noqa: E402

from abc2midi_judge import generated_tunes  # noqa: E402
from app.music.abc_midi import abc_to_midi  # noqa: E402
from app.music.normalize import split_generated_text  # noqa: E402

_REPEAT_MARKS = re.compile(r":\||\|:|::|\[\d|\|\d")
# Ornaments abc2midi plays as extra notes and Ceol (music21) does not: rolls, trills, grace notes.
ORNAMENTS = {"roll": re.compile(r"~"), "trill": re.compile(r"T(?!:)"),
             "grace": re.compile(r"\{[^}]*\}")}


def midi_pitches(data: bytes, channels: set[int] | None = None) -> list[int]:
    """Return the pitches of a MIDI file's notes in the order they start (ties by pitch),
    only those on `channels` when given."""
    midi = mido.MidiFile(file=io.BytesIO(data))
    notes, now = [], 0
    for message in mido.merge_tracks(midi.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity and \
                (channels is None or message.channel in channels):
            notes.append((round(now * 48 / midi.ticks_per_beat), message.note))
    return [pitch for _, pitch in sorted(notes)]


def abc2midi_pitches(abc: str, exe: str = "abc2midi") -> list[int] | None:
    """Return the melody pitches abc2midi plays for a tune, None when it reports an error."""
    with tempfile.TemporaryDirectory(prefix="ceol-playback-") as folder:
        Path(folder, "t.abc").write_text(abc, encoding="utf-8")
        run = subprocess.run([exe, "t.abc", "-o", "t.mid"], cwd=folder, capture_output=True,
                             text=True, timeout=20, errors="replace")
        output = run.stdout + run.stderr
        if run.returncode or any(line.startswith("Error") for line in output.splitlines()):
            return None
        data = Path(folder, "t.mid").read_bytes()
    # abc2midi plays the melody on channel 1 (index 0), chord symbols on others.
    return midi_pitches(data, {0})


def ceol_pitches(abc: str) -> list[int] | None:
    """Return the pitches Ceol's MIDI export plays for a tune, None when it cannot convert it."""
    try:
        return midi_pitches(abc_to_midi(abc))
    except Exception:  # noqa: BLE001 - a tune Ceol cannot convert is counted, not fatal
        return None


def strip_ornaments(abc: str, kinds) -> str:
    """Return the tune with the ornaments of `kinds` ("roll", "trill", "grace") taken out of
    its body."""
    head, key, body = abc.partition("\nK:")
    line_end = body.find("\n") + 1 if "\n" in body else len(body)
    music = body[line_end:]
    for kind in kinds:
        music = ORNAMENTS[kind].sub("", music)
    return head + key + body[:line_end] + music


def classify(abc: str, exe: str = "abc2midi") -> str:
    """Say why the two disagree on a tune (see the module docstring)."""
    body = abc.partition("\nK:")[2]
    present = [kind for kind, pattern in ORNAMENTS.items() if pattern.search(body)]
    for kinds in [[kind] for kind in present] + ([present] if len(present) > 1 else []):
        plain = strip_ornaments(abc, kinds)
        if abc2midi_pitches(plain, exe) == ceol_pitches(plain):
            return "+".join(kinds)
    plain = strip_ornaments(abc, present)
    a, c = abc2midi_pitches(plain, exe), ceol_pitches(plain)
    if a is not None and c is not None and set(a) == set(c) and _REPEAT_MARKS.search(abc):
        return "repeat" + "".join(f"+{kind}" for kind in present
                                  if strip_ornaments(abc, [kind]) != abc)
    return "other"


def compare(tunes: list[str], exe: str = "abc2midi", differ: list[str] | None = None) -> dict:
    """Compare the tunes abc2midi reads without error; return the counts and classes."""
    start = time.perf_counter()
    compared = agree = ceol_failed = 0
    classes: Counter = Counter()
    examples: dict[str, str] = {}
    for abc in tunes:
        reference = abc2midi_pitches(abc, exe)
        if reference is None:
            continue
        compared += 1
        ours = ceol_pitches(abc)
        if ours is None:
            ceol_failed += 1
        if ours == reference:
            agree += 1
            continue
        kind = classify(abc, exe) if ours is not None else "ceol-failed"
        classes[kind] += 1
        examples.setdefault(kind, abc)
        if differ is not None:
            differ.append(abc)
    return {"tunes": len(tunes), "abc2midi_clean": compared, "same_pitches": agree,
            "same_percent": round(100 * agree / compared, 1) if compared else None,
            "ceol_failed": ceol_failed, "classes": dict(classes.most_common()),
            "examples": examples, "seconds": round(time.perf_counter() - start, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=0, help="default tunes to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tunes", nargs="*", default=[], help="ABC files to compare")
    parser.add_argument("--abc2midi", default="abc2midi", help="the abc2midi program")
    parser.add_argument("--json-out", help="also write the JSON report here")
    parser.add_argument("--differ-out", help="write the tunes the two play differently here")
    args = parser.parse_args()
    if shutil.which(args.abc2midi) is None:
        print(f"{args.abc2midi} not found (Debian package abcmidi)", file=sys.stderr)
        return 2
    report: dict = {"abc2midi": args.abc2midi}
    differ: list[str] = []
    if args.count:
        tunes, seconds = generated_tunes(args.count, args.seed)
        report["generated"] = {"command": f"python main.py generate --count {args.count} "
                               f"--seed {args.seed}", "generate_seconds": round(seconds, 1),
                               **compare(tunes, args.abc2midi, differ)}
    for path in args.tunes:
        report[path] = compare(split_generated_text(Path(path).read_text(encoding="utf-8")),
                               args.abc2midi, differ)
    text = json.dumps(report, indent=1, ensure_ascii=False)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    if args.differ_out:
        Path(args.differ_out).write_text("\n".join(differ), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
