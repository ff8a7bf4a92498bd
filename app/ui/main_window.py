"""Ceol's main window: the library (left), the tune (centre), transport (bottom), and the
Generate, Train and Demos panels (right), all docks the user can rearrange.

The window wires panels together and to the library database; the work happens in the core
modules, on worker threads. Opening files and corpora is app/ui/opening.py's, storing generated
tunes app/ui/generated_tunes.py's. The library's writes and the Library panel's searches run on
the library's own thread (app/ui/library_worker.py); the window reads single tunes by id on its
own connection. Paths and settings are injected so tests use temporary ones.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QProgressBar, QWidget

from app import settings as S
from app.library import Library
from app.ui import jobs
from app.ui.demos_panel import DemosPanel
from app.ui.generate_panel import GeneratePanel
from app.ui.generated_tunes import GeneratedTunes
from app.ui.library_panel import LibraryPanel
from app.ui.library_worker import LibraryWorker
from app.ui.opening import TuneOpener
from app.ui.theme import apply_theme
from app.ui.train_panel import TrainPanel
from app.ui.transport import Transport
from app.ui.tune_view import TuneView
from app.workers import Job, start_job

log = logging.getLogger(__name__)
ICON_PATH = Path(__file__).resolve().parents[2] / "resources" / "icons" / "ceol.svg"


class MainWindow(QMainWindow):
    tunes_loaded = Signal(str, int)         # source, number of tunes added
    load_failed = Signal(str)               # one-line message
    tune_shown = Signal(int)

    def __init__(self, paths: S.AppPaths, settings: S.Settings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths, self.settings = paths, settings
        self.library = Library(paths.library)
        self.library_worker = LibraryWorker(paths.library, self)
        self._jobs: set[Job] = set()
        self.warm_up_job: Job | None = None
        self.setWindowIcon(QIcon(str(ICON_PATH)))
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.tune_view = TuneView()
        self.setCentralWidget(self.tune_view)
        self.library_panel = LibraryPanel(self.library, self.library_worker)
        self.generated = GeneratedTunes(self.library_worker, self.library_panel, self)
        self.transport = Transport()
        self.transport.apply_settings(settings.get(S.SOUNDFONT), settings.get(S.AUDIO_DEVICE),
                                      settings.get(S.MIDI_PORT))
        self.library_dock = self._dock("Library", self.library_panel,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.transport_dock = self._dock("Transport", self.transport,
                                         Qt.DockWidgetArea.BottomDockWidgetArea)
        self.generate_panel = GeneratePanel(paths, settings, selected_abc=self.selected_abc)
        self.train_panel = TrainPanel(paths, settings, selected_tunes=self.selected_tunes,
                                      opened_files=self.opened_files)
        self.generate_dock = self._dock("Generate", self.generate_panel,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.train_dock = self._dock("Train", self.train_panel,
                                     Qt.DockWidgetArea.RightDockWidgetArea)
        # The Demos panel loads its models when first shown, not at start-up.
        self.demos_panel: DemosPanel | None = None
        self.demos_dock = self._dock("Demos", QWidget(), Qt.DockWidgetArea.RightDockWidgetArea)
        self.demos_dock.visibilityChanged.connect(self._demos_shown)
        self.tabifyDockWidget(self.generate_dock, self.train_dock)
        self.tabifyDockWidget(self.train_dock, self.demos_dock)
        self.generate_dock.raise_()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setToolTip("Progress of the current background job")
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.opener = TuneOpener(self.library_worker, self.library_panel, settings, self.progress,
                                 self._run, self)
        self._build_menus()
        self._connect()
        self.resize(1200, 760)
        self._set_title("")
        self.restore_state()

    # -- construction ---------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        dock.setToolTip(f"The {title} panel: drag its title bar to move it")
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.setStatusTip(tip or text)
        act.setToolTip(tip or text)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Open…", self.opener.open_dialog,
                     QKeySequence.StandardKey.Open, "Open ABC or MIDI files")
        self._action(file_menu, "Open &folder…", self.opener.open_folder_dialog, None,
                     "Open every ABC and MIDI file in a folder")
        file_menu.addMenu(self.opener.recent_menu)
        self.export_action = self._action(file_menu, "&Export…", self.transport.export_dialog,
                                          "Ctrl+E", "Export the tune (MIDI, WAV, ABC, ...)")
        file_menu.addSeparator()
        self._action(file_menu, "&Settings…", self.open_settings,
                     QKeySequence.StandardKey.Preferences,
                     "SoundFont, audio, MIDI out, default model, threads, theme")
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit, "Quit Ceol")
        tune_menu = bar.addMenu("&Tune")
        self.play_action = self._action(tune_menu, "&Play/Pause", self.transport.toggle_play,
                                        "Space", "Play or pause the tune")
        self.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._action(tune_menu, "&Generate", self.generate, "Ctrl+G",
                     "Generate tunes with the chosen model")
        self._action(tune_menu, "&Search library", self.focus_search, QKeySequence.StandardKey.Find,
                     "Search tune titles")
        for act in (self.library_panel.favourite_action, self.library_panel.delete_action,
                    self.library_panel.undo_action):
            tune_menu.addAction(act)
        view_menu = bar.addMenu("&View")
        for dock in self.findChildren(QDockWidget):
            view_menu.addAction(dock.toggleViewAction())
        self.heatmap_action = self._action(view_menu, "Probability &heat map",
                                           self.toggle_heatmap, None,
                                           "Colour each generated character by how surprising "
                                           "the model found it")
        self.heatmap_action.setCheckable(True)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About Ceol", self.show_about, None, "Versions and licence")
        self._action(help_menu, "Show &log file", self.show_log, None, "Where Ceol logs problems")

    def _connect(self) -> None:
        lp = self.library_panel
        lp.tune_selected.connect(self.show_tune)
        lp.corpus_requested.connect(self.opener.load_corpus)
        lp.status.connect(self.show_status)
        self.library_worker.failed.connect(self.show_status)
        self.opener.status.connect(self.show_status)
        self.opener.tunes_loaded.connect(self.tunes_loaded)
        self.opener.load_failed.connect(self.load_failed)
        self.transport.status.connect(self.show_status)
        self.transport.position_changed.connect(self.tune_view.set_position)
        self.tune_view.abc_edited.connect(self._abc_edited)
        self.generate_panel.status.connect(self.show_status)
        self.generate_panel.tune_generated.connect(self.generated.store)
        self.train_panel.status.connect(self.show_status)
        self.train_panel.model_saved.connect(self.select_trained_model)
        self.train_panel.sample_ready.connect(self.store_training_sample)

    # -- tunes ----------------------------------------------------------------------------
    def _set_title(self, what: str) -> None:
        self.setWindowTitle(f"Ceol — {what}" if what else "Ceol")

    @Slot(int)
    def show_tune(self, tune_id: int) -> None:
        try:
            record = self.library.get(tune_id)
        except KeyError:
            return
        self.tune_view.show_tune(tune_id, record.abc, self.generated.probabilities(tune_id))
        self.transport.set_tune(record.abc, record.title, record.provenance)
        self._set_title(record.title or "(untitled)")
        self.settings.set(S.SELECTED_TUNE, tune_id)
        self.tune_shown.emit(tune_id)

    @Slot(int, str)
    def _abc_edited(self, tune_id: int, abc: str) -> None:
        self.library_worker.write(Library.set_abc, tune_id, abc)
        self.transport.set_tune(abc, self.transport.title, self.transport.provenance)

    def selected_abc(self) -> str:
        return self.tune_view.abc

    def selected_tunes(self) -> list[str]:
        return [self.library.get(i).abc for i in self.library_panel.selected_ids()]

    def opened_files(self) -> list[str]:
        return self.library_panel.opened_files()

    @Slot()
    def warm_up(self) -> Job | None:
        """Start loading torch, music21, verovio and the chosen model in the background, so the
        first Generate and the first Play do not wait for them (the window is already up).
        Once per window; an ordinary job, so closing the window waits for it."""
        if self.warm_up_job is not None:
            return None
        info = self.generate_panel.current_model()
        self.warm_up_job = Job(jobs.warm_up, str(info.path) if info is not None else None,
                               name="warm-up")
        self.warm_up_job.finished.connect(self._job_finished)
        self._jobs.add(self.warm_up_job)
        return start_job(self.warm_up_job)

    @Slot(str, int)
    def store_training_sample(self, abc: str, step: int) -> None:
        """Keep the tune the model wrote at `step` of the training run, show it and play it."""
        self.generated.store_training_sample(abc, self.train_panel.run_name, step,
                                             then=self._play_shown)

    @Slot()
    def _play_shown(self) -> None:
        if not self.transport.is_playing():
            self.transport.toggle_play()

    @Slot(str)
    def select_trained_model(self, path: str) -> None:
        """List the model the Train panel just saved in the Generate panel, selected."""
        self.generate_panel.refresh_models(select=path)

    # -- opening (app/ui/opening.py) ------------------------------------------------------
    def open_paths(self, paths: list[str]) -> Job:
        """Read files and folders off the GUI thread; tunes land in the library."""
        return self.opener.open_paths(paths)

    def load_corpus(self, name: str) -> Job:
        """Read a built-in corpus (celtic, essen) off the GUI thread into the library."""
        return self.opener.load_corpus(name)

    def _run(self, job: Job, message: str) -> Job:
        """Start a job behind the busy bar; the window keeps it until its thread has ended."""
        job.finished.connect(self._job_finished)
        self._jobs.add(job)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.show_status(message)
        start_job(job)
        return job

    @Slot()
    def _job_finished(self) -> None:
        # `finished` is queued from the worker, whose QThread may still be winding down: let it
        # end before the last reference goes, or Qt aborts ("Destroyed while thread is still
        # running"). It has already been told to quit, so this wait is short.
        job = self.sender()
        if job in self._jobs and job.thread is not None:
            job.thread.wait(2000)
        self._jobs = {j for j in self._jobs if not j.thread.isFinished()}
        if not self._jobs:
            self.progress.hide()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # -- other actions --------------------------------------------------------------------
    @Slot()
    def generate(self) -> None:
        self.generate_dock.show()
        self.generate_dock.raise_()
        self.generate_panel.generate()

    @Slot()
    def focus_search(self) -> None:
        self.library_dock.show()
        self.library_panel.search.setFocus()
        self.library_panel.search.selectAll()

    @Slot()
    def toggle_heatmap(self) -> None:
        self.tune_view.set_heatmap(self.heatmap_action.isChecked())
        self.settings.set(S.HEATMAP, self.heatmap_action.isChecked())

    @Slot()
    def open_settings(self):
        from app.ui.settings_dialog import SettingsDialog

        models = self.generate_panel.model_choices()
        dialog = SettingsDialog(self.settings, models, self)
        dialog.applied.connect(self.apply_settings)
        dialog.finished.connect(dialog.deleteLater)   # else each opening stays a child, 0.6 MiB
        dialog.open()
        return dialog

    @Slot()
    def apply_settings(self) -> None:
        apply_theme(self.settings.get(S.THEME))
        self.transport.apply_settings(self.settings.get(S.SOUNDFONT),
                                      self.settings.get(S.AUDIO_DEVICE),
                                      self.settings.get(S.MIDI_PORT))
        self.generate_panel.refresh_models()
        self.show_status("Settings saved")

    @Slot()
    def show_about(self):
        from app.ui.about import show_about

        return show_about(self)

    @Slot()
    def show_log(self) -> None:
        from app.logging_setup import LOG_NAME

        QMessageBox.information(self, "Log file", f"Ceol writes its log to\n"
                                f"{self.paths.log_dir / LOG_NAME}")

    @Slot(str)
    @Slot(bool)
    def _demos_shown(self, visible: bool) -> None:
        if visible and self.demos_panel is None:
            self.demos_panel = DemosPanel()
            self.demos_panel.restore_state(self.settings.state("demos"))
            self.demos_panel.status.connect(self.show_status)
            self.demos_dock.setWidget(self.demos_panel)

    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # -- state ----------------------------------------------------------------------------
    def save_state(self) -> None:
        s = self.settings
        s.set(S.WINDOW_GEOMETRY, self.saveGeometry())
        s.set(S.WINDOW_STATE, self.saveState())
        s.set_state("library", self.library_panel.save_state())
        s.set_state("tune_view", self.tune_view.save_state())
        s.set_state("transport", self.transport.save_state())
        s.set_state("generate", self.generate_panel.save_state())
        s.set_state("train", self.train_panel.save_state())
        if self.demos_panel is not None:
            s.set_state("demos", self.demos_panel.save_state())
        s.sync()

    def restore_state(self) -> None:
        s = self.settings
        geometry, state = s.get(S.WINDOW_GEOMETRY), s.get(S.WINDOW_STATE)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        if not state.isEmpty():
            self.restoreState(state)
        self.library_panel.restore_state(s.state("library"))
        self.tune_view.restore_state(s.state("tune_view"))
        self.transport.restore_state(s.state("transport"))
        self.generate_panel.restore_state(s.state("generate"))
        self.train_panel.restore_state(s.state("train"))
        self.heatmap_action.setChecked(s.get(S.HEATMAP))
        self.tune_view.set_heatmap(s.get(S.HEATMAP))
        selected = s.get(S.SELECTED_TUNE)
        if selected:
            QTimer.singleShot(0, lambda: self.library_panel.select_tune(selected))

    def ask_to_stop_training(self) -> bool:
        """Ask whether to stop the running training and quit (scripted sessions replace it)."""
        answer = QMessageBox.question(
            self, "Training is running",
            "Stop training and quit? Ceol saves a checkpoint so you can resume later.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event) -> None:
        if self.train_panel.is_training():
            if not self.ask_to_stop_training():
                event.ignore()
                return
            self.train_panel.stop_for_exit()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save the layout, stop background work and close the library."""
        self.save_state()
        self.hide()   # gone at once for the user, while the work below winds down
        self.generated.shutdown()
        self.library_panel.shutdown()
        self.tune_view.shutdown()
        self.transport.stop()
        for job in list(self._jobs):
            job.cancel()
        self.generate_panel.shutdown()
        self.train_panel.shutdown()
        if self.demos_panel is not None:
            self.demos_panel.shutdown()
        for job in list(self._jobs):
            if job.thread:   # the warm-up cannot be interrupted mid-import: it ends in seconds
                job.thread.wait(30_000 if job is self.warm_up_job else 3000)
        self.library_worker.close()     # the writes queued so far are done (the edit above too)
        self.library.close()
