"""From-scratch recurrent cells, written gate by gate, as readable reference code.

The lecture's recurrence h_t = f_W(h_{t-1}, x_t) applies the same weights at every step. These
cells are slow (one Python step per character) and exist to be read and to prove that the fast
fused layers in `core.py` compute the same thing: the tests load one set of weights into both.
Weights use torch's layout (W_ih: (G*H, I), W_hh: (G*H, H), gates stacked i, f, g, o).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RNNCell(nn.Module):
    """Vanilla RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or ReLU."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> None:
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.zeros(hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(hidden_size))
        self.act = torch.tanh if nonlinearity == "tanh" else torch.relu
        nn.init.uniform_(self.weight_ih, -hidden_size ** -0.5, hidden_size ** -0.5)
        nn.init.uniform_(self.weight_hh, -hidden_size ** -0.5, hidden_size ** -0.5)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        """One step: x (B, I), h (B, H) -> new h (B, H)."""
        return self.act(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)


class LSTMCell(nn.Module):
    """Long short-term memory: gates decide what to forget, store, update and output."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.zeros(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(4 * hidden_size))
        for w in (self.weight_ih, self.weight_hh):
            nn.init.uniform_(w, -hidden_size ** -0.5, hidden_size ** -0.5)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        """One step: x (B, I), state (h, c) each (B, H) -> new (h, c)."""
        h, c = state
        z = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh  # (B, 4H)
        i, f, g, o = z.chunk(4, dim=1)
        forget = torch.sigmoid(f)      # forget: how much of the old cell state to keep
        store = torch.sigmoid(i)       # store: how much of the new candidate to write
        candidate = torch.tanh(g)      # the new information itself
        c = forget * c + store * candidate  # update the cell state
        output = torch.sigmoid(o)      # output: which part of the cell state to expose
        return output * torch.tanh(c), c


class GRUCell(nn.Module):
    """Gated recurrent unit: a reset gate picks what of the past to use, an update gate mixes."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.zeros(3 * hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(3 * hidden_size))
        for w in (self.weight_ih, self.weight_hh):
            nn.init.uniform_(w, -hidden_size ** -0.5, hidden_size ** -0.5)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        """One step: x (B, I), h (B, H) -> new h (B, H); gates stacked r, z, n as in torch."""
        xr, xz, xn = (x @ self.weight_ih.T + self.bias_ih).chunk(3, dim=1)  # each (B, H)
        hr, hz, hn = (h @ self.weight_hh.T + self.bias_hh).chunk(3, dim=1)
        reset = torch.sigmoid(xr + hr)     # reset: how much of the past the candidate sees
        update = torch.sigmoid(xz + hz)    # update: how much of the old state to keep
        candidate = torch.tanh(xn + reset * hn)
        return (1 - update) * candidate + update * h


def cells_like(rnn: nn.RNNBase) -> list[nn.Module]:
    """Return gate-by-gate cells holding copies of a fused torch RNN/LSTM/GRU's weights, per layer.

    The copies are new parameters (gradients through them do not touch `rnn`).
    """
    cells = []
    for layer in range(rnn.num_layers):
        size_in = rnn.input_size if layer == 0 else rnn.hidden_size
        if isinstance(rnn, nn.LSTM):
            cell = LSTMCell(size_in, rnn.hidden_size)
        elif isinstance(rnn, nn.GRU):
            cell = GRUCell(size_in, rnn.hidden_size)
        else:
            cell = RNNCell(size_in, rnn.hidden_size, rnn.nonlinearity)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(rnn, f"{name}_l{layer}"))
        cells.append(cell.to(getattr(rnn, "weight_hh_l0").device))
    return cells


def zero_states(cells: list[nn.Module], like: Tensor, batch: int) -> list:
    """The all-zero starting state of each stacked cell ((h, c) for an LSTM), like `like`."""
    state = []
    for cell in cells:
        zeros = like.new_zeros(batch, cell.weight_hh.shape[1])
        state.append((zeros, zeros.clone()) if isinstance(cell, LSTMCell) else zeros)
    return state


def step_cells(cells: list[nn.Module], inp: Tensor, state: list) -> Tensor:
    """Advance the stacked cells one time step on input (B, I), updating `state` in place;
    return the top layer's output (B, H)."""
    for layer, cell in enumerate(cells):
        state[layer] = cell(inp, state[layer])
        inp = state[layer][0] if isinstance(cell, LSTMCell) else state[layer]
    return inp


def run_cells(cells: list[nn.Module], x: Tensor, state: list | None = None) -> tuple[Tensor, list]:
    """Run stacked cells over a sequence x (B, T, I) -> outputs (B, T, H) and final states."""
    state = list(state) if state is not None else zero_states(cells, x, x.shape[0])
    outputs = [step_cells(cells, x[:, t], state) for t in range(x.shape[1])]
    return torch.stack(outputs, dim=1), state
