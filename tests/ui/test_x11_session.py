"""A person at a real X window: `python main.py BOOKS` under Xvfb, driven by xdotool key presses.

Offscreen tests drive widgets from inside the process; this one runs the app as a user does (its
own process, Qt's X11 platform plugin, keyboard events from the X server) on a folder of tune
books written the way tunes are written on the web (second parts closed by a bare `:|`, endings
followed by chord symbols: both used to kill the process in verovio). It clicks through tunes with
the arrow keys, plays one, generates, takes a screenshot and quits with Ctrl+Q; the process must
still be alive at each step and exit with 0. Needs Xvfb, xdotool and xwd (`.ci/run` installs
them); without them it is skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "xdotool", "xwd")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS) or
                                 not sys.platform.startswith("linux"),
                                 reason="needs Xvfb, xdotool and xwd (apt-get install xvfb "
                                        "xdotool x11-apps)")]

WEB_BOOK = """X:1
T:Web Style Jig
R:jig
M:6/8
L:1/8
K:G
|:GAB d2B|c2A B2G|GAB d2B|1 AGF G3:|2 AGF G2A||
"G"B2d "C"e2g|"D"f2d "G"g3|B2d e2g|1 "D"dBA G3:|[2"G"G3 G3|]

X:2
T:Bare Repeat Reel
R:reel
M:4/4
L:1/8
K:D
|:DFAF dFAF|GBdB AFDF|DFAF dFAF|1 GBAG FDD2:|2 GBAG FDDE||
"D"FAdf "A"ecAc|"G"BdBG "D"FAdF|FAdf ecAc|BGAF D4:|

X:3
T:Plain Polka
R:polka
M:2/4
L:1/8
K:A
AB cA|BA FE|AB cA|B2 A2:|
"""


class X11:
    """An Xvfb server on a free display, stopped on close."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                                        "1400x900x24", "-nolisten", "tcp"], pass_fds=(write,),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            self.display = ":" + pipe.readline().strip()

    def run(self, *args: str, timeout: float = 30) -> str:
        done = subprocess.run(args, env={**os.environ, "DISPLAY": self.display},
                              capture_output=True, text=True, timeout=timeout)
        return done.stdout.strip()

    def close(self) -> None:
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(10)


@pytest.fixture
def x11():
    server = X11()
    yield server
    server.close()


def _wait(condition, timeout: float, what: str, app: subprocess.Popen, log: Path):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if app.poll() is not None:
            raise AssertionError(f"the app died ({app.returncode}) while waiting for {what}: "
                                 + log.read_text(errors="replace")[-3000:])
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}: "
                         + log.read_text(errors="replace")[-3000:])


def _generated(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        return con.execute("SELECT COUNT(*) FROM tunes WHERE source_kind = 'generated'"
                           ).fetchone()[0]


class Window:
    """The app's top-level X window, read and typed into with xdotool."""

    def __init__(self, x11: X11, window_id: str) -> None:
        self.x11 = x11
        self.id = window_id

    def title(self) -> str:
        return self.x11.run("xdotool", "getwindowname", self.id)

    def key(self, *keys: str) -> None:
        self.x11.run("xdotool", "windowfocus", "--sync", self.id)
        self.x11.run("xdotool", "key", "--delay", "60", *keys)


def _write_books(tmp_path: Path) -> Path:
    books = tmp_path / "books"
    books.mkdir()
    (books / "web.abc").write_text(WEB_BOOK, encoding="utf-8")
    return books


def _app_env(display: str, home: Path) -> dict:
    """The environment of an app on `display` whose settings, caches and library live in `home`."""
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache"),
           "CEOL_DATA_DIR": str(home / "data")}
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _arrow_down_the_tunes(window: Window) -> set[str]:
    """Go into the library table (search field, then Tab along the filters) and press Down four
    times; return the window titles seen."""
    window.key("ctrl+f")
    window.key(*["Tab"] * 5)
    seen = set()
    for _ in range(4):
        window.key("Down")
        time.sleep(1.5)
        seen.add(window.title())
    return seen


def _play_then_generate(window: Window, app: subprocess.Popen, log_path: Path, db: Path,
                        tmp_path: Path) -> None:
    """Back up one tune, play it for a while with score following, then generate with the
    bundled model until the library holds a generated tune (a screenshot of the screen either
    way)."""
    window.key("Up")
    time.sleep(1.5)
    window.key("space")
    time.sleep(4)
    window.key("space")
    window.key("ctrl+g")
    try:
        _wait(lambda: _generated(db) >= 1, 300, "generated tunes", app, log_path)
    finally:
        window.x11.run("xwd", "-root", "-silent", "-out", str(tmp_path / "generate.xwd"))


def _screenshot_colours(window: Window, shot: Path) -> int:
    """Take a screenshot of the window; return how many byte values its last 200 kB hold."""
    window.x11.run("xwd", "-id", window.id, "-silent", "-out", str(shot))
    return len(set(shot.read_bytes()[-200_000:]))


def test_keyboard_session_in_a_real_x_window(x11, tmp_path):
    books = _write_books(tmp_path)
    home = tmp_path / "home"
    log_path = tmp_path / "app.log"
    log = log_path.open("w")
    app = subprocess.Popen([sys.executable, "main.py", str(books)], cwd=ROOT,
                           env=_app_env(x11.display, home), stdout=log, stderr=subprocess.STDOUT)
    try:
        window = Window(x11, _wait(lambda: x11.run("xdotool", "search", "--name", "^Ceol"), 90,
                                   "the window", app, log_path).split()[0])
        # Key only once the opened folder's first tune is shown (its tunes are listed by then):
        # in one full-suite run under load the Down keys left the selection on the first tune.
        _wait(lambda: " — " in window.title(), 60, "the first tune shown", app, log_path)
        seen = _arrow_down_the_tunes(window)
        assert {"Ceol — Bare Repeat Reel", "Ceol — Plain Polka"} <= seen, seen
        _play_then_generate(window, app, log_path, home / "data" / "library.db", tmp_path)
        assert _screenshot_colours(window, tmp_path / "window.xwd") > 8, \
            "the window's screenshot is blank"
        time.sleep(2)
        window.key("ctrl+q")
        assert app.wait(60) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        log.close()
    output = log_path.read_text(errors="replace")
    for word in ("Fatal Python error", "Traceback", "Segmentation fault", "Aborted"):
        assert word not in output, output[-3000:]
