"""convert(): dispatch by extension, picking tunes, --all naming, broken tunes, extension."""

import pytest

from app.music import convert as convert_module
from app.music.convert import convert, output_name, register_converter
from app.music.errors import MusicError
from app.music.midi_file import read_midi
from app.music.tunebook import parse_tune_book

BOOK = """% a small book
M:6/8
L:1/8

X:5
T:First Jig
K:G
GAB dBG|c2A BGE|

X:7
T:Second/Tune
K:D
FAd fdA|B2G A3|

X:9
T:Broken
K:C
ABc [CEG d|
"""


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "book.abc"
    path.write_text(BOOK)
    return path


def test_abc_to_midi_musicxml_and_back(tmp_path, book):
    mid = tmp_path / "jig.mid"
    convert(book, mid, tune=5, program="fiddle", tempo_qpm=90, transpose=-2)
    tune = read_midi(mid)
    assert tune.title == "First Jig" and tune.program == 40
    assert tune.tempo_qpm == pytest.approx(90)
    assert tune.melody()[0].pitch == 67 - 2
    xml = tmp_path / "jig.musicxml"
    convert(book, xml, tune=1)
    assert b"First Jig" in xml.read_bytes()
    back = tmp_path / "back.abc"
    convert(mid, back)
    text = back.read_text()
    assert text.startswith("X:1\nT:First Jig\nM:6/8\nL:1/8\nQ:1/4=90\nK:F\n")
    assert "FGA cAF" in text


def test_tune_is_picked_by_x_number_else_position(book):
    assert parse_tune_book(BOOK).tunes[1].number == "7"
    from app.music.convert import pick_tune
    from app.music.tunebook import read_tune_book

    tunes = read_tune_book(book)
    assert pick_tune(tunes, 7).title == "Second/Tune"
    assert pick_tune(tunes, 2).title == "Second/Tune"
    with pytest.raises(MusicError, match="no tune 12"):
        pick_tune(tunes, 12)


def test_all_writes_the_good_tunes_and_reports_the_broken_one(tmp_path, book):
    result = convert(book, tmp_path / "out" / "{n}-{title}.mid", all_tunes=True)
    assert sorted(p.name for p in result.written) == ["5-First-Jig.mid", "7-Second-Tune.mid"]
    assert all(p.exists() for p in result.written)
    assert len(result.problems) == 1
    assert "book.abc tune 3 (X:9 Broken): line 18" in str(result.problems[0])


def test_all_without_placeholders_numbers_the_files(tmp_path, book):
    result = convert(book, tmp_path / "set.musicxml", all_tunes=True)
    assert [p.name for p in result.written] == ["set-1.musicxml", "set-2.musicxml"]


def test_output_names_never_collide(tmp_path):
    tunes = parse_tune_book("X:1\nT:Same\nK:C\nA|\n\nX:1\nT:Same\nK:C\nB|\n").tunes
    used = set()
    names = [output_name(tmp_path / "{n}.mid", tune, used).name for tune in tunes]
    assert names == ["1.mid", "1-2.mid"]


def test_a_book_of_several_tunes_needs_tune_or_all(tmp_path, book):
    with pytest.raises(MusicError, match="holds 3 tunes: choose one with --tune N"):
        convert(book, tmp_path / "x.mid")


def test_a_broken_tune_chosen_alone_is_an_error(tmp_path, book):
    with pytest.raises(MusicError, match="line 18: music21 cannot read"):
        convert(book, tmp_path / "x.mid", tune=9)
    assert not (tmp_path / "x.mid").exists()


def test_failed_conversion_leaves_an_existing_file_alone(tmp_path, book):
    target = tmp_path / "x.mid"
    target.write_bytes(b"old")
    with pytest.raises(MusicError):
        convert(book, target, tune=9)
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize("name, message", [
    ("tune.txt", "unknown input type '.txt'"),
    ("tune.abc", "cannot convert abc to '.wavx'"),
])
def test_unknown_extensions(tmp_path, name, message):
    source = tmp_path / name
    source.write_text("X:1\nK:C\nABC|\n")
    with pytest.raises(MusicError, match=message):
        convert(source, tmp_path / "out.wavx")


def test_new_formats_plug_into_the_table(tmp_path, book, monkeypatch):
    monkeypatch.setattr(convert_module, "CONVERTERS", dict(convert_module.CONVERTERS))
    seen = []

    def to_text(tune, out, options):
        seen.append(options.transpose)
        out.write_text(tune.title)

    register_converter("abc", ".TXT", to_text)
    convert(book, tmp_path / "title.txt", tune=7, transpose=3)
    assert (tmp_path / "title.txt").read_text() == "Second/Tune" and seen == [3]


def test_instrument_must_be_known(tmp_path, book):
    with pytest.raises(MusicError, match="unknown instrument 'kazooo'"):
        convert(book, tmp_path / "x.mid", tune=5, program="kazooo")
    convert(book, tmp_path / "x.mid", tune=5, program="73")
    assert read_midi(tmp_path / "x.mid").program == 73


def test_a_conversion_past_its_time_limit_is_stopped_and_names_the_tune(tmp_path, monkeypatch):
    monkeypatch.setattr(convert_module, "MAX_CONVERT_SECONDS", 0.001)
    source = tmp_path / "slow.abc"
    # 300 bars: music21 needs a good part of a second, so the answer cannot be ready before
    # the parent looks, even when the parent is descheduled on a busy machine (a one-bar tune
    # once converted in the time the parent lost, and the test saw no time-out)
    source.write_text("X:4\nT:Slow\nM:4/4\nL:1/8\nK:G\n" + "GABc dedB|" * 300 + "\n")
    with pytest.raises(MusicError, match=r"^slow.abc tune 1 \(X:4 Slow\): line 1: the music21 "
                       r"converter took longer than 0.001 s and was stopped$"):
        convert(source, tmp_path / "slow.mid")
    assert not (tmp_path / "slow.mid").exists()
