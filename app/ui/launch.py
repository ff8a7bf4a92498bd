"""Start the desktop app: create the QApplication, show the main window, run the event loop.

Only PySide6 and Ceol's light modules load before the window is shown; torch and music21 load
later, lazily, in the worker threads that need them. Files named on the command line open once
the window is up.
"""

from __future__ import annotations

import logging
import os
import sys
import time

log = logging.getLogger(__name__)
_T0 = time.perf_counter()


def apply_theme(theme: str) -> None:
    """Follow the system's light/dark scheme, or force one ("light", "dark")."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    hints = QGuiApplication.styleHints()
    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(
        theme, Qt.ColorScheme.Unknown)
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(scheme)


class GarbageCollector:
    """Run Python's cyclic garbage collector on the GUI thread only.

    Left automatic, a collection can start in a worker thread (training, sampling) and free
    Qt objects caught in reference cycles there, which Qt does not allow (a crash). So the
    automatic collector is off and a timer on the GUI thread collects each generation when
    its allocation count passes the usual threshold.
    """

    def __init__(self, app, interval_ms: int = 500) -> None:
        import gc

        from PySide6.QtCore import QTimer

        self._gc = gc
        gc.disable()
        self.timer = QTimer(app)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        counts, thresholds = self._gc.get_count(), self._gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                self._gc.collect(generation)
                break


def create_window(argv: list[str], paths=None, settings=None):
    """Create the QApplication (if needed) and the main window; return (app, window)."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.logging_setup import setup_logging
    from app.settings import THEME, AppPaths, Settings
    from app.ui.errors import ErrorReporter
    from app.ui.main_window import ICON_PATH, MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Ceol")
    app.setOrganizationName("Ceol")
    app.setWindowIcon(QIcon(str(ICON_PATH)))
    if not hasattr(app, "_ceol_gc"):
        app._ceol_gc = GarbageCollector(app)
    paths = paths or AppPaths.default()
    settings = settings or Settings()
    log_path = setup_logging(paths.log_dir)
    apply_theme(settings.get(THEME))
    window = MainWindow(paths, settings)
    window.error_reporter = ErrorReporter(window, str(log_path))
    window.error_reporter.install()
    if argv:
        window.open_paths(list(argv))
    return app, window


def run_gui(argv: list[str]) -> int:
    """Open the main window with the files named in argv; return the exit status."""
    from app.library import LibraryError

    try:
        app, window = create_window(argv)
    except LibraryError as exc:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Ceol", str(exc))
        return 2
    window.show()
    log.info("window shown %.3f s after start", time.perf_counter() - _T0)
    if os.environ.get("CEOL_QUIT_AFTER_SHOW"):   # for benchmarks/bench_app.py
        from PySide6.QtCore import QTimer

        app.processEvents()
        print(f"ceol: window visible, torch loaded: {'torch' in sys.modules}", file=sys.stderr,
              flush=True)
        QTimer.singleShot(0, window.close)
    elif not os.environ.get("CEOL_NO_WARMUP"):
        from PySide6.QtCore import QTimer

        QTimer.singleShot(300, window.warm_up)   # once the window has painted
    return app.exec()
