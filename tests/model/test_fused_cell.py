"""The fused sampling step (numba): it computes what torch's calls compute to float rounding,
draws what they draw from the same random numbers (but where a number falls within rounding of a
boundary), is measured only for one variation, and torch's path stays when numba is absent."""

import pytest
import torch

from model import fused_cell, kernel_choice
from model.config import ModelConfig, SampleConfig
from model.draw import pick
from model.lm import MusicLM
from model.lstm_step import LSTMStepper, sampling_candidates
from tests.model.test_sample import _KeepAll, _reference_rows

numba = pytest.importorskip("numba")


@pytest.fixture(scope="module")
def kernels():
    """The compiled kernels (cached in the test session's sandbox, tests/conftest.py)."""
    found = fused_cell.kernels()
    assert found is not None, "numba is installed but the fused kernels did not compile"
    return found


def _steps(weights, model, ids):
    """Logits (T, V) of one variation stepped through `ids` with the unknown symbol banned."""
    step = LSTMStepper(model, weights=weights)
    zeros = torch.zeros(model.config.num_layers, 1, model.config.hidden_size)
    state = (zeros, zeros.clone())
    work = step.workspace(state)
    out = [step([i], state, work=work, ban_unknown=True).clone() for i in ids]
    return torch.cat(out), state


@pytest.mark.parametrize("layers", [1, 2])
def test_fused_step_gives_torchs_probabilities_and_state(kernels, layers):
    torch.manual_seed(0)
    model = MusicLM(ModelConfig(embedding_size=16, hidden_size=96, num_layers=layers), 40).eval()
    ids = torch.randint(1, 40, (200,)).tolist()
    with torch.inference_mode():
        want, (h, c) = _steps("fp32", model, ids)
        got, (fh, fc) = _steps("fp32+fused", model, ids)
    assert torch.isinf(got[:, 0]).all() and torch.isfinite(got[:, 1:]).all()
    assert torch.allclose(torch.softmax(got, -1), torch.softmax(want, -1), rtol=0, atol=1e-5)
    assert torch.allclose(fc, c, atol=1e-5) and torch.allclose(fh, h, atol=1e-5)


def test_fused_draw_picks_torchs_character_but_within_rounding_of_a_boundary(kernels):
    """20,000 draws from the logits of a random model's steps: the compiled draw and torch's
    `pick` (softmax, temperature, cumsum, the search) agree except where the uniform number
    lies within 1e-5 of a boundary of the cumulative sums; and such cases are rare."""
    torch.manual_seed(1)
    logits = torch.randn(500, 90) * 4
    logits[:, 0] = float("-inf")
    gen = torch.Generator().manual_seed(2)
    config = SampleConfig(temperature=0.9)
    fused = fused_cell.FusedWork([], torch.empty(1, 90))
    draw = fused_cell.drawer(kernels, fused, config)
    differ = 0
    for row in logits:
        fused.logits[:] = row.numpy()
        for u in torch.rand(40, generator=gen).tolist():
            (want,), (want_p,) = pick(row[None], config, False, [u])
            (got,), (got_p,) = draw([u])
            assert got_p == pytest.approx(float(torch.softmax(row, 0)[got]), abs=1e-6)
            if got != want:
                differ += 1
                cdf = torch.softmax(row / 0.9, 0).cumsum(0)
                assert (cdf - u).abs().min() < 1e-5
            assert got != 0
    assert differ <= 5


@pytest.mark.parametrize("temperature", [1.0, 0.9])
def test_fused_loop_draws_what_the_plain_loop_draws(trained, kernels, monkeypatch, temperature):
    """Same seed, same characters and probabilities as nn.LSTM + searchsorted (as for the
    torch step in test_sample.py)."""
    import model.sample as sample

    model, vocab = trained
    monkeypatch.setattr(sample, "weights_mode", lambda m, c: "fp32+fused")
    config = SampleConfig(count=1, seed=21, max_chars=400, quantize="off",
                          temperature=temperature)
    prime = "X:1\nM:6/8\nL:1/8\nK:G\n|:"
    rows, _ = sample.sample_rows(model, vocab, config, prime, _KeepAll())
    ids, probs = _reference_rows(model, vocab, config, prime)
    assert rows[0].ids == ids[0]
    assert rows[0].probs == pytest.approx(probs[0], abs=1e-5)


def test_without_numba_the_fused_name_runs_torchs_calls(monkeypatch):
    monkeypatch.setattr(fused_cell, "kernels", lambda: None)
    torch.manual_seed(0)
    model = MusicLM(ModelConfig(embedding_size=8, hidden_size=32, num_layers=1), 20).eval()
    with torch.inference_mode():
        want, _ = _steps("fp32", model, [3, 4, 5])
        got, _ = _steps("fp32+fused", model, [3, 4, 5])
    assert torch.equal(got, want)
    assert not any(w.endswith(fused_cell.FUSED) for w in sampling_candidates(1))


def test_fused_candidates_are_measured_for_one_variation_only(kernels):
    one, eight = sampling_candidates(1), sampling_candidates(8)
    assert "fp32+fused" in one and "fp32" in one
    assert not any(w.endswith(fused_cell.FUSED) for w in eight)


def test_the_candidate_list_is_made_only_when_measuring(tmp_path):
    store = kernel_choice.KernelStore(tmp_path / "k.json", load=lambda: 0.1, budget=0.0)
    listed = []

    def candidates():
        listed.append(1)
        return ["a", "b"]
    prepare = lambda kernel: (lambda: None)   # noqa: E731
    first = store.choose("sample", "shape", prepare, candidates, [1])
    again = kernel_choice.KernelStore(tmp_path / "k.json", load=lambda: 0.1).choose(
        "sample", "shape", prepare, candidates, [1])
    assert first.kernel in ("a", "b") and again == first and listed == [1]


@pytest.mark.parametrize("compiles", [True, False])
def test_a_remembered_fused_choice_runs_unfused_once_numba_is_gone(tmp_path, monkeypatch,
                                                                    kernels, compiles):
    from model.lstm_step import weights_mode
    from tests.model.test_kernel_choice import remembered

    if not compiles:
        monkeypatch.setattr(fused_cell, "kernels", lambda: None)
    wide = MusicLM(ModelConfig(embedding_size=8, hidden_size=256, num_layers=1), 20)
    remembered(monkeypatch, tmp_path, "sample", "lstm 1x256 batch 1", "int8dyn+fused", 2)
    assert weights_mode(wide, SampleConfig()) == ("int8dyn+fused" if compiles else "int8dyn")


class _BanA(_KeepAll):
    """Bans "A" at every step, as the window's hooks ban characters that do not fit."""

    def __init__(self, vocab):
        self.banned = vocab.encode("A")[0]

    def mask(self, logits, active):
        logits[:, self.banned] = float("-inf")


def test_a_hooks_mask_reaches_the_fused_draw(trained, kernels, monkeypatch):
    import model.sample as sample

    model, vocab = trained
    config = SampleConfig(count=1, seed=5, max_chars=300, quantize="off")
    prime = "X:1\nM:4/4\nL:1/8\nK:D\n|:"
    want, _ = sample.sample_rows(model, vocab, config, prime, _BanA(vocab))
    monkeypatch.setattr(sample, "weights_mode", lambda m, c: "fp32+fused")
    got, _ = sample.sample_rows(model, vocab, config, prime, _BanA(vocab))
    assert "A" not in vocab.decode(got[0].ids) and got[0].ids == want[0].ids
    unmasked, _ = sample.sample_rows(model, vocab, config, prime, _KeepAll())
    assert "A" in vocab.decode(unmasked[0].ids)
