"""Styles: from the O: field, else the collection, and into the training text as O:."""

import pytest

from app.music.normalize import TextOptions, title_digest, training_text, tune_text
from app.music.styles import STYLES, check_style, collection_style, origin_style, style_of
from app.music.tunebook import parse_tune_book


@pytest.mark.parametrize("origin, style", [
    ("Europa, Mitteleuropa, Deutschland, Hessen", "german"), ("Irland", "irish"),
    ("China, Shaanxi, Zizhou", "chinese"), ("Lothringen", "german"),
    ("Osteuropa, Ungarn", ""), ("County Clare, Ireland", "irish"),
    ("Amerika, Mittelamerika, Mexiko", "american")])
def test_origin_field_names_a_style(origin, style):
    assert origin_style(origin) == style


def test_every_style_name_reads_back_as_itself():
    assert {name: origin_style(name) for name in STYLES} == {name: name for name in STYLES}
    text = tune_text(parse_tune_book("X:1\nT:F\nK:D\nD|\n", "/c/miscFolk/americanfifeopus.abc"
                                     ).tunes[0])
    assert text.startswith("X:1\nO:american\n")
    assert tune_text(parse_tune_book(text).tunes[0]) == text      # written out, read again


def test_collection_gives_the_style_when_the_tune_has_no_origin():
    assert collection_style("/x/music21/corpus/oneills1850/0001-0050.abc") == "irish"
    assert collection_style("/x/corpus/miscFolk/americanfifeopus.abc") == "american"
    assert collection_style("/home/me/tunes/reels.abc") == ""
    book = parse_tune_book("X:1\nT:A\nK:D\nDEF|\n\nX:2\nT:B\nO:Schottland\nK:D\nDEF|\n",
                           "/m21/corpus/airdsAirs/book1.abc")
    assert [style_of(t) for t in book.tunes] == ["scottish", "scottish"]
    own = parse_tune_book("X:1\nO:China\nK:D\nD|\n", "/m21/corpus/airdsAirs/b.abc").tunes[0]
    assert style_of(own) == "chinese"


def test_training_text_writes_the_style_before_the_title_by_default():
    tune = parse_tune_book("X:7\nT:The Kesh\nT:Kesh Jig\nO:Irland\nR:jig\nM:6/8\nK:G\nGAG|\n"
                           ).tunes[0]
    assert tune_text(tune) == "X:1\nO:irish\nT:The Kesh\nR:jig\nM:6/8\nK:G\nGAG|\n"
    assert tune_text(tune, TextOptions(titles=False, styles=False)) == training_text(tune)
    assert "O:" not in training_text(tune)


def test_check_style_names_the_known_ones():
    assert check_style(" German ") == "german"
    with pytest.raises(ValueError, match="irish"):
        check_style("klezmer")
    assert len(STYLES) >= 5


def test_title_digest_ignores_case_punctuation_and_a_leading_the():
    assert title_digest("The Kesh") == title_digest("KESH.") == title_digest("kesh")
    assert title_digest("The Kesh") != title_digest("The Butterfly")
    assert len(title_digest("x")) == 8
