"""The Generate panel: tunes from the tiny model land in the library, each playable, with
provenance; bad model files and vanished models give messages instead of crashes."""

import shutil

import pytest
from PySide6.QtCore import Qt

from app.library import Query
from tests.ui.helpers import close_window, make_window, tiny_model, wait_for_library


@pytest.fixture
def window(qtbot, tmp_path):
    models = tmp_path / "data" / "models"
    models.mkdir(parents=True)
    shutil.copy(tiny_model(), models / "tiny-reel.safetensors")
    w = make_window(qtbot, tmp_path)
    yield w
    close_window(w)


def test_picker_lists_the_model_with_metadata(window):
    panel = window.generate_panel
    names = [panel.model.itemText(i) for i in range(panel.model.count())]
    assert "tiny-reel" in names
    tip = panel.model.itemData(names.index("tiny-reel"), 3)
    assert "lstm 1x32" in tip and "100 steps" in tip


def test_three_variations_become_playable_library_entries(qtbot, window):
    panel = window.generate_panel
    panel.model.setCurrentIndex(panel.model.findText("tiny-reel"))
    panel.count.setValue(3)
    panel.temperature.setValue(0.3)
    panel.seed.setText("5")
    panel.key.setCurrentText("D")
    panel.meter.setCurrentText("4/4")
    panel.length.setValue(300)
    with qtbot.waitSignal(panel.generation_finished, timeout=30000) as finished:
        qtbot.keyClick(window, "g", modifier=Qt.KeyboardModifier.ControlModifier)
    wait_for_library(qtbot, window)     # the tunes are stored on its thread
    assert finished.args == [3]
    rows = window.library.search(Query(source_kind="generated"))
    assert len(rows) == 3
    for row in rows:
        record = window.library.get(row[0])
        assert record.provenance["model"] == "tiny-reel" and record.provenance["seed"] == 5
        assert record.provenance["temperature"] == 0.3 and record.key == "D"
        assert window.transport.playable(record.abc), record.abc
        assert record.title.startswith("tiny-reel seed 5 #")
    # the first tune ready (stored first) is shown, with its probability heat map available
    assert window.tune_view.tune_id == rows[0][0]
    assert "arrival" not in window.library.get(rows[0][0]).provenance
    assert window.tune_view.highlighter.has_probabilities()
    assert window.transport.play_button.isEnabled()


def test_bars_and_parts_set_the_length_of_generated_tunes(qtbot, window):
    from app.music.bars import body_bars

    panel = window.generate_panel
    panel.model.setCurrentIndex(panel.model.findText("tiny-reel"))
    panel.count.setValue(2)
    panel.seed.setText("3")
    panel.temperature.setValue(0.5)     # the tiny test model writes garbage when it runs hot
    panel.bars.setValue(6)
    with qtbot.waitSignal(panel.generation_finished, timeout=30000):
        panel.generate()
    wait_for_library(qtbot, window)     # the tunes are stored on its thread
    records = [window.library.get(r[0]) for r in window.library.search(Query(source_kind="generated"))]
    assert [body_bars(r.abc) for r in records] == [6, 6]
    panel.parts.setValue(2)
    with qtbot.waitSignal(panel.generation_finished, timeout=30000):
        panel.generate()
    wait_for_library(qtbot, window)     # the tunes are stored on its thread
    rows = window.library.search(Query(source_kind="generated"))
    newest = [window.library.get(r[0]).abc for r in rows if window.library.get(r[0]).abc
              not in {r.abc for r in records}]
    assert newest and all(abc.count(":|") >= 2 for abc in newest), newest


def test_not_a_model_is_refused_clearly(qtbot, window, tmp_path):
    fake = tmp_path / "notes.safetensors"
    fake.write_bytes(b"definitely not a model")
    count = window.generate_panel.model.count()
    from PySide6.QtWidgets import QMessageBox

    qtbot_messages = []
    original = QMessageBox.warning
    QMessageBox.warning = staticmethod(lambda *a: qtbot_messages.append(a[2]))
    try:
        assert not window.generate_panel.add_model(str(fake))
    finally:
        QMessageBox.warning = original
    assert "notes.safetensors: not a Ceol model file" in qtbot_messages[0]
    assert window.generate_panel.model.count() == count


def test_removed_model_file_gives_a_message(qtbot, window, tmp_path):
    panel = window.generate_panel
    panel.model.setCurrentIndex(panel.model.findText("tiny-reel"))
    (tmp_path / "data" / "models" / "tiny-reel.safetensors").unlink()
    with qtbot.waitSignal(panel.status, timeout=2000) as status:
        assert panel.generate() is None
    assert "the model file is gone" in status.args[0]
    assert panel.model.findText("tiny-reel") < 0


