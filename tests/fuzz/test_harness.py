"""The long fuzz runs' own machinery: the hang timer raises in the example, not in a
garbage-collector callback (where the exception is ignored and the interpreter later crashed)."""

import signal
import sys

import pytest

from tests.fuzz.abc_mutations import ExampleHung, _hung


def gc_callback(phase, info):   # named as Hypothesis's own callback is
    return sys._getframe()


def test_the_hang_timer_waits_while_a_gc_callback_runs(monkeypatch):
    armed = []
    monkeypatch.setattr(signal, "alarm", armed.append)
    _hung(signal.SIGALRM, gc_callback("start", {}))
    assert armed == [1]


def test_the_hang_timer_raises_in_the_example():
    with pytest.raises(ExampleHung, match="ran past"):
        _hung(signal.SIGALRM, sys._getframe())


def test_a_hang_is_recorded_even_where_the_code_catches_every_exception(monkeypatch):
    """abc_score._locate catches every Exception around music21: the hang timer's exception
    must pass through such code and be recorded as a crash of the example."""
    import time

    from tests.fuzz import abc_mutations as fuzz

    monkeypatch.setenv("CEOL_FUZZ_KEEP_GOING", "1")
    monkeypatch.setenv("CEOL_FUZZ_EXAMPLE_SECONDS", "1")
    monkeypatch.delenv("CEOL_FUZZ_SAVE_DIR", raising=False)
    monkeypatch.setattr(fuzz, "FAILURES", {})

    def swallowing(text):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                time.sleep(0.05)
            except Exception:  # noqa: BLE001 - the pattern under test
                pass

    started = time.monotonic()
    fuzz.guard("harness-hang", swallowing, "X:1")
    assert time.monotonic() - started < 4
    assert [key.split(" at ")[0] for key in fuzz.FAILURES["harness-hang"]] == ["ExampleHung"]


def test_a_failure_keeps_its_whole_first_input(monkeypatch, tmp_path):
    from tests.fuzz import abc_mutations as fuzz

    monkeypatch.setenv("CEOL_FUZZ_KEEP_GOING", "1")
    monkeypatch.setenv("CEOL_FUZZ_SAVE_DIR", str(tmp_path))
    monkeypatch.delenv("CEOL_FUZZ_EXAMPLE_SECONDS", raising=False)
    monkeypatch.setattr(fuzz, "FAILURES", {})
    long_input = "X:1\nK:D\n" + "abcd|" * 1000        # longer than the 2,000 printed

    def broken(text):
        raise ValueError("boom")

    fuzz.guard("harness-test", broken, long_input)
    fuzz.guard("harness-test", broken, "another input, same failure")
    saved = list(tmp_path.iterdir())
    assert len(saved) == 1                                   # once per failure
    assert eval(saved[0].read_text()) == (long_input,)       # the whole input, replayable
    assert len(fuzz.FAILURES["harness-test"]) == 1
