"""Do the musical controls take effect? One measurement per control, N tunes each.

Usage:
    python3 benchmarks/controls.py [--model resources/models/ceol-celtic.safetensors] [--n 100]
        [--seed 1] [--json-out runs/controls.json] [--md-out runs/controls.md]

Each control is asked for with default sampling settings otherwise and judged on the tunes as
the user gets them (repaired text; "before repair" figures use the model's own text):
- key (D, Em, Ador, Gmix): the header carries the key and no K: change follows in the body;
  music21's key analysis (Krumhansl-Schmuckler, major/minor only) "strict": the same tonic and
  the mode's major/minor family (dorian, phrygian, aeolian -> minor; mixolydian, lydian,
  ionian -> major); "same signature": the analysed key has the asked key's signature
  (relative keys and modes count). Both are reported.
- rhythm (jig, reel, slip jig, waltz, polka, hornpipe): the usual meter in the header and every
  bar metrically correct (the checker finds no bar-length error), before and after repair.
- meter (explicit 9/8 and 3/4): header and every bar correct.
- bars (16 and 32): bars in the body equal to the number asked for.
- parts (2 x 8 bars, AABB): 16 bars and each part closed by a repeat.
- continue (first 4 bars of validation tunes): the tune starts with those bars verbatim.
- seed: the same seed twice gives the same tunes; count: N asked, N returned; top-k 1: all
  variations identical; temperature: mean model probability per character falls as T rises.
- title: the header carries it.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_reports  # noqa: E402

DEFAULT_MODEL = "resources/models/ceol-celtic.safetensors"
MINOR_MODES = {"m": True, "dor": True, "phr": True, "loc": True, "": False, "mix": False,
               "lyd": False}
SHARPS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7, "F": -1, "Bb": -2,
          "Eb": -3, "Ab": -4, "Db": -5, "Gb": -6, "Cb": -7}
MODE_SHIFT = {"": 0, "m": -3, "dor": -2, "phr": -4, "loc": -5, "mix": -1, "lyd": 1}


def key_signature(key: str) -> int:
    """Sharps (+) or flats (-) of a short ABC key such as Ador."""
    tonic, mode = re.match(r"([A-G][#b]?)(.*)", key).groups()
    return SHARPS[tonic] + MODE_SHIFT[mode]


def header_value(text: str, letter: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(f"{letter}:"):
            return line[2:].strip()
        if line.startswith("K:"):
            break
    return None


def body_keys(text: str) -> list[str]:
    """K: fields after the header (key changes inside the tune)."""
    body = text.split("\nK:", 1)[1].split("\n", 1)[1] if "\nK:" in text else ""
    return re.findall(r"(?:^K:|\[K:)([^\]\n]*)", body, re.MULTILINE)


def bars_ok(text: str) -> bool:
    from app.music.checker import check_tune

    return not any(p.code.startswith("bar-") and p.severity == "error"
                   for p in check_tune(text))


def share(values) -> float:
    values = list(values)
    return round(sum(map(bool, values)) / len(values), 3) if values else 0.0


def analysed_key(text: str):
    """(tonic name, mode, sharps) of music21's key analysis, or None if it does not parse."""
    from app.music.abc_midi import abc_to_score

    try:
        key = abc_to_score(text).analyze("key")
    except Exception:  # noqa: BLE001 - any music21 failure counts as not placed
        return None
    return key.tonic.name.replace("-", "b"), key.mode, key.sharps


MODE_NAMES = {"": "major", "m": "minor", "dor": "dorian", "mix": "mixolydian", "lyd": "lydian",
              "phr": "phrygian", "loc": "locrian", "aeo": "aeolian", "ion": "ionian"}


