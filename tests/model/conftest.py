"""Shared inputs for the model tests: a small inline corpus in the training-text format, and a
tiny model trained on it."""

import pytest

BODIES = ["|:ABcd efga|bagf edcB:|", "|:GABc dedB|dBAG FDD2:|", "|:d2fd Adfd|cdeg fdec:|",
          "|:FAAB AFED|FAAB d2dB:|", "|:e2ae faef|g2bg afge:|"]


def tune_text(i: int) -> str:
    meter = "6/8" if i % 2 else "4/4"
    return f"X:1\nR:reel\nM:{meter}\nL:1/8\nK:D\n{BODIES[i % 5]}\n{BODIES[(i + 2) % 5]}\n"


@pytest.fixture(scope="session")
def corpus_texts():
    """(train, valid) texts: tunes joined by a blank line, as corpus_text makes them."""
    train = "\n".join(tune_text(i) for i in range(40))
    valid = "\n".join(tune_text(i) for i in range(40, 46))
    return train, valid


@pytest.fixture(scope="session")
def trained(corpus_texts):
    """(model, vocab) of the tiny preset trained 80 steps on `corpus_texts`."""
    from dataclasses import replace

    from model.config import TINY
    from model.train import train

    result = train(replace(TINY.train, steps=80), corpus_texts)
    return result.model, result.vocab
