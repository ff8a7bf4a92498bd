"""The demos' networks: two thin heads on the shared RecurrentCore and the lecture's two baselines.

`NextWordLM` is many-to-many (every step predicts the next word, like the music model predicts
the next character); `SentimentRNN` is many-to-one (the last step's output decides, and every
earlier step's output is the model's view so far, which the panel's strip shows). The baselines
are what the lecture argues against: `WindowLM` sees only the last two words (a fixed window
cannot carry a fact from the start of a sentence), and `BagOfWords` adds one weight per word
(order is lost, so "good, not bad" and "bad, not good" score the same). All four take ids
(B, T) led by the sentence start and padded on the right, so padding never changes a real step.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from model.config import ModelConfig
from model.core import RecurrentCore
from model.words import PAD_ID

KINDS = ("nextword", "window", "sentiment", "bag")
WINDOW = 2   # words the fixed-window baseline sees
# An LSTM whose forget gates start mostly open keeps what it read from the first step, so it
# finds the long-range facts within the panel's seconds of training (Jozefowicz et al. 2015;
# with torch's zero bias it stayed near chance on them for twice as many epochs).
FORGET_BIAS = 2.0


class NextWordLM(nn.Module):
    """Word-level language model: the core plus a per-word output layer (many-to-many)."""

    def __init__(self, config: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.core = RecurrentCore(config, vocab_size)
        self.head = nn.Linear(config.hidden_size, vocab_size)
        open_forget_gates(self.core)

    def forward(self, ids: Tensor) -> Tensor:
        """ids (B, T) -> logits of the word after each step (B, T, V)."""
        out, _ = self.core(ids)  # (B, T, H)
        return self.head(out)


class SentimentRNN(nn.Module):
    """Sentiment classifier: the core plus one output (many-to-one, read at the last word)."""

    def __init__(self, config: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.core = RecurrentCore(config, vocab_size)
        self.head = nn.Linear(config.hidden_size, 1)
        open_forget_gates(self.core)

    def forward(self, ids: Tensor) -> Tensor:
        """ids (B, T) -> the positive logit after each step (B, T); the last real step decides."""
        out, _ = self.core(ids)  # (B, T, H)
        return self.head(out).squeeze(-1)


class WindowLM(nn.Module):
    """Fixed-window baseline: the next word from the last two words only (Bengio-style MLP)."""

    def __init__(self, config: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embedding_size)
        self.hidden = nn.Linear(WINDOW * config.embedding_size, config.hidden_size)
        self.head = nn.Linear(config.hidden_size, vocab_size)

    def forward(self, ids: Tensor) -> Tensor:
        """ids (B, T) -> logits of the word after each step (B, T, V), from steps t-1 and t."""
        previous = torch.cat([ids.new_full((ids.shape[0], 1), PAD_ID), ids[:, :-1]], dim=1)
        x = torch.cat([self.embedding(previous), self.embedding(ids)], dim=-1)  # (B, T, 2E)
        return self.head(torch.tanh(self.hidden(x)))


class BagOfWords(nn.Module):
    """Bag-of-words baseline: logistic regression on word counts (order cannot matter)."""

    def __init__(self, config: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.weight = nn.Embedding(vocab_size, 1, padding_idx=PAD_ID)
        nn.init.zeros_(self.weight.weight)
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, ids: Tensor) -> Tensor:
        """ids (B, T) -> the positive logit of the words so far after each step (B, T)."""
        words = self.weight(ids).squeeze(-1) * (ids != PAD_ID)  # (B, T)
        return self.bias + words.cumsum(dim=1)


@torch.no_grad()
def open_forget_gates(core: RecurrentCore, bias: float = FORGET_BIAS) -> None:
    """Start an LSTM core's forget gates at `bias` (gates stacked i, f, g, o); others untouched."""
    if core.config.cell != "lstm":
        return
    for name, param in core.rnn.named_parameters():
        if name.startswith("bias_ih"):
            size = param.shape[0] // 4
            param[size:2 * size] = bias


def build(kind: str, config: ModelConfig, vocab_size: int) -> nn.Module:
    """Return a fresh network of `kind` (one of KINDS) for a vocabulary of `vocab_size` words."""
    classes = {"nextword": NextWordLM, "window": WindowLM, "sentiment": SentimentRNN,
               "bag": BagOfWords}
    return classes[kind](config, vocab_size)


def pad_batch(rows: list[list[int]]) -> tuple[Tensor, Tensor]:
    """Pad id lists on the right -> ids (B, T) and lengths (B,)."""
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.full((len(rows), int(lengths.max())), PAD_ID, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row, dtype=torch.long)
    return ids, lengths


def last_step(values: Tensor, lengths: Tensor) -> Tensor:
    """Pick each row's value at its last real step: values (B, T, ...) -> (B, ...)."""
    return values[torch.arange(values.shape[0]), lengths - 1]
