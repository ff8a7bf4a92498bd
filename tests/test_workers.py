"""Jobs on worker threads: hooks become signals, cancel works from the GUI thread, errors
become messages instead of killing the thread."""

import threading

import pytest
from PySide6.QtCore import QObject, Slot

from app.music.errors import MusicError
from app.workers import Job, start_job, wait_for


def counting(ctx, n):
    for i in range(n):
        ctx.progress(i)
        ctx.result(i * i)
    return threading.current_thread() is not threading.main_thread()


def until_cancelled(ctx, started):
    started.set()
    while not ctx.cancelled:
        ctx.stop.wait(0.01)
    return "stopped"


class Collector(QObject):
    def __init__(self):
        super().__init__()
        self.seen, self.threads = [], set()

    @Slot(object)
    def add(self, value):
        self.seen.append(value)
        self.threads.add(threading.current_thread() is threading.main_thread())


def test_hooks_become_signals_on_the_gui_thread(qtbot):
    job = Job(counting, 5)
    collector = Collector()
    seen = collector.seen
    job.progress.connect(collector.add)
    with qtbot.waitSignal(job.done, timeout=5000) as done:
        start_job(job)
    assert done.args == [True]          # the function ran on a worker thread
    qtbot.waitUntil(lambda: len(seen) == 5)
    assert seen == [0, 1, 2, 3, 4]
    assert collector.threads == {True}   # slots ran on the GUI thread
    assert wait_for(job)


def test_cancel_from_the_gui_thread(qtbot):
    started = threading.Event()
    job = Job(until_cancelled, started)
    with qtbot.waitSignal(job.done, timeout=5000) as done:
        start_job(job)
        assert started.wait(5)
        job.cancel()
    assert done.args == ["stopped"]
    wait_for(job)


@pytest.mark.parametrize("error, expected", [
    (MusicError("bad bar", path="a.abc", line=3), "a.abc: line 3: bad bar"),
    (ZeroDivisionError("oops"), "unexpected error in job: ZeroDivisionError('oops')"),
])
def test_errors_become_messages(qtbot, error, expected):
    def failing(ctx):
        raise error

    job = Job(failing)
    with qtbot.waitSignal(job.failed, timeout=5000) as failed:
        start_job(job)
    assert failed.args == [expected]
    qtbot.waitSignal(job.finished, timeout=5000)
    wait_for(job)


@pytest.mark.parametrize("fn, args", [(counting, (3,)), (lambda ctx: 1 / 0, ())])
def test_each_job_gives_freed_memory_back_on_its_own_thread(qtbot, monkeypatch, fn, args):
    import app.workers

    trims = []
    monkeypatch.setattr(app.workers, "release_after_job",
                        lambda: trims.append(threading.current_thread() is threading.main_thread()))
    job = Job(fn, *args)
    with qtbot.waitSignal(job.finished, timeout=5000):
        start_job(job)
    assert wait_for(job)
    assert trims == [False]
