"""`python main.py demo`: the bundled models answer headless, --json shapes, --train, bad input."""

import json

import pytest

from app.cli import main

LECTURE = "France is where I grew up, but I now live in Boston. I speak fluent"


def run(capsys, *args):
    status = main(["demo", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def test_nextword_json_has_five_of_each_most_likely_first(capsys):
    status, out, err = run(capsys, "nextword", "--text", LECTURE, "--json")
    assert (status, err) == (0, "")
    answer = json.loads(out)
    assert set(answer) == {"top", "baseline_top"}
    for key in answer:
        assert len(answer[key]) == 5
        probs = [p for _, p in answer[key]]
        assert probs == sorted(probs, reverse=True)
    assert answer["top"][0][0] == "french"


def test_sentiment_json_and_plain_text(capsys):
    status, out, _ = run(capsys, "sentiment", "--text", "The food was good, not bad at all.",
                         "--json")
    answer = json.loads(out)
    assert status == 0 and set(answer) == {"positive", "baseline_positive"}
    assert answer["positive"] > 0.5
    status, out, _ = run(capsys, "sentiment", "--text", "The food was bad, not good at all.")
    assert status == 0 and out.startswith("positive: ") and "after each word: the " in out


def test_plain_nextword_shows_both_columns(capsys):
    status, out, _ = run(capsys, "nextword", "--text", "", "--cell", "gru")
    assert status == 0 and "fixed window" in out and len(out.splitlines()) == 6


@pytest.mark.parametrize("args, message", [
    (("sentiment", "--text", "  "), "no words to classify"),
    (("nextword",), "give --text"),
    (("sentiment", "--train", "/no/such/file.csv"), "no such file"),
])
def test_bad_input_is_one_error_line_and_status_2(capsys, args, message):
    status, out, err = run(capsys, *args)
    assert status == 2 and out == "" and message in err


def test_unknown_words_are_a_note_not_an_error(capsys):
    status, out, err = run(capsys, "nextword", "--text", "qwzx", "--json")
    assert status == 0 and "none of these words" in err and json.loads(out)["top"]


def test_train_on_a_csv_then_answer(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    path.write_text("text,label\n" + "great fun,1\nawful mess,0\nlovely day,1\nsad day,0\n" * 8)
    status, out, err = run(capsys, "sentiment", "--train", path, "--text", "great day",
                           "--cell", "rnn_tanh")
    assert status == 0, err
    assert "trained RNN (tanh) on mine.csv" in out and "positive: " in out
    assert "training recurrent" in err
