"""Quality of generated tunes: Ceol with default settings vs the reference lab recipe.

Usage (full size, as in RESULTS.md):
    python3 benchmarks/quality.py --ceol-model resources/models/ceol-celtic.safetensors \
        --ref-ckpt runs/quality/ref_full.pt --train-file runs/quality/train.abc --count 200 \
        --json-out runs/quality/quality.json --md-out runs/quality/quality.md

Both systems' tunes are judged by the same code:
- parse: music21 converts the text to notes without error (at least one note);
- bars correct: the checker finds no bar-length error (before any repair);
- clean: the checker finds no error at all; raw, and after Ceol's repair (for the reference
  the raw figure is its own; the repaired one shows what our repair would add);
- MIDI: the text renders to a MIDI file (abc_to_midi) without error.
Ceol's tunes are `python main.py generate`'s: GenerationControls() defaults (which resample a
tune that is not clean after repair, up to 3 tries), seeds from --seed, raw = what the model
wrote, repaired = what the user gets. A second row, "one sample", turns resampling off
(attempts 1); a third also turns off bar fitting and drawn lengths: the model's own rates. The reference's tunes come from
`mit_lab.py generate --ckpt REF --length L --seed S` (S = seed, seed+1, ... until --count
tunes); its text is split at blank lines as the lab does (only blocks closed by a blank line
count: the lab's extract_song_snippet pattern `(^|\\n\\n)(.*?)\\n\\n`), and blocks are taken in
order until --count.

Similarity to the training tunes (Yang and Lerch 2018) is the overlapping area of two
normalised histograms pooled over each set (sum over bins of min(p, q); 1 = identical): we
implement the pooled-histogram form, not the paper's KDE of intra/inter-set distances. Features:
pitch class (12 bins), melodic interval (-12..+12 semitones, larger leaps clipped: 25 bins),
note length in quarter notes (bins 1/4, 1/3, 1/2, 2/3, 3/4, 1, 3/2, 2, 3, 4, other) and tune
length in bars (bins of 4 bars up to 64, then one bin). Notes are music21's with repeats
expanded; the melody is the top note at each onset. Similarity uses the tunes the user gets
(Ceol: repaired; reference: raw, it has no repair) that parse.
Originality: the share of those tunes that copy a run of 16 consecutive notes (pitch and length,
untransposed) from any training tune (all 16-note windows of the training tunes hashed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_reports  # noqa: E402

REFERENCE = Path("/work/shared/reference/mit_lab.py")
WINDOW = 16
LENGTH_BINS = [Fraction(1, 4), Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), Fraction(3, 4),
               Fraction(1), Fraction(3, 2), Fraction(2), Fraction(3), Fraction(4)]


# ------------------------------------------------------------------ tunes


def ceol_tunes(model: str, count: int, seed: int, **controls) -> list[dict]:
    from app.generation import GenerationControls, generate_tunes
    from model.checkpoint import load_model

    loaded = load_model(model)
    tunes, batch = [], 0
    while len(tunes) < count:
        size = min(50, count - len(tunes))
        for t in generate_tunes(loaded, GenerationControls(count=size, seed=seed + batch,
                                                                **controls)):
            tunes.append({"raw": t.original, "user": t.text, "repaired": t.text})
        batch += 1
    return tunes


def reference_tunes(ckpt: str, count: int, seed: int, length: int) -> list[dict]:
    from app.music.repair import repair_tune

    tunes, run = [], 0
    while len(tunes) < count:
        out = subprocess.run([sys.executable, str(REFERENCE), "generate", "--ckpt", ckpt,
                              "--length", str(length), "--seed", str(seed + run)],
                             capture_output=True, text=True, check=True).stdout
        run += 1
        for block in lab_blocks(out):
            tunes.append({"raw": block + "\n", "user": block + "\n",
                          "repaired": repair_tune(block + "\n").text})
            if len(tunes) == count:
                break
        if run > 20 * count:
            raise SystemExit("the reference yields no complete tunes")
    return tunes


def lab_blocks(text: str) -> list[str]:
    """Blocks closed by a blank line, as the lab's extract_song_snippet finds them."""
    pieces = re.split(r"\n\s*\n", text)
    return [p.strip("\n") for p in pieces[:-1] if p.strip()]


