"""The Library dock: every tune the user has (built-in corpora, opened files, generated tunes).

A table model over `app.library` fetches rows lazily in batches (Qt's canFetchMore/fetchMore),
so 50,000 tunes list and scroll without delay. Search text and filters build a `Query`;
edits (favourite, rating, rename, notes, delete with undo) go straight to the database.
"""

from __future__ import annotations

import os

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, Qt, QTimer,
                            Signal, Slot)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QMenu, QTableView, QVBoxLayout,
                               QWidget)

from app.library import Library, Query

BATCH = 256
BUILTIN_CORPORA = (("celtic", "Celtic (built-in)"), ("essen", "Essen (built-in)"),
                   ("miscfolk", "Misc. folk (built-in)"))
HEADERS = ("★", "Title", "Key", "Meter", "Rhythm", "Source")


def _key(kind: str, source: str) -> str:
    return f"{kind}\t{source}"


def _split(key: str | None) -> tuple[str, str]:
    kind, _, source = (key or "\t").partition("\t")
    return kind, source


class LibraryModel(QAbstractTableModel):
    """Rows of the library matching a query, fetched BATCH at a time as the view scrolls."""

    def __init__(self, library: Library, parent=None) -> None:
        super().__init__(parent)
        self.library = library
        self.query = Query()
        self._rows: list[tuple] = []
        self._total = 0

    def set_query(self, query: Query) -> None:
        self.beginResetModel()
        self.query = query
        self._total = self.library.count(query)
        self._rows = self.library.search(query, limit=BATCH)
        self.endResetModel()

    def refresh(self) -> None:
        loaded = max(len(self._rows), BATCH)
        self.beginResetModel()
        self._total = self.library.count(self.query)
        self._rows = self.library.search(self.query, limit=loaded)
        self.endResetModel()

    @property
    def total(self) -> int:
        return self._total

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent=QModelIndex()) -> None:
        more = self.library.search(self.query, limit=BATCH, offset=len(self._rows))
        if not more:
            self._total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()

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
        """Return the row showing a tune (fetching more as needed), or -1."""
        while True:
            for row, values in enumerate(self._rows):
                if values[0] == tune_id:
                    return row
            if not self.canFetchMore():
                return -1
            self.fetchMore()


