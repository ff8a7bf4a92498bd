"""The long fuzz runs' own machinery: the hang timer raises in the example, not in a
garbage-collector callback (where the exception is ignored and the interpreter later crashed)."""

import signal
import sys

import pytest

from tests.fuzz.abc_mutations import _hung


def gc_callback(phase, info):   # named as Hypothesis's own callback is
    return sys._getframe()


def test_the_hang_timer_waits_while_a_gc_callback_runs(monkeypatch):
    armed = []
    monkeypatch.setattr(signal, "alarm", armed.append)
    _hung(signal.SIGALRM, gc_callback("start", {}))
    assert armed == [1]


def test_the_hang_timer_raises_in_the_example():
    with pytest.raises(TimeoutError, match="ran past"):
        _hung(signal.SIGALRM, sys._getframe())