# ------------------------------------------------------------------ judging


def melody(abc: str):
    """(pitch, duration) of the top note at each onset, or None if music21 fails."""
    from app.music.abc_midi import abc_note_events

    try:
        events = abc_note_events(abc)
    except Exception:  # noqa: BLE001 - any failure means "does not parse"
        return None
    top: dict[Fraction, tuple[int, Fraction]] = {}
    for e in events:
        if e.onset not in top or e.pitch > top[e.onset][0]:
            top[e.onset] = (e.pitch, e.duration)
    return [top[k] for k in sorted(top)] or None


def renders(abc: str) -> bool:
    from app.music.abc_midi import abc_to_midi

    try:
        return len(abc_to_midi(abc)) > 0
    except Exception:  # noqa: BLE001
        return False


def judge(tunes: list[dict]) -> dict:
    from app.music.checker import check_tune, is_clean
    from app.music.repair import repair_tune

    parse, bars, clean_raw, clean_rep, midi, melodies, lengths = [], [], [], [], [], [], []
    from app.music.bars import body_bars
    for t in tunes:
        problems = check_tune(t["raw"])
        notes = melody(t["raw"])
        parse.append(notes is not None)
        bars.append(not any(p.code.startswith("bar-") and p.severity == "error"
                            for p in problems))
        clean_raw.append(not any(p.severity == "error" for p in problems))
        clean_rep.append(is_clean(t["repaired"]) and repair_tune(t["repaired"]).ok)
        midi.append(renders(t["raw"]))
        user = notes if t["user"] == t["raw"] else melody(t["user"])
        if user:
            melodies.append(user)
            lengths.append(body_bars(t["user"]))
    n = len(tunes)
    return {"n": n, "parse": _share(parse), "bars_correct_raw": _share(bars),
            "clean_raw": _share(clean_raw), "clean_after_repair": _share(clean_rep),
            "midi_raw": _share(midi), "user_tunes_with_notes": len(melodies),
            "_melodies": melodies, "_lengths": lengths}


