"""Is the style control obeyed? N tunes per style, judged by a classifier that never sees O:.

Usage:
    python3 benchmarks/style_control.py --model MODEL [--n 20] [--seed 1] [--corpus all]
        [--temperature 1.0] [--json-out runs/style.json] [--md-out runs/style.md]

The model must have been trained with style lines (`python main.py train --data all`; its
file lists `training.styles`). The judge is a naive Bayes classifier trained on the training
side of the built-in corpus (`--corpus`), tunes labelled by `app.music.styles.style_of`, with
equal priors. Its features are what a style changes and the O: line does not show: the meter,
the unit note length, the key's mode, and the character trigrams of the body (the notes,
rhythms and ornaments as written). Reported:

- the judge's accuracy on the corpus's held-out tunes (the ceiling: how separable the styles
  are at all), per style;
- for each style asked for, the share of generated tunes the judge puts in that style
  ("obeyed") against chance (1 / styles) and against the same model with no style asked
  (its share of that style without the control);
- the meter and unit-length shares of each style, corpus against generated, as a plain check
  on the classifier;
- with `--likelihood K`: does the model read the O: line at all? K held-out corpus tunes per
  style are scored (bits per character of everything after the O: line, lab scoring) under
  their own style line and under each other style's; a model that uses the line scores its
  own style lower.
Generated tunes are judged as the user gets them (repaired), header fields the model wrote
included; the prime is "X:1\\nO:<style>\\n" and nothing else is asked for.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_reports  # noqa: E402

MIN_TUNES = 50          # a style with fewer corpus tunes is not judged (too few to learn)


def header(text: str, letter: str) -> str:
    for line in text.split("\n"):
        if line.startswith("K:"):
            return line[2:].strip() if letter == "K" else ""
        if line.startswith(f"{letter}:"):
            return line[2:].strip()
    return ""


def features(text: str) -> list[str]:
    """The judge's features of one tune in training-text form (O: and T: never used)."""
    from app.music.transpose import TransposeError, parse_key

    try:
        mode = parse_key(header(text, "K")).mode or "maj"
    except TransposeError:
        mode = "?"
    body = text.split("\nK:", 1)[-1].split("\n", 1)[-1]
    grams = [body[i:i + 3] for i in range(max(0, len(body) - 2))]
    return [f"M={header(text, 'M')}", f"L={header(text, 'L')}", f"mode={mode}"] * 5 + grams


class NaiveBayes:
    """Multinomial naive Bayes with add-one smoothing and equal class priors."""

    def __init__(self, examples: list[tuple[list[str], str]]) -> None:
        self.counts: dict[str, Counter] = defaultdict(Counter)
        for feats, label in examples:
            self.counts[label].update(feats)
        self.vocab = {f for c in self.counts.values() for f in c}
        self.totals = {label: sum(c.values()) for label, c in self.counts.items()}

    def classify(self, feats: list[str]) -> str:
        v = len(self.vocab) + 1

        def score(label: str) -> float:
            c, total = self.counts[label], self.totals[label] + v
            return sum(math.log((c.get(f, 0) + 1) / total) for f in feats)

        return max(self.counts, key=score)


def corpus_by_style(corpus: str):
    """Return ({style: train texts}, {style: held-out texts}) of a built-in corpus."""
    from app.music.corpus import load_corpus
    from app.music.normalize import TextOptions, tune_text
    from app.music.styles import style_of

    train, valid = load_corpus([corpus]).split()
    options = TextOptions(titles=True, styles=False)     # the judge never reads T:
    sides = []
    for tunes in (train, valid):
        side: dict[str, list[str]] = defaultdict(list)
        for tune in tunes:
            style = style_of(tune)
            if style:
                side[style].append(tune_text(tune, options))
        sides.append(side)
    return sides[0], sides[1]


def shares(texts: list[str], letter: str, top: int = 3) -> str:
    counts = Counter(header(t, letter) or "-" for t in texts)
    n = max(1, len(texts))
    return ", ".join(f"{v} {100 * c / n:.0f}%" for v, c in counts.most_common(top))


def style_bits(model, valid: dict, styles: list[str], k: int) -> dict:
    """Bits per character of K held-out tunes per style under their own O: line and others'."""
    from model.evaluate import evaluate

    def bits(texts: list[str], style: str) -> float:
        blocks = [f"X:1\nO:{style}\n" + t.split("\n", 1)[1] for t in texts]
        return evaluate(model.model, model.vocab, blocks)["bits_per_char"]

    out = {}
    for style in styles:
        texts = valid.get(style, [])[:k]
        others = [bits(texts, other) for other in styles if other != style]
        out[style] = {"own": bits(texts, style), "others_mean": round(sum(others) /
                                                                      len(others), 4)}
    return out


def generate(model, style: str, n: int, seed: int, temperature: float) -> list[str]:
    from app.generation import GenerationControls, generate_tunes

    tunes = generate_tunes(model, GenerationControls(style=style or None, count=n, seed=seed,
                                                     temperature=temperature, max_chars=1200,
                                                     attempts=1))
    return [t.text for t in tunes]


