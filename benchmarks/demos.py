"""Measure the demos' lecture claims on the real models: `python benchmarks/demos.py [--write]`.

1. Long-range next word: top-1 accuracy on the held-out long-range sentences of the demo corpus
   (the last word follows from a fact far back), each cell's bundled model vs the fixed window.
2. Order: sentiment accuracy on the held-out texts and on the held-out order-swapped pairs,
   each cell vs the bag of words.
3. Vanishing gradients: ||dL/dh_t|| at the first word of the long input relative to the last.
4. Exploding gradients: the ReLU RNN trained with and without clipping (plain SGD and Adam).
5. Training from scratch as the panel does it (train_demo), wall time on this machine.
--write puts the section into benchmarks/RESULTS.md (replacing an earlier one); --json FILE
writes the figures.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import demos  # noqa: E402
from benchmarks._report import write_reports  # noqa: E402
from model.demo_data import bundled, is_held_out, long_range_sentences  # noqa: E402
from model.demo_train import next_word_accuracy, sentiment_accuracy  # noqa: E402
from model.words import tokenize  # noqa: E402

HEADING = "## Demos: next word, sentiment and gradient flow (issue 13)"
FAMILIES = (("language", ("speak", "dreams in", "news in")), ("pronoun", ("him.", "her.")),
            ("animal sound", ("to ",)))


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s*(.+)", out).group(1).strip()
    except (OSError, AttributeError):
        model = "unknown CPU"
    return f"{model}, `nproc` = {os.cpu_count()}"


def family(sentence: str) -> str:
    tail = sentence[-30:]
    for name, marks in FAMILIES:
        if any(m in tail for m in marks):
            return name
    return "other"


def long_range(report: dict) -> list[str]:
    held = [s for s in long_range_sentences() if is_held_out(s)]
    rows = [f"Held-out long-range sentences: {len(held)} (never seen in training); top-1 of the "
            "decisive last word.", "",
            "| Cell | RNN top-1 | by family: language / pronoun / animal | Fixed window top-1 |",
            "|---|---|---|---|"]
    groups = {name: [s for s in held if family(s) == name] for name, _ in FAMILIES}
    for cell, name in demos.CELL_NAMES.items():
        pair = demos.load_bundled("nextword", cell)
        rnn = next_word_accuracy(pair.rnn.network, pair.vocab, held)
        window = next_word_accuracy(pair.baseline.network, pair.vocab, held)
        parts = [next_word_accuracy(pair.rnn.network, pair.vocab, g) for g in groups.values()]
        report.setdefault("nextword", {})[cell] = {"rnn": rnn, "window": window,
                                                   "families": parts}
        rows.append(f"| {name} | {rnn:.1%} | {' / '.join(f'{p:.0%}' for p in parts)} | "
                    f"{window:.1%} |")
    sizes = " / ".join(str(len(g)) for g in groups.values())
    return rows + ["", f"Sentences per family: {sizes}. Target: LSTM >= 90% and clearly above "
                   "the window."]


def swapped_pairs(rows: list) -> list:
    by_words: dict[str, list] = {}
    for text, label in rows:
        by_words.setdefault(" ".join(sorted(tokenize(text))), []).append((text, label))
    return [r for group in by_words.values() if {l for _, l in group} == {0, 1} for r in group]


def order(report: dict) -> list[str]:
    held = bundled("sentiment").held_out
    pairs = swapped_pairs(held)
    rows = [f"Held-out sentiment texts: {len(held)}, of which {len(pairs)} form "
            f"{len(pairs) // 2} order-swapped pairs (same words, opposite label).", "",
            "| Cell | RNN overall | RNN on swapped pairs | Bag of words overall | "
            "Bag of words on swapped pairs |", "|---|---|---|---|---|"]
    for cell, name in demos.CELL_NAMES.items():
        pair = demos.load_bundled("sentiment", cell)
        figures = [sentiment_accuracy(net, pair.vocab, part)
                   for net in (pair.rnn.network, pair.baseline.network) for part in (held, pairs)]
        report.setdefault("sentiment", {})[cell] = figures
        rows.append(f"| {name} | " + " | ".join(f"{f:.1%}" for f in figures) + " |")
    return rows + ["", "Target: LSTM >= 90% overall and on the pairs; the bag of words gives "
                   "both texts of a pair the same score, so it gets exactly one of each right."]


def vanishing(report: dict) -> list[str]:
    rows = ["||dL/dh_t|| at the first word of the long input relative to the last word (the "
            "loss is the last word's), bundled models:", "",
            "| Cell | Next word (29 steps) | Sentiment (31 steps) |", "|---|---|---|"]
    for cell, name in demos.CELL_NAMES.items():
        firsts = [demos.gradient_flow(demos.load_bundled(task, cell)).relative()[0]
                  for task in demos.TASKS]
        report.setdefault("gradient_flow_first", {})[cell] = firsts
        rows.append(f"| {name} | {firsts[0]:.1e} | {firsts[1]:.1e} |")
    return rows + ["", "The next-word model is the one that needs its first words (the fact "
                   "that decides the last one); its column is the lecture's picture. The "
                   "sentiment texts are short and end with the words that decide them, so "
                   "the trained sentiment models have little reason to keep a gradient path "
                   "to the start, and every cell learns them (table above)."]


def exploding(report: dict) -> list[str]:
    rows = ["The ReLU RNN (identity init) trained on the next-word set, clipping at norm 1 "
            "or none:", "",
            "| Optimiser | Clipping | Steps | Largest gradient norm | Clipped steps | Result |",
            "|---|---|---|---|---|---|"]
    for optimizer in ("sgd", "adam"):
        for clip in (True, False):
            trained = demos.train_demo("nextword", "rnn_relu", clip=clip, optimizer=optimizer)
            s = trained.summary
            accuracy = demos.held_out_accuracy(trained)
            result = ("diverged (loss inf/NaN)" if s["diverged"] else
                      f"final loss {s['final_loss']:.2f}, held-out last word {accuracy[0]:.0%}")
            report.setdefault("clipping", []).append({"optimizer": optimizer, **s})
            rate = demos.OPTIMIZERS[optimizer]
            rows.append(f"| {optimizer.upper()} {rate:g} | {'on' if clip else 'off'} | "
                        f"{s['steps']} | {s['max_grad_norm']:,.0f} | {s['clipped_steps']} | "
                        f"{result} |")
    return rows + ["", "Plain SGD takes each gradient at full size, so one exploding gradient "
                   "throws the weights away unless it is clipped. Adam divides each step by "
                   "a running gradient scale, so the same spikes barely move it and clipping "
                   "changes little; the panel offers both optimisers to show the difference."]


def training_time(report: dict) -> list[str]:
    rows = ["Training from scratch as the panel's Retrain does (`app.demos.train_demo`, "
            "default cell LSTM, bundled set, baseline reused):", "",
            "| Demo | Wall time | Steps | Held-out accuracy (RNN / baseline) |", "|---|---|---|---|"]
    for task in demos.TASKS:
        start = time.perf_counter()
        trained = demos.train_demo(task, "lstm")
        seconds = time.perf_counter() - start
        accuracy = demos.held_out_accuracy(trained)
        report.setdefault("training_seconds", {})[task] = seconds
        rows.append(f"| {task} | {seconds:.1f} s | {trained.summary['steps']} | "
                    f"{accuracy[0]:.1%} / {accuracy[1]:.1%} |")
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.txt"
        data = bundled("nextword")
        path.write_text("\n".join(data.train + data.held_out), encoding="utf-8")
        start = time.perf_counter()
        trained = demos.train_demo("nextword", "lstm", str(path))
        seconds = time.perf_counter() - start
    accuracy = demos.held_out_accuracy(trained)
    report["training_seconds"]["nextword_file"] = seconds
    rows.append(f"| nextword from a .txt (the demo corpus as a user file: window baseline "
                f"trained too) | {seconds:.1f} s | {trained.summary['steps']} | "
                f"{accuracy[0]:.1%} / {accuracy[1]:.1%} |")
    return rows + ["", "Target: under 30 s on this 2-core machine, without freezing the window "
                   "(training runs in a worker thread; tests/ui/test_demos_panel.py checks the "
                   "progress bar moves while it runs). Training uses one CPU thread: for "
                   "networks this small two threads were several times slower on this busy "
                   "machine."]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args()
    report: dict = {"machine": machine(), "load_at_start": os.getloadavg()[0]}
    parts = [("Long-range dependencies: the fixed window cannot", long_range),
             ("Order: the bag of words cannot", order),
             ("Vanishing gradients: the plain RNN's fade, the LSTM's flow", vanishing),
             ("Exploding gradients: clipping", exploding),
             ("Training in the panel", training_time)]
    body = []
    for title, measure in parts:
        body += [f"### {title}", ""] + measure(report) + [""]
    report["load_at_end"] = os.getloadavg()[0]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([HEADING, "", f"`python benchmarks/demos.py --write`, {when}. Machine: "
                      f"{report['machine']}, Python {sys.version.split()[0]}, shared with other "
                      f"jobs (load average {report['load_at_start']:.1f} at the start, "
                      f"{report['load_at_end']:.1f} at the end). Models: the bundled "
                      "resources/models/demos/demo-*.safetensors (embedding 48, one layer of "
                      "96 units), trained by resources/demos/train_models.py.", ""] + body)
    print(text)
    write_reports(report, text, args.json, None)
    if args.write:
        results = ROOT / "benchmarks" / "RESULTS.md"
        old = results.read_text(encoding="utf-8")
        start = old.find(HEADING)
        if start >= 0:
            end = old.find("\n## ", start + len(HEADING))
            old = old[:start] + (old[end + 1:] if end >= 0 else "")
        results.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
