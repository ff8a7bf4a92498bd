"""Edits of the tunes in the Library panel: favourite, rating, title, notes, delete with undo.

Each edit is a write queued on the library's thread (app/ui/library_worker.py), then the panel
re-reads its list; that read is queued after the write, so it shows it. The dialogs start from
the values the list shows (a tune's notes, not listed, are read by id on the GUI thread's own
connection: one row by its key).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QTableView, QWidget

from app.library import Library
from app.library_tasks import toggle_favourites
from app.ui.library_model import LibraryModel
from app.ui.library_worker import LibraryWorker


class EditedPanel(Protocol):
    """What the edits need of the Library panel."""

    library: Library
    worker: LibraryWorker
    model: LibraryModel
    table: QTableView

    def selected_ids(self) -> list[int]: ...

    def reload(self) -> None: ...


class LibraryEdits(QObject):
    """The panel's edit actions (also in the window's Tune menu) and its context menu."""

    status = Signal(str)

    def __init__(self, panel: EditedPanel, parent: QWidget) -> None:
        super().__init__(parent)
        self.panel, self.worker, self.parent_widget = panel, panel.worker, parent
        self._undo: list[list[int]] = []
        self.favourite_action = self._action(
            "Toggle favourite", "Ctrl+D", self.toggle_favourite,
            "Mark or unmark the selected tunes as favourites")
        self.rate_action = self._action("Rate…", None, self.rate_selected, "Give 0 to 5 stars")
        self.rename_action = self._action("Rename…", "F2", self.rename_selected,
                                          "Change the title")
        self.notes_action = self._action("Notes…", None, self.edit_notes,
                                         "Your notes on this tune")
        self.delete_action = self._action("Delete", QKeySequence.StandardKey.Delete,
                                          self.delete_selected,
                                          "Remove from the library (undoable)")
        self.undo_action = self._action("Undo delete", QKeySequence.StandardKey.Undo,
                                        self.undo_delete, "Bring back the tunes deleted last")
        panel.table.customContextMenuRequested.connect(self._context_menu)

    def _action(self, text, shortcut, slot, tip) -> QAction:
        act = QAction(text, self.parent_widget)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        act.setToolTip(tip)
        act.triggered.connect(slot)
        self.panel.table.addAction(act)
        return act

    @Slot()
    def _context_menu(self, pos) -> None:
        menu = QMenu(self.parent_widget)
        for act in (self.favourite_action, self.rate_action, self.rename_action,
                    self.notes_action, self.delete_action, self.undo_action):
            menu.addAction(act)
        self.undo_action.setEnabled(bool(self._undo))
        menu.popup(self.panel.table.viewport().mapToGlobal(pos))

    def _listed(self, tune_id: int) -> tuple:
        """A selected tune's listed values (id, title, key, ..., favourite, rating)."""
        model = self.panel.model
        return model.values_of(model.row_of(tune_id))

    @Slot()
    def toggle_favourite(self) -> None:
        ids = self.panel.selected_ids()
        if ids:
            self.worker.write(toggle_favourites, ids)
            self.panel.reload()

    @Slot()
    def rate_selected(self) -> None:
        ids = self.panel.selected_ids()
        if not ids:
            return
        stars, ok = QInputDialog.getInt(self.parent_widget, "Rate tune", "Stars (0-5):",
                                        self._listed(ids[0])[8], 0, 5)
        if ok:
            for tune_id in ids:
                self.worker.write(Library.set_rating, tune_id, stars)
            self.panel.reload()

    @Slot()
    def rename_selected(self) -> None:
        ids = self.panel.selected_ids()
        if not ids:
            return
        title, ok = QInputDialog.getText(self.parent_widget, "Rename tune", "Title:",
                                         text=self._listed(ids[0])[1])
        if ok and title.strip():
            self.worker.write(Library.rename, ids[0], title)
            self.panel.reload()

    @Slot()
    def edit_notes(self) -> None:
        ids = self.panel.selected_ids()
        if not ids:
            return
        try:
            notes = self.panel.library.get(ids[0]).notes
        except KeyError:
            return
        notes, ok = QInputDialog.getMultiLineText(self.parent_widget, "Notes",
                                                  "Your notes on this tune:", notes)
        if ok:
            self.worker.write(Library.set_notes, ids[0], notes)

    @Slot()
    def delete_selected(self) -> None:
        ids = self.panel.selected_ids()
        if ids:
            self.worker.write(Library.delete, ids)
            self._undo.append(ids)
            self.panel.reload()
            self.status.emit(f"Deleted {len(ids)} tune(s); Ctrl+Z brings them back")

    @Slot()
    def undo_delete(self) -> None:
        if self._undo:
            ids = self._undo.pop()
            self.worker.write(Library.undelete, ids)
            self.panel.reload()
            self.status.emit(f"Restored {len(ids)} tune(s)")
