"""The demos service: next-word prediction and sentiment on the recurrent core, for panel and CLI.

One entry point per job, GUI-free: `load_bundled(task, cell)` reads the shipped demo models
(a recurrent network of the chosen cell and the lecture's baseline), `predict_next` and
`predict_sentiment` answer for a text (the baseline beside the network), `train_demo` trains
on the bundled set or the user's .txt/.csv with progress hooks and a stop flag, and
`gradient_flow` measures ||dL/dh_t|| on a long input. Bad input never raises here except for
files and model files (ModelError with one line); odd text gets notes instead: empty text,
only unknown words, a huge paste (cut to its last or first words).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from model.demo_data import DemoData, bundled, read_user_file
from model.errors import ModelError
from model.words import RESERVED, START_ID, WordVocab, tokenize

TASKS = ("nextword", "sentiment")
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN (tanh)",
              "rnn_relu": "RNN (ReLU, identity init)"}
BASELINE_OF = {"nextword": "window", "sentiment": "bag"}
# A folder of their own: the music model pickers list resources/models/*.safetensors.
MODELS_DIR = Path(__file__).resolve().parent.parent / "resources" / "models" / "demos"
MAX_TEXT_CHARS = 20_000      # of a longer text only the end (next word) or start is read
MAX_TEXT_WORDS = 300
TOP_K = 5
# The optimisers the panel offers and their step sizes. Adam scales its own steps, so a spike
# in the gradient barely moves it; plain SGD takes the spike at full size, which is where
# clipping decides between learning and diverging (benchmarks/demos.py measures both).
OPTIMIZERS = {"adam": 1e-2, "sgd": 0.5}


def model_path(task: str, kind: str) -> Path:
    """Return the bundled file of a demo network: kind is a cell name or the baseline's kind."""
    return MODELS_DIR / f"demo-{task}-{kind.replace('_', '-')}.safetensors"


@dataclass
class DemoPair:
    """The two networks of one demo: the recurrent one and its baseline, sharing a vocabulary."""

    task: str
    rnn: object              # model.demo_checkpoint.DemoModelFile
    baseline: object         # model.demo_checkpoint.DemoModelFile
    source: str = "bundled demo set"

    @property
    def cell(self) -> str:
        return self.rnn.model_config.cell

    @property
    def vocab(self) -> WordVocab:
        return self.rnn.vocab


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ModelError(f"unknown demo {task!r}; choose nextword or sentiment")


def load_bundled(task: str, cell: str = "lstm") -> DemoPair:
    """Load the shipped demo models of `task` with a recurrent network of `cell`."""
    from model.demo_checkpoint import load_demo

    _check_task(task)
    if cell not in CELL_NAMES:
        raise ModelError(f"unknown cell {cell!r}; choose one of {', '.join(CELL_NAMES)}")
    rnn = load_demo(model_path(task, cell), kind=task)
    baseline = load_demo(model_path(task, BASELINE_OF[task]), kind=BASELINE_OF[task])
    if rnn.vocab != baseline.vocab:
        raise ModelError(f"{Path(rnn.path).name} and {Path(baseline.path).name} have different "
                         "vocabularies")
    return DemoPair(task, rnn, baseline)


# -- predicting ----------------------------------------------------------------------------------

def read_text(text: str, from_end: bool) -> tuple[list[str], list[str]]:
    """Tokenize at most MAX_TEXT_WORDS words of `text` (its end or its start) -> tokens, notes."""
    notes = []
    if len(text) > MAX_TEXT_CHARS:
        text = text[-MAX_TEXT_CHARS:] if from_end else text[:MAX_TEXT_CHARS]
    tokens = tokenize(text)
    if len(tokens) > MAX_TEXT_WORDS or len(text) == MAX_TEXT_CHARS:
        tokens = tokens[-MAX_TEXT_WORDS:] if from_end else tokens[:MAX_TEXT_WORDS]
        notes.append(f"long text: read its {'last' if from_end else 'first'} "
                     f"{len(tokens)} words")
    return tokens, notes


def _unknown_note(vocab: WordVocab, tokens: list[str]) -> list[str]:
    unknown = [t for t in vocab.unknown(tokens) if t not in RESERVED]
    if not unknown:
        return []
    if len(unknown) == len(set(tokens)):
        return ["none of these words are in the demo's vocabulary; the prediction is a guess"]
    shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
    return [f"unknown words (read as <unk>): {shown}"]


@dataclass
class NextWordPrediction:
    """The five likeliest next words of the recurrent network and of the window baseline."""

    tokens: list[str]
    top: list[tuple[str, float]]
    baseline_top: list[tuple[str, float]]
    notes: list[str] = field(default_factory=list)


