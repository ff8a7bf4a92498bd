"""Sampling: header priming, batches, seeds, stopping, probabilities, filters, bad settings."""


import pytest
import torch

from model.config import SampleConfig
from model.errors import ModelError
from model.draw import filter_probs
from model.sample import build_prime, generate


def test_build_prime_puts_the_header_in_canonical_order():
    assert build_prime(rhythm="jig") == "X:1\nR:jig\nM:6/8\nL:1/8\n"
    assert build_prime(key="Ador", rhythm="slip jig", title="Air") == \
        "X:1\nT:Air\nR:slip jig\nM:9/8\nL:1/8\nK:Ador\n"
    assert build_prime(meter="3/4", unit_length="1/4", key="G", title="Air",
                       title_in_prime=False) == "X:1\nM:3/4\nL:1/4\nK:G\n"
    assert build_prime() == "X:1\n"
    assert build_prime(key="D", prime="|:ABcd|") == "X:1\nM:4/4\nL:1/8\nK:D\n|:ABcd|\n"
    assert build_prime(prime="X:5\nK:G\nGABc|\n\n\n", key="D") == "X:5\nK:G\nGABc|\n"
    assert build_prime(prime="|:GABc|") == "X:1\nM:4/4\nL:1/8\nK:C\n|:GABc|\n"


def test_variations_stop_at_the_blank_line_and_carry_settings(trained):
    model, vocab = trained
    prime = build_prime(meter="4/4", key="D")
    tunes = generate(model, vocab, SampleConfig(count=4, seed=7, max_chars=400), prime,
                     title="New")
    assert len(tunes) == 4
    for i, tune in enumerate(tunes):
        assert tune.text.startswith("X:1\nT:New\nM:4/4\nL:1/8\nK:D\n")
        assert len(tune.probabilities) == len(tune.generated)
        assert all(0 < p <= 1 for p in tune.probabilities)
        assert tune.settings["seed"] == 7 and tune.settings["variation"] == i + 1
        if tune.finished:
            assert "\n\n" not in tune.text and tune.text.endswith("\n")
        else:
            assert len(tune.generated) == 400
    assert any(t.finished for t in tunes)  # a trained tiny model learns where tunes end
    again = generate(model, vocab, SampleConfig(count=4, seed=7, max_chars=400), prime, title="New")
    assert [t.text for t in again] == [t.text for t in tunes]


def test_filters_keep_the_likeliest_characters():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0]])
    top1 = filter_probs(logits, SampleConfig(top_k=1))
    assert torch.equal(top1, torch.tensor([[0.0, 0.0, 0.0, 1.0]]))
    nucleus = filter_probs(logits, SampleConfig(top_p=0.7))
    assert nucleus[0, :2].sum() == 0 and nucleus[0, 2:].sum() > 0.99
    cold = filter_probs(logits, SampleConfig(temperature=0.1))
    assert cold[0, 3] > 0.99


def test_unknown_prime_characters_are_read_as_unknown(trained):
    model, vocab = trained
    tunes = generate(model, vocab, SampleConfig(seed=1, max_chars=20), "X:1\nT:Ü€\n")
    assert tunes[0].settings["prime_unknown_chars"] == ["T", "Ü", "€"]
    assert "\ufffd" not in tunes[0].generated


@pytest.mark.parametrize("settings, message", [
    ({"temperature": 0}, "temperature"), ({"temperature": -1}, "temperature"),
    ({"top_p": 0}, "top-p"), ({"top_p": 1.5}, "top-p"), ({"count": 0}, "count")])
def test_bad_settings_are_refused(trained, settings, message):
    model, vocab = trained
    with pytest.raises(ModelError, match=message):
        generate(model, vocab, SampleConfig(**settings))


class _RewindEveryBarLine:
    """Marks before each '|' and rewinds the first two '|' that follow a mark."""

    rewinds = True

    def begin(self, count, prime):
        self.after_newline = [prime.endswith("\n")] * count
        self.left = [2] * count

    def mask(self, logits, active):
        pass

    def feed(self, row, ch):
        from model.hooks import END, KEEP, MARK, REWIND

        if ch == "\n" and self.after_newline[row]:
            return END
        if ch == "|" and self.left[row] > 0:
            self.left[row] -= 1
            return REWIND
        self.after_newline[row] = ch == "\n"
        if ch == "|":
            self.left[row] = 2
            return MARK
        return KEEP


def test_rewinds_restore_the_model_state_exactly(trained):
    """After rewinds, each kept character's probability is the model's own on the kept text."""
    from model.sample import sample_rows

    model, vocab = trained
    prime = "X:1\nM:4/4\nL:1/8\nK:D\n"
    config = SampleConfig(count=3, seed=4, max_chars=200, quantize="off", temperature=1.0)
    rows, _ = sample_rows(model, vocab, config, prime, _RewindEveryBarLine())
    assert sum(r.rewinds for r in rows) > 0
    for row in rows:
        assert len(row.ids) == len(row.probs)
        text = vocab.encode(prime) + row.ids
        with torch.no_grad():
            logits, _ = model.eval()(torch.tensor([text[:-1]]))
        logits[..., 0] = float("-inf")
        p = torch.softmax(logits[0], -1)
        start = len(vocab.encode(prime)) - 1
        forced = [p[start + i, idx].item() for i, idx in enumerate(row.ids)]
        assert forced == pytest.approx(row.probs, abs=1e-4)


def test_sampling_always_ends_even_when_a_hook_rewinds_forever(trained):
    from model.hooks import REWIND
    from model.sample import sample_rows

    class Never(_KeepAll):
        rewinds = True

        def feed(self, row, ch):
            return REWIND

    model, vocab = trained
    rows, _ = sample_rows(model, vocab, SampleConfig(count=2, seed=1, max_chars=50), "X:1\n",
                          Never())
    assert all(not r.finished and r.ids == [] and r.rewinds == 200 for r in rows)