TABLE_HEAD = ["| style | corpus tunes (train/held out) | judge on held-out corpus | obeyed "
              "(generated judged as asked) | without the control | meters corpus / generated "
              "| L: corpus / generated |", "|---|---|---|---|---|---|---|"]


def main() -> int:
    args = _parse_args()
    from model.checkpoint import load_model

    model = load_model(args.model)
    learned = model.training.get("styles") or {}
    if not learned:
        print(f"{args.model}: trained without style lines; nothing to measure", file=sys.stderr)
        return 2
    train, valid = corpus_by_style(args.corpus)
    styles = sorted(s for s in learned if len(train.get(s, [])) >= MIN_TUNES)
    judge = NaiveBayes([(features(t), s) for s in styles for t in train[s]])
    report: dict = {"model": args.model, "n": args.n, "seed": args.seed,
                    "temperature": args.temperature, "styles": styles, "per_style": {}}
    started = time.perf_counter()
    if args.likelihood:
        report["likelihood"] = style_bits(model, valid, styles, args.likelihood)
        print(_likelihood_table(report["likelihood"]))
        if args.skip_generation:
            write_reports(report, "", args.json_out, None)
            return 0
    lines = [*TABLE_HEAD, *_judge_generated(model, judge, train, valid, args, report)]
    report["seconds"] = round(time.perf_counter() - started, 1)
    mean = sum(v["obeyed"] for v in report["per_style"].values()) / len(styles)
    report["mean_obeyed"] = round(mean, 3)
    lines.append(f"\nMean obeyed {100 * mean:.0f}% against chance {100 / len(styles):.0f}%; "
                 f"{args.n} tunes per style, {2 * args.n} without a style, seed {args.seed}, "
                 f"temperature {args.temperature}, {report['seconds']} s.")
    text = "\n".join(lines) + "\n"
    print(text)
    write_reports(report, text, args.json_out, args.md_out)
    return 0


def _parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--n", type=int, default=20, help="tunes per style")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--corpus", default="all")
    p.add_argument("--likelihood", type=int, default=0, metavar="K",
                   help="also score K held-out tunes per style under each style line")
    p.add_argument("--skip-generation", action="store_true",
                   help="only the likelihood check (with --likelihood)")
    p.add_argument("--json-out")
    p.add_argument("--md-out")
    return p.parse_args()


def _likelihood_table(likelihood: dict) -> str:
    return ("| style | bits/char under its own O: | under the other styles' (mean) |\n"
            "|---|---|---|\n" + "\n".join(
                f"| {s} | {v['own']:.4f} | {v['others_mean']:.4f} |"
                for s, v in likelihood.items()) + "\n")


def _judge_generated(model, judge: NaiveBayes, train: dict, valid: dict, args,
                     report: dict) -> list[str]:
    """Generate tunes with no style asked, then for each style in turn, and judge them all.

    Fills the report's per-style figures, chance and free votes; returns the table's rows.
    """
    styles = report["styles"]
    free = generate(model, "", args.n * 2, args.seed, args.temperature)
    free_votes = Counter(judge.classify(features(t)) for t in free)
    rows = []
    for i, style in enumerate(styles):
        made = generate(model, style, args.n, args.seed + 1000 * (i + 1), args.temperature)
        without = free_votes[style] / max(1, len(free))
        report["per_style"][style], row = _judge_style(judge, style, train[style],
                                                       valid.get(style, []), made, without)
        rows.append(row)
    report["chance"] = round(1 / len(styles), 3)
    report["free_votes"] = dict(free_votes)
    return rows


def _judge_style(judge: NaiveBayes, style: str, trained: list[str], held: list[str],
                 made: list[str], without: float) -> tuple[dict, str]:
    """One style's figures and table row: the judge's ceiling on held-out corpus tunes, the
    share of the tunes generated for it judged as asked, and meters and L: against the corpus."""
    ceiling = sum(judge.classify(features(t)) == style for t in held) / max(1, len(held))
    votes = Counter(judge.classify(features(t)) for t in made)
    obeyed = votes[style] / max(1, len(made))
    figures = {
        "corpus_train": len(trained), "corpus_held_out": len(held),
        "judge_accuracy_held_out": round(ceiling, 3), "obeyed": round(obeyed, 3),
        "without_control": round(without, 3), "votes": dict(votes),
        "meters_corpus": shares(trained, "M"), "meters_generated": shares(made, "M"),
        "units_corpus": shares(trained, "L"), "units_generated": shares(made, "L")}
    row = (f"| {style} | {len(trained)}/{len(held)} | {100 * ceiling:.0f}% | "
           f"{100 * obeyed:.0f}% ({votes[style]}/{len(made)}) | {100 * without:.0f}% "
           f"| {shares(trained, 'M', 2)} / {shares(made, 'M', 2)} | "
           f"{shares(trained, 'L', 2)} / {shares(made, 'L', 2)} |")
    return figures, row


if __name__ == "__main__":
    sys.exit(main())
