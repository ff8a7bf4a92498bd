"""Corpora: files, folders, built-in collections, MIDI through midi_to_abc, the stable split and
every bad source."""

import os
import sys
import types
from pathlib import Path

import pytest

from app.music.corpus import builtin_corpus_files, is_validation_tune, load_corpus
from app.music.errors import MusicError

REPO = Path(__file__).resolve().parents[2]


def _tune(number, notes="CDEF GABc|"):
    return f"X:{number}\nT:Tune {number}\nM:4/4\nL:1/8\nK:C\n{notes}\n"


def _book(path, *numbers):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(_tune(n, "CDEF " * (n % 7 + 1) + f"G{n}|") for n in numbers))
    return path


def test_loads_files_and_folders_recursively_ignoring_other_files(tmp_path):
    _book(tmp_path / "a.abc", 1, 2)
    _book(tmp_path / "deep" / "er" / "b.ABC", 3)
    (tmp_path / "deep" / "notes.txt").write_text(_tune(99))
    (tmp_path / "deep" / "picture.png").write_bytes(b"\x89PNG\x00")
    corpus = load_corpus([tmp_path])
    assert sorted(t.number for t in corpus.tunes) == ["1", "2", "3"]
    assert corpus.problems == [] and corpus.name == tmp_path.name
    single = load_corpus([tmp_path / "a.abc", str(tmp_path / "deep")])
    assert len(single.tunes) == 3 and single.name == "a.abc+deep"


def test_builtin_corpora_come_from_music21_and_are_not_copied():
    import importlib.util

    music21_dir = Path(importlib.util.find_spec("music21").origin).parent
    celtic = builtin_corpus_files("celtic")
    assert {p.parent.name for p in celtic} == {"oneills1850", "ryansMammoth", "airdsAirs"}
    assert all(music21_dir in p.parents for p in celtic)
    # runs/ is the ignored scratch folder (benchmarks/train_bundle_gpu.sh prepare copies the
    # corpus there for a GPU machine); nothing under the rest of the tree
    copies = [p for name in ("oneills1850", "essenFolksong") for p in REPO.glob(f"**/{name}")
              if "runs" not in p.relative_to(REPO).parts[:1]]
    assert not copies
    assert 4200 <= len(load_corpus(["celtic"]).tunes) <= 4300
    assert 8400 <= len(load_corpus(["essen"]).tunes) <= 8600


def test_unknown_builtin_name():
    with pytest.raises(MusicError, match="unknown built-in corpus 'irish'"):
        builtin_corpus_files("irish")


def test_split_is_deterministic_and_stable_when_files_are_added(tmp_path):
    first = _book(tmp_path / "one.abc", *range(1, 200))
    before = load_corpus([first]).split(0.2)
    assert 20 <= len(before[1]) <= 60
    _book(tmp_path / "two.abc", *range(200, 400))
    train, valid = load_corpus([tmp_path / "two.abc", tmp_path]).split(0.2)
    side = {(t.path, t.number): "valid" for t in valid}
    side.update({(t.path, t.number): "train" for t in train})
    assert all(side[(t.path, t.number)] == "train" for t in before[0])
    assert all(side[(t.path, t.number)] == "valid" for t in before[1])


def test_split_fraction_of_celtic_and_equal_tunes_share_a_side():
    corpus = load_corpus(["celtic"])
    train, valid = corpus.split()
    assert len(train) + len(valid) == len(corpus.tunes)
    assert 0.08 <= len(valid) / len(corpus.tunes) <= 0.12
    tune = corpus.tunes[0]
    from dataclasses import replace
    copy = replace(tune, path="other.abc", index=5, line=70,
                   fields=tuple((n, "99" if n == "X" else v) for n, v in tune.fields))
    assert is_validation_tune(copy) == is_validation_tune(tune)
    assert load_corpus(["celtic"]).split()[1] == valid
    with pytest.raises(MusicError, match="fraction"):
        corpus.split(1.5)


def test_broken_tunes_and_bad_files_in_a_folder_are_problems(tmp_path):
    _book(tmp_path / "good.abc", 1)
    (tmp_path / "mixed.abc").write_text(_tune(2) + "\nX:3\nT:No key\nCDEF|\n")
    (tmp_path / "empty.abc").write_bytes(b"")
    (tmp_path / "binary.abc").write_bytes(bytes(range(256)))
    (tmp_path / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00")
    corpus = load_corpus([tmp_path])
    assert sorted(t.number for t in corpus.tunes) == ["1", "2"]
    messages = sorted(str(p) for p in corpus.problems)
    assert len(messages) == 4 and all("\n" not in m for m in messages)
    assert any("binary.abc: binary file" in m for m in messages)
    assert any("empty.abc: empty file" in m for m in messages)
    assert any("mixed.abc: tune 2 (X:3)" in m for m in messages)
    assert any("broken.mid" in m for m in messages)


def test_midi_files_are_transcribed_through_midi_to_abc(tmp_path, monkeypatch):
    calls = []

    def fake_midi_to_abc(source, title=None):
        calls.append((Path(source).name, title))
        if "bad" in Path(source).name:
            raise IndexError("list index out of range")
        return _tune(1)

    module = types.ModuleType("app.music.midi_to_abc")
    module.midi_to_abc = fake_midi_to_abc
    monkeypatch.setitem(sys.modules, "app.music.midi_to_abc", module)
    (tmp_path / "reel.mid").write_bytes(b"MThd")
    (tmp_path / "bad.midi").write_bytes(b"MThd")
    corpus = load_corpus([tmp_path])
    assert [t.path for t in corpus.tunes] == [str(tmp_path / "reel.mid")]
    assert sorted(calls) == [("bad.midi", "bad"), ("reel.mid", "reel")]
    assert "bad.midi: cannot read: IndexError" in str(corpus.problems[0])
    with pytest.raises(MusicError, match="bad.midi: cannot read"):
        load_corpus([tmp_path / "bad.midi"])


@pytest.mark.parametrize("name, data, message", [
    ("empty.abc", b"", "empty file"),
    ("words.abc", b"Dear diary,\nno tunes today.\n", "no tune found"),
    ("binary.abc", b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
    ("tune.txt", _tune(1).encode(), "unknown file type '.txt'"),
    ("tune", _tune(1).encode(), "unknown file type '(no extension)'"),
    ("nokey.abc", b"X:1\nT:t\nCDE|\n", "no tunes found in"),
])
def test_bad_file_named_directly_raises_one_line(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MusicError) as info:
        load_corpus([path])
    assert message in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_source_and_no_sources(tmp_path):
    with pytest.raises(MusicError, match="missing.abc: no such file or folder"):
        load_corpus([tmp_path / "missing.abc"])
    with pytest.raises(MusicError, match="no sources"):
        load_corpus([])


def test_folder_of_many_unrelated_files_says_no_tunes(tmp_path):
    for group in range(2):
        folder = tmp_path / f"group{group}"
        folder.mkdir()
        for i in range(500):
            (folder / f"file{i}.dat").touch()
    os.symlink(tmp_path, tmp_path / "group0" / "loop")  # a symlink loop must not hang the scan
    with pytest.raises(MusicError, match=f"no tunes found in {tmp_path}"):
        load_corpus([tmp_path])