def scale_fit(text: str, key: str):
    """(share of notes whose pitch class is in the key's scale, last note on the tonic), or None.

    For modes music21's key analysis (major/minor profiles) cannot say "G Mixolydian"; this asks
    what a musician hears: do the notes stay in the mode's scale, and does the tune end home.
    """
    from music21 import key as m21key

    from app.music.abc_midi import abc_to_score

    tonic, mode = re.match(r"([A-G][#b]?)(.*)", key).groups()
    try:
        notes = [n for n in abc_to_score(text).flatten().notes]
        scale = {p.pitchClass for p in m21key.Key(tonic.replace("b", "-"),
                                                  MODE_NAMES[mode.lower()]).getPitches()}
        tonic_pc = m21key.Key(tonic.replace("b", "-")).tonic.pitchClass
    except Exception:  # noqa: BLE001 - a tune that does not parse fits nothing
        return None
    pcs = [p.pitchClass for n in notes for p in n.pitches]
    if not pcs:
        return None
    last = {p.pitchClass for p in notes[-1].pitches}
    return sum(pc in scale for pc in pcs) / len(pcs), tonic_pc in last


def run(model_path: str, n: int, seed: int) -> dict:
    from app.generation import GenerationControls, generate_tunes
    from model.checkpoint import load_model

    loaded = load_model(model_path)

    def gen(**kw):
        return generate_tunes(loaded, GenerationControls(count=n, seed=seed, **kw))

    rows = [*_key_rows(gen, n), *_form_rows(gen, n), _continue_row(loaded, n, seed),
            *_sampling_rows(gen, n, seed)]
    return {"model": model_path, "n": n, "seed": seed, "rows": rows}


def _key_rows(gen, n: int) -> list[dict]:
    """Keys asked for: carried in K:, and judged by music21's key analysis and the scale."""
    from app.music.normalize import canonical_key

    rows = []
    for key in ("D", "Em", "Ador", "Gmix"):
        tunes = gen(key=key)
        tonic, mode = re.match(r"([A-G][#b]?)(.*)", key).groups()
        carried, strict, family, in_scale, home = [], [], [], [], []
        for t in tunes:
            fit = scale_fit(t.text, key)
            in_scale.append(bool(fit) and fit[0] >= 0.9)
            home.append(bool(fit) and fit[1])
            has = header_value(t.text, "K") == key and all(
                canonical_key(k) == key for k in body_keys(t.text))
            found = analysed_key(t.text) if has else None
            carried.append(has)
            strict.append(bool(found) and found[0] == tonic
                          and (found[1] == "minor") == MINOR_MODES[mode])
            family.append(bool(found) and found[2] == key_signature(key))
        rows.append({"control": "key", "asked": key, "n": n, "obeyed": share(carried),
                     "music21_strict": share(strict), "music21_same_signature": share(family),
                     "notes_90pct_in_scale": share(in_scale), "ends_on_tonic": share(home)})
    return rows


def _form_rows(gen, n: int) -> list[dict]:
    """Rhythm, meter, bars and parts asked for."""
    from app.music.bars import body_bars

    rows = []
    for rhythm, meter in (("jig", "6/8"), ("reel", "4/4"), ("slip jig", "9/8"),
                          ("hornpipe", "4/4"), ("polka", "2/4"), ("waltz", "3/4")):
        tunes = gen(rhythm=rhythm)
        rows.append({"control": "rhythm", "asked": rhythm, "n": n,
                     "obeyed": share(header_value(t.text, "M") == meter and t.ok
                                     and bars_ok(t.text) for t in tunes),
                     "meter_in_header": share(header_value(t.text, "M") == meter
                                              for t in tunes),
                     "bars_correct_before_repair": share(bars_ok(t.original) for t in tunes),
                     "clean_after_repair": share(t.ok for t in tunes)})
    for meter in ("9/8", "3/4"):
        tunes = gen(meter=meter)
        rows.append({"control": "meter", "asked": meter, "n": n,
                     "obeyed": share(header_value(t.text, "M") == meter and t.ok
                                     for t in tunes),
                     "bars_correct_before_repair": share(bars_ok(t.original) for t in tunes),
                     "clean_after_repair": share(t.ok for t in tunes)})
    for bars in (16, 32):
        tunes = gen(bars=bars)
        rows.append({"control": "bars", "asked": bars, "n": n,
                     "obeyed": share(t.bars == bars for t in tunes),
                     "bars_before_repair_exact": share(body_bars(t.original) == bars
                                                       for t in tunes),
                     "clean_after_repair": share(t.ok for t in tunes)})
    tunes = gen(parts=2, bars_per_part=8, rhythm="reel")
    rows.append({"control": "parts", "asked": "2 x 8 bars (AABB)", "n": n,
                 "obeyed": share(t.bars == 16 and t.text.count(":|") >= 2 for t in tunes),
                 "clean_after_repair": share(t.ok for t in tunes)})
    return rows


