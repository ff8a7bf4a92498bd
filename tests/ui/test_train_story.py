"""Training tells its story in the window: training and validation curves in bits per character
on titled axes with a legend, a sample tune (with its step) that opens and plays in the tune
view, and at the end a message naming the saved model, its held-out score and its place in the
Generate panel, where it is selected; budgets and counts read as English ("1 minute")."""

from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from app.music.tunebook import parse_tune_book
from app.training_data import prepare_training_data
from app.ui.loss_plot import TRAIN_COLOUR, VALID_COLOUR, LossPlot
from app.ui.train_summary import counted, outcome_html
from model.checkpoint_meta import read_metadata
from tests.ui.helpers import close_window, make_window, write_book

NOTES = "CDEFGABcdefg"


def varied_book(count: int) -> str:
    """`count` tunes different enough that some are held back for validation."""
    tunes = []
    for i in range(count):
        bar = "".join(NOTES[(i * k + k) % len(NOTES)] for k in range(1, 9))
        tunes.append(f"X:{i + 1}\nT:Tune {i + 1}\nM:4/4\nL:1/8\nK:D\n"
                     f"|:{bar}|{bar[::-1]}|d2fd Adfd|cdeg fdec:|\n")
    return "\n".join(tunes)


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    yield w
    close_window(w)


def story_run(qtbot, window, tmp_path, steps: int):
    """Select 60 varied tunes and set a tiny run of `steps` steps, confirmed at once."""
    book = write_book(tmp_path, text=varied_book(60))
    with qtbot.waitSignal(window.tunes_loaded, timeout=20000):
        window.open_paths([str(book)])
    window.library_panel.table.selectAll()
    panel = window.train_panel
    panel.form.data_choice.setCurrentIndex(panel.form.data_choice.findData("selected"))
    panel.form.preset.setCurrentText("tiny")
    panel.form.budget_unit.setCurrentText("steps")
    panel.form.budget_value.setValue(steps)
    panel.confirm = lambda data: True
    return panel


def test_a_finished_run_tells_its_story_and_selects_its_model(qtbot, window, tmp_path):
    panel = story_run(qtbot, window, tmp_path, steps=60)
    with qtbot.waitSignal(panel.model_saved, timeout=60000) as saved:
        panel.start_button.click()
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=10000)
    path = saved.args[0]
    training = read_metadata(path)["training"]

    plot, monitor = panel.monitor.plot, panel.monitor
    assert [x for x, _ in plot.valid] == [25, 50, 60]          # the tiny preset's validations
    assert len(plot.train) >= 3 and plot.captions()["x"] == "step"
    assert plot.captions()["y"] == "bits per character"
    best_step, best_bits = min(plot.valid, key=lambda point: point[1])
    assert training["best_step"] == best_step                  # the curve is in bits per char
    assert best_bits == pytest.approx(training["val_bits_per_char"], abs=1e-4)
    assert "bits/char" in monitor.stats.text() and "validation" in monitor.stats.text()

    text = monitor.outcome.text()
    assert monitor.outcome.isVisible() and "Training finished" in text and "60 steps" in text
    assert Path(path).stem in text and str(path) in text
    assert f"{training['val_bits_per_char']:.3f} bits per character" in text
    assert f"step {best_step}" in text and "selected in the Generate panel" in text
    picker = window.generate_panel.model
    assert picker.currentData() == path and picker.currentText() == Path(path).stem
    assert window.generate_panel.current_model().path == Path(path)

    sample = monitor.sample.toPlainText()
    assert monitor.sample_title.text() == "Sample tune from step 60"
    assert sample.startswith("X:1\n") and monitor.play_sample.isEnabled()
    player = window.transport.player
    said: list[str] = []
    window.transport.status.connect(said.append)
    with qtbot.waitSignal(player.stateChanged, timeout=30000, raising=False):  # stored, shown,
        monitor.play_sample.click()            # rendered, then played (or refused,
        # if it is no tune); stored on the library's thread, it is shown once committed
        qtbot.waitUntil(lambda: window.transport.abc == sample, timeout=20000)
        assert window.tune_view.abc == sample
        # the window's own player, once the tune is rendered (in a worker: not at once, and
        # slowly on a loaded machine), or its one-line reason when a 60-step model's sample
        # cannot be played
        qtbot.waitUntil(lambda: window.transport.is_playing()
                        or any(m.startswith("Cannot play") for m in said), timeout=60000)
    assert window.windowTitle() == f"Ceol — {panel.run_name} step 60"
    window.transport.stop()


def test_samples_show_while_training_and_a_stopped_run_says_so(qtbot, window, tmp_path):
    panel = story_run(qtbot, window, tmp_path, steps=100000)
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.monitor.sample_step is not None, timeout=60000)
    assert panel.state == "training"                           # while it learns
    step = panel.monitor.sample_step
    assert step % 25 == 0 and f"step {step:,}" in panel.monitor.sample_title.text()
    assert panel.monitor.sample.toPlainText().startswith("X:1\n")
    qtbot.waitUntil(lambda: len(panel.monitor.plot.valid) >= 2, timeout=60000)
    with qtbot.waitSignal(panel.model_saved, timeout=10000) as saved:
        panel.stop_button.click()
    text = panel.monitor.outcome.text()
    assert "Training stopped" in text and Path(saved.args[0]).stem in text
    assert "bits per character" in text
    assert window.generate_panel.model.currentData() == saved.args[0]

    qtbot.waitUntil(lambda: panel.state == "idle", timeout=10000)
    panel.start()                                              # a new run starts a new story
    assert not panel.monitor.outcome.isVisible() and panel.monitor.plot.point_count() == 0
    assert panel.monitor.sample_step is None and not panel.monitor.play_sample.isEnabled()
    qtbot.waitUntil(lambda: panel.last_step > 0, timeout=30000)
    with qtbot.waitSignal(panel.model_saved, timeout=10000):
        panel.stop()


