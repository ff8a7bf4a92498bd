"""Training data as the model sees it: encoded text, random training windows, validation windows.

The caller (CLI or GUI) turns tunes into text with `app.music.normalize.corpus_text`; this
module only sees strings. Training windows start at random places drawn from a dedicated
generator whose state goes into checkpoints, so a resumed run draws the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from model.errors import ModelError
from model.vocab import Vocab


@dataclass(frozen=True)
class TrainData:
    """Texts to train and validate on, with a summary for the model file."""

    train_text: str
    valid_text: str = ""
    name: str = ""          # corpus name or sources, for the model file
    tune_count: int = 0     # tunes in the training text, for the model file
    extra: dict = field(default_factory=dict)  # more JSON-ready facts for the model file's
                                               # training summary (e.g. tune lengths)


def as_train_data(data: "TrainData | tuple[str, str] | str") -> TrainData:
    """Accept TrainData, a (train, valid) pair or one training string."""
    if isinstance(data, TrainData):
        return data
    if isinstance(data, str):
        return TrainData(data)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return TrainData(str(data[0]), str(data[1] or ""))
    raise ModelError("training data must be TrainData or a (train text, valid text) pair")


def encode(text: str, vocab: Vocab) -> Tensor:
    """Return the indices of `text` as a LongTensor (N,)."""
    return torch.tensor(vocab.encode(text), dtype=torch.long)


def check_trainable(ids: Tensor, seq_len: int) -> None:
    """Raise ModelError if the training text is empty or shorter than one window."""
    if ids.numel() == 0:
        raise ModelError("the training corpus is empty (no tunes with any text)")
    if ids.numel() < seq_len + 1:
        raise ModelError(f"the training text has {ids.numel()} characters, fewer than one "
                         f"training window ({seq_len + 1}); add tunes or use a shorter --seq-len")


def random_windows(ids: Tensor, batch_size: int, seq_len: int,
                   generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Draw `batch_size` windows: inputs (B, T) and next-character targets (B, T)."""
    starts = torch.randint(0, ids.numel() - seq_len, (batch_size,), generator=generator)
    idx = starts[:, None] + torch.arange(seq_len + 1)  # (B, T+1)
    chunk = ids[idx]
    return chunk[:, :-1], chunk[:, 1:]


def validation_windows(ids: Tensor, seq_len: int, max_chars: int) -> tuple[Tensor, Tensor] | None:
    """Cut the first `max_chars` validation characters into windows: (N, T) inputs, targets."""
    ids = ids[:max_chars]
    if ids.numel() < 2:
        return None
    seq_len = min(seq_len, ids.numel() - 1)
    n = (ids.numel() - 1) // seq_len
    x = ids[: n * seq_len].view(n, seq_len)
    y = ids[1: n * seq_len + 1].view(n, seq_len)
    return x, y
