"""Unexpected exceptions in the GUI: log them with their traceback, show one dialog, carry on.

Qt calls Python slots from its event loop; an exception escaping a slot reaches
`sys.excepthook`. Ceol's hook writes it to the log and shows a single dialog (further errors
while that dialog is open are only logged), and the app keeps running.
"""

from __future__ import annotations

import logging
import sys
import traceback

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


class ErrorReporter(QObject):
    """Installs itself as sys.excepthook; `shown` fires with the message of each dialog."""

    shown = Signal(str)

    def __init__(self, parent: QWidget | None = None, log_path: str = "") -> None:
        super().__init__(parent)
        self._parent = parent
        self._log_path = log_path
        self._dialog: QMessageBox | None = None
        self._previous = sys.excepthook
        self.count = 0

    def install(self) -> None:
        sys.excepthook = self.handle

    def uninstall(self) -> None:
        if sys.excepthook == self.handle:
            sys.excepthook = self._previous

    def handle(self, kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous(kind, value, tb)
            return
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        self.count += 1
        if self._dialog is not None:
            return
        message = f"{kind.__name__}: {value}"
        self._dialog = QMessageBox(QMessageBox.Icon.Critical, "Ceol: unexpected error",
                                   "Something went wrong, but your tunes are safe and Ceol "
                                   "keeps running.", QMessageBox.StandardButton.Ok, self._parent)
        self._dialog.setInformativeText(message)
        if self._log_path:
            self._dialog.setDetailedText(f"The details are in the log file:\n{self._log_path}\n\n"
                                         + "".join(traceback.format_exception(kind, value, tb)))
        self._dialog.finished.connect(self._dialog_closed)
        self._dialog.open()
        # Emitted after the current slot unwinds, so listeners see the dialog already open.
        QTimer.singleShot(0, lambda: self.shown.emit(message))

    @property
    def dialog(self) -> QMessageBox | None:
        return self._dialog

    @Slot()
    def _dialog_closed(self) -> None:
        self._dialog.deleteLater()
        self._dialog = None
