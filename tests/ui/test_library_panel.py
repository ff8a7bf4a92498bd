"""The Library panel: search and filters, lazy fetching of a large library, edits with undo,
all read and written on the library's thread: stale answers dropped, bursts gathered."""

import threading

import pytest
from PySide6.QtCore import Qt

from app.library import Library
from app.ui.library_panel import BATCH, LibraryPanel
from app.ui.library_worker import LibraryWorker


def tune(i, key="D", meter="4/4", rhythm="reel"):
    return f"X:{i}\nT:Tune number {i}\nR:{rhythm}\nM:{meter}\nL:1/8\nK:{key}\nABcd|\n"


def open_panel(qtbot, path):
    library, worker = Library(path), LibraryWorker(path)
    widget = LibraryPanel(library, worker)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.count_label.text() != "")      # the first list is in
    return widget


def close_panel(widget):
    widget.shutdown()
    widget.worker.close()
    widget.library.close()


@pytest.fixture
def panel(qtbot, tmp_path):
    with Library(tmp_path / "lib.db") as library:
        library.add_tunes([tune(i) for i in range(1500)], source_kind="corpus", source="celtic")
        library.add_tunes([tune(i, "G", "6/8", "jig") for i in range(2000, 2010)],
                          source_kind="file", source="/tmp/jigs.abc")
    widget = open_panel(qtbot, tmp_path / "lib.db")
    yield widget
    close_panel(widget)


def settled(qtbot, panel):
    """Wait until every read and write the panel queued has come back."""
    qtbot.waitUntil(lambda: not panel.worker.busy() and not panel._reread.isActive())


def test_large_library_is_fetched_lazily(qtbot, panel):
    assert panel.count_label.text() == "1510 tunes"
    assert panel.model.rowCount() == BATCH
    panel.table.scrollToBottom()
    qtbot.waitUntil(lambda: panel.model.rowCount() > BATCH)


def test_search_and_filters(qtbot, panel):
    qtbot.keyClicks(panel.search, "number 200")
    qtbot.waitUntil(lambda: panel.count_label.text() == "11 tunes")   # 200 and 2000-2009
    panel.search.clear()
    panel.rhythm.setCurrentIndex(panel.rhythm.findData("jig"))
    qtbot.waitUntil(lambda: panel.count_label.text() == "10 tunes")
    panel.rhythm.setCurrentIndex(0)
    index = panel.source.findData("file\t/tmp/jigs.abc")
    assert index >= 0 and "jigs.abc (10)" == panel.source.itemText(index)
    panel.source.setCurrentIndex(index)
    panel.source.activated.emit(index)
    settled(qtbot, panel)
    assert panel.count_label.text() == "10 tunes"
    assert "Celtic (built-in): 1500 tunes" in [panel.source.itemText(i)
                                               for i in range(panel.source.count())]


def test_unloaded_builtin_corpus_is_requested(qtbot, tmp_path):
    widget = open_panel(qtbot, tmp_path / "empty.db")
    index = widget.source.findData("corpus\tessen")
    assert widget.source.itemText(index) == "Essen (built-in): load…"
    with qtbot.waitSignal(widget.corpus_requested) as requested:
        widget.source.setCurrentIndex(index)
        widget.source.activated.emit(index)
    assert requested.args == ["essen"]
    close_panel(widget)


def test_favourite_delete_and_undo(qtbot, panel):
    selected = []
    panel.tune_selected.connect(selected.append)
    panel.table.selectRow(0)
    tune_id = selected[-1]
    panel.favourite_action.trigger()
    settled(qtbot, panel)
    panel.favourites.setChecked(True)
    qtbot.waitUntil(lambda: panel.count_label.text() == "1 tune")
    assert panel.model.index(0, 0).data() == "★"
    panel.favourites.setChecked(False)
    qtbot.waitUntil(lambda: panel.count_label.text() == "1510 tunes")
    assert panel.select_tune(tune_id)
    panel.delete_action.trigger()
    qtbot.waitUntil(lambda: panel.count_label.text() == "1509 tunes")
    panel.undo_action.trigger()
    qtbot.waitUntil(lambda: panel.count_label.text() == "1510 tunes")
    assert panel.library.get(tune_id).favourite
    assert panel.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole).startswith("Tune number 0")