def _share(values: list[bool]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


# ------------------------------------------------------------------ similarity, originality


def histograms(melodies: list, lengths: list[int]) -> dict[str, Counter]:
    pc, iv, nl, bl = Counter(), Counter(), Counter(), Counter()
    for notes in melodies:
        for i, (pitch, duration) in enumerate(notes):
            pc[pitch % 12] += 1
            nl[str(duration) if duration in LENGTH_BINS else "other"] += 1
            if i:
                iv[max(-12, min(12, pitch - notes[i - 1][0]))] += 1
    for bars in lengths:
        bl[min(bars // 4, 16)] += 1
    return {"pitch_class": pc, "interval": iv, "note_length": nl, "tune_length_bars": bl}


def overlap(a: Counter, b: Counter) -> float:
    ta, tb = sum(a.values()), sum(b.values())
    if not ta or not tb:
        return 0.0
    return round(sum(min(a[k] / ta, b[k] / tb) for k in set(a) | set(b)), 3)


def windows(notes: list) -> set[bytes]:
    out = set()
    for i in range(len(notes) - WINDOW + 1):
        key = ";".join(f"{p},{d}" for p, d in notes[i:i + WINDOW])
        out.add(hashlib.blake2b(key.encode(), digest_size=8).digest())
    return out


def training_features(train_file: str) -> dict:
    """Melodies and bar counts of the training tunes (cached next to the file)."""
    from app.music.bars import body_bars
    from app.music.normalize import split_generated_text

    data = Path(train_file).read_bytes()
    cache = Path(train_file).with_suffix(
        f".notes-{hashlib.blake2b(data, digest_size=6).hexdigest()}.json")
    if cache.exists():
        saved = json.loads(cache.read_text())
        return {"melodies": [[(p, Fraction(d)) for p, d in m] for m in saved["melodies"]],
                "lengths": saved["lengths"], "tunes": saved["tunes"]}
    melodies, lengths = [], []
    texts = split_generated_text(data.decode("utf-8", errors="replace"))
    for text in texts:
        notes = melody(text)
        if notes:
            melodies.append(notes)
            lengths.append(body_bars(text))
    cache.write_text(json.dumps({"melodies": [[(p, str(d)) for p, d in m] for m in melodies],
                                 "lengths": lengths, "tunes": len(texts)}))
    return {"melodies": melodies, "lengths": lengths, "tunes": len(texts)}


def compare(result: dict, train: dict, train_hist: dict, train_windows: set) -> dict:
    hist = histograms(result["_melodies"], result["_lengths"])
    sims = {f"overlap_{k}": overlap(hist[k], train_hist[k]) for k in hist}
    copies = [bool(windows(m) & train_windows) for m in result["_melodies"]]
    return {**sims, "copies_16_notes": _share(copies)}


# ------------------------------------------------------------------ report


COLUMNS = [("parse", "parse"), ("bars_correct_raw", "bars correct (raw)"),
           ("clean_raw", "clean (raw)"), ("clean_after_repair", "clean after repair"),
           ("midi_raw", "MIDI (raw)"), ("overlap_pitch_class", "OA pitch class"),
           ("overlap_interval", "OA interval"), ("overlap_note_length", "OA note length"),
           ("overlap_tune_length_bars", "OA length (bars)"),
           ("copies_16_notes", "copies 16 notes")]


def markdown(report: dict) -> str:
    head = "| system | tunes | " + " | ".join(title for _, title in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for name, row in report["systems"].items():
        cells = [f"{row[k]:.1%}" if not k.startswith("overlap") else f"{row[k]:.3f}"
                 for k, _ in COLUMNS]
        lines.append(f"| {name} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ceol-model", default="resources/models/ceol-celtic.safetensors")
    p.add_argument("--ref-ckpt", help="the reference lab's checkpoint (skipped if not given)")
    p.add_argument("--train-file", default="runs/quality/train.abc")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ref-length", type=int, default=3000,
                   help="characters per reference generate run")
    p.add_argument("--temperature", type=float, help="Ceol's temperature (default: the "
                   "generate default)")
    p.add_argument("--no-single", action="store_true",
                   help="skip the row of Ceol without resampling (attempts 1)")
    p.add_argument("--json-out")
    p.add_argument("--md-out")
    args = p.parse_args()
    start = time.perf_counter()
    train = training_features(args.train_file)
    train_hist = histograms(train["melodies"], train["lengths"])
    train_windows = set().union(*(windows(m) for m in train["melodies"]))
    systems = {}
    sampling = {"temperature": args.temperature} if args.temperature is not None else {}
    generated = {"Ceol": ceol_tunes(args.ceol_model, args.count, args.seed, **sampling)}
    if not args.no_single:
        generated["Ceol, one sample (attempts 1)"] = ceol_tunes(
            args.ceol_model, args.count, args.seed, attempts=1, **sampling)
        generated["Ceol, the model alone (attempts 1, no bar fitting, no drawn length)"] = \
            ceol_tunes(args.ceol_model, args.count, args.seed, attempts=1, fit_bars=False,
                       auto_length=False, **sampling)
    if args.ref_ckpt:
        generated["reference (MIT lab)"] = reference_tunes(args.ref_ckpt, args.count, args.seed,
                                                           args.ref_length)
    samples = {}
    for name, tunes in generated.items():
        result = judge(tunes)
        result.update(compare(result, train, train_hist, train_windows))
        samples[name] = [t["raw"] for t in tunes[:3]]
        systems[name] = {k: v for k, v in result.items() if not k.startswith("_")}
    report = {"count": args.count, "seed": args.seed, "ceol_model": args.ceol_model,
              "ref_ckpt": args.ref_ckpt, "train_file": args.train_file,
              "train_tunes": train["tunes"], "train_tunes_with_notes": len(train["melodies"]),
              "systems": systems, "samples": samples,
              "seconds": round(time.perf_counter() - start, 1)}
    text = markdown(report)
    print(text)
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=1),
          file=sys.stderr)
    write_reports(report, text, args.json_out, args.md_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