def predict_next(pair: DemoPair, text: str, k: int = TOP_K) -> NextWordPrediction:
    """Predict the word after `text`; empty text gives the likeliest first words."""
    import torch

    tokens, notes = read_text(text, from_end=True)
    notes += _unknown_note(pair.vocab, tokens)
    ids = torch.tensor([pair.vocab.encode(tokens)])  # (1, T)
    tops = []
    with torch.no_grad():
        for network in (pair.rnn.network, pair.baseline.network):
            probs = torch.softmax(network(ids)[0, -1, 3:], dim=-1)  # reserved words never come
            p, i = probs.topk(min(k, probs.shape[0]))
            tops.append([(pair.vocab.words[int(j) + 3], float(q)) for q, j in zip(p, i)])
    return NextWordPrediction(tokens, tops[0], tops[1], notes)


@dataclass
class SentimentPrediction:
    """The probability that a text is positive, after each word and at the end, with baseline."""

    tokens: list[str]
    positive: float | None                   # None when there were no words to read
    baseline_positive: float | None
    per_word: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def predict_sentiment(pair: DemoPair, text: str) -> SentimentPrediction:
    """Classify `text`; empty text gives None probabilities and a note."""
    import torch

    tokens, notes = read_text(text, from_end=False)
    if not tokens:
        return SentimentPrediction([], None, None, [], ["type some words to classify"])
    notes += _unknown_note(pair.vocab, tokens)
    ids = torch.tensor([pair.vocab.encode(tokens)])  # (1, T), led by the start
    with torch.no_grad():
        steps = torch.sigmoid(pair.rnn.network(ids)[0, 1:])  # (T,) after each word
        base = torch.sigmoid(pair.baseline.network(ids)[0, -1])
    per_word = [(t, float(p)) for t, p in zip(tokens, steps)]
    return SentimentPrediction(tokens, per_word[-1][1], float(base), per_word, notes)


# -- training ------------------------------------------------------------------------------------

@dataclass
class DemoTraining:
    """Progress of `train_demo`: which network, its step, loss and gradient norm (unclipped)."""

    network: str             # "recurrent" or "baseline"
    step: int
    steps: int
    loss: float
    grad_norm: float
    fraction: float          # of the whole job, 0..1


@dataclass
class TrainedDemo:
    """What `train_demo` made: the new pair (None when training diverged) and what happened."""

    pair: DemoPair | None
    data: DemoData
    summary: dict
    grad_norms: list[float]
    notes: list[str]


def train_demo(task: str, cell: str = "lstm", path: str | None = None, clip: bool = True,
               optimizer: str = "adam",
               on_progress: Callable[[DemoTraining], None] | None = None,
               stop=None, config=None) -> TrainedDemo:
    """Train the recurrent network of `cell` (and the baseline, for the user's own data).

    `path` is the user's .txt (next word) or .csv (sentiment); None trains on the bundled set,
    whose shipped baseline is then reused. `clip=False` trains without gradient clipping;
    `optimizer` is a key of OPTIMIZERS. ModelError for unusable files.
    """
    from model.demo_checkpoint import DemoModelFile
    from model.demo_train import DEMO_MODEL, train_network

    _check_task(task)
    data = bundled(task) if path is None else read_user_file(task, path)
    texts = data.train if task == "nextword" else [t for t, _ in data.train]
    vocab = WordVocab.from_texts(texts)
    config = _demo_config(config, clip, optimizer)
    model_config = replace(DEMO_MODEL, cell=cell)
    baseline = _shipped_baseline(task, vocab) if path is None else None
    share = 1.0 if baseline else 0.75
    result = train_network(task, vocab, data, model_config, config,
                           _progress_hook(on_progress, "recurrent", 0, share), stop)
    summary = {"cell": cell, "clip": clip, "optimizer": optimizer, "source": data.source,
               **result.summary()}
    notes = _training_notes(data, result)
    if result.diverged:
        return TrainedDemo(None, data, summary, result.grad_norms, notes)
    if baseline is None and not (stop is not None and stop.is_set()):
        baseline = _train_baseline(task, vocab, data, model_config, config,
                                   _progress_hook(on_progress, "baseline", share, 1 - share),
                                   stop)
    if baseline is None:
        notes.append("stopped before the baseline was trained; the model is not used")
        return TrainedDemo(None, data, summary, result.grad_norms, notes)
    rnn = DemoModelFile(task, result.network, vocab, model_config, summary)
    pair = DemoPair(task, rnn, baseline, data.source)
    return TrainedDemo(pair, data, summary, result.grad_norms, notes)