def test_every_folk_corpus_music21_ships_is_offered(qtbot, tmp_path):
    from app.music.corpus import BUILTIN_CORPORA as READABLE

    widget = open_panel(qtbot, tmp_path / "empty.db")
    offered = {widget.source.itemData(i).split("\t")[1] for i in range(widget.source.count())
               if str(widget.source.itemData(i)).startswith("corpus\t")}
    assert offered == {"celtic", "essen", "miscfolk"} and offered <= set(READABLE)
    close_panel(widget)


def test_the_list_is_read_off_the_gui_thread(qtbot, panel, monkeypatch):
    # The soak found the window frozen 568 ms in the panel's search when a training started.
    threads = []
    for name in ("search", "count", "values", "sources", "position"):
        method = getattr(Library, name)
        monkeypatch.setattr(Library, name, lambda self, *a, _m=method, **k: (
            threads.append(threading.current_thread()), _m(self, *a, **k))[1])
    qtbot.keyClicks(panel.search, "number 1")
    qtbot.waitUntil(lambda: panel.count_label.text() == "611 tunes")
    panel.table.scrollToBottom()                                      # more rows, read there
    qtbot.waitUntil(lambda: panel.model.rowCount() > BATCH)
    panel.reload()
    panel.show_source("corpus", "celtic")
    settled(qtbot, panel)
    assert panel.source.currentData() == "corpus\tceltic"
    assert panel.count_label.text() == "611 tunes"         # every "number 1" is in celtic
    assert threads and set(threads) == {panel.worker.thread}
    assert threading.main_thread() not in threads


def test_a_search_answered_after_a_newer_one_was_typed_is_dropped(qtbot, panel, monkeypatch):
    gate, search = threading.Event(), Library.search

    def slow_search(self, query=None, **kw):
        if query is not None and query.text == "number 1":
            assert gate.wait(10)          # the older search is answered after the newer ask
        return search(self, query, **kw)

    monkeypatch.setattr(Library, "search", slow_search)
    shown = []
    panel.view_shown.connect(shown.append)
    panel.search.setText("number 1")
    panel.apply_filters()
    panel.search.setText("number 2003")
    panel.apply_filters()
    gate.set()
    qtbot.waitUntil(lambda: panel.count_label.text() == "1 tune")
    settled(qtbot, panel)
    assert shown == [1]                   # the 611 tunes of "number 1" never reached the list
    assert panel.model.index(0, 1).data() == "Tune number 2003"


def test_a_burst_of_reloads_reads_the_list_once(qtbot, panel, monkeypatch):
    import app.ui.library_panel as panel_module

    reads, read_view = [], panel_module.read_view
    monkeypatch.setattr(panel_module, "read_view", lambda *a, **k: (
        reads.append(1), read_view(*a, **k))[1])
    panel.table.selectRow(3)
    shown = []
    panel.view_shown.connect(shown.append)
    for _ in range(64):
        panel.reload()
    qtbot.waitUntil(lambda: bool(shown))
    settled(qtbot, panel)
    assert len(reads) == 1 and shown == [1510]
    assert panel.selected_ids() == [panel.model.index(3, 0).data(Qt.ItemDataRole.UserRole)]


def test_a_tune_further_down_is_selected_once_its_rows_are_read(qtbot, panel):
    selected = []
    panel.tune_selected.connect(selected.append)
    last = panel.model.total    # ids start at 1: the jigs' last tune is the last row
    assert not panel.select_tune(last)                # not among the first rows: read first
    qtbot.waitUntil(lambda: selected == [last])
    assert panel.model.rowCount() == panel.model.total
    assert panel.model.index(panel.model.rowCount() - 1, 1).data() == "Tune number 2009"
