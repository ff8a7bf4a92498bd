"""Shared set-up for the desktop app's tests: a window on temporary paths and settings."""

from __future__ import annotations

from pathlib import Path

from app.settings import AppPaths, Settings

BOOK = """X:1
T:The Kesh
R:jig
M:6/8
L:1/8
K:G
D|GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|AGF G2:|

X:2
T:The Silver Spear
R:reel
M:4/4
L:1/8
K:D
FA|d2fd Adfd|gfed cdeg|fdAd Bdcd|BAGF E2FA|d2fd Adfd|gfed cdeg|fdAd BdcA|d2dc d2:|

X:3
T:Si Bheag Si Mhor
R:waltz
M:3/4
L:1/8
K:D
de|f3 e d2|d2 B2 A2|B2 A2 F2|A4 de|f3 e d2|e2 f2 g2|f2 e2 d2|e4:|
"""


def make_window(qtbot, root: Path, settings_file: str = "settings.ini"):
    """Create a main window whose library, models, log and settings all live under root."""
    from app.ui.launch import create_window

    _, window = create_window([], AppPaths(root / "data", root / "logs"),
                              Settings(root / settings_file))
    qtbot.addWidget(window)
    # A test that fails mid-training must not hang on the quit question when pytest-qt closes
    # the window; tests of that question replace it again.
    window.ask_to_stop_training = lambda: True
    window.show()
    return window


def wait_for_library(qtbot, window, timeout: int = 20000) -> None:
    """Wait until the library's thread has done what the window asked of it (stores, lists)."""
    qtbot.waitUntil(lambda: not window.library_worker.busy(), timeout=timeout)


def close_window(window) -> None:
    window.error_reporter.uninstall()
    window.shutdown()


def write_book(folder: Path, name: str = "book.abc", text: str = BOOK) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


_tiny_model: list[Path] = []


def tiny_model() -> Path:
    """A `tiny` model that has learnt one reel by heart (trained once per test session).

    At a low temperature it writes that reel's bars, so its tunes parse and play: the tests
    check the app's plumbing, not the model's musicianship.
    """
    if not _tiny_model:
        import tempfile
        from dataclasses import replace

        from app.music.normalize import corpus_text
        from app.music.tunebook import parse_tune_book
        from model.config import TINY
        from model.train import train

        path = Path(tempfile.mkdtemp(prefix="ceol-tiny-")) / "tiny-reel.safetensors"
        text = (corpus_text([parse_tune_book(BOOK).tunes[1]]) + "\n") * 60
        config = replace(TINY.train, steps=100, out_path=str(path), eval_interval=100)
        train(config, (text, text[:1000]), model_config=TINY.model)
        _tiny_model.append(path)
    return _tiny_model[0]
