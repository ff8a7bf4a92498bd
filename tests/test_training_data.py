"""Training data options: titles and styles kept, transposed copies, what the model file keeps."""

import pytest

from app.music.errors import MusicError
from app.music.normalize import TextOptions, title_digest
from app.music.tunebook import parse_tune_book
from app.training_data import prepare_training_data, transposed_texts

BOOK = "\n".join(f"X:{i}\nT:Tune {i}\nO:Irland\nR:reel\nM:4/4\nL:1/8\nK:{key}\n"
                 f"{notes}|{notes}|\n" for i, (key, notes) in enumerate(
                     [("D", "DFAd"), ("G", "GBdg"), ("Ador", "EAAB"), ("Em", "EGBe")] * 8))


def _tunes():
    return parse_tune_book(BOOK).tunes


def test_titles_and_styles_reach_the_text_and_the_model_file():
    data = prepare_training_data(_tunes(), "t", valid_fraction=0.0)
    assert data.train_text.startswith("X:1\nO:irish\nT:Tune 0\nR:reel\n")
    extra = data.for_model().extra
    assert extra["styles"] == {"irish": 32}
    digests = extra["title_digests"]
    assert len(digests) == 8 * 32 and title_digest("tune 5") in digests
    assert extra["text"] == {"titles": True, "styles": True, "annotations": False,
                             "numbers": False, "headers": False}


def test_the_old_text_without_titles_or_styles_is_an_option():
    data = prepare_training_data(_tunes(), "t", valid_fraction=0.0,
                                 text=TextOptions(titles=False, styles=False))
    assert "T:" not in data.train_text and "O:" not in data.train_text
    assert "title_digests" not in data.extra and "styles" not in data.extra


def test_transposed_copies_train_and_validation_stays_as_written():
    plain = prepare_training_data(_tunes(), "t", valid_fraction=0.25)
    moved = prepare_training_data(_tunes(), "t", valid_fraction=0.25, transpose=2)
    assert moved.valid_text == plain.valid_text
    assert moved.summary["transposed_copies"] == 2 * plain.summary["train_tunes"]
    assert moved.summary["untransposed_train_chars"] == len(plain.train_text)
    assert len(moved.train_text) > 2.5 * len(plain.train_text)
    assert moved.tune_count == plain.tune_count
    assert "K:C\nCEGc|" in moved.train_text       # D up to ... C: the plainest other key
    assert moved.train_text.count("\n\n") == 3 * plain.train_text.count("\n\n") + 2


def test_a_key_set_and_tunes_that_cannot_move():
    texts = ["X:1\nK:D\nDFA|\n", "X:1\nK:none\nDFA|\n", "X:1\nK:Em\nEGB|\n"]
    copies, stuck = transposed_texts(texts, keys=["D", "G"])
    assert copies == ["X:1\nK:G\nGBd|\n", "X:1\nK:Dm\nDFA|\n", "X:1\nK:Gm\nGBd|\n"]
    assert stuck == 1


def test_bad_transposition_options_are_refused():
    with pytest.raises(MusicError, match="0..11"):
        prepare_training_data(_tunes(), "t", transpose=12)
    with pytest.raises(MusicError, match="cannot transpose the key 'H'"):
        prepare_training_data(_tunes(), "t", transpose_keys=["H"])
