"""main.py: a mistyped command or a missing display gives one line and exit 2, never a Qt abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.cli import unknown_command
from app.ui.launch import display_problem, qt_fatal_guard

ROOT = Path(__file__).resolve().parents[1]


def _launch(*args: str, env_changes: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_unknown_command_is_one_line_with_the_commands():
    done = _launch("demos", "sentiment", "--text", "hi", env_changes={"DISPLAY": None})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "unknown command 'demos'" in lines[0]
    for name in ("convert", "generate", "train", "info"):
        assert name in lines[0]


def test_words_that_name_files_still_open_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tunes").mkdir()
    assert unknown_command(["tunes"]) is None          # an existing folder
    assert unknown_command(["missing.abc"]) is None    # a file name: the window says it's missing
    assert unknown_command(["sub/dir"]) is None
    assert unknown_command(["info", "x"]) is None      # a real command
    assert unknown_command([]) is None
    assert "unknown command 'trian'" in unknown_command(["trian", "--data", "x"])


def test_no_display_is_one_line_pointing_to_the_headless_commands():
    done = _launch(env_changes={"DISPLAY": None, "WAYLAND_DISPLAY": None,
                                "QT_QPA_PLATFORM": None})
    if sys.platform.startswith("linux"):
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "no display" in lines[0] and "--help" in lines[0]


def test_unreachable_display_is_one_line_not_an_abort():
    if not sys.platform.startswith("linux"):
        return
    done = _launch(env_changes={"DISPLAY": ":87", "QT_QPA_PLATFORM": "xcb",
                                "WAYLAND_DISPLAY": None})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ceol: cannot open the window") and "--help" in lines[0]


def test_display_problem_decides_only_the_plain_cases():
    assert display_problem({}, "linux") is not None
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "xcb"}, "linux") is not None
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None


def test_fatal_line_names_the_missing_library(monkeypatch):
    from app.ui import launch

    held = ["From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform "
            "plugin.", 'Could not load the Qt platform plugin "xcb" in "" even though it was '
            "found."]
    monkeypatch.setattr(launch, "missing_xcb_library", lambda: "libxcb-icccm.so.4")
    line = qt_fatal_guard.fatal_line(held, "This application failed to start")
    assert "libxcb-icccm.so.4" in line and "\n" not in line
    monkeypatch.setattr(launch, "missing_xcb_library", lambda: None)
    line = qt_fatal_guard.fatal_line(held, "This application failed to start")
    assert "Could not load the Qt platform plugin" in line and "\n" not in line
    line = qt_fatal_guard.fatal_line(["qt.qpa.xcb: could not connect to display :5"], "fatal")
    assert "cannot connect to the display" in line


def test_free_memory_of_finished_threads_goes_back_to_the_system():
    # Job threads get their own malloc arenas; what they free stayed resident (the soak saw the
    # window grow in steps after each training and batch). The GUI collector trims after a full
    # collection.
    if not sys.platform.startswith("linux"):
        return
    code = """
import threading
import numpy as np
from app.memory import release_free_memory
def rss():
    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])
def work():
    arrays = [np.ones(1000) for _ in range(40000)]   # 320 MB of small blocks, then freed
    del arrays
threads = [threading.Thread(target=work) for _ in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
before = rss()
release_free_memory()
print(before, rss())
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    before, after = map(int, done.stdout.split())
    assert after < before - 200_000, (before, after)    # kB: most of the 640 MB came back