def test_continue_the_selected_tune_from_its_first_bars(qtbot, window):
    panel = window.generate_panel
    panel.model.setCurrentIndex(panel.model.findText("tiny-reel"))
    given = "X:1\nT:Mine\nM:4/4\nL:1/8\nK:G\n|:GABc dedB|dBAG FDD2|GABc dedB|dBAG G4:|\n"
    window.tune_view.show_tune(0, given)    # the tune the window shows is the one continued
    panel.count.setValue(2)
    panel.seed.setText("4")
    panel.bars.setValue(6)
    panel.continue_selected.setChecked(True)
    panel.continue_bars.setValue(2)
    assert panel.sample_options()["continue_bars"] == 2
    with qtbot.waitSignal(panel.generation_finished, timeout=30000) as finished:
        panel.generate()
    wait_for_library(qtbot, window)     # the tunes are stored on its thread
    assert finished.args == [2]
    for row in window.library.search(Query(source_kind="generated")):
        record = window.library.get(row[0])
        body = record.abc.split("K:G\n", 1)[1]
        assert body.startswith("|:GABc dedB|dBAG FDD2|"), record.abc
        assert record.provenance["continued"] is True
        assert record.provenance["continued_bars"] == 2


def test_warm_up_loads_what_the_first_generation_needs(qtbot, window):
    import sys

    from app.model_cache import MODELS

    panel = window.generate_panel
    panel.model.setCurrentIndex(panel.model.findText("tiny-reel"))
    MODELS.clear()
    job = window.warm_up()
    qtbot.waitUntil(lambda: job.thread.isFinished(), timeout=60000)
    from app.music.isolate import shared

    assert "torch" in sys.modules
    assert shared("music21").pid is not None    # music21 loaded in its worker process
    path = str(panel.current_model().path)
    assert MODELS.paths() == [path]
    assert window.warm_up() is None       # once per window


@pytest.fixture(scope="module")
def styled_model(tmp_path_factory):
    """A tiny model trained with titles and styles (irish jigs, german waltzes)."""
    from dataclasses import replace

    from app.music.tunebook import parse_tune_book
    from app.training_data import prepare_training_data
    from model.config import TINY
    from model.train import train
    from tests.test_generation_titles import _book

    data = prepare_training_data(parse_tune_book(_book()).tunes, "styled", valid_fraction=0.0)
    path = tmp_path_factory.mktemp("styled") / "styled.safetensors"
    train(replace(TINY.train, steps=400, seq_len=64, out_path=str(path), eval_interval=400),
          data.for_model(), model_config=replace(TINY.model, hidden_size=64))
    return path


def test_style_choice_and_the_models_own_titles(qtbot, window, styled_model):
    panel = window.generate_panel
    panel.model.setCurrentIndex(panel.model.findText("tiny-reel"))
    assert not panel.style.isEnabled() and "without styles" in panel.style.toolTip()
    assert panel.add_model(str(styled_model))
    assert panel.model.currentText() == "styled"
    assert panel.style.isEnabled() and "german (24 tunes)" in panel.style.toolTip()
    listed = [panel.style.itemData(i) for i in range(panel.style.count())]
    assert listed == ["", "irish", "german"]        # the styles this model learned, no others
    panel.style.setCurrentIndex(panel.style.findData("german"))
    panel.key.setCurrentText("Am")
    panel.count.setValue(3)
    panel.seed.setText("2")
    panel.length.setValue(200)
    with qtbot.waitSignal(panel.generation_finished, timeout=30000):
        panel.generate()
    wait_for_library(qtbot, window)     # the tunes are stored on its thread
    records = [window.library.get(r[0])
               for r in window.library.search(Query(source_kind="generated"))]
    assert len(records) == 3
    for record in records:
        assert record.provenance["style"] == "german"
        assert record.abc.startswith("X:1\nO:german\n")
    titled = [r for r in records if "\nT:" in r.abc.split("K:")[0]]
    assert titled                                   # the model names its tunes
    for record in titled:
        title = record.abc.split("\nT:", 1)[1].split("\n", 1)[0]
        assert record.title == title and "seed" not in record.title
        assert record.provenance["title_note"].startswith("the model's own")
    assert panel.save_state()["style"] == "german"


def test_keep_annotations_checkbox_reaches_the_controls_and_is_kept(qtbot, window,
                                                                    monkeypatch):
    import app.generation_records as records

    asked = []

    def fake_records(model, model_path, controls, *args, **kwargs):
        asked.append(controls)
        return 0

    monkeypatch.setattr(records, "generate_records", fake_records)
    panel = window.generate_panel
    panel.model.setCurrentIndex(panel.model.findText("tiny-reel"))
    assert not panel.keep_annotations.isChecked()       # clean tunes by default
    for checked in (False, True):
        panel.keep_annotations.setChecked(checked)
        with qtbot.waitSignal(panel.generation_finished, timeout=30000):
            panel.generate()
        assert asked[-1].keep_annotations is checked
    state = panel.save_state()
    panel.keep_annotations.setChecked(False)
    panel.restore_state(state)
    assert panel.keep_annotations.isChecked()
