"""Fuzzing ABC input: tune books, normalisation, tokenizer, checker, repair, ABC -> MIDI,
MusicXML and WAV, on real tunes and mutations of them (see abc_mutations.py).

The only outcomes allowed are a result or MusicError, and the results keep their promises:
the repair's `ok` means the checker finds no error in its text, a book's problems name the tune
and line. The suite runs a few seconds per target, derandomised; CEOL_FUZZ_EXAMPLES=100000 runs
the long mode, and benchmarks/fuzz_long.py runs it per target and counts crashes.
"""

from __future__ import annotations

from hypothesis import given

from app.music import abc_tokens as T
from app.music.abc_midi import abc_to_midi, abc_to_musicxml
from app.music.audio import RenderOptions, render_abc
from app.music.checker import ERROR, check_tune
from app.music.errors import MusicError
from app.music.normalize import corpus_text, split_generated_text, training_text
from app.music.repair import repair_tune
from app.music.tunebook import parse_tune_book, read_tune_book
from tests.fuzz.abc_mutations import (SEEDS, SHORT_SEEDS, abc_bytes, abc_text, fuzz_settings,
                                      guard)

FAST = RenderOptions(sample_rate=8000)


def test_seeds_include_the_celtic_corpus():
    assert len(SEEDS) > 100


def _tokenizer(text: str) -> None:
    tune = T.tokenize_tune(text)
    lines = len(tune.lines)
    for tok in tune.header + tune.body:
        assert 1 <= tok.line <= lines and tok.column >= 1, tok
        if tok.kind == T.ERROR:
            assert isinstance(tok.value, tuple) and len(tok.value) == 2, tok


@fuzz_settings(300)
@given(abc_text())
def test_tokenizer_never_raises(text):
    guard("tokenizer", _tokenizer, text)


def _tunebook_text(text: str) -> None:
    try:
        book = parse_tune_book(text, "fuzz.abc")
    except MusicError as exc:
        assert exc.path == "fuzz.abc"
        return
    for problem in book.problems:
        assert isinstance(problem, MusicError) and problem.path == "fuzz.abc"
        assert problem.tune is not None and problem.line is not None
    for tune in book.tunes:
        assert tune.abc().startswith("X:") and tune.label


def _tunebook_bytes(data: bytes) -> None:
    try:
        book = read_tune_book(data)
    except MusicError:
        return
    for tune in book.tunes:
        tune.abc()


@fuzz_settings(200)
@given(abc_text())
def test_tunebook_splits_text_or_raises_music_error(text):
    guard("tunebook", _tunebook_text, text)


@fuzz_settings(200)
@given(abc_bytes())
def test_tunebook_reads_bytes_or_raises_music_error(data):
    guard("tunebook", _tunebook_bytes, data)


def _normalize(text: str) -> None:
    try:
        tunes = parse_tune_book(text).tunes
    except MusicError:
        return
    texts = [training_text(tune, keep_title=True) for tune in tunes]
    for piece in texts:
        assert piece.startswith("X:1\n") and piece.endswith("\n") and "\n\n" not in piece
    assert len(split_generated_text(corpus_text(tunes))) == len(tunes)


@fuzz_settings(200)
@given(abc_text())
def test_normalize_writes_one_piece_per_tune(text):
    guard("normalize", _normalize, text)


def _checker(text: str) -> None:
    lines = max(1, len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")))
    for problem in check_tune(text):
        assert problem.code and problem.message and 1 <= problem.line <= lines, problem


@fuzz_settings(200)
@given(abc_text())
def test_checker_returns_problems(text):
    guard("checker", _checker, text)


def _repair(text: str) -> None:
    result = repair_tune(text)
    if [p.code for p in result.problems_left] == ["too-long"]:
        assert not result.ok and result.text.strip("\n") == text.replace(
            "\r\n", "\n").replace("\r", "\n").strip("\n")
        return
    errors = [p for p in check_tune(result.text) if p.severity == ERROR]
    assert result.ok == (not errors), (result.ok, errors)
    if result.ok:
        assert repair_tune(result.text).ok


@fuzz_settings(80)
@given(abc_text())
def test_repair_returns_text_the_checker_accepts_or_says_not_ok(text):
    guard("repair", _repair, text)


def _midi(text: str) -> None:
    try:
        data = abc_to_midi(text, label="fuzz")
    except MusicError:
        return
    assert data.startswith(b"MThd")


def _musicxml(text: str) -> None:
    try:
        data = abc_to_musicxml(text, label="fuzz")
    except MusicError:
        return
    assert b"score-partwise" in data


def _wav(text: str) -> None:
    try:
        pcm = render_abc(text, FAST, label="fuzz")
    except MusicError:
        return
    assert pcm.sample_rate == 8000


@fuzz_settings(12)
@given(abc_text(SHORT_SEEDS, max_mutations=3))
def test_abc_to_midi_gives_midi_or_music_error(text):
    guard("midi", _midi, text)


@fuzz_settings(8)
@given(abc_text(SHORT_SEEDS, max_mutations=3))
def test_abc_to_musicxml_gives_xml_or_music_error(text):
    guard("musicxml", _musicxml, text)


@fuzz_settings(6)
@given(abc_text(SHORT_SEEDS, max_mutations=3))
def test_abc_to_wav_gives_sound_or_music_error(text):
    guard("wav", _wav, text)
