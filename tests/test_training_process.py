"""app.training_process: the window's training in a child process streams its reports, obeys
stop and pause, brings errors back as themselves, and a dead child is an error, not a hang."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from app.training import TrainRequest
from app.training_data import training_data_from_sources
from app.training_process import TrainingProcess, exit_reason, train_in_child
from model.config import TINY
from model.errors import ModelError

BODIES = ["|:ABcd efga|bagf edcB:|", "|:GABc dedB|dBAG FDD2:|", "|:d2fd Adfd|cdeg fdec:|"]
LONG = 10 ** 6      # a step budget no test reaches: these runs end by stop or by a kill

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc to see that no child is left")


def _tunes(count: int) -> str:
    return "\n".join(f"X:{i + 1}\nT:T{i}\nM:4/4\nL:1/8\nK:D\n{BODIES[i % 3]}\n"
                     f"{BODIES[(i + 1) % 3]}\n" for i in range(count))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("child")
    (folder / "book.abc").write_text(_tunes(30))
    (folder / "valid.abc").write_text(_tunes(3))
    return training_data_from_sources([str(folder / "book.abc")],
                                      valid_sources=[str(folder / "valid.abc")],
                                      seq_len=TINY.train.seq_len)


def _gone(pid: int) -> bool:
    """True once the process is no more (a zombie nobody reaps counts as gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.split()[:2] == ["State:", "Z"] for line in status)
    except FileNotFoundError:
        return True


def _wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_run_streams_reports_and_returns_a_model_file(data, tmp_path):
    from model.checkpoint import load_model

    out = tmp_path / "m.safetensors"
    child = TrainingProcess(TrainRequest(preset="tiny", steps=30, out_path=str(out),
                                         eval_seconds=3600.0, sample_chars=50,
                                         train_changes={"eval_interval": 10}), data)
    reports, pids = [], set()
    outcome = child.run(lambda p: reports.append(p) or pids.add(child.pid))
    assert [p.step for p in reports] == list(range(1, 31))
    assert [p.step for p in reports if p.evaluated] == [10, 20, 30]
    assert reports[-1].val_loss is not None and reports[-1].sample
    assert outcome.steps == 30 and not outcome.stopped and outcome.path == str(out)
    assert outcome.val_loss == pytest.approx(outcome.summary["val_loss"], abs=1e-3)
    assert outcome.summary["tune_lengths"] == data.tune_lengths
    model_file = load_model(out)
    assert model_file.training["steps"] == 30
    (pid,) = pids
    assert child.pid is None and _gone(pid)          # reaped: no zombie is left


def test_stop_ends_the_run_early_with_the_best_model_saved(data, tmp_path):
    from model.checkpoint import load_model

    out = tmp_path / "m.safetensors"
    stop = threading.Event()
    reports = []

    def on_progress(p):
        reports.append(p)
        if p.step == 12:
            stop.set()

    outcome = train_in_child(TrainRequest(preset="tiny", steps=LONG, out_path=str(out),
                                          train_changes={"eval_interval": 5}), data,
                             on_progress, stop)
    assert outcome.stopped and 12 <= outcome.steps < LONG
    assert outcome.steps == reports[-1].step
    assert load_model(out).training["stopped"] is True


def test_stop_before_training_begins_ends_the_child_too(data, tmp_path):
    stop = threading.Event()
    stop.set()          # set while the child is still starting and preparing its data
    outcome = train_in_child(TrainRequest(preset="tiny", steps=LONG,
                                          out_path=str(tmp_path / "m.safetensors")),
                             data, None, stop)
    assert outcome.stopped and outcome.steps == 0


def test_pause_holds_the_run_in_place_and_resume_carries_on(data, tmp_path):
    stop, pause = threading.Event(), threading.Event()
    reports, seen = [], {}

    def on_progress(p):
        reports.append(p)
        if p.step == 5 and not seen:
            pause.set()
            threading.Thread(target=watch, daemon=True).start()

    def watch():
        # Wait for the reports to go quiet, look again a second later, then let the run go on.
        count = -1
        while count != len(reports):
            count = len(reports)
            time.sleep(1.0)
        seen["held"] = reports[-1].step
        time.sleep(1.0)
        seen["after"] = reports[-1].step
        pause.clear()
        _wait_until(lambda: reports[-1].step > seen["held"] + 3)
        stop.set()

    outcome = train_in_child(TrainRequest(preset="tiny", steps=LONG), data, on_progress, stop,
                             pause)
    assert seen["held"] == seen["after"] and seen["held"] >= 5
    assert outcome.stopped and outcome.steps > seen["held"] + 3


