"""The table model of the Library panel: the rows of one query, as the library's thread read
them (app/library_tasks.View), and more of them read there as the view scrolls.

Qt asks `canFetchMore`/`fetchMore` when the view nears the last row; `fetchMore` only queues
the read, and the rows are inserted when they come back. An answer for a list that was replaced
meanwhile (a newer search) is dropped.
"""

from __future__ import annotations

import os
from functools import partial

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from app.library import Query
from app.library_tasks import BATCH, View, read_page
from app.ui.library_worker import LibraryWorker

HEADERS = ("★", "Title", "Key", "Meter", "Rhythm", "Source")

__all__ = ["BATCH", "HEADERS", "LibraryModel"]


class LibraryModel(QAbstractTableModel):
    """Rows of the library matching a query; more are read BATCH at a time as the view
    scrolls."""

    def __init__(self, worker: LibraryWorker, parent=None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.query = Query()
        self._rows: list[tuple] = []
        self._total = 0
        self._list = 0          # which list is shown: a page read for an older one is dropped
        self.paging = False     # more rows asked for and not back yet

    def show(self, view: View) -> None:
        """Show a list the library's thread has read."""
        self.beginResetModel()
        self.query, self._total, self._rows = view.query, view.total, list(view.rows)
        self._list += 1
        self.paging = False
        self.endResetModel()

    @property
    def total(self) -> int:
        return self._total

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and not self.paging and len(self._rows) < self._total

    def fetchMore(self, parent=QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        self.paging = True
        self.worker.read(read_page, self.query, len(self._rows),
                         then=partial(self._page_read, self._list, len(self._rows)),
                         otherwise=partial(self._page_failed, self._list))

    def _page_read(self, shown: int, offset: int, rows: list[tuple]) -> None:
        if shown != self._list or offset != len(self._rows):
            return
        self.paging = False
        if not rows:            # fewer than counted (deleted meanwhile): the list ends here
            self._total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def _page_failed(self, shown: int, message: str) -> None:
        if shown == self._list:
            self.paging = False
            self._total = len(self._rows)      # no endless retries on a failing library

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        tune_id, title, key, meter, rhythm, kind, source, favourite, rating = self._rows[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return tune_id
        if role == Qt.ItemDataRole.DisplayRole:
            shown = os.path.basename(source) if kind == "file" else source
            return ("★" if favourite else "", title or "(untitled)", key, meter, rhythm,
                    f"{kind}: {shown}")[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            stars = "★" * rating if rating else "not rated"
            return f"{title}\n{kind}: {source}\nRating: {stars}"
        return None

    def row_of(self, tune_id: int) -> int:
        """Return the row showing a tune among the rows read so far, or -1."""
        for row, values in enumerate(self._rows):
            if values[0] == tune_id:
                return row
        return -1

    def values_of(self, row: int) -> tuple:
        """The listed values of a row (id, title, key, meter, rhythm, kind, source, favourite,
        rating)."""
        return self._rows[row]
