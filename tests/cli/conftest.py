"""Shared inputs for the model commands' tests: a small ABC book and a tiny model trained on it
by `python main.py train` (once for the session; the train tests check that run)."""

import pytest

from app.cli import main

BODIES = ["|:ABcd efga|bagf edcB:|", "|:GABc dedB|dBAG FDD2:|", "|:d2fd Adfd|cdeg fdec:|",
          "|:FAAB AFED|FAAB d2dB:|", "|:e2ae faef|g2bg afge:|"]
KEYS = ["D", "G", "A", "Em", "Bm", "Ador"]


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """A book of 60 four-bar reels in six keys."""
    folder = tmp_path_factory.mktemp("cli_model")
    tunes = [f"X:{i + 1}\nT:Tune {i}\nR:reel\nM:4/4\nL:1/8\nK:{KEYS[i % 6]}\n"
             f"{BODIES[i % 5]}\n{BODIES[(i * 3 + 1) % 5]}\n" for i in range(60)]
    path = folder / "book.abc"
    path.write_text("\n".join(tunes))
    return path


@pytest.fixture(scope="session")
def trained(book):
    """The tiny model `train` writes for 60 steps, with a checkpoint every 30."""
    out = book.parent / "tiny.safetensors"
    assert main(["train", "--data", str(book), "--preset", "tiny", "--steps", "60",
                 "--out", str(out), "--quiet", "--checkpoint-every", "30"]) == 0
    return out


def bad_input_exits_2(argv, capsys, folder) -> str:
    """Run a command that must fail on bad input: exit 2, one line on stderr, nothing written
    into `folder`; return that line."""
    before = sorted(p.name for p in folder.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert sorted(p.name for p in folder.iterdir()) == before
    return err
