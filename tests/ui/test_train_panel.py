"""The Train panel: Start asks to confirm a data summary, the tiny preset trains from the panel,
the plot gains points, Pause waits in place and Resume carries the step count on, Stop ends
quickly and the model appears in the picker; closing keeps a checkpoint to resume."""

import time

import pytest

from app.library import Query
from tests.ui.helpers import BOOK, close_window, make_window, write_book


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    yield w
    close_window(w)


def load_selection(qtbot, window, tmp_path):
    # The three test tunes, many times over, so the tiny preset has windows to draw.
    book = write_book(tmp_path, text="\n".join(BOOK.replace("X:", "X:1") for _ in range(8)))
    with qtbot.waitSignal(window.tunes_loaded, timeout=20000):
        window.open_paths([str(book)])
    window.library_panel.table.selectAll()


def test_empty_selection_is_refused_with_a_message(qtbot, window):
    panel = window.train_panel
    panel.form.data_choice.setCurrentIndex(panel.form.data_choice.findData("selected"))
    with qtbot.waitSignal(panel.status, timeout=2000) as status:
        assert panel.start() is None
    assert status.args == ["No tunes are selected in the library"]
    assert panel.state == "idle"


def tiny_run(qtbot, window, tmp_path, accept=True):
    """Select the test tunes and set a long tiny run; the confirmation answers `accept`."""
    load_selection(qtbot, window, tmp_path)
    panel = window.train_panel
    panel.form.data_choice.setCurrentIndex(panel.form.data_choice.findData("selected"))
    panel.form.preset.setCurrentText("tiny")
    panel.form.budget_unit.setCurrentText("steps")
    panel.form.budget_value.setValue(100000)
    panel.confirm = lambda data: accept
    return panel


def test_start_asks_to_confirm_the_summary_and_cancel_starts_nothing(qtbot, window, tmp_path):
    panel = tiny_run(qtbot, window, tmp_path)
    shown = []
    panel.confirm = lambda data: shown.append(panel.summary_box(data)) or False
    panel.start_button.click()
    qtbot.waitUntil(lambda: bool(shown) and panel.state == "idle", timeout=20000)
    text = shown[0].text()
    assert "24 tunes" in text and "Keys:" in text and "Meters:" in text and "6/8" in text
    assert "Too little data to learn from" in text and "too little" in text
    assert [b.text() for b in shown[0].buttons()].count("Start training") == 1
    assert panel.job is None and panel.last_step == 0 and panel.start_button.isEnabled()

    panel.confirm = lambda data: True
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.last_step > 0, timeout=30000)
    with qtbot.waitSignal(panel.model_saved, timeout=10000):
        panel.stop_button.click()


def test_pause_waits_in_place_resume_carries_on_and_stop_saves(qtbot, window, tmp_path):
    from PySide6.QtCore import QTimer

    panel = tiny_run(qtbot, window, tmp_path)
    with qtbot.waitSignal(panel.summary_ready, timeout=20000) as summary:
        panel.start_button.click()
    assert summary.args[0]["tunes"] == 24 and summary.args[0]["too_small"]
    assert any("too little" in w for w in summary.args[0]["warnings"])
    qtbot.waitUntil(lambda: panel.monitor.plot.point_count() >= 3, timeout=30000)
    job = panel.job

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    panel.pause_button.click()
    assert panel.state == "paused" and panel.resume_button.isEnabled()
    assert not panel.start_button.isEnabled() and panel.is_training()
    qtbot.wait(300)                                  # a step already under way lands
    paused_at, before = panel.last_step, len(ticks)
    qtbot.wait(500)
    assert panel.last_step == paused_at > 0          # no steps while paused...
    assert len(ticks) - before >= 10                 # ...and the event loop kept running
    monitor = panel.monitor
    assert "paused" in monitor.progress.format() and monitor.stats.text().startswith("Paused")
    assert panel.job is job and job.thread.isRunning()   # the same run, waiting in place

    points = panel.monitor.plot.point_count()
    panel.resume_button.click()
    assert panel.state == "training" and "paused" not in panel.monitor.progress.format()
    qtbot.waitUntil(lambda: panel.last_step > paused_at + 2, timeout=30000)
    assert panel.job is job and panel.monitor.plot.point_count() > points
    assert min(x for x, _ in panel.monitor.plot.train[points:]) == paused_at + 1   # carried on
    timer.stop()

    panel.pause_button.click()
    qtbot.wait(200)
    pressed = time.perf_counter()
    with qtbot.waitSignal(panel.model_saved, timeout=10000) as saved:
        panel.stop_button.click()
    assert time.perf_counter() - pressed < 1.0       # stop while paused ends the run at once
    picker = window.generate_panel.model
    assert picker.findData(saved.args[0]) >= 0
    qtbot.waitUntil(lambda: panel.state == "idle")
    assert window.library.count(Query(source_kind="file")) == 24
    # The window prepares data with the CLI's service, so the model can draw tune lengths.
    from model.checkpoint_meta import read_metadata

    lengths = read_metadata(saved.args[0])["training"]["tune_lengths"]
    assert lengths and all(isinstance(counts, dict) for counts in lengths.values())


@pytest.mark.parametrize("paused", [False, True], ids=["training", "paused"])
def test_closing_during_training_keeps_a_checkpoint_to_resume(qtbot, tmp_path, monkeypatch,
                                                              paused):
    window = make_window(qtbot, tmp_path)
    panel = tiny_run(qtbot, window, tmp_path)
    panel.start()
    qtbot.waitUntil(lambda: panel.last_step >= 30, timeout=30000)
    if paused:
        panel.pause()
        qtbot.wait(300)
    asked = []
    window.ask_to_stop_training = lambda: asked.append("stop?") or True
    window.error_reporter.uninstall()
    assert window.close()
    assert asked == ["stop?"]
    stopped_at = panel.last_step

    again = make_window(qtbot, tmp_path)
    resumed = again.train_panel
    assert resumed.state == "paused" and resumed.resume_button.isEnabled()
    assert f"step {stopped_at}" in resumed.summary.text()
    resumed.resume_button.click()
    qtbot.waitUntil(lambda: resumed.monitor.plot.point_count() > 0, timeout=30000)
    assert resumed.monitor.plot.train[0][0] > stopped_at       # carried on, not from step 1
    if paused:                                         # paused in place: exactly there
        assert resumed.monitor.plot.train[0][0] == stopped_at + 1
    with qtbot.waitSignal(resumed.model_saved, timeout=10000):
        resumed.stop()
    close_window(again)
