#!/usr/bin/env python3
"""Side-by-side benchmark of Ceol's music model against the reference peer (MIT lab 1 recipe).

Both systems see the same characters: the corpus's training and validation splits are written
as Ceol's training text to two files; the reference (`../shared/reference/mit_lab.py`, run with
`python3` in a subprocess) and Ceol (`main.py`, also a subprocess) train on the first and are
scored on the second with their own `evaluate` commands. Prints one JSON object with the raw
figures and the ratios the issue asks about. Parts (pick with --parts):

  train-speed  lab preset vs reference, same model and work: chars/s ratio (>= 1 is the goal)
  generate     ms/char of one tune, lab-sized model, Ceol vs the reference loop (<= 0.1 goal;
               --gen-repeats N runs N pairs alternately, each with the load average at its
               start), and 16 variations of ~400 chars with the laptop model (< 1.5 s goal)
  quality      reference for --ref-iters (3000 = the recipe) then Ceol `laptop` for a quarter
               of the reference's wall time and for equal wall time: held-out bits/char
  memory       peak resident memory of `train --preset laptop` for --memory-steps steps

Examples (the CPU is shared: the quality part takes as long as the reference's training):
  python3 benchmarks/bench_model.py --parts train-speed,generate --speed-steps 30
  python3 benchmarks/bench_model.py --parts quality            # the full comparison
  python3 benchmarks/bench_model.py --parts all --smoke         # a < 1 minute plumbing check
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("CEOL_REFERENCE", ROOT.parent / "shared" / "reference" /
                                "mit_lab.py"))
PARTS = ("train-speed", "generate", "quality", "memory")


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command, failing loudly with its stderr."""
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stderr[-3000:]}")
    return result


def last_json(text: str) -> dict:
    """Return the last line of `text` that parses as a JSON object."""
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise SystemExit(f"no JSON figures in: {text[-500:]}")


