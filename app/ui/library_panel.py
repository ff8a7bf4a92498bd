"""The Library dock: every tune the user has (built-in corpora, opened files, generated tunes).

No SQLite runs here on the GUI thread: the list, its count and the filter choices are read on
the library's own thread (app/ui/library_worker.py, app/library_tasks.read_view) and shown when
they come back, and the table model (app/ui/library_model.py) reads more rows there as the view
scrolls, so 50,000 tunes list and scroll without delay. Each ask is numbered and the answer to
an older one (a search typed over) is dropped. Re-reads asked for in a burst (a batch of tunes
stored one by one) are gathered into one. A tune to select (a new file's first tune, a
generated tune) is selected when the list that holds it arrives. Search text and filters build
a `Query`; the edits (favourite, rating, rename, notes, delete with undo) are
app/ui/library_edits.py's.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Callable

from PySide6.QtCore import QByteArray, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget)

from app.library import Library, Query
from app.library_tasks import BATCH, Filters, View, read_view
from app.ui.library_edits import LibraryEdits
from app.ui.library_model import LibraryModel
from app.ui.library_worker import LibraryWorker

BUILTIN_CORPORA = (("celtic", "Celtic (built-in)"), ("essen", "Essen (built-in)"),
                   ("miscfolk", "Misc. folk (built-in)"))
REREAD_MS = 50      # re-reads asked for within this time after the first are done once


def _key(kind: str, source: str) -> str:
    return f"{kind}\t{source}"


def _split(key: str | None) -> tuple[str, str]:
    kind, _, source = (key or "\t").partition("\t")
    return kind, source


class LibraryPanel(QWidget):
    """Search box, filters and the tune table; emits `tune_selected(id)` on selection."""

    tune_selected = Signal(int)
    corpus_requested = Signal(str)
    status = Signal(str)
    view_shown = Signal(int)        # a list arrived and is shown: how many tunes match

    def __init__(self, library: Library, worker: LibraryWorker,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library, self.worker = library, worker     # library: the GUI thread's reads by id
        self.model = LibraryModel(worker, self)
        self._asked = 0             # number of the latest list asked for
        self._shown = 0             # number of the list shown
        self._filters_due = True    # read the filter choices with the next list
        self._source_due: str | None = None            # a source to choose once it is listed
        self._select: tuple[int, bool] | None = None   # (tune, emit) to select once listed
        self._after_view: list[Callable[[], None]] = []
        self._present: dict[tuple[str, str], int] = {}  # tunes per (kind, source)
        self._build()
        self.edits = LibraryEdits(self, self)
        self.edits.status.connect(self.status)
        self.favourite_action = self.edits.favourite_action
        self.delete_action = self.edits.delete_action
        self.undo_action = self.edits.undo_action
        self._ask()

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

        self._reread = QTimer(self, singleShot=True, interval=REREAD_MS)
        self._reread.timeout.connect(self._ask)
        self._debounce = QTimer(self, singleShot=True, interval=150)
        self._debounce.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(self._debounce.start)
        for combo in (self.key, self.meter, self.rhythm):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.source.activated.connect(self._source_chosen)
        self.favourites.toggled.connect(self.apply_filters)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)

    def _filter_combo(self, name: str, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(tip)
        combo.setProperty("filter_name", name)
        # Sized for short values: a generated tune's long R: or M: text must not widen the
        # Library dock until the sheet music is a sliver (the popup still shows it whole).
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(7)
        return combo

    # -- the list ---------------------------------------------------------------------------
    def _ask(self) -> None:
        """Ask the library's thread for the list as the filters say; older asks are void."""
        self._reread.stop()
        self._asked += 1
        query = self.current_query()
        if self._source_due is not None:
            query.source_kind, query.source = _split(self._source_due)
        loaded = self.model.rowCount() if query == self.model.query else 0
        self.worker.read(read_view, query, at_least=max(loaded, BATCH),
                         through=self._select[0] if self._select else None,
                         filters=self._filters_due, then=partial(self._view_read, self._asked),
                         otherwise=partial(self._view_failed, self._asked))

    def _view_read(self, asked: int, view: View) -> None:
        if asked != self._asked:
            return                  # a newer list was asked for: this answer is stale
        if view.filters is not None:
            self._fill_filters(view.filters)
            self._filters_due = False
        if self._source_due is not None:
            index = self.source.findData(self._source_due)
            self._source_due = None
            self.source.setCurrentIndex(max(index, 0))
            if index < 0:           # gone since (a restored choice): list every tune
                self._ask()
                return
        self._shown = asked
        selected = self.selected_ids() if view.query == self.model.query else []
        select = self._select or ((selected[0], False) if selected else None)
        self._select = None
        self.model.show(view)
        self._update_count()
        if select is not None and (row := self.model.row_of(select[0])) >= 0:
            self._select_row(row, select[1])
        self._run_after_view()
        self.view_shown.emit(view.total)

    def _view_failed(self, asked: int, message: str) -> None:
        if asked == self._asked:    # the worker's `failed` has said why
            self._shown, self._select = asked, None
            self._run_after_view()

    def _run_after_view(self) -> None:
        after, self._after_view = self._after_view, []
        for callback in after:
            callback()

    # -- filters ----------------------------------------------------------------------------
    def _fill_filters(self, filters: Filters) -> None:
        """Refill the source, key, meter and rhythm choices."""
        for combo, values in ((self.key, filters.keys), (self.meter, filters.meters),
                              (self.rhythm, filters.rhythms)):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(f"Any {combo.property('filter_name').lower()}", "")
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(current), 0) if current else 0)
            combo.blockSignals(False)
        current = self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem("All tunes", _key("", ""))
        self.source.addItem("Generated tunes", _key("generated", ""))
        self._present = present = {(k, s): n for k, s, n in filters.sources}
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

    def opened_files(self) -> list[str]:
        """The files whose tunes the library holds (as last listed)."""
        return [source for kind, source in self._present if kind == "file"]

    @Slot()
    def apply_filters(self) -> None:
        self._debounce.stop()
        self._ask()

    def _update_count(self) -> None:
        total = self.model.total
        self.count_label.setText(f"{total} tune{'s' if total != 1 else ''}")

    @Slot(int)
    def _source_chosen(self, index: int) -> None:
        self._source_due = None     # the user's choice wins over one still on its way
        kind, source = _split(self.source.itemData(index))
        if kind == "corpus" and (kind, source) not in self._present:
            self.corpus_requested.emit(source)
        self.apply_filters()

    def show_source(self, kind: str, source: str, select: int | None = None,
                    then: Callable[[], None] | None = None) -> None:
        """List one source (after storing a file, corpus or generated tune), select tune
        `select` once listed, then call `then()`."""
        self._filters_due = True
        self._source_due = _key(kind, source)
        if select is not None:
            self._select = (select, True)
        if then is not None:
            self._after_view.append(then)
        self._ask()

    def reload(self) -> None:
        """Re-read the library after tunes were added or edited, keeping the selection; calls
        in a burst are gathered into one read."""
        self._filters_due = True
        if not self._reread.isActive():
            self._reread.start()

    # -- selection --------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [self.model.data(r, Qt.ItemDataRole.UserRole) for r in rows]

    def select_tune(self, tune_id: int, emit: bool = True) -> bool:
        """Select a tune; if the list shown does not hold it yet (still on its way, or further
        down), once the list that holds it arrives. True when selected now."""
        if self._shown == self._asked and not self._reread.isActive():
            row = self.model.row_of(tune_id)
            if row >= 0:
                self._select_row(row, emit)
                return True
            if self.model.rowCount() >= self.model.total:
                return False        # the whole list is here and it is not in it
        self._select = (tune_id, emit)
        self._ask()
        return False

    def _select_row(self, row: int, emit: bool) -> None:
        if not emit:
            self.table.selectionModel().blockSignals(True)
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        if not emit:
            self.table.selectionModel().blockSignals(False)

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            self.tune_selected.emit(self.model.data(current, Qt.ItemDataRole.UserRole))

    def shutdown(self) -> None:
        """Stop pending searches (the library is about to close)."""
        self._debounce.stop()
        self._reread.stop()
        self._after_view.clear()

    # -- state ------------------------------------------------------------------------------
    def save_state(self) -> dict:
        return {"search": self.search.text(),
                "source": self._source_due or self.source.currentData() or "",
                "header": bytes(self.table.horizontalHeader().saveState().data()).hex()}

    def restore_state(self, state: dict) -> None:
        if state.get("header"):
            self.table.horizontalHeader().restoreState(QByteArray(bytes.fromhex(state["header"])))
        if state.get("source"):
            self._source_due, self._filters_due = state["source"], True
        self.search.setText(state.get("search", ""))
        self.apply_filters()
