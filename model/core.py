"""The recurrent core every head is built on: embedding -> stacked RNN/LSTM/GRU -> dropout.

One module, many heads (the lecture's point): the music model reads every output step
(many-to-many), a sentiment head would read only the last (many-to-one). The core uses torch's
fused layers for speed; `cells.py` holds the gate-by-gate reference they are tested against.
Cells: lstm (default), gru, rnn_tanh, and rnn_relu with identity-initialised recurrent weights
(Le et al. 2015: a ReLU RNN that starts as an integrator keeps gradients from vanishing).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from model.config import ModelConfig

State = Tensor | tuple[Tensor, Tensor]


class RecurrentCore(nn.Module):
    """Embedding, a stack of recurrent layers with dropout between them, dropout on top."""

    def __init__(self, config: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        config.check()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embedding_size)
        between = config.dropout if config.num_layers > 1 else 0.0
        kwargs = dict(input_size=config.embedding_size, hidden_size=config.hidden_size,
                      num_layers=config.num_layers, dropout=between, batch_first=True)
        if config.cell == "lstm":
            self.rnn = nn.LSTM(**kwargs)
        elif config.cell == "gru":
            self.rnn = nn.GRU(**kwargs)
        else:
            self.rnn = nn.RNN(nonlinearity=config.cell.removeprefix("rnn_"), **kwargs)
        self.drop = nn.Dropout(config.dropout)
        if config.cell == "rnn_relu":
            self._identity_init()

    def _identity_init(self) -> None:
        with torch.no_grad():
            for name, param in self.rnn.named_parameters():
                if name.startswith("weight_hh"):
                    param.copy_(torch.eye(param.shape[0]))
                elif name.startswith("bias"):
                    param.zero_()
                else:
                    nn.init.normal_(param, std=0.001 ** 0.5 / param.shape[1] ** 0.5)

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Run ids (B, T) from `state` (zeros if None) -> outputs (B, T, H), final state."""
        x = self.embedding(ids)  # (B, T, E)
        out, state = self.rnn(x, state)  # (B, T, H)
        return self.drop(out), state


def detach_state(state: State | None) -> State | None:
    """Cut the state from the graph that made it (truncated backpropagation through time)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def select_state(state: State, index: Tensor) -> State:
    """Keep the batch rows `index` of a state (L, B, H)."""
    if isinstance(state, tuple):
        return tuple(s[:, index] for s in state)
    return state[:, index]
