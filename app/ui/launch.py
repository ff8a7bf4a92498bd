"""Start the desktop app: create the QApplication, show the main window, run the event loop.

Only PySide6 and Ceol's light modules load before the window is shown; torch and music21 load
later, lazily, in the worker threads that need them. Files named on the command line open once
the window is up.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time

from app.memory import release_free_memory

log = logging.getLogger(__name__)
_T0 = time.perf_counter()


class GarbageCollector:
    """Run Python's cyclic garbage collector on the GUI thread only.

    Left automatic, a collection can start in a worker thread (training, sampling) and free
    Qt objects caught in reference cycles there, which Qt does not allow (a crash). So the
    automatic collector is off and a timer on the GUI thread collects each generation when
    its allocation count passes the usual threshold.

    While code is being imported (torch and music21 load on worker threads after the window
    shows) the objects made are modules, classes and functions that live as long as the app:
    collecting them held the GUI thread (a 221 ms collection of the young generations while
    torch loaded; about a second for each full collection of the torch + music21 heap, every
    few seconds while tunes were shown). So whenever modules were loaded since the last look,
    everything alive is frozen (gc.freeze, moved out of all later collections) instead of
    collected; the little garbage made at that moment is kept, once per import.
    """

    def __init__(self, app, interval_ms: int = 500) -> None:
        import gc

        from PySide6.QtCore import QTimer

        self._gc = gc
        self._modules = len(sys.modules)   # loaded at the last look
        gc.disable()
        self.timer = QTimer(app)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        modules = len(sys.modules)
        if modules != self._modules:
            self._modules = modules
            self._gc.freeze()
            return
        counts, thresholds = self._gc.get_count(), self._gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                self._gc.collect(generation)
                if generation == 2:
                    release_free_memory()
                break


HEADLESS_HINT = "the headless commands need no display: python main.py --help"


def display_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """Return a one-line reason why no window can open here, or None if one may.

    Only the plain case is decided here (Linux or BSD with neither DISPLAY nor WAYLAND_DISPLAY,
    and no platform plugin chosen that needs neither); anything Qt finds later is reported by
    `qt_fatal_guard`.
    """
    if platform in ("win32", "darwin"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, eglfs, ... need no display server
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return f"ceol: no display to open the window on (DISPLAY is not set); {HEADLESS_HINT}"


class qt_fatal_guard:
    """While creating the QApplication, turn Qt's fatal start-up errors into one line and exit 2.

    Without it Qt prints several lines about platform plugins and aborts (exit 134). Warnings
    are held back and folded into that one line; if all goes well they are logged.
    """

    def __enter__(self):
        from PySide6.QtCore import qInstallMessageHandler

        self.held: list[str] = []
        qInstallMessageHandler(self._handle)
        return self

    def __exit__(self, *exc) -> None:
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(None)
        for message in self.held:
            log.warning("Qt: %s", message)

    def _handle(self, mode, context, message: str) -> None:
        from PySide6.QtCore import QtMsgType

        if mode != QtMsgType.QtFatalMsg:
            self.held.append(message)
            return
        sys.stderr.write(self.fatal_line(self.held, message) + "\n")
        sys.stderr.flush()
        os._exit(2)

    @staticmethod
    def fatal_line(held: list[str], message: str) -> str:
        """Summarise Qt's start-up messages as one line for the user."""
        text = "\n".join(held + [message])
        missing = missing_xcb_library() if "xcb" in text else None
        if missing:
            reason = (f"Qt's X11 platform plugin needs the system library {missing}, which is "
                      "not installed")
        elif "could not connect to display" in text.lower():
            display = os.environ.get("DISPLAY", "")
            reason = f"cannot connect to the display {display!r}"
        else:
            reason = (held[-1] if held else message).strip().splitlines()[0]
        return f"ceol: cannot open the window: {reason}; {HEADLESS_HINT}"


def missing_xcb_library() -> str | None:
    """Name the shared library that keeps Qt's X11 plugin from loading, or None.

    Qt itself only hints at libxcb-cursor0 whatever is missing; loading the plugin with the
    system's loader names the library that is really absent (libxcb-icccm.so.4, ...).
    """
    import ctypes
    from pathlib import Path

    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists():
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        match = re.search(r"([\w.+-]+\.so[\w.]*): cannot open shared object", str(exc))
        return match.group(1) if match else None
    return None


def create_window(argv: list[str], paths=None, settings=None):
    """Create the QApplication (if needed) and the main window; return (app, window)."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.kernels import remember_kernels
    from app.logging_setup import setup_logging
    from app.settings import THEME, AppPaths, Settings
    from app.ui.theme import apply_theme
    from app.ui.errors import ErrorReporter
    from app.ui.main_window import ICON_PATH, MainWindow

    app = QApplication.instance()
    if app is None:
        with qt_fatal_guard():
            app = QApplication([sys.argv[0]])
    app.setApplicationName("Ceol")
    app.setOrganizationName("Ceol")
    app.setWindowIcon(QIcon(str(ICON_PATH)))
    if not hasattr(app, "_ceol_gc"):
        app._ceol_gc = GarbageCollector(app)
    paths = paths or AppPaths.default()
    settings = settings or Settings()
    log_path = setup_logging(paths.log_dir)
    remember_kernels(paths.kernels_file)   # measured kernel choices outlive the window
    apply_theme(settings.get(THEME))
    window = MainWindow(paths, settings)
    window.error_reporter = ErrorReporter(window, str(log_path))
    window.error_reporter.install()
    if argv:
        window.open_paths(list(argv))
    return app, window


def ask_to_set_aside(message: str, kept_as: str) -> bool:
    """Ask whether to set a damaged library aside and start an empty one."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is None:
        QApplication([sys.argv[0]])
    box = QMessageBox(QMessageBox.Icon.Warning, "Ceol: the tune library is damaged",
                      f"{message}\n\nCeol can set this file aside (renamed to {kept_as}, "
                      "nothing deleted, so it can still be rescued) and start with an empty "
                      "library. Your model files and settings are not affected.")
    start = box.addButton("Set it aside and start", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is start


def create_window_or_rescue(argv: list[str], paths=None, settings=None, ask=ask_to_set_aside):
    """create_window, but a damaged library file is offered to be set aside (renamed, kept)
    for an empty one instead of ending the app; returns (app, None) when the user says no."""
    from app.library import LibraryDamaged, set_aside
    from app.settings import AppPaths

    paths = paths or AppPaths.default()
    try:
        return create_window(argv, paths, settings)
    except LibraryDamaged as exc:
        log.error("%s", exc)
        planned = paths.library.with_name(f"{paths.library.stem}.damaged-<date>"
                                          f"{paths.library.suffix}")
        if not ask(str(exc), planned.name):
            from PySide6.QtWidgets import QApplication

            return QApplication.instance(), None
        kept = set_aside(paths.library)
        log.warning("damaged library set aside as %s", kept)
        return create_window(argv, paths, settings)


def _log_visible() -> None:
    # benchmarks/bench_app.py reads this line from the log to time the start.
    log.info("window visible %.3f s after start (torch loaded: %s)",
             time.perf_counter() - _T0, "torch" in sys.modules)


def run_gui(argv: list[str]) -> int:
    """Open the main window with the files named in argv; return the exit status."""
    from app.library import LibraryError

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        app, window = create_window_or_rescue(argv)
    except LibraryError as exc:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Ceol", str(exc))
        return 2
    if window is None:
        return 2
    window.show()
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, _log_visible)             # once the event loop has painted the window
    QTimer.singleShot(300, window.warm_up)
    return app.exec()
