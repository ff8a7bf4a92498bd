"""Corpus statistics counted on the training text."""

from app.music.normalize import TextOptions, corpus_text
from app.music.stats import NONE, corpus_stats
from app.music.tunebook import parse_tune_book

BOOK = """X:1
T:Reel One
M:C|
L:1/8
K:D
DFAF dFAF|

X:2
T:Jig One
M:6/8
L:1/8
K:E Minor
EGB EGB|

X:3
T:Air
K:D
D4|
"""


def test_counts_keys_meters_units_rhythms_and_characters():
    tunes = parse_tune_book(BOOK).tunes
    stats = corpus_stats(tunes)
    assert stats.tunes == 3
    assert stats.characters == len(corpus_text(tunes, options=TextOptions()))
    assert set(stats.charset) == set(corpus_text(tunes, options=TextOptions()))
    assert "T:Air" in corpus_text(tunes, options=TextOptions())      # titles are counted
    old = corpus_stats(tunes, TextOptions(titles=False, styles=False))
    assert old.characters == len(corpus_text(tunes)) < stats.characters
    assert stats.keys == {"D": 2, "Em": 1}
    assert stats.meters == {"6/8": 1, "C|": 1, NONE: 1}
    assert stats.unit_lengths == {"1/8": 2, NONE: 1}
    assert stats.rhythms == {"air": 1, "jig": 1, "reel": 1}


def test_to_dict_is_plain_data_and_empty_input_is_zero():
    data = corpus_stats(parse_tune_book(BOOK).tunes).to_dict()
    assert set(data) == {"tunes", "characters", "charset", "keys", "meters", "unit_lengths",
                         "rhythms"}
    empty = corpus_stats([])
    assert (empty.tunes, empty.characters, empty.charset, empty.keys) == (0, 0, "", {})
