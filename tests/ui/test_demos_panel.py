"""The Demos panel offscreen: the bundled models answer as the user types, the strip and both
plots fill, the cell choice reloads, training from a file runs in the background with progress,
Stop ends it, and bad files and odd text give messages instead of crashes."""

import pytest

from app.ui.demos_panel import DemosPanel

GOOD = "The food was good, not bad at all."
BAD = "The food was bad, not good at all."


@pytest.fixture
def panel(qtbot):
    widget = DemosPanel()
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.state == "idle" and "nextword" in widget.pairs,
                    timeout=30000)
    yield widget
    widget.shutdown()


def test_bundled_models_answer_the_lecture_sentence(panel):
    assert panel.next_top.text().index("french") < panel.next_top.text().index("%")
    assert panel.window_top.text().count("<tr>") == 5
    assert panel.flow_plot.point_count() > 20
    assert "LSTM" in panel.flow_title.text()


def test_typing_updates_the_prediction(qtbot, panel):
    panel.next_text.setPlainText("This morning I took my cat for a")
    qtbot.waitUntil(lambda: "walk" in panel.next_top.text(), timeout=3000)


def test_sentiment_tab_shows_probability_baseline_and_strip(qtbot, panel):
    panel.tabs.setCurrentIndex(1)
    panel.mood_text.setPlainText(GOOD)
    qtbot.waitUntil(lambda: "(positive)" in panel.mood_label.text(), timeout=3000)
    assert panel.strip.word_count() == 10
    baseline = panel.mood_label.text().split("Bag of words:")[1]
    panel.mood_text.setPlainText(BAD)
    qtbot.waitUntil(lambda: "(negative)" in panel.mood_label.text(), timeout=3000)
    assert panel.mood_label.text().split("Bag of words:")[1] == baseline
    panel.mood_text.setPlainText("   ")
    qtbot.waitUntil(lambda: "No words" in panel.mood_label.text(), timeout=3000)
    assert panel.strip.word_count() == 0


def test_a_megabyte_paste_is_cut_with_a_note(qtbot, panel):
    panel.next_text.setPlainText("the cat sat on the mat . " * 42_000)
    qtbot.waitUntil(lambda: "long text" in panel.next_notes.text(), timeout=5000)
    assert panel.next_top.text().count("<tr>") == 5


def test_choosing_a_cell_loads_its_model_and_flow(qtbot, panel):
    lstm_flow = list(panel.flow_plot.values)
    panel.cell.setCurrentIndex(panel.cell.findData("rnn_tanh"))
    qtbot.waitUntil(lambda: panel.state == "idle" and "tanh" in panel.flow_title.text(),
                    timeout=30000)
    assert panel.pairs["nextword"].cell == "rnn_tanh"
    assert panel.flow_plot.values[1] < lstm_flow[1]    # the plain RNN's gradient vanishes


def test_training_on_a_csv_runs_in_the_background_with_progress(qtbot, panel, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("text,label\n" + "great fun,1\nawful mess,0\nlovely day,1\nsad day,0\n" * 20)
    panel.tabs.setCurrentIndex(1)
    values = []
    panel.progress.valueChanged.connect(values.append)
    panel.train(str(path))
    assert panel.state == "training" and not panel.retrain_button.isEnabled()
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=60000)
    assert "Trained LSTM on mine.csv" in panel.train_label.text()
    assert panel.pairs["sentiment"].source == "mine.csv"
    assert len(values) > 3 and values[-1] == 100
    assert panel.norm_plot.point_count() > 0


def test_stop_ends_training_early(qtbot, panel):
    panel.train()
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=30000)
    panel.stop_button.click()
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=30000)
    assert "stopped after" in panel.train_label.text()


def test_an_unusable_file_is_a_message_not_a_crash(qtbot, panel, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nfine,maybe\n")
    panel.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(panel.status, timeout=10000) as status:
        panel.train(str(path))
    assert "no usable rows" in status.args[0] and "⚠" in panel.train_label.text()
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=5000)


def test_state_round_trip(qtbot, panel):
    panel.clip.setChecked(False)
    panel.optimizer.setCurrentIndex(1)
    state = panel.save_state()
    other = DemosPanel()
    qtbot.addWidget(other)
    other.restore_state(state)
    other.restore_state({"cell": "nonsense", "tab": 7})
    assert other.save_state() == state
    qtbot.waitUntil(lambda: other.state == "idle", timeout=30000)
    other.shutdown()


def test_music_model_pickers_do_not_offer_the_demo_models(tmp_path):
    from app.ui.model_files import list_models

    names = [m.path.name for m in list_models(tmp_path)]
    assert names and not any(name.startswith("demo-") for name in names)
