"""The fast LSTM step: it matches the model in fp32, stays close in int8 and bf16, and the
weights' arithmetic follows the setting."""

import pytest
import torch

from model.config import ModelConfig, SampleConfig
from model import kernel_choice
from model.errors import ModelError
from model.lm import MusicLM
from model.lstm_step import LSTMStepper, available_weights, int8_works, int8dyn_works, weights_mode


def test_fast_lstm_step_matches_the_model(trained):
    model, vocab = trained
    ids = torch.tensor([vocab.encode("X:1\nK:D\n|:AB")])
    expected, _ = model(ids)
    step = LSTMStepper(model)
    zeros = torch.zeros(1, 1, model.config.hidden_size)
    state = (zeros, zeros.clone())
    with torch.no_grad():
        for t in range(ids.shape[1]):
            logits = step(ids[:, t], state)
            assert torch.allclose(logits, expected[:, t], atol=1e-5)


@pytest.mark.parametrize("weights", ["int8", "int8dyn", "bf16"])
def test_quantised_steps_stay_close_to_the_model(weights):
    if weights == "int8" and not int8_works() or weights == "int8dyn" and not int8dyn_works():
        pytest.skip(f"no {weights} matmul in this torch build")
    torch.manual_seed(0)
    model = MusicLM(ModelConfig(embedding_size=16, hidden_size=64, num_layers=2), 30).eval()
    ids = torch.randint(1, 30, (3, 40))
    with torch.no_grad():
        expected, _ = model(ids)
        step = LSTMStepper(model, weights=weights)
        zeros = torch.zeros(2, 3, 64)
        state = (zeros, zeros.clone())
        for t in range(ids.shape[1]):
            p = torch.softmax(step(ids[:, t], state), -1)
            q = torch.softmax(expected[:, t], -1)
            assert (p - q).abs().max() < 0.02


def test_weights_mode_follows_the_setting(monkeypatch):
    monkeypatch.setattr(kernel_choice, "_store", kernel_choice.KernelStore(budget=0.0))
    small = MusicLM(ModelConfig(embedding_size=8, hidden_size=32, num_layers=1), 20)
    wide = MusicLM(ModelConfig(embedding_size=8, hidden_size=512, num_layers=1), 20)
    assert weights_mode(wide, SampleConfig(quantize="off", count=8)) == "fp32"
    assert weights_mode(small, SampleConfig(quantize="bf16")) == "bf16"
    assert weights_mode(small, SampleConfig(count=1)) == "fp32"  # small: exact
    assert weights_mode(wide, SampleConfig(quantize="on")) == ("int8" if int8_works() else "fp32")
    # auto: measured (tests/model/test_kernel_choice.py), among what this build can run
    assert weights_mode(wide, SampleConfig(count=8)) in available_weights()
    with pytest.raises(ModelError, match="quantize"):
        SampleConfig(quantize="fp8").check()


@pytest.mark.parametrize("weights", ["fp32", "int8dyn"])
def test_the_loops_way_of_stepping_gives_the_same_logits(weights):
    if weights == "int8dyn" and not int8dyn_works():
        pytest.skip("no dynamic int8 matmul in this torch build")
    torch.manual_seed(1)
    model = MusicLM(ModelConfig(embedding_size=16, hidden_size=64, num_layers=2), 30).eval()
    step = LSTMStepper(model, weights=weights)
    for batch in (1, 3):
        ids = torch.randint(1, 30, (12, batch))
        zeros = torch.zeros(2, batch, 64)
        a, b = (zeros, zeros.clone()), (zeros.clone(), zeros.clone())
        work = step.workspace(b)            # reused buffers, as the sampling loop steps
        with torch.no_grad():
            for t in range(ids.shape[0]):
                plain = step(ids[t], a)
                banned = step(ids[t].tolist(), b, work=work, ban_unknown=True)
                assert torch.equal(plain[:, 1:], banned[:, 1:])
                assert (banned[:, 0] == float("-inf")).all()
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize("prime", ["X:1\nK:D\n|:AB",                   # read by the fp32 step
                                   "X:1\nM:4/4\nL:1/8\nK:D\n" + "|:ABcd efge|" * 8])  # nn.LSTM
def test_the_prime_is_read_to_the_models_own_state(trained, prime):
    from model.sample import STEP_PRIME_MAX, _primed_states

    model, vocab = trained
    prime_ids = vocab.encode(prime)
    assert (len(prime_ids) <= STEP_PRIME_MAX) == (len(prime) < 20)
    with torch.no_grad():
        _, (h, c) = model.eval()(torch.tensor([prime_ids[:-1]]))
        fast = _primed_states(model, prime_ids, 2)
    assert all(s.shape == (model.config.num_layers, 2, model.config.hidden_size) for s in fast)
    assert torch.allclose(fast[0], h.repeat(1, 2, 1), atol=1e-5)
    assert torch.allclose(fast[1], c.repeat(1, 2, 1), atol=1e-5)


@pytest.mark.parametrize("weights", ["int8", "int8dyn", "bf16"])
def test_a_quantised_matrix_keeps_no_fp32_copy_of_its_weights(weights):
    from model.lstm_step import Matrix

    if weights == "int8" and not int8_works() or weights == "int8dyn" and not int8dyn_works():
        pytest.skip(f"no {weights} matmul in this torch build")
    weight = torch.randn(256, 64)
    matrix = Matrix(weight, weights)
    kept = [v for v in vars(matrix).values() if isinstance(v, torch.Tensor)]
    assert not any(v.dtype == torch.float32 and v.numel() == weight.numel() for v in kept)
    x = torch.randn(2, 64)
    expected = x @ weight.T
    error = (matrix.addmm(torch.zeros(2, 256), x) - expected).norm() / expected.norm()
    assert error < 0.05          # it still multiplies by the weights, in its own arithmetic
