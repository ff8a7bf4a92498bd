"""Fuzzing the tune library file: a damaged, truncated or foreign file given as the library.

Opening and every reading path the window uses give results or LibraryError naming the file;
a file refused at open is left byte for byte as it was.
"""

import pytest
from hypothesis import given, strategies as st

from app.library import LibraryError
from tests.fuzz.raw_library import exercise_library, library_seed, mutate_bytes
from tests.fuzz.raw_midi import fuzz_settings


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return library_seed(tmp_path_factory.mktemp("seed"))


def test_every_truncation_at_page_boundaries_and_between(seed, tmp_path):
    for end in sorted({*range(0, len(seed), 1024), *range(0, len(seed), 997)}):
        path = tmp_path / f"cut{end}" / "library.db"
        path.parent.mkdir()
        path.write_bytes(seed[:end])
        try:
            exercise_library(path)
        except LibraryError as exc:
            assert str(path) in str(exc)


@fuzz_settings(150)
@given(data=st.data())
def test_fuzz_library_file(seed, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("lib") / "library.db"
    damaged = mutate_bytes(seed, lambda lo, hi: data.draw(st.integers(lo, hi)))
    path.write_bytes(damaged)
    try:
        exercise_library(path)
    except LibraryError as exc:
        assert str(path) in str(exc)
        if "damaged" in str(exc):
            assert path.read_bytes() == damaged