@pytest.mark.parametrize("request_, error, message", [
    (TrainRequest(preset="tiny", steps=0), ModelError, "steps must be between"),
    (TrainRequest(preset="tiny", steps=2, sample_chars=-5), ModelError, "sample_chars"),
    (TrainRequest(preset="tiny", steps=2, out_path=__file__ + "/m.safetensors"), OSError,
     "m.safetensors"),
])
def test_errors_in_the_child_arrive_as_themselves(data, request_, error, message):
    with pytest.raises(error, match=message) as raised:
        train_in_child(request_, data)
    assert "died" not in str(raised.value)


def test_a_killed_child_is_an_error_and_the_next_run_works(data, tmp_path):
    from model.checkpoint import load_model

    checkpoint = tmp_path / "run.ckpt.safetensors"
    child = TrainingProcess(TrainRequest(preset="tiny", steps=LONG,
                                         out_path=str(tmp_path / "m.safetensors"),
                                         checkpoint_path=str(checkpoint),
                                         checkpoint_interval=10), data)
    pids = []

    def on_progress(p):
        if p.step == 25 and not pids:
            pids.append(child.pid)
            os.kill(child.pid, signal.SIGKILL)

    with pytest.raises(ModelError) as raised:
        child.run(on_progress)
    message = str(raised.value)
    assert message.startswith("training process died (signal 9, SIGKILL)")
    assert str(checkpoint) in message and "\n" not in message
    saved_step = load_model(checkpoint).training["steps"]
    assert saved_step >= 20 and saved_step % 10 == 0      # the child may run ahead of us
    assert _gone(pids[0])

    again = train_in_child(TrainRequest(preset="tiny", steps=3), data)
    assert again.steps == 3


def test_exits_are_named():
    assert exit_reason(-11) == "signal 11, SIGSEGV" and exit_reason(-6) == "signal 6, SIGABRT"
    assert exit_reason(1) == "exit status 1" and exit_reason(-200) == "signal 200"


PARENT = """
import os, sys, threading
sys.path.insert(0, {root!r})
from app.training import TrainRequest
from app.training_data import training_data_from_sources
from app.training_process import TrainingProcess
data = training_data_from_sources([{book!r}], seq_len=32)
child = TrainingProcess(TrainRequest(preset="tiny", steps=10 ** 6,
                                     out_path={out!r}), data)
def on_progress(p):
    if p.step == 3:
        print(child.pid, flush=True)
child.run(on_progress)
"""


def test_the_child_does_not_outlive_a_killed_parent(tmp_path):
    book = tmp_path / "book.abc"
    book.write_text(_tunes(30))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "m.safetensors"
    code = textwrap.dedent(PARENT.format(root=root, book=str(book), out=str(out)))
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        parent.kill()
        parent.wait()
        assert _wait_until(lambda: _gone(child_pid))
    finally:
        parent.kill()
        parent.wait()
    assert out.exists()           # the orphan stopped its run, which saved the model


def test_the_training_text_is_not_part_of_the_process_start(data, tmp_path, monkeypatch):
    """The start writes the child's arguments into a pipe the child reads only once it has
    imported torch, under the lock every worker start shares: megabytes of training text
    there held that lock for half a second (stalls in the soak). They go over the pipe after
    the start instead, and the run still trains on them."""
    import app.training_process as training_process

    started = []
    real_start = training_process.start_without_main
    monkeypatch.setattr(training_process, "start_without_main",
                        lambda process: started.append(process._args) or real_start(process))
    outcome = TrainingProcess(TrainRequest(preset="tiny", steps=3, eval_seconds=3600.0,
                                           out_path=str(tmp_path / "m.safetensors")), data).run()
    assert outcome.steps == 3 and outcome.summary["tune_lengths"] == data.tune_lengths
    (args,) = started
    assert not any(isinstance(a, (TrainRequest, type(data), str)) for a in args)
