"""Opening tunes: the Open dialogs, the recent-files menu, dropped files and the built-in
corpora, read on worker threads and stored in the library as each file arrives.

The window runs the jobs (its `run` shows the busy bar and keeps each job until its thread has
ended); `TuneOpener` builds them, follows their progress, stores what they read, and reports
a file it cannot open in the status bar and in a message box, leaving the session as it was.
A file's tunes are stored by one write queued on the library's thread (storing the 4,242 tunes
of the Celtic corpus on the GUI thread held it for 314 ms); once committed, the file is listed,
its first tune selected, and `tunes_loaded` says so. Closing the window still does the writes
queued by then.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QProgressBar, QWidget

from app import settings as S
from app.library_tasks import store_file
from app.ui import jobs
from app.ui.library_panel import LibraryPanel
from app.ui.library_worker import LibraryWorker
from app.workers import Job


class TuneOpener(QObject):
    """Opens files, folders and corpora into the library (see the module docstring)."""

    tunes_loaded = Signal(str, int)         # source, number of tunes added
    load_failed = Signal(str)               # one-line message
    status = Signal(str)

    def __init__(self, worker: LibraryWorker, library_panel: LibraryPanel,
                 settings: S.Settings, progress: QProgressBar, run: Callable[[Job, str], Job],
                 window: QWidget) -> None:
        super().__init__(window)
        self.worker, self.library_panel, self.settings = worker, library_panel, settings
        self.progress, self.run, self.window = progress, run, window
        self.recent_menu = QMenu("Open &recent", window)
        self.recent_menu.setToolTipsVisible(True)
        self._refresh_recent()

    @Slot()
    def open_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self.window, "Open tunes", self.settings.get(S.LAST_FOLDER),
            "Tunes (*.abc *.txt *.mid *.midi);;All files (*)")
        if files:
            self.settings.set(S.LAST_FOLDER, str(Path(files[0]).parent))
            self.open_paths(files)

    @Slot()
    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open a folder of tunes",
                                                  self.settings.get(S.LAST_FOLDER))
        if folder:
            self.open_paths([folder])

    def open_paths(self, paths: list[str]) -> Job:
        """Read files and folders off the GUI thread; tunes land in the library."""
        for p in paths:
            self.settings.add_recent(str(Path(p).resolve()))
        self._refresh_recent()
        job = Job(jobs.load_paths, [str(Path(p).resolve()) for p in paths], name="open")
        job.result.connect(self._file_loaded)
        job.progress.connect(self._load_progress)
        job.failed.connect(self._report_load_error)
        return self.run(job, "Opening…")

    @Slot(str)
    def load_corpus(self, name: str) -> Job:
        """Read a built-in corpus (celtic, essen) off the GUI thread into the library."""
        job = Job(jobs.load_builtin, name, name="corpus")
        job.done.connect(self._corpus_loaded)
        job.failed.connect(self._report_load_error)
        return self.run(job, f"Loading the {name} corpus…")

    @Slot(object)
    def _load_progress(self, info) -> None:
        done, total, path = info
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    @Slot(object)
    def _file_loaded(self, loaded) -> None:
        if isinstance(loaded, Exception):
            self._report_load_error(str(loaded))
            return
        self._store_loaded("file", loaded)

    @Slot(object)
    def _corpus_loaded(self, loaded) -> None:
        self._store_loaded("corpus", loaded)

    def _store_loaded(self, kind: str, loaded: jobs.LoadedFile) -> None:
        """Queue a file's tunes for the library's thread (in place of its old copy)."""
        self.worker.write(store_file, kind, loaded.path, loaded.abcs,
                          then=partial(self._stored, kind, loaded))

    def _stored(self, kind: str, loaded: jobs.LoadedFile, ids: list[int]) -> None:
        self.library_panel.show_source(kind, loaded.path, select=ids[0] if ids else None,
                                       then=partial(self._listed, loaded, len(ids)))

    def _listed(self, loaded: jobs.LoadedFile, count: int) -> None:
        note = f" ({len(loaded.problems)} broken tunes skipped)" if loaded.problems else ""
        self.status.emit(f"Loaded {count} tunes from {Path(loaded.path).name}{note}")
        self.tunes_loaded.emit(loaded.path, count)

    @Slot(str)
    def _report_load_error(self, message: str) -> None:
        self.status.emit(message)
        self.load_failed.emit(message)
        box = QMessageBox(QMessageBox.Icon.Warning, "Cannot open", message,
                          QMessageBox.StandardButton.Ok, self.window)
        box.finished.connect(box.deleteLater)
        box.open()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.get(S.RECENT_FILES):
            act = self.recent_menu.addAction(Path(path).name)
            act.setData(path)
            act.setToolTip(path)
            act.triggered.connect(self._open_recent)
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    @Slot()
    def _open_recent(self) -> None:
        self.open_paths([self.sender().data()])
