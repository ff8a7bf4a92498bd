"""Start the desktop app: create the QApplication, show the main window, run the event loop.

Only PySide6 is imported before the window is shown; torch and music21 load later, lazily.
"""

from __future__ import annotations

import sys


def run_gui(argv: list[str]) -> int:
    """Open the main window with the files named in argv; return the exit status."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName("Ceol")
    window = QMainWindow()
    window.setWindowTitle("Ceol")
    window.resize(1100, 720)
    window.show()
    return app.exec()
