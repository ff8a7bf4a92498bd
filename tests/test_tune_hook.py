"""app.tune_hook: bar fitting, full bars, targets and tonic endings, fed by hand."""


def _hook(prime="X:1\nM:4/4\nL:1/8\nK:D\n", targets=(None,), profile=None, fit=True):
    from app.tune_hook import TuneHook

    index = {ch: i + 1 for i, ch in enumerate(" \n|:]ABCDEFGabcdefgz2/[KM")}
    hook = TuneHook(prime, list(targets), {}, profile, 3, index, fit)
    hook.begin(len(targets), prime)
    return hook


def _feed(hook, text, row=0):
    return [hook.feed(row, ch) for ch in text]


def test_tune_hook_resamples_bars_that_do_not_fit_the_meter():
    from model.hooks import KEEP, MARK, REWIND

    hook = _hook()
    assert _feed(hook, "A|")[-1] == KEEP          # a pickup...
    assert _feed(hook, " ")[0] == MARK            # ...fits: the rewind point moves past it
    assert _feed(hook, "ABcd efga|")[-1] == KEEP
    assert _feed(hook, " ")[0] == MARK            # a full bar fits
    assert _feed(hook, "ABc|")[-1] == KEEP
    assert _feed(hook, " ")[0] == REWIND          # short mid-section bar: sampled again
    assert "".join(hook.texts[0]) == "A| ABcd efga|"   # back to the bar line
    assert _feed(hook, "ABcd efga2|")[-1] == KEEP
    assert _feed(hook, "\n")[0] == REWIND         # too long
    assert _feed(hook, "ABcd efg|]")[-1] == KEEP      # 7/8 after a 1/8 pickup
    assert _feed(hook, "\n")[0] == MARK           # short last bar completing the pickup
    hook_off = _hook(fit=False)
    assert REWIND not in _feed(hook_off, "A| ABc| ABcd efga2|\n")


def test_tune_hook_gives_up_on_a_bar_after_its_tries():
    from app.tune_hook import MAX_BAR_TRIES
    from model.hooks import MARK, REWIND

    hook = _hook()
    _feed(hook, "ABcd efga| ")
    verdicts = [_feed(hook, "AB|x")[-1] for _ in range(MAX_BAR_TRIES + 1)]
    assert verdicts == [REWIND] * MAX_BAR_TRIES + [MARK]


def test_tune_hook_stops_at_the_target_and_bans_an_early_end():
    import torch

    from model.hooks import END_KEEP

    hook = _hook(targets=(2,))
    assert _feed(hook, "ABcd efga| ")[-1] != END_KEEP
    logits = torch.zeros(1, 30)
    _feed(hook, "ABcd\n")
    hook.mask(logits, [0])
    assert logits[0, hook.index["\n"]] == float("-inf")   # no blank line before bar 2
    assert _feed(hook, "efgd|")[-1] == END_KEEP          # the last bar ends home (K:D)


def test_a_full_bar_is_closed_after_a_space():
    import torch

    hook = _hook(prime="X:1\nM:2/4\nL:1/8\nK:D\n")
    _feed(hook, "ABcd efga|")                 # a 4/4 bar in 2/4: the checker would resample it
    logits = torch.zeros(1, 30)
    _feed(hook, "\nAB ")
    hook.mask(logits, [0])
    assert bool(logits[0, hook.index["A"]] == 0)            # half a bar: anything may follow
    _feed(hook, "cd ")
    logits = torch.zeros(1, 30)
    hook.mask(logits, [0])
    allowed = {ch for ch, i in hook.index.items() if logits[0, i] > float("-inf")}
    assert allowed == {"|", ":"}                           # full: only a bar line may follow


def test_the_last_bar_is_sampled_again_until_it_ends_on_the_tonic():
    from app.tune_hook import MAX_BAR_TRIES
    from model.hooks import END_KEEP, REWIND

    hook = _hook(targets=(2,))                     # K:D, two bars
    assert _feed(hook, "ABcd efga|ABcd efga|")[-1] == REWIND    # ends on A: again
    assert "".join(hook.texts[0]) == "ABcd efga|"
    assert _feed(hook, 'ABcd "G"efg!trill!^d|')[-1] == END_KEEP  # home (chords, decorations)
    stubborn = _hook(targets=(1,))
    verdicts = [_feed(stubborn, "ABcd efga|")[-1] for _ in range(MAX_BAR_TRIES + 1)]
    assert verdicts == [REWIND] * MAX_BAR_TRIES + [END_KEEP]    # then it is kept as it is
