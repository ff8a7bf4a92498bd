"""Pausing training: the loop waits between steps, carries on when cleared, and stop while
paused ends the run at once with the model saved. The pause counts toward no time budget."""

import threading
import time
from dataclasses import replace

from model.checkpoint import load_model
from model.config import TINY, ModelConfig
from model.train import train

SMALL = ModelConfig(embedding_size=8, hidden_size=16, num_layers=1, dropout=0.0)


def _run_in_thread(**kwargs):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", train(**kwargs)))
    thread.start()
    return thread, box


def _wait(condition, timeout=30.0):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_pause_blocks_between_steps_and_resumes(corpus_texts):
    pause, reports = threading.Event(), []

    def on_progress(p):
        reports.append((p, time.perf_counter()))
        if p.step == 5:
            pause.set()

    config = replace(TINY.train, steps=12, eval_interval=100, batch_size=4, seq_len=16)
    thread, box = _run_in_thread(config=config, data=corpus_texts, on_progress=on_progress,
                                 model_config=SMALL, pause=pause)
    _wait(lambda: reports and reports[-1][0].step == 5)
    time.sleep(0.5)
    assert reports[-1][0].step == 5 and thread.is_alive()     # blocked between steps
    pause.clear()
    thread.join(30)
    assert not thread.is_alive()
    result = box["result"]
    assert [p.step for p, _ in reports] == list(range(1, 13)) and result.steps == 12
    (before, t5), (after, t6) = reports[4], reports[5]
    assert t6 - t5 >= 0.5                                     # it really waited...
    assert after.elapsed - before.elapsed < 0.4               # ...but the wait is not counted
    assert not result.stopped


def test_pause_does_not_use_up_the_minutes_budget(corpus_texts):
    pause, steps = threading.Event(), []

    def on_progress(p):
        steps.append(p.step)
        if p.step == 3:
            pause.set()

    # 1.2 s of training; a 1.5 s pause would end the run at once if it counted.
    config = replace(TINY.train, steps=10_000, minutes=0.02, eval_interval=10_000,
                     batch_size=4, seq_len=16)
    thread, box = _run_in_thread(config=config, data=corpus_texts, on_progress=on_progress,
                                 model_config=SMALL, pause=pause)
    _wait(lambda: steps and steps[-1] == 3)
    time.sleep(1.5)
    pause.clear()
    thread.join(60)
    assert box["result"].steps > 3 and max(steps) > 3


def test_stop_while_paused_returns_promptly_with_the_model_saved(corpus_texts, tmp_path):
    pause, stop, steps = threading.Event(), threading.Event(), []

    def on_progress(p):
        steps.append(p.step)
        if p.step == 4:
            pause.set()

    out, ckpt = tmp_path / "m.safetensors", tmp_path / "m.ckpt"
    config = replace(TINY.train, steps=10_000, eval_interval=10_000, batch_size=4, seq_len=16,
                     out_path=str(out), checkpoint_path=str(ckpt))
    thread, box = _run_in_thread(config=config, data=corpus_texts, on_progress=on_progress,
                                 stop=stop, model_config=SMALL, pause=pause)
    _wait(lambda: steps and steps[-1] == 4)
    time.sleep(0.2)
    pressed = time.perf_counter()
    stop.set()
    thread.join(10)
    assert time.perf_counter() - pressed < 1.0
    result = box["result"]
    assert result.stopped and result.steps == 4 and steps == [1, 2, 3, 4]
    assert load_model(out).training["steps"] == 4
    assert load_model(ckpt).resume["step"] == 4               # and it can be resumed
