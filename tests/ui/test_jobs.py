"""app/ui/jobs.py: the window's jobs. Preparing training data runs in a child process (a thread
of the window's process held the GIL against the GUI thread for the seconds it took)."""

from __future__ import annotations

import threading
import time

import pytest

from app.music.errors import MusicError
from app.training_data import training_data_from_sources
from app.ui import jobs
from tests.ui.test_train_story import varied_book


class Ctx:
    """A JobContext without Qt: the stop flag and the progress hook."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.pause = threading.Event()
        self.progressed: list = []

    def progress(self, info) -> None:
        self.progressed.append(info)

    @property
    def cancelled(self) -> bool:
        return self.stop.is_set()


def test_training_data_is_prepared_in_another_process(monkeypatch):
    book = varied_book(40)
    expected = training_data_from_sources([], [book], "mine", seq_len=50)

    def not_here(*args, **kwargs):
        raise AssertionError("the training text was written in the window's process")

    import app.music.normalize
    import app.training_data
    monkeypatch.setattr(app.music.normalize, "tune_text", not_here)
    monkeypatch.setattr(app.training_data, "tune_text", not_here)
    data = jobs.prepare_training_data(Ctx(), [], [book], "mine", None, 50)
    assert data.train_text == expected.train_text
    assert data.valid_text == expected.valid_text
    assert data.summary == expected.summary
    assert data.tune_lengths == expected.tune_lengths
    assert data.extra == expected.extra


def test_bad_training_data_comes_back_as_the_users_error():
    with pytest.raises(MusicError, match="no tunes to train on"):
        jobs.prepare_training_data(Ctx(), [], [], "nothing", None, 50)


@pytest.mark.slow
def test_stop_ends_the_preparation_at_once():
    ctx = Ctx()
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(jobs.prepare_training_data(
        ctx, ["celtic"], [], "celtic", None, 100, transpose=11)))
    worker.start()
    time.sleep(1.5)             # the child is up and writing eleven copies of each tune
    assert worker.is_alive(), "the preparation ended before it could be stopped"
    stopped = time.monotonic()
    ctx.stop.set()
    worker.join(10)
    assert not worker.is_alive()
    assert outcome == [None]
    assert time.monotonic() - stopped < 3.0


def test_generated_tunes_are_repaired_in_another_process(monkeypatch):
    from app.music import repair as repair_module
    from tests.ui.helpers import tiny_model

    def not_here(*args, **kwargs):
        raise AssertionError("a generated tune was repaired in the window's process")

    monkeypatch.setattr(repair_module, "analyse_tune", not_here)
    records: list = []

    class GenCtx(Ctx):
        def result(self, item) -> None:
            records.append(item)

    made = jobs.generate_tunes(GenCtx(), str(tiny_model()), {"count": 3, "seed": 11}, {}, "")
    assert made == 3 and len(records) == 3
    assert all(text.startswith("X:") for text, _, _ in records)