class LibraryPanel(QWidget):
    """Search box, filters and the tune table; emits `tune_selected(id)` on selection."""

    tune_selected = Signal(int)
    corpus_requested = Signal(str)
    status = Signal(str)

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.model = LibraryModel(library, self)
        self._undo: list[list[int]] = []
        self._build()
        self.refresh_filters()
        self.apply_filters()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search titles (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Type part of a title; the list filters as you type")
        layout.addWidget(self.search)
        self.source = QComboBox()
        self.source.setToolTip("Show one built-in corpus, opened file or model's tunes")
        layout.addWidget(self.source)
        row = QHBoxLayout()
        self.key = self._filter_combo("Key", "Only tunes in this key")
        self.meter = self._filter_combo("Meter", "Only tunes in this meter")
        self.rhythm = self._filter_combo("Rhythm", "Only this rhythm (reel, jig, …)")
        for combo in (self.key, self.meter, self.rhythm):
            row.addWidget(combo)
        self.favourites = QCheckBox("★")
        self.favourites.setToolTip("Only favourite tunes")
        row.addWidget(self.favourites)
        layout.addLayout(row)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().resizeSection(0, 24)
        self.table.setToolTip("Your tunes: click to view and play; right-click for more")
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        layout.addWidget(self.table)
        self.count_label = QLabel()
        self.count_label.setToolTip("How many tunes match the search and filters")
        layout.addWidget(self.count_label)

        self._debounce = QTimer(self, singleShot=True, interval=150)
        self._debounce.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(self._debounce.start)
        for combo in (self.key, self.meter, self.rhythm):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.source.activated.connect(self._source_chosen)
        self.favourites.toggled.connect(self.apply_filters)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self._add_actions()

    def _filter_combo(self, name: str, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(tip)
        combo.setProperty("filter_name", name)
        # Sized for short values: a generated tune's long R: or M: text must not widen the
        # Library dock until the sheet music is a sliver (the popup still shows it whole).
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(7)
        return combo

    def _add_actions(self) -> None:
        def action(text, shortcut, slot, tip):
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.setToolTip(tip)
            act.triggered.connect(slot)
            self.table.addAction(act)
            return act

        self.favourite_action = action("Toggle favourite", "Ctrl+D", self.toggle_favourite,
                                       "Mark or unmark the selected tunes as favourites")
        self.rate_action = action("Rate…", None, self.rate_selected, "Give 0 to 5 stars")
        self.rename_action = action("Rename…", "F2", self.rename_selected, "Change the title")
        self.notes_action = action("Notes…", None, self.edit_notes, "Your notes on this tune")
        self.delete_action = action("Delete", QKeySequence.StandardKey.Delete,
                                    self.delete_selected, "Remove from the library (undoable)")
        self.undo_action = action("Undo delete", QKeySequence.StandardKey.Undo, self.undo_delete,
                                  "Bring back the tunes deleted last")

    # -- filters ----------------------------------------------------------------------------
    def refresh_filters(self) -> None:
        """Refill the source, key, meter and rhythm choices from the library."""
        for combo, column in ((self.key, "key"), (self.meter, "meter"), (self.rhythm, "rhythm")):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(f"Any {combo.property('filter_name').lower()}", "")
            for value in self.library.values(column):
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(current), 0) if current else 0)
            combo.blockSignals(False)
        current = self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem("All tunes", _key("", ""))
        self.source.addItem("Generated tunes", _key("generated", ""))
        present = {(k, s): n for k, s, n in self.library.sources()}
        for name, label in BUILTIN_CORPORA:
            n = present.get(("corpus", name))
            self.source.addItem(f"{label}: {n} tunes" if n else f"{label}: load…",
                                _key("corpus", name))
        for (kind, source), n in present.items():
            if kind == "file":
                self.source.addItem(f"{os.path.basename(source)} ({n})", _key("file", source))
                self.source.setItemData(self.source.count() - 1, source, Qt.ItemDataRole.ToolTipRole)
        if current is not None:
            self.source.setCurrentIndex(max(self.source.findData(current), 0))
        self.source.blockSignals(False)

    def current_query(self) -> Query:
        kind, source = _split(self.source.currentData())
        return Query(text=self.search.text().strip(), key=self.key.currentData() or "",
                     meter=self.meter.currentData() or "", rhythm=self.rhythm.currentData() or "",
                     source_kind=kind, source=source, favourite=self.favourites.isChecked())

    @Slot()
    def apply_filters(self) -> None:
        self.model.set_query(self.current_query())
        self._update_count()

    def _update_count(self) -> None:
        total = self.model.total
        self.count_label.setText(f"{total} tune{'s' if total != 1 else ''}")

    @Slot(int)
    def _source_chosen(self, index: int) -> None:
        kind, source = _split(self.source.itemData(index))
        if kind == "corpus" and not self.library.has_source("corpus", source):
            self.corpus_requested.emit(source)
        self.apply_filters()

    def show_source(self, kind: str, source: str) -> None:
        """Select one source in the filter (after loading a file or corpus)."""
        self.refresh_filters()
        index = self.source.findData(_key(kind, source))
        if index >= 0:
            self.source.setCurrentIndex(index)
        self.apply_filters()

    def reload(self) -> None:
        """Re-read the library after tunes were added elsewhere, keeping the selection."""
        selected = self.selected_ids()
        self.refresh_filters()
        self.model.refresh()
        self._update_count()
        if selected:
            self.select_tune(selected[0], emit=False)

    # -- selection --------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [self.model.data(r, Qt.ItemDataRole.UserRole) for r in rows]

    def select_tune(self, tune_id: int, emit: bool = True) -> bool:
        row = self.model.row_of(tune_id)
        if row < 0:
            return False
        if not emit:
            self.table.selectionModel().blockSignals(True)
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        if not emit:
            self.table.selectionModel().blockSignals(False)
        return True

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            self.tune_selected.emit(self.model.data(current, Qt.ItemDataRole.UserRole))

    # -- edits ------------------------------------------------------------------------------
    @Slot()
    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        for act in (self.favourite_action, self.rate_action, self.rename_action,
                    self.notes_action, self.delete_action, self.undo_action):
            menu.addAction(act)
        self.undo_action.setEnabled(bool(self._undo))
        menu.popup(self.table.viewport().mapToGlobal(pos))

    @Slot()
    def toggle_favourite(self) -> None:
        for tune_id in self.selected_ids():
            self.library.set_favourite(tune_id, not self.library.get(tune_id).favourite)
        self.reload()

    @Slot()
    def rate_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        stars, ok = QInputDialog.getInt(self, "Rate tune", "Stars (0-5):",
                                        self.library.get(ids[0]).rating, 0, 5)
        if ok:
            for tune_id in ids:
                self.library.set_rating(tune_id, stars)
            self.reload()

    @Slot()
    def rename_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        title, ok = QInputDialog.getText(self, "Rename tune", "Title:",
                                         text=self.library.get(ids[0]).title)
        if ok and title.strip():
            self.library.rename(ids[0], title)
            self.reload()

    @Slot()
    def edit_notes(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        notes, ok = QInputDialog.getMultiLineText(self, "Notes", "Your notes on this tune:",
                                                  self.library.get(ids[0]).notes)
        if ok:
            self.library.set_notes(ids[0], notes)

    @Slot()
    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._undo.append(self.library.delete(ids))
            self.reload()
            self.status.emit(f"Deleted {len(ids)} tune(s); Ctrl+Z brings them back")

    @Slot()
    def undo_delete(self) -> None:
        if self._undo:
            ids = self._undo.pop()
            self.library.undelete(ids)
            self.reload()
            self.status.emit(f"Restored {len(ids)} tune(s)")

    def shutdown(self) -> None:
        """Stop pending searches (the library is about to close)."""
        self._debounce.stop()

    # -- state ------------------------------------------------------------------------------
    def save_state(self) -> dict:
        return {"search": self.search.text(), "source": self.source.currentData() or "",
                "header": bytes(self.table.horizontalHeader().saveState().data()).hex()}

    def restore_state(self, state: dict) -> None:
        from PySide6.QtCore import QByteArray

        if state.get("header"):
            self.table.horizontalHeader().restoreState(QByteArray(bytes.fromhex(state["header"])))
        index = self.source.findData(state.get("source") or _key("", ""))
        if index >= 0:
            self.source.setCurrentIndex(index)
        self.search.setText(state.get("search", ""))
        self.apply_filters()