def test_draw_follows_the_probabilities_and_never_picks_a_banned_character():
    from model.draw import draw_ids

    gen = torch.Generator().manual_seed(0)
    probs = torch.tensor([[0.0, 0.2, 0.0, 0.8, 0.0]]).repeat(4000, 1)
    drawn = draw_ids(probs, torch.rand(4000, generator=gen).tolist())
    counts = torch.bincount(torch.tensor(drawn), minlength=5).tolist()
    assert counts[0] == counts[2] == counts[4] == 0
    assert 0.17 < counts[1] / 4000 < 0.23
    edge = torch.tensor([[0.0, 1.0, 0.0]])
    assert all(draw_ids(edge, torch.rand(1, generator=gen).tolist()) == [1] for _ in range(200))


def _searchsorted_draw(probs, gen):
    """The draw as torch ops (the loop's first form): the oracle for `draw_ids`."""
    cdf = probs.cumsum(-1)
    u = torch.rand(probs.shape[0], 1, generator=gen) * (cdf[:, -1:] * (1 - 1e-6))
    return torch.searchsorted(cdf, u, right=True)[:, 0].clamp_(max=probs.shape[1] - 1).tolist()


def test_draw_picks_what_torch_searchsorted_picks_from_the_same_random_numbers():
    from model.draw import draw_ids

    g = torch.Generator().manual_seed(5)
    for spread in (0.5, 2.0, 8.0):
        probs = torch.softmax(torch.randn(3000, 90, generator=g) * spread, -1)
        probs[:, ::5] = 0.0                 # banned characters, as the hook and top-k leave
        probs[:7] = probs[:7] / probs[:7].sum(-1, keepdim=True) * 0.97   # totals below 1
        a, b = torch.Generator().manual_seed(11), torch.Generator().manual_seed(11)
        assert draw_ids(probs, torch.rand(len(probs), generator=a).tolist()) == \
            _searchsorted_draw(probs, b)
        for row in probs[:300]:             # one variation at a time, the loop's common case
            assert draw_ids(row[None], torch.rand(1, generator=a).tolist()) == \
                _searchsorted_draw(row[None], b)


def test_draw_breaks_ties_at_a_boundary_as_searchsorted_does():
    """Points that land exactly on a cumulative value: float32 arithmetic decides the side."""
    from model.draw import draw_ids

    for seed in range(40):
        r = torch.rand(1, generator=torch.Generator().manual_seed(seed))
        u = r * (torch.ones(1) * (1 - 1e-6))            # the point a total of 1 gives
        probs = torch.cat([u, 1 - u])[None]              # first cumulative value == the point
        assert float(probs.cumsum(-1)[0, -1]) == 1.0
        want = _searchsorted_draw(probs, torch.Generator().manual_seed(seed))
        assert want == [1]
        assert draw_ids(probs, r.tolist()) == want


@pytest.mark.parametrize("count", [1, 3, 300])
def test_uniforms_come_in_the_order_one_draw_per_step_gives(count):
    from model.draw import Uniforms

    uniforms = Uniforms(torch.Generator().manual_seed(4), count)
    gen = torch.Generator().manual_seed(4)
    for _ in range(2100 // count + 5):      # past the end of the first block
        assert uniforms.take() == torch.rand(count, generator=gen).tolist()


class _KeepAll:
    rewinds = False

    def begin(self, count, prime):
        pass

    def mask(self, logits, active):
        pass

    def feed(self, row, ch):
        from model.hooks import KEEP

        return KEEP


def _reference_rows(model, vocab, config, prime):
    """The sampling loop written plainly: nn.LSTM steps, torch ops for the draw and the
    probabilities. Returns (ids, probs) per variation."""
    from model.draw import filter_probs

    gen = torch.Generator().manual_seed(config.seed)
    prime_ids = vocab.encode(prime)
    with torch.no_grad():
        _, state = model.eval()(torch.tensor([prime_ids[:-1]]))
        state = tuple(s.repeat(1, config.count, 1) for s in state)
        current = torch.full((config.count,), prime_ids[-1])
        ids, probs = [], []
        for _ in range(config.max_chars):
            logits, state = model(current[:, None], state)
            logits = logits[:, -1]
            logits[:, 0] = float("-inf")
            model_p = torch.softmax(logits, -1)
            current = torch.tensor(_searchsorted_draw(filter_probs(logits, config), gen))
            ids.append(current.tolist())
            probs.append(model_p.gather(1, current[:, None])[:, 0].tolist())
    return [list(r) for r in zip(*ids)], [list(r) for r in zip(*probs)]


@pytest.mark.parametrize("count,temperature,top_p", [(1, 1.0, 1.0), (1, 0.9, 1.0),
                                                     (3, 0.8, 0.9)])
def test_the_sampling_loop_draws_what_the_plain_loop_draws(trained, count, temperature, top_p):
    """Same seed, same characters and probabilities as the loop written with nn.LSTM steps and
    torch's searchsorted (fp32: the steps agree to float rounding)."""
    from model.sample import sample_rows

    model, vocab = trained
    config = SampleConfig(count=count, seed=21, max_chars=120, quantize="off",
                          temperature=temperature, top_p=top_p)
    prime = "X:1\nM:6/8\nL:1/8\nK:G\n|:"
    rows, _ = sample_rows(model, vocab, config, prime, _KeepAll())
    ids, probs = _reference_rows(model, vocab, config, prime)
    for row, want_ids, want_probs in zip(rows, ids, probs):
        assert row.ids == want_ids
        assert row.probs == pytest.approx(want_probs, abs=1e-5)
