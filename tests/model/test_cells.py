"""The gate-by-gate cells compute what torch's fused layers compute, given the same weights."""

import pytest
import torch
from torch import nn

from model.cells import LSTMCell, RNNCell, run_cells
from model.config import ModelConfig
from model.core import RecurrentCore
from model.lm import MusicLM


def _copy(cells, layer: nn.Module) -> None:
    with torch.no_grad():
        for k, cell in enumerate(cells):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(layer, f"{name}_l{k}"))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_matches_torch_rnn(nonlinearity):
    torch.manual_seed(0)
    layer = nn.RNN(5, 7, num_layers=2, nonlinearity=nonlinearity, batch_first=True)
    cells = [RNNCell(5, 7, nonlinearity), RNNCell(7, 7, nonlinearity)]
    _copy(cells, layer)
    x = torch.randn(3, 11, 5)
    h0 = torch.randn(2, 3, 7)
    expected, h_n = layer(x, h0)
    got, state = run_cells(cells, x, [h0[0], h0[1]])
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(torch.stack(state), h_n, atol=1e-5)


def test_lstm_cell_matches_torch_lstm():
    torch.manual_seed(1)
    layer = nn.LSTM(6, 9, num_layers=2, batch_first=True)
    cells = [LSTMCell(6, 9), LSTMCell(9, 9)]
    _copy(cells, layer)
    x = torch.randn(4, 13, 6)
    h0, c0 = torch.randn(2, 4, 9), torch.randn(2, 4, 9)
    expected, (h_n, c_n) = layer(x, (h0, c0))
    got, state = run_cells(cells, x, [(h0[0], c0[0]), (h0[1], c0[1])])
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(torch.stack([s[1] for s in state]), c_n, atol=1e-5)


def test_music_lm_core_is_the_cells_plus_a_head():
    torch.manual_seed(2)
    model = MusicLM(ModelConfig(embedding_size=8, hidden_size=12, num_layers=2, dropout=0.0), 20)
    cells = [LSTMCell(8, 12), LSTMCell(12, 12)]
    _copy(cells, model.core.rnn)
    ids = torch.randint(0, 20, (2, 10))
    logits, _ = model(ids)
    outputs, _ = run_cells(cells, model.core.embedding(ids))
    assert torch.allclose(model.head(outputs), logits, atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_every_cell_runs_and_keeps_state_shape(cell):
    core = RecurrentCore(ModelConfig(cell=cell, embedding_size=4, hidden_size=6, num_layers=2), 9)
    out, state = core(torch.randint(0, 9, (3, 5)))
    assert out.shape == (3, 5, 6)
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 3, 6)


def test_relu_rnn_starts_with_identity_recurrence():
    core = RecurrentCore(ModelConfig(cell="rnn_relu", hidden_size=5, num_layers=2), 4)
    assert torch.equal(core.rnn.weight_hh_l0, torch.eye(5))
    assert torch.equal(core.rnn.weight_hh_l1, torch.eye(5))
    assert torch.count_nonzero(core.rnn.bias_hh_l0) == 0
