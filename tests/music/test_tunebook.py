"""Tune books: ABC 2.1 splitting, file headers, encodings, line endings and broken tunes."""

import io

import pytest

from app.music.errors import MusicError
from app.music.tunebook import Tune, parse_tune_book, read_tune_book, strip_comment

BOOK = """%abc-2.1
M:6/8
L:1/8
R:jig

Some free text about the book.
It is not part of any tune.

X:1
T:The First
K:G
GAB c2d|
N:a note in the body

X:12
T:Second Tune
T:Alternative title
M:3/4 % waltz time
K:D
|:d2 f2 a2|
[K:A] e6:|
"""


def test_splits_tunes_and_skips_free_text():
    book = parse_tune_book(BOOK, "book.abc")
    assert [t.number for t in book.tunes] == ["1", "12"]
    assert book.problems == []
    first, second = book.tunes
    assert first.body == "GAB c2d|\nN:a note in the body"
    assert (first.index, first.line, second.index, second.line) == (0, 9, 1, 15)
    assert first.path == second.path == "book.abc"


def test_file_header_applies_to_every_tune_and_tune_fields_win():
    first, second = parse_tune_book(BOOK).tunes
    assert (first.meter, first.unit_length, first.rhythm) == ("6/8", "1/8", "jig")
    assert second.meter == "3/4"          # its own M: beats the file header's, comment dropped
    assert second.title == "Second Tune"  # the first T:
    assert second.fields[:3] == (("M", "6/8"), ("L", "1/8"), ("R", "jig"))
    assert second.key == "D" and second.tempo == "" and second.field("Z") is None


def test_abc_is_self_contained_and_reparses_to_the_same_tune():
    second = parse_tune_book(BOOK).tunes[1]
    text = second.abc()
    assert text.startswith("X:12\nL:1/8\nR:jig\nT:Second Tune\n")
    again = parse_tune_book(text).tunes[0]
    assert (again.meter, again.key, again.body, again.title) == (
        second.meter, second.key, second.body, second.title)


def test_label_names_file_position_number_and_title():
    tune = parse_tune_book(BOOK, "/some/dir/book.abc").tunes[1]
    assert tune.label == "book.abc tune 2 (X:12 Second Tune)"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_any_line_endings(newline):
    book = parse_tune_book(BOOK.replace("\n", newline))
    assert [t.key for t in book.tunes] == ["G", "D"]
    assert "\r" not in book.tunes[1].body


def test_latin1_falls_back_and_utf8_bom_is_accepted():
    text = "X:1\nT:Caf\u00e9 na m\u00f3na\nK:C\nCDEF|\n"
    assert read_tune_book(text.encode("latin-1")).tunes[0].title == "Caf\u00e9 na m\u00f3na"
    assert read_tune_book(b"\xef\xbb\xbf" + text.encode()).tunes[0].number == "1"


def test_broken_tune_is_reported_while_good_tunes_load():
    text = "X:1\nT:No key\nM:4/4\nCDEF|\n\nX:2\nT:Good\nK:C\nCDEF|\n\nX:3\nT:Nothing\nK:C\n"
    book = parse_tune_book(text, "mixed.abc")
    assert [t.title for t in book.tunes] == ["Good"]
    assert len(book.problems) == 2
    message = str(book.problems[0])
    assert message.startswith("mixed.abc: tune 1 (X:1): line 4: music before the K: field")
    assert book.problems[1].line == 11 and "no music" in str(book.problems[1])
    assert "\n" not in message


def test_header_without_key_at_end_of_file():
    book = parse_tune_book("X:1\nT:Unfinished\nM:4/4", "cut.abc")
    assert book.tunes == [] and "no K: field" in str(book.problems[0])


def test_section_heading_between_tunes_sets_section():
    text = "X:1\nK:G\nGABc|\n\nREELS\n\nX:2\nK:D\nDEFG|\n\n% Slip Jigs\nX:3\nK:D\nDEF GAB c3|\n"
    assert [t.section for t in parse_tune_book(text).tunes] == ["", "reel", "slip jig"]


def test_read_from_path_bytes_and_file_object(tmp_path):
    path = tmp_path / "one.abc"
    path.write_bytes(b"X:5\r\nK:C\r\nC4|\r\n")
    assert read_tune_book(path).tunes[0].path == str(path)
    assert read_tune_book(str(path)).path == str(path)
    assert read_tune_book(io.BytesIO(b"X:5\nK:C\nC4|\n")).tunes[0].number == "5"
    with open(path, "rb") as handle:
        assert read_tune_book(handle).tunes[0].path == str(path)


@pytest.mark.parametrize("data, message", [
    (b"", "empty file"),
    (b"  \n\n", "white space"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    (b"just some words\nand no tune at all\n", "no tune found"),
])
def test_bad_files_raise_one_line_naming_the_file(tmp_path, data, message):
    path = tmp_path / "bad.abc"
    path.write_bytes(data)
    with pytest.raises(MusicError) as info:
        read_tune_book(path)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(MusicError, match="no such file"):
        read_tune_book(tmp_path / "missing.abc")
    with pytest.raises(MusicError, match="folder"):
        read_tune_book(tmp_path)


def test_strip_comment_keeps_escaped_percent():
    assert strip_comment("G:100\\% sure % note") == "G:100\\% sure "


def test_tune_is_frozen():
    tune = Tune(fields=(("X", "1"), ("K", "C")), body="C")
    with pytest.raises(AttributeError):
        tune.body = "D"


def test_book_whose_tunes_mostly_state_one_rhythm_lends_it_to_the_rest():
    tunes = "".join(f"X:{n}\nR:Reel\nK:D\nDEFG|\n\n" for n in range(3)) + "X:9\nK:D\nDEFG|\n"
    assert [t.section for t in parse_tune_book(tunes).tunes] == ["", "", "", "reel"]
    mixed = "X:1\nR:reel\nK:D\nD|\n\nX:2\nR:jig\nK:D\nD|\n\nX:3\nK:D\nD|\n"
    assert [t.section for t in parse_tune_book(mixed).tunes] == ["", "", ""]
    few = "X:1\nR:reel\nK:D\nD|\n\nX:2\nK:D\nD|\n\nX:3\nK:D\nD|\n"
    assert parse_tune_book(few).tunes[2].section == ""


def test_utf16_with_bom_and_dos_end_of_file_mark_are_text():
    text = "X:1\nT:R\u00edl\nK:D\nDEFG|\n"
    assert read_tune_book(text.encode("utf-16")).tunes[0].title == "R\u00edl"
    assert read_tune_book(text.encode() + b"\x1a").tunes[0].key == "D"


def test_control_characters_make_a_file_binary():
    with pytest.raises(MusicError, match="binary"):
        read_tune_book(b"X:1\nK:C\n" + bytes(range(1, 9)) * 20)


def test_a_book_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from app.music import limits

    monkeypatch.setattr(limits, "MAX_BOOK_BYTES", 1_000)
    path = tmp_path / "big.abc"
    path.write_text("X:1\nK:C\nABC|\n\n" * 100)
    for source in (path, path.read_bytes(), io.BytesIO(path.read_bytes())):
        with pytest.raises(MusicError, match=r"the file has 0.0 MB; Ceol reads ABC files of "
                           r"at most 0.0 MB") as info:
            read_tune_book(source)
    assert "big.abc" in str(info.value) or info.value.path is None
    assert read_tune_book(b"X:1\nK:C\nABC|\n").tunes
