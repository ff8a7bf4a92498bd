"""The Train panel: the tiny preset trains from the panel, the plot gains points, pause and
resume carry the step count on, Stop ends quickly and the model appears in the picker."""

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
    panel.data_choice.setCurrentIndex(panel.data_choice.findData("selected"))
    with qtbot.waitSignal(panel.status, timeout=2000) as status:
        assert panel.start() is None
    assert status.args == ["No tunes are selected in the library"]
    assert panel.state == "idle"


def test_train_pause_resume_stop_and_the_model_appears(qtbot, window, tmp_path):
    load_selection(qtbot, window, tmp_path)
    panel = window.train_panel
    panel.data_choice.setCurrentIndex(panel.data_choice.findData("selected"))
    panel.preset.setCurrentText("tiny")
    panel.budget_unit.setCurrentText("steps")
    panel.budget_value.setValue(100000)
    with qtbot.waitSignal(panel.summary_ready, timeout=20000) as summary:
        panel.start_button.click()
    assert summary.args[0]["tunes"] == 24
    assert any("too little" in w for w in summary.args[0]["warnings"])
    qtbot.waitUntil(lambda: panel.plot.point_count() >= 3, timeout=30000)

    with qtbot.waitSignal(panel.state_changed, timeout=10000,
                          check_params_cb=lambda s: s == "paused"):
        panel.pause_button.click()
    paused_at = panel.last_step
    assert paused_at > 0 and panel.resume_button.isEnabled()
    points = panel.plot.point_count()
    panel.resume_button.click()
    qtbot.waitUntil(lambda: panel.last_step > paused_at + 2, timeout=30000)
    assert panel.plot.point_count() > points
    assert min(x for x, _ in panel.plot.train[points:]) > paused_at   # the count carried on

    pressed = time.perf_counter()
    with qtbot.waitSignal(panel.model_saved, timeout=10000) as saved:
        panel.stop_button.click()
    # Without the stop flag the run would go on for 100,000 steps; the bound is loose so a busy
    # CI machine does not fail it (the 1 s figure is measured in benchmarks/bench_app.py).
    assert time.perf_counter() - pressed < 5.0
    picker = window.generate_panel.model
    assert picker.findData(saved.args[0]) >= 0
    qtbot.waitUntil(lambda: panel.state == "idle")
    assert window.library.count(Query(source_kind="file")) == 24


def test_closing_during_training_keeps_a_checkpoint_to_resume(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window = make_window(qtbot, tmp_path)
    load_selection(qtbot, window, tmp_path)
    panel = window.train_panel
    panel.data_choice.setCurrentIndex(panel.data_choice.findData("selected"))
    panel.preset.setCurrentText("tiny")
    panel.budget_unit.setCurrentText("steps")
    panel.budget_value.setValue(100000)
    panel.start()
    qtbot.waitUntil(lambda: panel.last_step >= 30, timeout=30000)
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a: asked.append(a[1]) or QMessageBox.StandardButton.Yes))
    window.error_reporter.uninstall()
    assert window.close()
    assert asked == ["Training is running"]
    stopped_at = panel.last_step

    again = make_window(qtbot, tmp_path)
    resumed = again.train_panel
    assert resumed.state == "paused" and resumed.resume_button.isEnabled()
    assert f"step {stopped_at}" in resumed.summary.text()
    resumed.resume_button.click()
    qtbot.waitUntil(lambda: resumed.plot.point_count() > 0, timeout=30000)
    assert resumed.plot.train[0][0] > stopped_at       # carried on, not from step 1
    with qtbot.waitSignal(resumed.model_saved, timeout=10000):
        resumed.stop()
    close_window(again)