def test_the_confirmation_counts_in_english(qtbot, window):
    panel = window.train_panel
    data = prepare_training_data(parse_tune_book(varied_book(60)).tunes, "mine")
    for value, unit, words in ((1, "minutes", "for 1 minute on"),
                               (2.5, "minutes", "for 2.5 minutes on"),
                               (1, "steps", "for 1 step on"), (300, "steps", "for 300 steps on")):
        panel.form.budget_unit.setCurrentText(unit)
        panel.form.budget_value.setValue(value)
        box = panel.summary_box(data)
        assert words in box.text(), box.text()
        box.deleteLater()
    assert "<b>60 tunes</b>" in box.text()
    assert counted(1, "tune") == "1 tune" and counted(1_234_567, "character") == \
        "1,234,567 characters"


def _pixels_like(image, colour: QColor) -> int:
    count = 0
    for y in range(0, image.height()):
        for x in range(0, image.width()):
            c = image.pixelColor(x, y)
            if (abs(c.red() - colour.red()) + abs(c.green() - colour.green())
                    + abs(c.blue() - colour.blue())) < 40:
                count += 1
    return count


def test_the_plot_draws_both_curves_with_a_legend(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 220)
    plot.show()
    for step in range(1, 201):
        plot.add_point(step, 4.0 - step / 100)
    train_only = plot.grab().toImage()
    for step in range(25, 201, 25):
        plot.add_point(step, None, 3.9 - step / 110)
    both = plot.grab().toImage()
    assert plot.point_count() == 208
    legend_red = _pixels_like(train_only, VALID_COLOUR)      # the legend's red line alone
    assert legend_red > 5 and _pixels_like(both, VALID_COLOUR) > legend_red + 100
    assert _pixels_like(both, TRAIN_COLOUR) > 200
    assert plot.captions() == {"x": "step", "y": "bits per character",
                               "train": "training (batch)", "valid": "validation (held out)"}


@pytest.mark.parametrize("training, words", [
    ({"steps": 1, "seconds": 3, "valid_chars": 0}, "too few tunes to keep some back"),
    ({"steps": 7, "seconds": 3, "valid_chars": 900, "stopped": True},
     "stopped before its first validation"),
    ({"steps": 500, "seconds": 75, "valid_chars": 900, "best_step": 400,
      "val_bits_per_char": 2.41234}, "2.412 bits per character"),
])
def test_the_end_message_says_what_there_is_to_say(training, words):
    text = outcome_html("/models/celtic-1.safetensors", training)
    assert words in text and "<b>celtic-1</b>" in text
    assert ("1 step " in text) == (training["steps"] == 1)
    assert ("Training stopped" in text) == bool(training.get("stopped"))
    assert "selected in the Generate panel's model list as <b>celtic-1</b>" in text


def test_the_forms_text_options_reach_the_data_and_the_model_file(qtbot, window, tmp_path):
    panel = story_run(qtbot, window, tmp_path, steps=5)
    form = panel.form
    assert (form.titles.isChecked(), form.styles.isChecked(), form.annotations.isChecked(),
            form.numbers.isChecked(), form.headers.isChecked(),
            form.transpose_copies()) == (True, True, False, False, False, 0)  # the defaults
    form.titles.setChecked(False)
    form.annotations.setChecked(True)
    form.headers.setChecked(True)
    form.transpose.setValue(2)
    with qtbot.waitSignal(panel.summary_ready, timeout=20000) as summary:
        panel.start_button.click()
    assert summary.args[0]["transposed_copies"] == 2 * summary.args[0]["train_tunes"]
    assert "In other keys too: 110 copies" in panel.summary.text()
    assert not form.transpose.isEnabled()                             # locked while it runs
    with qtbot.waitSignal(panel.model_saved, timeout=30000) as saved:
        pass
    training = read_metadata(saved.args[0])["training"]
    assert training["text"] == {"titles": False, "styles": True, "annotations": True,
                                "numbers": False, "headers": True}
    assert training["transpose"] == 2
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=10000)
    state = form.save_state()
    form.restore_state({**state, "titles": True, "transpose": 0})
    assert form.titles.isChecked() and form.transpose_copies() == 0
    form.restore_state(state)
    assert not form.titles.isChecked() and form.annotations.isChecked()
    assert form.headers.isChecked() and not form.numbers.isChecked()
    assert form.transpose_copies() == 2 and form.transpose.isEnabled()


def test_the_built_in_corpora_are_offered(qtbot, window):
    form = window.train_panel.form
    from app.music.corpus import BUILTIN_CORPORA

    offered = [form.data_choice.itemData(i) for i in range(form.data_choice.count())]
    assert set(BUILTIN_CORPORA) <= set(offered)
    form.data_choice.setCurrentIndex(form.data_choice.findData("nottingham"))
    assert form.data_request(lambda: [], lambda: []) == (["nottingham"], [], "nottingham")
