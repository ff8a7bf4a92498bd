"""A person's session, scripted: drive the real MainWindow the way a user does.

Used by the short session in the suite (tests/ui/test_session.py) and by the long soak
(benchmarks/soak.py). Everything goes through widgets: rows are clicked in the library table,
buttons pressed, shortcuts typed, combo boxes changed, and the driver waits on the signals the
window emits (the score view's `engraved`/`failed`, `tunes_loaded`, `generation_finished`,
`model_saved`, ...), never on sleeps. Waits spin a local event loop, so the driver needs no
pytest-qt and also runs under a real X server.

Three watchers run beside the session (tests/ui/watchers.py, re-exported here for the soak):
`StallMonitor` (GUI stalls), `DialogWatcher` (answers message boxes) and `sample_process()`
(resident memory and OS threads).
Paths and settings are temporary, so a user's own library and settings are never touched.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog

from app.settings import AppPaths, Settings
from tests.ui.watchers import (DialogWatcher, SignalCatcher,  # noqa: F401 (re-exported)
                              StallMonitor, sample_process, wait, wait_until, workers_rss)


# -- the session --------------------------------------------------------------------------
@dataclass
class Report:
    """What happened, for the test's asserts and the soak's summary."""

    tunes_clicked: int = 0
    engraved: int = 0
    engrave_failed: list[str] = field(default_factory=list)   # one-line reasons shown
    engrave_silent: list[str] = field(default_factory=list)   # neither engraved nor a reason
    seconds_played: float = 0.0
    play_refused: list[str] = field(default_factory=list)     # "Cannot play ..." messages
    positions_followed: int = 0
    exports: dict[str, int] = field(default_factory=dict)      # suffix -> bytes
    tunes_generated: int = 0
    trainings: int = 0
    fine_tunes: int = 0
    problems: list[str] = field(default_factory=list)
    window_construction_ms: list[int] = field(default_factory=list)   # each open, before shown
    closing_ms: list[int] = field(default_factory=list)   # each quit: window hidden, jobs end
    demo_answers: int = 0          # next-word and sentiment answers shown for typed text
    demo_trainings: int = 0        # demo retrainings started and stopped


class Session:
    """One window on temporary paths, and what a person does with it."""

    def __init__(self, root: Path, log=None) -> None:
        self.root = Path(root)
        self.paths = AppPaths(self.root / "data", self.root / "logs")
        self.settings_file = self.root / "settings.ini"
        self.report = Report()
        self._log = log or (lambda message: None)
        self.app = QApplication.instance() or QApplication([sys.argv[0]])   # before the timers
        self.dialogs = DialogWatcher()
        self.stalls = StallMonitor()
        self.window = None

    def log(self, message: str) -> None:
        """Note the step under way (stalls are attributed to it) and pass it on."""
        self.stalls.label = " ".join(message.split()[:2])
        self._log(message)

    def worst_stalls(self, n: int = 5) -> list[tuple[str, int]]:
        """The steps with the longest GUI stalls, in milliseconds."""
        ranked = sorted(self.stalls.worst_by_label.items(), key=lambda kv: -kv[1])[:n]
        return [(label, round(gap * 1000)) for label, gap in ranked]

    # -- the window --------------------------------------------------------------------
    def open_window(self, warm_up: bool = True):
        """Create and show the main window as `python main.py` does (warm-up included)."""
        from app.ui.launch import create_window

        started = time.perf_counter()
        _, self.window = create_window([], self.paths, Settings(self.settings_file))
        self.window.show()
        # Building the window blocks the GUI thread before there is a window to freeze: that
        # is start-up time (kept apart, as bench_app's "window visible"), not a stall.
        self.report.window_construction_ms.append(
            round((time.perf_counter() - started) * 1000))
        self.stalls.skip_to_now()
        self.log("window shown")
        wait(50)
        if warm_up:
            self.window.warm_up()
        return self.window

    def quit(self) -> None:
        """File > Quit: close the window (the app saves its state and stops its jobs)."""
        self.log("quit")
        w, self.window = self.window, None
        w.error_reporter.uninstall()
        self.report.problems += [f"unexpected error dialog x{w.error_reporter.count}"] * bool(
            w.error_reporter.count)
        started = time.perf_counter()
        w.close()
        # The window hides itself first, then waits for its jobs: that wait is not a frozen
        # window anyone sees, so it is kept apart (closing_ms) rather than counted as a stall.
        self.report.closing_ms.append(round((time.perf_counter() - started) * 1000))
        self.stalls.skip_to_now()
        w.deleteLater()
        wait(50)

    def finish(self) -> None:
        if self.window is not None:
            self.quit()
        self.dialogs.stop()
        self.stalls.stop()

    def alive(self) -> bool:
        return self.window is not None and self.window.isVisible()

    def press(self, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        """Type a key (shortcuts go through the window's shortcut map).

        Window shortcuts reach only the active window, and a closed modal box (Start
        training?) leaves no window active offscreen or without a window manager, so the
        window is activated first, as a person clicking on it would.
        """
        if QApplication.activeWindow() is not self.window:
            self.window.activateWindow()
            wait_until(lambda: QApplication.activeWindow() is self.window, 2)
        QTest.keyClick(self.window, key, modifier)

    # -- library -----------------------------------------------------------------------
    def open_corpus(self, name: str, timeout_s: float = 120) -> int:
        """Choose the built-in corpus in the Library's source box; return its tune count."""
        self.log(f"open corpus {name}")
        panel = self.window.library_panel
        index = panel.source.findData(f"corpus\t{name}")
        loaded = SignalCatcher(self.window.tunes_loaded)
        panel.source.setCurrentIndex(index)
        panel.source.activated.emit(index)          # what a click on the entry sends
        if not self.window.library.has_source("corpus", name):
            if not loaded.wait(timeout_s):
                self.report.problems.append(f"corpus {name} did not load in {timeout_s} s")
        loaded.close()
        wait_until(lambda: panel.model.total > 0, 5)
        return panel.model.total

    def open_folder(self, folder: Path, timeout_s: float = 60) -> int:
        """Drop a folder of tune books on the window; return how many tunes arrived."""
        from PySide6.QtCore import QMimeData, QUrl
        from PySide6.QtGui import QDropEvent

        self.log(f"open folder {folder}")
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(folder))])
        files = len([p for p in Path(folder).rglob("*") if p.suffix in (".abc", ".mid")])
        loaded = SignalCatcher(self.window.tunes_loaded, self.window.load_failed)
        self.window.dropEvent(QDropEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime,
                                         Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
        loaded.wait(timeout_s, count=files)
        loaded.close()
        return sum(args[1] for i, args in loaded.calls if i == 0)

    def rows(self) -> int:
        return self.window.library_panel.model.total

    def click_row(self, row: int, timeout_s: float = 60) -> str:
        """Click a library row and wait until that tune is engraved (or a reason is shown).

        Returns "engraved", "failed: <the reason shown>", "silent" (neither in time) or
        "unchanged" (the row was already the current one: nothing new to show).
        """
        panel, view = self.window.library_panel, self.window.tune_view
        table, model = panel.table, panel.model
        while model.rowCount() <= row and (model.canFetchMore() or model.paging):
            model.fetchMore()               # read on the library's thread: wait for the rows
            wait_until(lambda: not model.paging, 10)
        index = model.index(row, 1)
        if table.currentIndex().row() == row:
            return "unchanged"
        table.scrollTo(index)
        score, roll = view.score, view.roll
        # The views wait for typing to pause (a debounce timer) before drawing, and the
        # score engraves on a worker: a result that lands before the timer fires belongs to
        # the tune shown before. Only results after the timer's timeout are this tune's.
        outcome = SignalCatcher(score._timer.timeout, score.engraved, score.failed)
        laid = SignalCatcher(roll.laidOut, roll.failed)
        title = model.data(index)
        self.log(f"click row {row}: {title}")
        QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, table.visualRect(index).center())

        def settled():
            kinds = [which for which, _ in outcome.calls]
            return 0 in kinds and kinds[-1] != 0

        got = wait_until(settled, timeout_s)
        laid.wait(5)
        outcome.close()
        laid.close()
        self.report.tunes_clicked += 1
        if not got:
            self.report.engrave_silent.append(f"row {row} {title}")
            return "silent"
        which, args = outcome.calls[-1]
        if which == 1:
            self.report.engraved += 1
            return "engraved"
        reason = score.error_text() or str(args[0])
        self.report.engrave_failed.append(f"row {row} {title}: {reason.splitlines()[0]}")
        return f"failed: {reason}"

    def score_drawn(self) -> bool:
        """The sheet music tab shows dark ink (note heads, staff lines) on white."""
        view = self.window.tune_view
        view.setCurrentIndex(0)
        image = view.score.viewport().grab().toImage()
        return any(image.pixelColor(x, y).lightness() < 100
                   for x in range(0, image.width(), 6) for y in range(0, image.height(), 6))

    # -- playing -----------------------------------------------------------------------
    def play(self, seconds: float, tab: int = 2) -> float:
        """Press Space with the piano roll (tab 2) or score (tab 0) shown; play, then pause.

        Returns the playback position reached, in seconds.
        """
        self.log(f"play {seconds} s on tab {tab}")
        transport, view = self.window.transport, self.window.tune_view
        view.setCurrentIndex(tab)
        positions = SignalCatcher(transport.position_changed, transport.status)
        self.window.activateWindow()
        self.press(Qt.Key.Key_Space)
        if not transport.is_playing():              # focus in a widget that eats Space
            transport.play_button.click()
        wait(int(seconds * 1000))
        followed = [args[0] for which, args in positions.calls if which == 0]
        refused = [args[0] for which, args in positions.calls
                   if which == 1 and args[0].startswith("Cannot play")]
        self.report.play_refused += refused[:1]
        reached = followed[-1] if followed else 0.0
        self.report.positions_followed += len(followed)
        self.report.seconds_played += seconds if followed else 0.0
        positions.close()
        if transport.is_playing():
            transport.play_button.click()
        return reached

    def seek(self, fraction: float) -> None:
        """Drag the position slider to a fraction of the tune."""
        slider = self.window.transport.slider
        slider.setSliderDown(True)
        slider.setSliderPosition(int(fraction * slider.maximum()))
        slider.setSliderDown(False)

    def toggle_loop(self) -> None:
        self.window.transport.loop.click()

    def set_instrument(self, index: int) -> str:
        combo = self.window.transport.instrument
        combo.setCurrentIndex(index % combo.count())
        return combo.currentText()

    def set_tempo(self, bpm: int) -> None:
        self.window.transport.tempo.setValue(bpm)

    def stop(self) -> None:
        self.window.transport.stop_button.click()

    # -- exporting ---------------------------------------------------------------------
    def export_all(self, folder: Path, timeout_s: float = 60) -> dict[str, int]:
        """Export the shown tune in every format through the Export menu; sizes by suffix."""
        transport = self.window.transport
        folder.mkdir(parents=True, exist_ok=True)
        sizes = {}
        for action in transport.export_button.menu().actions():
            suffix = action.data()
            target = folder / f"tune-{self.report.tunes_clicked}.{suffix}"
            transport.ask_export_path = lambda name, s, target=target: str(target)
            done = SignalCatcher(transport.export_finished, transport.export_failed)
            self.log(f"export .{suffix}")
            action.trigger()
            if not done.wait(timeout_s):
                self.report.problems.append(f"export .{suffix} did not finish")
            elif done.calls[0][0] == 1:
                self.report.problems.append(f"export .{suffix} failed: {done.calls[0][1][0]}")
            done.close()
            sizes[suffix] = target.stat().st_size if target.exists() else 0
        self.report.exports.update(sizes)
        return sizes

    # -- generating --------------------------------------------------------------------
    def choose_model(self, name: str) -> bool:
        combo = self.window.generate_panel.model
        index = combo.findText(name, Qt.MatchFlag.MatchStartsWith)
        if index >= 0:
            combo.setCurrentIndex(index)
        return index >= 0

    def generate(self, count: int, timeout_s: float = 300, **controls) -> int:
        """Set Variations (and any of key/meter/rhythm), press Ctrl+G, wait for the batch."""
        panel = self.window.generate_panel
        panel.count.setValue(count)
        for name, value in controls.items():
            getattr(panel, name).setCurrentText(value)
        finished = SignalCatcher(panel.generation_finished)
        self.log(f"generate {count} with {panel.model.currentText()}")
        self.press(Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
        if not finished.wait(timeout_s):
            self.report.problems.append(f"generation of {count} did not finish in {timeout_s} s")
            panel.cancel_button.click()
            finished.wait(30)
        made = finished.calls[0][1][0] if finished.calls else 0
        finished.close()
        self.report.tunes_generated += made
        return made

    # -- training ----------------------------------------------------------------------
    def train_and_stop(self, steps_before_stop: int = 5, data: str = "celtic",
                       fine_tune_from: str | None = None, timeout_s: float = 180) -> bool:
        """Start training (tiny preset, or fine-tuning a model), confirm, Stop after a few
        steps; True when the model trained so far was saved and the panel is idle again."""
        panel = self.window.train_panel
        form = panel.form
        form.data_choice.setCurrentIndex(form.data_choice.findData(data))
        if fine_tune_from:
            panel.refresh_models()
            form.finetune.click()
            form.base_model.setCurrentIndex(
                form.base_model.findText(fine_tune_from, Qt.MatchFlag.MatchStartsWith))
        else:
            form.scratch.click()
            form.preset.setCurrentText("tiny")
        form.budget_unit.setCurrentText("steps")
        form.budget_value.setValue(100000)
        saved = SignalCatcher(panel.model_saved)
        self.log(f"train ({fine_tune_from or 'tiny'}) and stop after {steps_before_stop} steps")
        panel.start_button.click()                 # the DialogWatcher presses Start training
        if not wait_until(lambda: panel.last_step >= steps_before_stop or panel.state == "idle",
                          timeout_s):
            self.report.problems.append(f"training made no {steps_before_stop} steps")
        self.log(f"stop training at step {panel.last_step}")
        panel.stop_button.click()
        ok = saved.wait(60) and wait_until(lambda: panel.state == "idle", 30)
        saved.close()
        if not ok:
            self.report.problems.append(f"training stop did not save (state {panel.state})")
        if fine_tune_from:
            self.report.fine_tunes += ok
        else:
            self.report.trainings += ok
        return ok

    # -- the demos --------------------------------------------------------------------
    def use_demos(self, text: str, cell_index: int = 0, retrain_s: float = 0.0,
                  timeout_s: float = 120) -> bool:
        """Open the Demos dock, type `text` in both demos and read the answers, choose a cell
        (its bundled models load), and retrain for `retrain_s` seconds then Stop (0: not)."""
        self.log(f"demos, cell {cell_index}")
        w = self.window
        w.demos_dock.raise_()
        if not wait_until(lambda: w.demos_panel is not None, 10):
            self.report.problems.append("the Demos panel did not appear")
            return False
        panel = w.demos_panel
        idle = lambda: panel.state == "idle"   # noqa: E731
        panel.cell.setCurrentIndex(cell_index % panel.cell.count())
        if not wait_until(lambda: idle() and len(panel.pairs) == 2, timeout_s):
            self.report.problems.append("the demo models did not load")
            return False
        answered = 0
        for tab, box, answer in ((0, panel.next_text, panel.next_top),
                                 (1, panel.mood_text, panel.mood_label)):
            panel.tabs.setCurrentIndex(tab)
            box.clear()
            QTest.keyClicks(box, text)
            answered += wait_until(lambda: answer.text() != "" and not panel._timer.isActive(), 10)
        if retrain_s:
            panel.retrain_button.click()
            wait_until(lambda: panel.progress.value() > 0, timeout_s)
            wait(int(retrain_s * 1000))
            panel.stop_button.click()
            if not wait_until(idle, timeout_s):
                self.report.problems.append("demo training did not stop")
            self.report.demo_trainings += 1
        self.report.demo_answers += answered
        return answered == 2

    # -- settings ----------------------------------------------------------------------
    def open_and_close_settings(self, theme: str = "light") -> bool:
        """File > Settings, change the theme, press OK; True when the window applied it."""
        self.log("settings")
        applied, results = [], []
        dialog = self.window.open_settings()
        dialog.applied.connect(lambda: applied.append(1))
        dialog.finished.connect(results.append)     # the dialog is deleted once closed
        wait(100)
        dialog.theme.setCurrentText(theme)
        dialog.threads.setValue(1)
        QTest.keyClick(dialog, Qt.Key.Key_Return)
        wait_until(lambda: bool(results), 5)
        return bool(applied) and results[0] == QDialog.DialogCode.Accepted.value

    # -- measuring ---------------------------------------------------------------------
    def jobs_idle(self) -> bool:
        """No background job of the window is running (load, export, generate, train)."""
        w = self.window
        jobs = [*w._jobs, *w.transport._jobs, w.generate_panel.job, w.train_panel.job,
                w.demos_panel and w.demos_panel.job]
        return all(j is None or j.thread is None or j.thread.isFinished() for j in jobs)
