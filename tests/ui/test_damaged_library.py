"""A damaged library file does not end the app: it is set aside (renamed, kept) on request."""

import pytest

from app.library import Library, LibraryDamaged
from app.settings import AppPaths, Settings
from app.ui.launch import create_window_or_rescue


def _damaged(tmp_path) -> AppPaths:
    paths = AppPaths(tmp_path / "data", tmp_path / "logs")
    paths.library.parent.mkdir(parents=True)
    paths.library.write_bytes(b"SQLite format 3\0" + b"\x07" * 5000)   # a wrecked database
    return paths


def test_refused_when_the_user_says_quit(qtbot, tmp_path):
    paths = _damaged(tmp_path)
    before = paths.library.read_bytes()
    asked = []
    _, window = create_window_or_rescue([], paths, Settings(tmp_path / "s.ini"),
                                        ask=lambda message, kept: asked.append(message) or False)
    assert window is None
    assert "damaged" in asked[0] or "not a database" in asked[0]
    assert paths.library.read_bytes() == before          # left exactly as it was


def test_set_aside_and_a_fresh_library(qtbot, tmp_path):
    paths = _damaged(tmp_path)
    before = paths.library.read_bytes()
    _, window = create_window_or_rescue([], paths, Settings(tmp_path / "s.ini"),
                                        ask=lambda message, kept: True)
    try:
        assert window is not None and window.library.count() == 0
        kept = [p for p in paths.library.parent.iterdir() if ".damaged-" in p.name]
        assert len(kept) == 1 and kept[0].read_bytes() == before   # nothing deleted
    finally:
        window.error_reporter.uninstall()
        window.shutdown()
    with pytest.raises(LibraryDamaged):
        Library(kept[0])
