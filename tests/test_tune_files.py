"""app.tune_files: the window's file reading, on the same code and limits as corpora."""

import threading

import pytest

from app.music import limits
from app.music.corpus import load_corpus
from app.music.errors import MusicError
from app.tune_files import LoadedFile, files_to_open, load_paths, read_tune_file

TUNE = "X:{n}\nT:Tune {n}\nM:4/4\nL:1/8\nK:D\n|:ABcd efga|bagf edcB:|\n"


def _book(path, *numbers):
    path.write_text("\n".join(TUNE.format(n=n) for n in numbers))
    return path


def test_an_abc_or_txt_file_gives_its_tunes_and_problems(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text(TUNE.format(n=1) + "\nX:2\nT:No key\nCDEF|\n\n" + TUNE.format(n=3))
    loaded = read_tune_file(path)
    assert loaded.path == str(path)
    assert [abc.split("\n")[1] for abc in loaded.abcs] == ["T:Tune 1", "T:Tune 3"]
    assert len(loaded.problems) == 1 and "tune 2 (X:2" in loaded.problems[0]


@pytest.mark.parametrize("name, data, message", [
    ("manual.pdf", b"%PDF-1.4\n", "not an ABC or MIDI file"),
    ("missing.abc", None, "no such file"),
    ("nokey.abc", b"X:1\nT:t\nCDE|\n", "no tunes found (an ABC tune starts with an X: line)"),
    ("binary.abc", b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
    ("broken.mid", b"MThd\x00\x00\x00\x06\x00\x01\x00", "MIDI"),
])
def test_a_bad_file_is_one_line_naming_it(tmp_path, name, data, message):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(MusicError) as info:
        read_tune_file(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name, limit, message", [
    ("big.abc", "MAX_BOOK_BYTES", "Ceol reads ABC files of at most"),
    ("big.mid", "MAX_MIDI_BYTES", "Ceol reads MIDI files of at most"),
])
def test_window_and_corpus_refuse_a_file_over_the_same_limit(tmp_path, monkeypatch, name,
                                                             limit, message):
    path = tmp_path / name
    path.write_bytes(b"MThd" + b"\0" * 2000 if name.endswith(".mid") else
                     TUNE.format(n=1).encode() * 40)
    monkeypatch.setattr(limits, limit, 1000)
    with pytest.raises(MusicError) as window:
        read_tune_file(path)
    with pytest.raises(MusicError) as corpus:
        load_corpus([path])
    assert str(window.value) == str(corpus.value)
    assert message in str(window.value) and str(path) in str(window.value)


def test_folders_are_searched_for_the_files_the_window_opens(tmp_path):
    _book(tmp_path / "b.abc", 1)
    (tmp_path / "deep").mkdir()
    _book(tmp_path / "deep" / "a.txt", 2, 3)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "tune.MID").write_bytes(b"MThd")
    single = tmp_path / "single.pdf"
    assert files_to_open([tmp_path, single]) == [tmp_path / "b.abc", tmp_path / "deep" / "a.txt",
                                                 tmp_path / "tune.MID", single]


def test_load_paths_hands_over_one_result_per_file(tmp_path):
    _book(tmp_path / "a.abc", 1, 2)
    _book(tmp_path / "b.abc", 3)
    (tmp_path / "c.abc").write_bytes(b"")
    results, progress = [], []
    assert load_paths([tmp_path], results.append, progress.append) == 3
    assert [p[:2] for p in progress] == [(0, 3), (1, 3), (2, 3)]
    assert [len(r.abcs) for r in results[:2]] == [2, 1]
    assert isinstance(results[0], LoadedFile) and isinstance(results[2], MusicError)
    assert "c.abc: empty file" in str(results[2])


def test_load_paths_stops_between_files(tmp_path):
    _book(tmp_path / "a.abc", 1)
    _book(tmp_path / "b.abc", 2)
    stop = threading.Event()
    results = []

    def on_file(loaded):
        results.append(loaded)
        stop.set()

    assert load_paths([tmp_path], on_file, stop=stop) == 2
    assert len(results) == 1
