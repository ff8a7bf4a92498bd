"""Gradient flow through time: how much the loss at the last word depends on each earlier state.

The lecture's picture of vanishing gradients: backpropagation through time multiplies by the
recurrent Jacobian once per step, so in a plain tanh RNN ||dL/dh_t|| shrinks quickly as t moves
back from the end, while an LSTM's cell state lets it flow. To measure it on a trained demo
network we copy the core's weights into the gate-by-gate cells of `cells.py`, run them one step
at a time keeping every hidden state h_t in the graph, take the loss of the final prediction
and read each h_t's gradient. The fused layer cannot show this: its per-step outputs are not
inputs of later steps in the autograd graph.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from model.cells import cells_like, step_cells, zero_states
from model.demo_models import NextWordLM, SentimentRNN

# The long inputs the demos measure by default: a fact at the start decides the end.
LONG_NEXTWORD = ("we had toast and tea for breakfast . my grandmother comes from portugal , "
                 "although she has lived in sydney for forty years . she still dreams in",
                 "portuguese")
LONG_SENTIMENT = ("they said the concert would be dreadful and the staff would be rude , "
                  "and at first the concert seemed awful , but in the end it was wonderful .", 1)


def gradient_flow(network: nn.Module, ids: list[int], target: int) -> list[float]:
    """Return ||dL/dh_t|| for every step t of `ids` (top layer), L the last step's loss.

    `network` is a NextWordLM (`target` is the next word's id) or a SentimentRNN (`target` is
    the label, 1 positive, 0 negative). The network itself is left untouched (no gradients).
    """
    core = network.core
    cells = cells_like(core.rnn)
    with torch.no_grad():
        x = core.embedding(torch.tensor([ids]))  # (1, T, E)
    state = zero_states(cells, x, 1)
    hidden = []
    for t in range(x.shape[1]):
        inp = step_cells(cells, x[:, t], state)  # (1, H)
        inp.retain_grad()
        hidden.append(inp)
    weight, bias = network.head.weight.detach(), network.head.bias.detach()
    logits = inp @ weight.T + bias  # (1, V) or (1, 1)
    if isinstance(network, NextWordLM):
        loss = F.cross_entropy(logits, torch.tensor([target]))
    elif isinstance(network, SentimentRNN):
        loss = F.binary_cross_entropy_with_logits(logits[:, 0], torch.tensor([float(target)]))
    else:
        raise TypeError(f"no gradient flow for {type(network).__name__}")
    loss.backward()
    return [float(h.grad.norm()) for h in hidden]
