"""The About box: what Ceol is and the versions of its main libraries.

Versions of torch and music21 come from importlib.metadata, so opening the box imports neither.
"""

from __future__ import annotations

from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from app import __version__


def library_versions() -> dict[str, str]:
    """Return the versions of Ceol, Qt, PySide6, torch, music21 and verovio."""
    versions = {"Ceol": __version__, "Qt": qVersion(), "PySide6": pyside_version}
    for name in ("torch", "music21", "verovio", "mido"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def about_text() -> str:
    rows = "".join(f"<tr><td>{k}</td><td>&nbsp;{v}</td></tr>" for k, v in library_versions().items())
    return ("<h3>Ceol</h3><p>Load, hear, generate and train on folk tunes in ABC and MIDI "
            "with a recurrent neural network.</p>"
            f"<table>{rows}</table><p>MIT licence.</p>")


def show_about(parent: QWidget) -> QMessageBox:
    """Open the About box (non-blocking) and return it."""
    box = QMessageBox(parent)
    box.setWindowTitle("About Ceol")
    box.setText(about_text())
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.finished.connect(box.deleteLater)
    box.open()
    return box