def _demo_config(config, clip: bool, optimizer: str):
    """The training settings: clipping on or off, the optimiser and its step size."""
    from model.demo_train import DemoTrainConfig

    if optimizer not in OPTIMIZERS:
        raise ModelError(f"unknown optimizer {optimizer!r}; choose {' or '.join(OPTIMIZERS)}")
    return replace(config or DemoTrainConfig(), grad_clip=1.0 if clip else None,
                   optimizer=optimizer, learning_rate=OPTIMIZERS[optimizer])


def _shipped_baseline(task: str, vocab: WordVocab):
    """The bundled baseline of `task`, reused when the bundled set's vocabulary is `vocab`."""
    from model.demo_checkpoint import load_demo

    file = model_path(task, BASELINE_OF[task])
    if not file.is_file():
        return None
    shipped = load_demo(file, kind=BASELINE_OF[task])
    return shipped if shipped.vocab == vocab else None


def _progress_hook(on_progress, name: str, offset: float, part: float):
    """Report a network's steps as DemoTraining, its share of the whole run from `offset`."""
    def report(p) -> None:
        if on_progress:
            on_progress(DemoTraining(name, p.step, p.steps, p.loss, p.grad_norm,
                                     offset + part * p.step / p.steps))
    return report


def _training_notes(data, result) -> list[str]:
    """The data's notes, and what a stopped or diverged run means for the user."""
    notes = list(data.notes)
    if result.stopped:
        notes.append(f"stopped after {len(result.losses)} steps; the model is only partly "
                     "trained")
    if result.diverged:
        notes.append("training diverged (the loss became infinite): without clipping the "
                     "gradients exploded; the previous model is kept")
    return notes


def _train_baseline(task, vocab, data, model_config, config, hook, stop):
    """Train the lecture's baseline for the user's data (Adam, clipped, half the epochs:
    the baselines settle sooner, having no recurrence to discover)."""
    from model.demo_checkpoint import DemoModelFile
    from model.demo_train import train_network

    kind = BASELINE_OF[task]
    base = train_network(kind, vocab, data, model_config,
                         replace(config, grad_clip=1.0, optimizer="adam",
                                 learning_rate=OPTIMIZERS["adam"],
                                 epochs=max(1, config.epochs // 2)),
                         hook, stop)
    return DemoModelFile(kind, base.network, vocab, model_config, base.summary())


def save_pair(pair: DemoPair, folder: str | Path | None = None) -> list[Path]:
    """Write the pair's two networks (to the bundled models' folder by default); return paths."""
    from model.demo_checkpoint import save_demo

    folder = Path(folder) if folder else MODELS_DIR
    written = []
    for model in (pair.rnn, pair.baseline):
        kind = pair.cell if model is pair.rnn else BASELINE_OF[pair.task]
        path = folder / model_path(pair.task, kind).name
        save_demo(path, model.kind, model.network, pair.vocab, model.training)
        written.append(path)
    return written


def held_out_accuracy(trained: TrainedDemo) -> tuple[float, float] | None:
    """Return the (recurrent, baseline) accuracy on the held-out part, or None without one."""
    from model.demo_train import next_word_accuracy, sentiment_accuracy

    pair, rows = trained.pair, trained.data.held_out
    if pair is None or not rows:
        return None
    score = next_word_accuracy if pair.task == "nextword" else sentiment_accuracy
    return (score(pair.rnn.network, pair.vocab, rows),
            score(pair.baseline.network, pair.vocab, rows))


# -- gradient flow -------------------------------------------------------------------------------

@dataclass
class GradientFlow:
    """||dL/dh_t|| at each word of a long input, the loss taken at its last step."""

    tokens: list[str]
    norms: list[float]

    def relative(self) -> list[float]:
        """Return the norms divided by the last step's (1.0 at the end, tiny where it vanished)."""
        last = self.norms[-1] if self.norms and self.norms[-1] > 0 else 1.0
        return [n / last if math.isfinite(n) else math.inf for n in self.norms]


def gradient_flow(pair: DemoPair) -> GradientFlow:
    """Measure the gradient flow of the pair's recurrent network on the demo's long input."""
    from model.gradient_flow import LONG_NEXTWORD, LONG_SENTIMENT, gradient_flow as measure

    text, target = LONG_NEXTWORD if pair.task == "nextword" else LONG_SENTIMENT
    tokens = tokenize(text)
    ids = pair.vocab.encode(tokens)
    if pair.task == "nextword":
        target = pair.vocab.encode([target], start=False)[0]
    return GradientFlow([RESERVED[START_ID]] + tokens, measure(pair.rnn.network, ids, target))
