"""Long fuzzing of MIDI input, model files, the settings file and the tune library (issue 10).

    nice -n 10 python3 benchmarks/fuzz_long_midi_model.py [--cases 100000] [--targets a,b]
        [--seed 1] [--save DIR] [--hang-s 30]

The same seeds and mutations as tests/fuzz (tests/fuzz/raw_*.py), driven by random.Random
instead of hypothesis so that a run counts every crash instead of stopping at the first. Each
case is a result or Ceol's documented error (MusicError, ModelError, LibraryError); anything
else is a crash, grouped by exception type and the line that raised it; a case running longer
than --hang-s is a hang. Prints one Markdown row per target: cases run, refused, crashes
(distinct and total), hangs, wall time and time per case.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.music.errors import MusicError  # noqa: E402
from model.errors import ModelError  # noqa: E402
from tests.fuzz import raw_library, raw_midi, raw_model  # noqa: E402


class Hang(Exception):
    pass


def _midi_seeds() -> list[bytes]:
    folder = REPO / "tests" / "fuzz" / "seeds_midi"
    return [p.read_bytes() for p in sorted(folder.glob("*.mid"))] + raw_midi.hand_built_seeds()


def midi_target(run):
    seeds = _midi_seeds()

    def case(rng, tmp):
        run(raw_midi.mutate(rng.choice(seeds), rng.randint))
    return case, (MusicError,)


def read_midi_case(data):
    from app.music.midi_file import read_midi

    read_midi(data)


def midi_to_abc_case(data):
    from app.music.midi_to_abc import midi_to_abc

    midi_to_abc(data)


def render_midi_case(data):
    from app.music import audio

    audio.MAX_RENDER_SECONDS = 60   # the limit path is fuzzed too, and each case stays quick
    audio.render_midi(data, audio.RenderOptions(sample_rate=8000), label="fuzz.mid")


def model_target(reader):
    def setup(tmp):
        return raw_model.tiny_model_bytes(tmp)

    def case(rng, tmp, seed=[]):
        if not seed:
            seed.append(setup(tmp))
        path = tmp / "m.safetensors"
        path.write_bytes(raw_model.mutate_model(seed[0], rng.randint))
        reader()(path)
    return case, (ModelError,)


def _load_model():
    from model.checkpoint import load_model
    return load_model


def _read_metadata():
    from model.checkpoint_meta import read_metadata
    return read_metadata


def _read_model_info():
    from app.ui.model_files import read_model_info
    return read_model_info


def settings_target():
    def case(rng, tmp):
        from app import settings as module

        path = tmp / f"settings-{rng.randint(0, 10 ** 9)}.ini"
        seed = raw_library.SETTINGS_SEED if rng.randint(0, 3) else os.urandom(rng.randint(0, 300))
        path.write_bytes(raw_library.mutate_bytes(seed, rng.randint))
        store = module.Settings(path)
        for key in vars(module).values():
            if isinstance(key, module.Key):
                value = store.get(key)
                assert isinstance(value, type(key.default)), (key.name, value)
        store.state("library")
        path.unlink()
    return case, ()


def library_target():
    from app.library import LibraryError

    def case(rng, tmp, seed=[]):
        if not seed:
            seed.append(raw_library.library_seed(tmp))
        folder = tmp / f"lib-{rng.randint(0, 10 ** 9)}"
        folder.mkdir()
        path = folder / "library.db"
        path.write_bytes(raw_library.mutate_bytes(seed[0], rng.randint))
        try:
            raw_library.exercise_library(path)
        finally:
            for p in folder.iterdir():
                p.unlink()
            folder.rmdir()
    return case, (LibraryError,)


TARGETS = {
    "read_midi": lambda: midi_target(read_midi_case),
    "midi_to_abc": lambda: midi_target(midi_to_abc_case),
    "render_midi": lambda: midi_target(render_midi_case),
    "model_metadata": lambda: model_target(_read_metadata),
    "model_load": lambda: model_target(_load_model),
    "model_picker": lambda: model_target(_read_model_info),
    "settings": settings_target,
    "library": library_target,
}


def _alarm(signum, frame):
    raise Hang()


def fuzz(name: str, cases: int, seed: int, hang_s: int, save: Path | None) -> dict:
    case, allowed = TARGETS[name]()
    rng = random.Random(seed)
    crashes: collections.Counter = collections.Counter()
    examples: dict = {}
    refused = hangs = 0
    signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(cases):
            state = rng.getstate()
            signal.alarm(hang_s)
            try:
                case(rng, Path(tmp))
            except allowed:
                refused += 1
            except Hang:
                hangs += 1
                crashes[("hang",)] += 1
            except Exception as exc:  # a crash: what this runner is here to find
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                key = (type(exc).__name__, Path(frame.filename).name, frame.lineno)
                crashes[key] += 1
                if key not in examples:
                    examples[key] = (i, str(exc)[:200], state)
            finally:
                signal.alarm(0)
    wall = time.perf_counter() - start
    if save and examples:
        save.mkdir(parents=True, exist_ok=True)
        with open(save / f"{name}.txt", "w") as out:
            for key, (i, message, _) in examples.items():
                out.write(f"case {i}: {key}: {message}\n")
    return {"target": name, "cases": cases, "refused": refused, "distinct": len(crashes),
            "crashes": sum(crashes.values()), "hangs": hangs, "wall_s": wall,
            "ms_per_case": 1000 * wall / max(cases, 1),
            "kinds": [f"{k} x{v}: {examples.get(k, ('', ''))[1]}" for k, v in crashes.most_common()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang-s", type=int, default=30)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    logging.disable(logging.WARNING)   # skipped meta data is logged for every other case
    print("| target | cases | refused | crashes (distinct) | hangs | wall s | ms/case |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in args.targets.split(","):
        row = fuzz(name, args.cases, args.seed, args.hang_s, args.save)
        print(f"| {name} | {row['cases']:,} | {row['refused']:,} | {row['crashes']:,} "
              f"({row['distinct']}) | {row['hangs']} | {row['wall_s']:.0f} | "
              f"{row['ms_per_case']:.2f} |", flush=True)
        for kind in row["kinds"]:
            print(f"    crash: {kind}", flush=True)


if __name__ == "__main__":
    main()
