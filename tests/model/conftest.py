"""Shared inputs for the model tests: a small inline corpus in the training-text format."""

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
