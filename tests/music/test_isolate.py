"""The worker process: a crash, a hang or a cancel costs one call, and the next call works."""

import os
import threading
import time

import pytest

from app.music.errors import (EngineCancelled, EngineCrashed, EngineError, EngineTimeout,
                              MusicError)
from app.music.isolate import Worker


def add(a, b, *, scale=1):
    return (a + b) * scale


def abort():
    os.abort()


def segfault():
    import ctypes

    ctypes.string_at(0)


def sleep_then_add(seconds, a, b):
    time.sleep(seconds)
    return a + b


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def raise_music_error():
    raise MusicError("bar 3 is too long", path="tune.abc", tune=2, line=7, column=4)


def raise_value_error():
    raise ValueError("not a number: 'x'")


def unpicklable():
    return threading.Lock()


@pytest.fixture(scope="module")
def worker():
    w = Worker("test worker")
    yield w
    w.close()


def test_calls_run_in_a_warm_child(worker):
    assert worker.call(add, 2, 3, scale=10) == 50
    pid = worker.pid
    assert pid is not None and pid != os.getpid()
    assert worker.call(add, 1, 1) == 2
    assert worker.pid == pid  # the same child served both calls


@pytest.mark.parametrize("func, signal_name", [(abort, "SIGABRT"), (segfault, "SIGSEGV")])
def test_a_crash_costs_only_that_call(worker, func, signal_name):
    with pytest.raises(EngineCrashed, match=signal_name) as caught:
        worker.call(func)
    assert "\n" not in str(caught.value)
    assert worker.call(add, 2, 2) == 4


def test_a_call_past_its_time_limit_is_stopped(worker):
    start = time.monotonic()
    with pytest.raises(EngineTimeout, match="0.5 s"):
        worker.call(sleep, 30, timeout=0.5)
    assert time.monotonic() - start < 10
    assert worker.call(sleep, 0, timeout=5) == 0


def test_errors_come_back_as_themselves(worker):
    with pytest.raises(MusicError) as caught:
        worker.call(raise_music_error)
    err = caught.value
    assert (err.message, err.path, err.tune, err.line, err.column) == (
        "bar 3 is too long", "tune.abc", 2, 7, 4)
    assert str(err) == "tune.abc: tune 2: line 7, column 4: bar 3 is too long"
    with pytest.raises(ValueError, match="not a number"):
        worker.call(raise_value_error)
    with pytest.raises(EngineError, match="could not send back"):
        worker.call(unpicklable)
    assert worker.call(add, 1, 2) == 3


def test_cancel_from_another_thread(worker):
    worker.start()
    timer = threading.Timer(0.3, worker.cancel)
    timer.start()
    with pytest.raises(EngineCancelled):
        worker.call(sleep, 30, timeout=20)
    timer.join()
    assert worker.cancel() is False  # nothing is running now
    assert worker.call(add, 0, 0) == 0


def test_calls_from_many_threads_are_serialised(worker):
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(worker.call(add, i, 0)))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(6))


def test_close_reaps_the_child():
    w = Worker("short-lived")
    assert w.call(add, 1, 1) == 2
    pid = w.pid
    w.close()
    assert w.pid is None
    with pytest.raises(ProcessLookupError):  # reaped, not a zombie
        os.kill(pid, 0)
    assert w.call(add, 2, 1) == 3  # a closed worker starts again when called
    w.close()


def test_no_child_outlives_the_interpreter(tmp_path):
    """atexit closes workers: a script that leaves one running still exits, leaving no child."""
    import subprocess
    import sys
    from pathlib import Path

    script = ("from app.music.isolate import Worker\nimport os\n"
              "w = Worker('left running')\nw.start()\nprint(w.pid)\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    pid = int(done.stdout.split()[-1])
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_cancel_with_a_tag_stops_only_that_callers_call(worker):
    worker.start()
    mine, theirs = object(), object()
    timer = threading.Timer(0.3, lambda: killed.append(worker.cancel(theirs)))
    killed = []
    timer.start()
    assert worker.call(sleep_then_add, 0.8, 1, 2, tag=mine) == 3   # not theirs to stop
    timer.join()
    assert killed == [False]
    timer = threading.Timer(0.3, lambda: killed.append(worker.cancel(mine)))
    timer.start()
    with pytest.raises(EngineCancelled):
        worker.call(sleep, 30, timeout=20, tag=mine)
    timer.join()
    assert killed == [False, True]


def test_a_child_that_served_max_calls_is_replaced_before_the_next():
    worker = Worker("recycled", max_calls=2)
    try:
        assert worker.call(add, 1, 1) == 2
        first = worker.pid
        assert worker.call(add, 1, 2) == 3 and worker.pid == first
        assert worker.call(add, 2, 2) == 4 and worker.pid != first     # a fresh child
        assert worker.restarts == 0                                    # not a crash
    finally:
        worker.close()
