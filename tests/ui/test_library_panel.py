"""The Library panel: search and filters, lazy fetching of a large library, edits with undo."""

import pytest
from PySide6.QtCore import Qt

from app.library import Library
from app.ui.library_panel import BATCH, LibraryPanel


def tune(i, key="D", meter="4/4", rhythm="reel"):
    return f"X:{i}\nT:Tune number {i}\nR:{rhythm}\nM:{meter}\nL:1/8\nK:{key}\nABcd|\n"


@pytest.fixture
def panel(qtbot, tmp_path):
    library = Library(tmp_path / "lib.db")
    library.add_tunes([tune(i) for i in range(1500)], source_kind="corpus", source="celtic")
    library.add_tunes([tune(i, "G", "6/8", "jig") for i in range(2000, 2010)],
                      source_kind="file", source="/tmp/jigs.abc")
    widget = LibraryPanel(library)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()
    library.close()


def test_large_library_is_fetched_lazily(panel):
    assert panel.count_label.text() == "1510 tunes"
    assert panel.model.rowCount() == BATCH
    panel.table.scrollToBottom()
    assert panel.model.rowCount() > BATCH


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
    assert panel.count_label.text() == "10 tunes"
    assert "Celtic (built-in): 1500 tunes" in [panel.source.itemText(i)
                                               for i in range(panel.source.count())]


def test_unloaded_builtin_corpus_is_requested(qtbot, tmp_path):
    library = Library(tmp_path / "empty.db")
    widget = LibraryPanel(library)
    qtbot.addWidget(widget)
    index = widget.source.findData("corpus\tessen")
    assert widget.source.itemText(index) == "Essen (built-in): load…"
    with qtbot.waitSignal(widget.corpus_requested) as requested:
        widget.source.setCurrentIndex(index)
        widget.source.activated.emit(index)
    assert requested.args == ["essen"]
    widget.shutdown()
    library.close()


def test_favourite_delete_and_undo(qtbot, panel):
    selected = []
    panel.tune_selected.connect(selected.append)
    panel.table.selectRow(0)
    tune_id = selected[-1]
    panel.favourite_action.trigger()
    panel.favourites.setChecked(True)
    assert panel.count_label.text() == "1 tune"
    assert panel.model.index(0, 0).data() == "★"
    panel.favourites.setChecked(False)
    panel.select_tune(tune_id)
    panel.delete_action.trigger()
    assert panel.count_label.text() == "1509 tunes"
    panel.undo_action.trigger()
    assert panel.count_label.text() == "1510 tunes"
    assert panel.library.get(tune_id).favourite
    assert panel.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole).startswith("Tune number 0")


def test_every_folk_corpus_music21_ships_is_offered(qtbot, tmp_path):
    from app.music.corpus import BUILTIN_CORPORA as READABLE

    widget = LibraryPanel(Library(tmp_path / "empty.db"))
    qtbot.addWidget(widget)
    offered = {widget.source.itemData(i).split("\t")[1] for i in range(widget.source.count())
               if str(widget.source.itemData(i)).startswith("corpus\t")}
    assert offered == {"celtic", "essen", "miscfolk"} and offered <= set(READABLE)
