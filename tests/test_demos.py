"""The demos service: bundled models answer the lecture's examples, bad input gets notes or one
clear error, user files train, and the gradient flow is measured on the real models."""

import threading

import pytest

from app import demos
from model.demo_data import read_user_file
from model.demo_train import DemoTrainConfig
from model.errors import ModelError

QUICK = DemoTrainConfig(epochs=1, batch_size=8)
GOOD = "The food was good, not bad at all."
BAD = "The food was bad, not good at all."


@pytest.fixture(scope="module")
def nextword():
    return demos.load_bundled("nextword")


@pytest.fixture(scope="module")
def sentiment():
    return demos.load_bundled("sentiment")


def test_bundled_lstm_knows_the_lecture_sentence_the_window_does_not(nextword):
    result = demos.predict_next(nextword, "France is where I grew up, but I now live in "
                                "Boston. I speak fluent")
    assert result.top[0][0] == "french"
    assert len(result.top) == len(result.baseline_top) == 5
    assert [p for _, p in result.top] == sorted((p for _, p in result.top), reverse=True)
    assert 0 < sum(p for _, p in result.top) <= 1.0001
    assert result.baseline_top[0][0] != "french" or result.baseline_top[0][1] < 0.5


def test_empty_text_predicts_first_words(nextword):
    result = demos.predict_next(nextword, "")
    assert result.tokens == [] and len(result.top) == 5 and not result.notes


def test_only_unknown_words_still_predict_with_a_note(nextword, sentiment):
    result = demos.predict_next(nextword, "zyxxy qwopp")
    assert len(result.top) == 5 and "none of these words" in result.notes[0]
    assert "none of these words" in demos.predict_sentiment(sentiment, "zyxxy").notes[0]


def test_a_megabyte_paste_is_cut_with_a_note(nextword, sentiment):
    text = "the cat sat on the mat . " * 42_000    # about 1 MB
    assert len(text) > 1_000_000
    result = demos.predict_next(nextword, text)
    assert len(result.tokens) == demos.MAX_TEXT_WORDS and "last" in result.notes[0]
    mood = demos.predict_sentiment(sentiment, text)
    assert len(mood.per_word) == demos.MAX_TEXT_WORDS and "first" in mood.notes[0]


def test_sentiment_reads_order_the_bag_of_words_cannot(sentiment):
    good, bad = demos.predict_sentiment(sentiment, GOOD), demos.predict_sentiment(sentiment, BAD)
    assert good.positive > 0.5 > bad.positive
    assert good.baseline_positive == pytest.approx(bad.baseline_positive)
    assert [w for w, _ in good.per_word] == ["the", "food", "was", "good", ",", "not", "bad",
                                             "at", "all", "."]
    assert good.per_word[-1][1] == good.positive


def test_empty_sentiment_text_has_no_probability(sentiment):
    result = demos.predict_sentiment(sentiment, "   ")
    assert result.positive is None and result.notes == ["type some words to classify"]


@pytest.mark.parametrize("task", demos.TASKS)
def test_gradient_flow_vanishes_for_tanh_and_flows_for_lstm(task):
    flows = {cell: demos.gradient_flow(demos.load_bundled(task, cell)).relative()
             for cell in ("rnn_tanh", "lstm")}
    assert len(flows["lstm"]) == len(flows["rnn_tanh"]) > 20
    if task == "nextword":   # the long-range model: the lecture's picture
        assert flows["rnn_tanh"][1] < flows["lstm"][1] / 100


def test_wrong_model_files_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(demos, "MODELS_DIR", tmp_path)
    (tmp_path / "demo-nextword-lstm.safetensors").write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a Ceol model file"):
        demos.load_bundled("nextword")
    with pytest.raises(ModelError, match="unknown cell"):
        demos.load_bundled("nextword", "transformer")
    with pytest.raises(ModelError, match="unknown demo"):
        demos.load_bundled("poetry")


def test_train_on_a_user_text_file_with_progress(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("My dog likes the park.\nMy cat likes the sofa. The sun is warm.\n" * 20,
                    encoding="utf-8")
    seen = []
    trained = demos.train_demo("nextword", "gru", str(path), on_progress=seen.append,
                               config=QUICK)
    assert trained.pair is not None and trained.pair.cell == "gru"
    assert trained.pair.source == "mine.txt"
    assert seen and seen[-1].fraction == pytest.approx(1.0)
    assert {p.network for p in seen} == {"recurrent", "baseline"}
    assert demos.predict_next(trained.pair, "my dog likes the").top


def test_train_on_a_user_csv_skips_bad_rows_with_a_note(tmp_path):
    path = tmp_path / "mine.csv"
    rows = ["text,label"] + ["great fun,1", "awful mess,0"] * 10 + ["no label here,", "odd,5"]
    path.write_text("\n".join(rows), encoding="utf-8")
    trained = demos.train_demo("sentiment", "lstm", str(path), config=QUICK)
    assert "skipped 2 row(s)" in trained.notes[0] and "label '5'" in trained.notes[0]
    assert trained.pair is not None


def test_stop_flag_ends_training_after_one_step():
    stop = threading.Event()
    stop.set()
    trained = demos.train_demo("sentiment", "lstm", stop=stop, config=QUICK)
    assert trained.summary["stopped"] and trained.summary["steps"] == 1


@pytest.mark.parametrize("content, message", [
    ("text,label\nfine,yes please\n", "no usable rows"),
    ("text,label\ngood,1\nnice,1\n", "same label"),
    ("", "no usable rows"),
])
def test_unusable_csv_files_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=message):
        read_user_file("sentiment", path)


def test_text_in_another_encoding_is_read_with_a_note(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Un café à Paris. Le garçon est là.\n".encode("latin-1") * 4)
    data = read_user_file("nextword", path)
    assert "not UTF-8" in data.notes[0] and "Windows-1252" in data.notes[0]
    assert any("café" in s for s in data.train + data.held_out)
    path.write_bytes("Une phrase.\nDeux phrases.\nTrois.\nQuatre.".encode("utf-16"))
    assert read_user_file("nextword", path).notes == []


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01\x02binary", "not a text file"),
    (b"One sentence.", "too little text"),
])
def test_unusable_text_files_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        read_user_file("nextword", path)
    with pytest.raises(ModelError, match="no such file"):
        read_user_file("nextword", tmp_path / "missing.txt")


def test_lines_stay_whole_and_paragraphs_are_cut_at_sentence_ends():
    from model.demo_data import MAX_SENTENCE_WORDS, sentences_of

    lecture = "France is where I grew up, but I now live in Boston. I speak fluent French."
    assert sentences_of(lecture + "\n\n  \n") == [lecture]
    paragraph = " ".join(f"Sentence {i} has five words." for i in range(40))
    pieces = sentences_of(paragraph)
    assert all(len(p.split()) <= MAX_SENTENCE_WORDS for p in pieces)
    assert all(p.endswith(".") for p in pieces) and " ".join(pieces) == paragraph
    assert len(sentences_of("word " * 130)) == 3
