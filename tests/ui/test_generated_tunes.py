"""Generated tunes into the library: stored on the library's thread (never the GUI thread),
listed and selected once committed, a batch listed with one re-read, and a store still queued
when the window closes kept in the database."""

import threading
import time

import pytest

from app.library import Library, Query
from app.ui.generated_tunes import GeneratedTunes
from tests.ui.helpers import close_window, make_window
from tests.ui.test_library_panel import close_panel, open_panel

UNTITLED = "X:1\nM:4/4\nL:1/8\nK:D\nFAAB A2FA|dfed cdeg|\n"


def item(index: int, seed: int = 3):
    return UNTITLED, {"model": "tiny", "seed": seed, "index": index}, [0.5] * len(UNTITLED)


@pytest.fixture
def stores(monkeypatch):
    """The thread of every Library.add_tunes call (add_tune goes through it)."""
    threads, add_tunes = [], Library.add_tunes
    monkeypatch.setattr(Library, "add_tunes", lambda self, *a, **k: (
        threads.append(threading.current_thread()), add_tunes(self, *a, **k))[1])
    return threads


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = open_panel(qtbot, tmp_path / "lib.db")
    yield widget
    close_panel(widget)


def test_a_generated_tune_is_stored_off_the_gui_thread_then_listed_and_selected(
        qtbot, panel, stores):
    # The soak found the window frozen 322 ms in the commit of a generated tune.
    generated = GeneratedTunes(panel.worker, panel)
    selected = []
    panel.tune_selected.connect(selected.append)
    generated.store(item(0))
    qtbot.waitUntil(lambda: len(selected) == 1)
    tune_id = selected[0]
    assert stores == [panel.worker.thread] and threading.main_thread() not in stores
    assert panel.source.currentData() == "generated\t"
    assert panel.count_label.text() == "1 tune"
    assert panel.model.index(0, 1).data() == "tiny seed 3 #1"
    record = panel.library.get(tune_id)
    assert record.abc == UNTITLED and record.provenance == {"model": "tiny", "seed": 3,
                                                            "index": 0}
    assert len(generated.probabilities(tune_id)) == len(UNTITLED)


def test_a_batch_of_64_is_listed_with_one_re_read(qtbot, panel, stores, monkeypatch):
    import app.ui.library_panel as panel_module

    reads, read_view = [], panel_module.read_view
    monkeypatch.setattr(panel_module, "read_view", lambda *a, **k: (
        reads.append(1), read_view(*a, **k))[1])
    generated = GeneratedTunes(panel.worker, panel)
    selected = []
    panel.tune_selected.connect(selected.append)
    for index in range(64):
        generated.store(item(index))
    # Every tune is stored before the window hears of the first: their 64 answers then
    # arrive together, as they would from a fast disk, and the count below is exact.
    stored = threading.Event()
    panel.worker.write(lambda library: stored.set())
    assert stored.wait(30)
    qtbot.waitUntil(lambda: panel.count_label.text() == "64 tunes")
    qtbot.waitUntil(lambda: not (generated._arrived.isActive() or panel._reread.isActive()
                                 or panel.worker.busy()))
    assert len(stores) == 64 and set(stores) == {panel.worker.thread}
    assert len(reads) == 2        # the first tune's list, then one for the other 63
    assert len(selected) == 1 and panel.selected_ids() == selected      # the first stays shown


def test_closing_the_window_keeps_a_tune_whose_store_is_still_queued(qtbot, tmp_path,
                                                                      monkeypatch):
    add_tunes = Library.add_tunes

    def slow_add_tunes(self, *args, **kwargs):
        time.sleep(0.3)           # a disk busy with other jobs: the window closes meanwhile
        return add_tunes(self, *args, **kwargs)

    monkeypatch.setattr(Library, "add_tunes", slow_add_tunes)
    window = make_window(qtbot, tmp_path)
    window.generated.store(item(0, seed=11))
    window.generated.store_training_sample(UNTITLED, "run-1", 40)
    assert window.library_worker.busy()
    close_window(window)          # returns once the queued stores are committed
    assert not window.library_worker.thread.is_alive()
    with Library(tmp_path / "data" / "library.db") as library:
        titles = sorted(r[1] for r in library.search(Query(source_kind="generated")))
    assert titles == ["run-1 step 40", "tiny seed 11 #1"]
