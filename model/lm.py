"""The music language model: the recurrent core plus a per-character output layer.

Many-to-many: every step predicts the next character of the ABC text. The vocabulary is kept
beside the network (see `checkpoint.py`) and can grow for fine-tuning, keeping trained rows.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from model.config import ModelConfig
from model.core import RecurrentCore, State


class MusicLM(nn.Module):
    """Character-level language model of ABC text."""

    def __init__(self, config: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.core = RecurrentCore(config, vocab_size)
        self.head = nn.Linear(config.hidden_size, vocab_size)

    @property
    def vocab_size(self) -> int:
        return self.head.out_features

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Predict the next character: ids (B, T) -> logits (B, T, V), final state."""
        out, state = self.core(ids, state)
        return self.head(out), state

    @torch.no_grad()
    def grow_vocab(self, vocab_size: int, generator: torch.Generator | None = None) -> None:
        """Add output and embedding rows for new characters; existing rows are kept as they are.

        New embedding rows are drawn like the trained ones (same spread); new output rows start
        at zero with the lowest existing bias, so a new character starts as unlikely as the
        rarest known one and learns from there.
        """
        old = self.vocab_size
        if vocab_size <= old:
            return
        emb = self.core.embedding.weight  # (V, E)
        spread = float(emb.std()) if old > 1 else 1.0
        new_rows = torch.randn(vocab_size - old, emb.shape[1], generator=generator) * spread
        embedding = nn.Embedding(vocab_size, emb.shape[1]).to(emb.device)
        embedding.weight.copy_(torch.cat([emb, new_rows.to(emb)]))
        self.core.embedding = embedding
        head = nn.Linear(self.head.in_features, vocab_size).to(emb.device)
        head.weight.zero_()
        head.weight[:old] = self.head.weight
        head.bias.fill_(float(self.head.bias.min()))
        head.bias[:old] = self.head.bias
        self.head = head
