"""Generated tunes into the library: each tune of a batch is stored the moment it exists, the
first one ready is shown, and the rest are listed together once they stop arriving; the model's
probabilities are kept for the tune view's heat map. Tunes written during training are stored
and shown the same way.

The stores are writes queued on the library's thread (app/ui/library_worker.py): a commit
waits for its fsync, which froze the window for 322 ms while other jobs wrote the disk. The
tune's id comes back once it is committed; only then is it listed and selected.
"""

from __future__ import annotations

from array import array
from functools import partial
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from app.library import Library
from app.ui.library_panel import LibraryPanel
from app.ui.library_worker import LibraryWorker


class GeneratedTunes(QObject):
    """Stores generated tunes in the library and keeps their probabilities (4 bytes a
    character, so thousands of tunes keep their heat maps)."""

    def __init__(self, worker: LibraryWorker, library_panel: LibraryPanel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker, self.library_panel = worker, library_panel
        self._probabilities: dict[int, array] = {}
        # Re-reading the library for each generated tune (filters, counts) cost up to 2 s of
        # frozen window per batch of 64; the tunes that follow the first are listed together.
        self._arrived = QTimer(self, singleShot=True, interval=200)
        self._arrived.timeout.connect(self._list_arrived)

    def probabilities(self, tune_id: int) -> array | None:
        """The model's probability of each character of a generated tune, or None."""
        return self._probabilities.get(tune_id)

    @Slot(object)
    def store(self, item) -> None:
        """Keep a generated tune, (abc, provenance, probabilities), in the library the moment
        it exists, and show the first one ready once it is stored."""
        abc, provenance, probabilities = item
        provenance = dict(provenance)
        first = provenance.pop("arrival", provenance.get("index", 0)) == 0
        title = (f"{provenance.get('model', 'model')} seed {provenance.get('seed', '?')} "
                 f"#{provenance.get('index', 0) + 1}")
        self.worker.write(Library.add_tune, abc, source_kind="generated",
                          title=title if "\nT:" not in "\n" + abc.split("K:", 1)[0] else None,
                          source=provenance.get("model", ""), provenance=provenance,
                          then=partial(self._stored, first, probabilities))

    def _stored(self, first: bool, probabilities, tune_id: int) -> None:
        if probabilities:
            self._probabilities[tune_id] = array("f", probabilities)
        if first:
            self.library_panel.show_source("generated", "", select=tune_id)
        else:   # the rest of a batch: one re-read of the library when they stop arriving
            self._arrived.start()

    @Slot()
    def _list_arrived(self) -> None:
        self.library_panel.reload()     # keeps the selection: the first tune stays shown

    def store_training_sample(self, abc: str, run_name: str, step: int,
                              then: Callable[[], None] | None = None) -> None:
        """Keep a tune the model wrote at `step` of training run `run_name`, show it once
        stored, then call `then()`."""
        self.worker.write(Library.add_tune, abc, source_kind="generated", source=run_name,
                          provenance={"model": run_name, "training_step": step},
                          title=f"{run_name} step {step}",
                          then=partial(self._sample_stored, then))

    def _sample_stored(self, then: Callable[[], None] | None, tune_id: int) -> None:
        self.library_panel.show_source("generated", "", select=tune_id, then=then)

    def shutdown(self) -> None:
        self._arrived.stop()