def _continue_row(loaded, n: int, seed: int) -> dict:
    """Continuing the first four bars of validation tunes: the given bars kept as written."""
    from app.generation import GenerationControls, generate_tunes

    given = _validation_tunes(n)
    kept, clean = [], []
    for i, abc in enumerate(given):
        t = generate_tunes(loaded, GenerationControls(continue_from=abc, continue_bars=4,
                                                      seed=seed + i))[0]
        prime_body = t.prime.split("\nK:", 1)[1].split("\n", 1)[1]
        kept.append(t.text.split("\nK:", 1)[-1].split("\n", 1)[-1].startswith(prime_body))
        clean.append(t.ok)
    return {"control": "continue", "asked": "first 4 bars of validation tunes",
            "n": len(kept), "obeyed": share(kept), "clean_after_repair": share(clean)}


def _sampling_rows(gen, n: int, seed: int) -> list[dict]:
    """Seed, count, top-k, temperature and title."""
    a, b = gen(bars=8), gen(bars=8)
    rows = [{"control": "seed", "asked": seed, "n": n,
             "obeyed": share(x.original == y.original for x, y in zip(a, b))},
            {"control": "count", "asked": n, "n": n, "obeyed": float(len(a) == n)}]
    greedy = gen(bars=8, top_k=1)
    rows.append({"control": "top_k", "asked": 1, "n": n,
                 "obeyed": float(len({t.original for t in greedy}) == 1)})
    mean_p = {}
    for temperature in (0.5, 1.0, 1.5):
        tunes = gen(bars=8, temperature=temperature)
        probs = [p for t in tunes for p in t.probabilities]
        mean_p[temperature] = round(sum(probs) / max(1, len(probs)), 3)
    values = list(mean_p.values())
    rows.append({"control": "temperature", "asked": "0.5 / 1.0 / 1.5", "n": n,
                 "obeyed": float(values[0] > values[1] > values[2]),
                 "mean_char_probability": mean_p})
    tunes = gen(title="The Benchmark Reel", rhythm="reel")
    rows.append({"control": "title", "asked": "The Benchmark Reel", "n": n,
                 "obeyed": share(header_value(t.text, "T") == "The Benchmark Reel"
                                 for t in tunes)})
    return rows


def _validation_tunes(n: int) -> list[str]:
    from app.music.corpus import load_corpus
    from app.music.normalize import training_text

    _, valid = load_corpus(["celtic"]).split()
    from app.music.bars import body_bars
    picked = [training_text(t) for t in valid if body_bars(training_text(t)) >= 8]
    return picked[:n]


def markdown(report: dict) -> str:
    lines = [f"Controls: {report['n']} tunes per control, model {report['model']}, "
             f"seed {report['seed']}", "",
             "| control | asked | obeyed | details |", "|---|---|---|---|"]
    for row in report["rows"]:
        details = ", ".join(f"{k} {v}" for k, v in row.items()
                            if k not in ("control", "asked", "obeyed", "n"))
        lines.append(f"| {row['control']} | {row['asked']} | {row['obeyed']:.0%} | {details} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--n", type=int, default=100, help="tunes per control")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json-out")
    p.add_argument("--md-out")
    args = p.parse_args()
    start = time.perf_counter()
    report = run(args.model, args.n, args.seed)
    report["seconds"] = round(time.perf_counter() - start, 1)
    text = markdown(report)
    print(text)
    write_reports(report, text, args.json_out, args.md_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