def write_splits(corpus: str, folder: Path, max_chars: int | None) -> tuple[Path, Path]:
    """Write the corpus's train/valid splits as Ceol's training text; return the two paths."""
    sys.path.insert(0, str(ROOT))
    from app.music.corpus import load_corpus
    from app.music.normalize import corpus_text

    train, valid = load_corpus([corpus]).split()
    train_text, valid_text = corpus_text(train), corpus_text(valid)
    if max_chars:
        train_text = train_text[:max_chars].rsplit("\n\n", 1)[0] + "\n"
        valid_text = valid_text[:max(max_chars // 10, 2000)].rsplit("\n\n", 1)[0] + "\n"
    paths = folder / "train.abc", folder / "valid.abc"
    paths[0].write_text(train_text, encoding="utf-8")
    paths[1].write_text(valid_text, encoding="utf-8")
    return paths


def ref_train(train: Path, out: Path, iters: int, seconds: float = 0) -> dict:
    cmd = ["python3", str(REFERENCE), "train", "--data", str(train), "--iters", str(iters),
           "--out", str(out)]
    if seconds:
        cmd += ["--seconds", str(seconds)]
    t0 = time.perf_counter()
    figures = last_json(run(cmd).stderr)
    figures["wall_seconds"] = round(time.perf_counter() - t0, 2)
    return figures


def ceol(*args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT)


def ceol_train(train: Path, out: Path, preset: str, *, steps: int | None = None,
               minutes: float | None = None, extra: tuple[str, ...] = ()) -> dict:
    limit = ["--steps", str(steps)] if steps else ["--minutes", str(minutes)]
    t0 = time.perf_counter()
    ceol("train", "--data", str(train), "--preset", preset, *limit, "--out", str(out),
         "--valid-fraction", "0", "--quiet", "--device", "cpu", *extra)
    wall = time.perf_counter() - t0
    meta = json.loads(ceol("model-info", str(out), "--json").stdout)["training"]
    return {"steps": meta["steps"], "seconds": meta["seconds"], "wall_seconds": round(wall, 2),
            "chars_per_second": meta["chars_per_second"], "train_loss": meta["train_loss"],
            "precision": meta.get("precision"), "threads": meta.get("threads")}


def evaluate_both(ref_ckpt: Path | None, ceol_model: Path | None, valid: Path) -> dict:
    out = {}
    if ref_ckpt:
        out["reference"] = last_json(run(["python3", str(REFERENCE), "evaluate", "--ckpt",
                                          str(ref_ckpt), "--data", str(valid)]).stdout)
    if ceol_model:
        out["ceol"] = last_json(ceol("evaluate", "--model", str(ceol_model), "--data",
                                     str(valid), "--json").stdout)
    return out


def part_train_speed(args, train: Path, work: Path) -> dict:
    """The lab preset in fp32 (the recipe's arithmetic) against the reference, then the same
    with bf16 autocast and with the precision measured on this CPU (auto: the preset's own
    setting, what `train --preset lab` runs), same steps."""
    ref = ref_train(train, work / "ref_lab.pt", args.speed_steps)
    ours = ceol_train(train, work / "ceol_lab.safetensors", "lab", steps=args.speed_steps,
                      extra=("--precision", "fp32"))
    out = {"reference": ref, "ceol_lab": ours,
           "chars_per_second_ratio": round(ours["chars_per_second"] / ref["chars_per_second"], 3)}
    bf16 = ceol_train(train, work / "ceol_lab_bf16.safetensors", "lab", steps=args.speed_steps,
                      extra=("--precision", "bf16"))
    out["ceol_lab_bf16"] = bf16
    out["chars_per_second_ratio_bf16"] = round(bf16["chars_per_second"]
                                               / ref["chars_per_second"], 3)
    auto = ceol_train(train, work / "ceol_lab_auto.safetensors", "lab", steps=args.speed_steps,
                      extra=("--precision", "auto"))
    out["ceol_lab_auto"] = auto
    out["chars_per_second_ratio_auto"] = round(auto["chars_per_second"]
                                               / ref["chars_per_second"], 3)
    return out


GEN_SCRIPT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from model.checkpoint import load_model
from model.config import SampleConfig
from model.sample import generate
from app.kernels import remember_kernels
remember_kernels()   # the kernels measured on first use (or remembered), as the app does
m = load_model(sys.argv[2]); target = int(sys.argv[3]); count = int(sys.argv[4])
generate(m.model, m.vocab, SampleConfig(count=count, max_chars=10, seed=0))  # warm-up
chars, seconds, seed = 0, 0.0, 0
while chars < target:
    seed += 1
    t = time.perf_counter()
    tunes = generate(m.model, m.vocab, SampleConfig(count=count, max_chars=int(sys.argv[5]),
                                                    seed=seed))
    seconds += time.perf_counter() - t
    chars += max(len(x.generated) + x.finished for x in tunes)
    if count > 1:
        break
print(json.dumps({"steps": chars, "seconds": round(seconds, 4),
                  "ms_per_char": round(1000 * seconds / chars, 4), "count": count,
                  "total_chars": sum(len(x.generated) for x in tunes),
                  "weights": tunes[0].settings["weights"],
                  "threads": tunes[0].settings["threads"]}))
"""


def part_generate(args, train: Path, work: Path) -> dict:
    ref_ckpt, lab_model = work / "ref_lab.pt", work / "ceol_lab.safetensors"
    if not ref_ckpt.exists():
        ref_train(train, ref_ckpt, args.gen_train_steps)
    if not lab_model.exists():
        ceol_train(train, lab_model, "lab", steps=args.gen_train_steps)
    pairs = []
    for _ in range(args.gen_repeats):   # the two side by side, so a burst of load hits both
        load = os.getloadavg()[0]
        ref = last_json(run(["python3", str(REFERENCE), "generate", "--ckpt", str(ref_ckpt),
                             "--length", str(args.gen_chars)]).stderr)
        ours = last_json(run([sys.executable, "-c", GEN_SCRIPT, str(ROOT), str(lab_model),
                              str(args.gen_chars), "1", str(args.gen_chars)]).stdout)
        pairs.append({"load_average": round(load, 2), "reference_ms_per_char":
                      ref["ms_per_char"], "ceol_ms_per_char": ours["ms_per_char"],
                      "ratio": round(ours["ms_per_char"] / ref["ms_per_char"], 4)})
    laptop = work / "ceol_laptop.safetensors"
    if not laptop.exists():
        ceol_train(train, laptop, "laptop", steps=args.gen_train_steps)
    batch = last_json(run([sys.executable, "-c", GEN_SCRIPT, str(ROOT), str(laptop), "1",
                           "16", "400"]).stdout)
    ratios = sorted(p["ratio"] for p in pairs)
    return {"reference_lab": ref, "ceol_lab": ours,
            "ms_per_char_ratio": round(ours["ms_per_char"] / ref["ms_per_char"], 4),
            "ms_per_char_ratio_median": ratios[len(ratios) // 2], "pairs": pairs,
            "ceol_laptop_16x400": batch, "sixteen_variations_seconds": batch["seconds"]}


def part_quality(args, train: Path, valid: Path, work: Path) -> dict:
    ref_ckpt = work / "ref_full.pt"
    ref = ref_train(train, ref_ckpt, args.ref_iters)
    ref_seconds = ref["seconds"]
    quarter, equal = work / "ceol_quarter.safetensors", work / "ceol_equal.safetensors"
    q = ceol_train(train, quarter, "laptop", minutes=ref_seconds / 4 / 60)
    e = ceol_train(train, equal, "laptop", minutes=ref_seconds / 60)
    scores = evaluate_both(ref_ckpt, quarter, valid)
    equal_score = evaluate_both(None, equal, valid)["ceol"]
    ref_bpc, q_bpc, e_bpc = (scores["reference"]["bits_per_char"],
                             scores["ceol"]["bits_per_char"], equal_score["bits_per_char"])
    return {"reference": dict(ref, evaluate=scores["reference"]),
            "ceol_quarter_time": dict(q, evaluate=scores["ceol"]),
            "ceol_equal_time": dict(e, evaluate=equal_score),
            "quarter_time_reaches_reference": q_bpc <= ref_bpc,
            "equal_time_bpc_reduction": round(1 - e_bpc / ref_bpc, 4)}


MEMORY_SCRIPT = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from app.cli import main
status = main(sys.argv[2:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": status, "peak_rss_mb": round(peak / 1024, 1)}), file=sys.stderr)
"""


def part_memory(args, train: Path, work: Path) -> dict:
    """Peak resident memory of one `train --preset laptop` process (ru_maxrss of itself)."""
    figures = last_json(run([sys.executable, "-c", MEMORY_SCRIPT, str(ROOT), "train", "--data",
                             str(train), "--preset", "laptop", "--steps", str(args.memory_steps),
                             "--out", str(work / "ceol_mem.safetensors"), "--quiet",
                             "--device", "cpu"], cwd=ROOT).stderr)
    return {"steps": args.memory_steps, "peak_rss_mb": figures["peak_rss_mb"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="train-speed,generate,memory",
                        help=f"comma-separated: {', '.join(PARTS)} or all")
    parser.add_argument("--corpus", default="celtic", help="corpus for the splits (celtic)")
    parser.add_argument("--speed-steps", type=int, default=30, help="steps for train-speed")
    parser.add_argument("--gen-chars", type=int, default=1000, help="characters for generate")
    parser.add_argument("--gen-repeats", type=int, default=1,
                        help="reference/Ceol generation pairs, run alternately (median ratio)")
    parser.add_argument("--gen-train-steps", type=int, default=20,
                        help="steps to make models for generate if none exist yet")
    parser.add_argument("--ref-iters", type=int, default=3000, help="reference iterations "
                        "for quality (3000 = the recipe)")
    parser.add_argument("--memory-steps", type=int, default=40)
    parser.add_argument("--max-chars", type=int, help="cut the corpus (for smoke runs)")
    parser.add_argument("--work", help="folder for models and splits (default: a temp folder)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny settings to check the plumbing in under a minute")
    args = parser.parse_args()
    parts = PARTS if args.parts == "all" else tuple(p.strip() for p in args.parts.split(","))
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.smoke:
        args.speed_steps, args.gen_chars, args.gen_train_steps = 2, 50, 2
        args.ref_iters, args.memory_steps, args.max_chars = 2, 2, args.max_chars or 30000
    work = Path(args.work or tempfile.mkdtemp(prefix="ceol-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    # Ceol's data folder, and so the kernels it measures on first use and remembers (`main.py
    # kernels`), is --work/data unless CEOL_DATA_DIR says otherwise.
    os.environ.setdefault("CEOL_DATA_DIR", str(work / "data"))
    train, valid = write_splits(args.corpus, work, args.max_chars)
    from model.kernel_choice import cpu_model

    report = {"corpus": args.corpus, "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
              "train_chars": train.stat().st_size, "valid_chars": valid.stat().st_size,
              "load_average_at_start": os.getloadavg()[0], "work": str(work)}
    if "train-speed" in parts:
        report["train_speed"] = part_train_speed(args, train, work)
    if "generate" in parts:
        report["generate"] = part_generate(args, train, work)
    if "quality" in parts:
        report["quality"] = part_quality(args, train, valid, work)
    if "memory" in parts:
        report["memory"] = part_memory(args, train, work)
    report["load_average_at_end"] = os.getloadavg()[0]
    report["kernels"] = json.loads(ceol("kernels", "--json").stdout)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
