"""The main window: opening books and bad files, showing tunes, exporting, restoring the
layout and library after a restart, and surviving an exception inside a slot."""

import subprocess
import sys

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDockWidget

from app.library import Query
from tests.ui.helpers import close_window, make_window, write_book


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    yield w
    close_window(w)


def open_and_wait(qtbot, window, paths):
    with qtbot.waitSignal(window.tunes_loaded, timeout=20000) as loaded:
        window.open_paths([str(p) for p in paths])
    return loaded.args


def test_window_appears_before_torch_and_music21():
    code = ("import sys, tempfile, pathlib\n"
            "from app.settings import AppPaths, Settings\n"
            "from app.ui.launch import create_window\n"
            "d = pathlib.Path(tempfile.mkdtemp())\n"
            "app, w = create_window([], AppPaths(d, d / 'logs'), Settings(d / 's.ini'))\n"
            "w.show(); app.processEvents()\n"
            "print(w.isVisible(), w.windowTitle(), 'torch' in sys.modules, "
            "'music21' in sys.modules)\n"
            "w.shutdown()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={"QT_QPA_PLATFORM": "offscreen", **__import__("os").environ})
    assert out.stdout.split() == ["True", "Ceol", "False", "False"], out.stderr


def test_open_book_lists_tunes_and_shows_the_selected_one(qtbot, window, tmp_path):
    book = write_book(tmp_path)
    assert open_and_wait(qtbot, window, [book]) == [str(book), 3]
    panel = window.library_panel
    assert panel.model.rowCount() == 3
    assert panel.count_label.text() == "3 tunes"
    panel.table.selectRow(1)
    assert "T:The Silver Spear" in window.tune_view.editor.toPlainText()
    assert window.windowTitle() == "Ceol — The Silver Spear"
    qtbot.waitUntil(lambda: window.tune_view.score.note_count() > 0, timeout=30000)  # engraved
    assert window.transport.export_button.isEnabled()
    # reopening the same book replaces its tunes instead of doubling them
    open_and_wait(qtbot, window, [book])
    assert window.library.count(Query(source_kind="file")) == 3
    assert str(book) in window.settings.get(__import__("app.settings").settings.RECENT_FILES)


def test_files_on_the_command_line_open(qtbot, tmp_path):
    from app.settings import AppPaths, Settings
    from app.ui.launch import create_window

    book = write_book(tmp_path)
    _, window = create_window([str(book)], AppPaths(tmp_path / "d", tmp_path / "l"),
                              Settings(tmp_path / "s.ini"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.library.count() == 3, timeout=20000)
    close_window(window)


def drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


@pytest.mark.parametrize("name, data, message", [
    ("manual.pdf", b"%PDF-1.4\n...", "not an ABC or MIDI file"),
    ("broken.mid", b"MThd\x00\x00\x00\x06\x00\x01\x00", "MIDI"),
    ("huge.abc", None, "Ceol reads ABC files of at most"),
])
def test_bad_files_give_a_message_and_keep_the_session(qtbot, window, tmp_path, name, data,
                                                       message):
    book = write_book(tmp_path)
    open_and_wait(qtbot, window, [book])
    path = tmp_path / name
    if data is None:
        with open(path, "wb") as f:      # 200 MB, sparse: refused by size, never read
            f.truncate(200 * 1024 * 1024)
    else:
        path.write_bytes(data)
    with qtbot.waitSignal(window.load_failed, timeout=20000) as failed:
        drop(window, [path])
    assert name in failed.args[0] and message in failed.args[0]
    assert window.library.count() == 3
    assert window.statusBar().currentMessage() == failed.args[0]
    open_and_wait(qtbot, window, [book])     # still works


def test_midi_file_is_transcribed_to_abc(qtbot, window, tmp_path):
    from app.music.abc_midi import abc_to_midi

    midi = tmp_path / "tune.mid"
    midi.write_bytes(abc_to_midi("X:1\nT:Scale\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n"))
    pytest.importorskip("app.music.midi_to_abc")
    open_and_wait(qtbot, window, [midi])
    assert "K:" in window.tune_view.editor.toPlainText()


def test_restart_restores_library_layout_and_selection(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, [write_book(tmp_path)])
    tune_id = window.library.search(Query(text="Kesh"))[0][0]
    window.library_panel.select_tune(tune_id)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.library_dock)
    window.demos_dock.hide()
    window.transport.tempo.setValue(140)
    close_window(window)

    again = make_window(qtbot, tmp_path)
    assert again.dockWidgetArea(again.library_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert not again.demos_dock.isVisible()
    assert again.library.count() == 3
    assert again.transport.tempo.value() == 140
    qtbot.waitUntil(lambda: again.windowTitle() == "Ceol — The Kesh")
    close_window(again)


def test_export_every_format(qtbot, window, tmp_path):
    pytest.importorskip("app.music.convert")
    open_and_wait(qtbot, window, [write_book(tmp_path)])
    window.library_panel.table.selectRow(0)
    out = tmp_path / "out"
    out.mkdir()
    for suffix in ("mid", "wav", "abc", "musicxml", "svg", "png"):
        target = out / f"kesh.{suffix}"
        with qtbot.waitSignals([window.transport.export_finished], timeout=30000,
                               raising=False) as done:
            job = window.transport.export_to(target)
        assert job.error is None, job.error
        assert done.signal_triggered and target.stat().st_size > 0, suffix
    assert "T:The Kesh" in (out / "kesh.abc").read_text()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_shows_one_dialog_and_the_app_goes_on(qtbot, window, tmp_path):
    def broken_slot():
        raise RuntimeError("boom")

    with qtbot.waitSignal(window.error_reporter.shown, timeout=5000) as shown:
        QTimer.singleShot(0, broken_slot)
        QTimer.singleShot(0, broken_slot)       # a second error while the dialog is open
    assert shown.args == ["RuntimeError: boom"]
    assert window.error_reporter.count == 2
    dialog = window.error_reporter.dialog
    assert dialog is not None and dialog.isVisible()
    log_text = (tmp_path / "logs" / "ceol.log").read_text()
    assert "RuntimeError: boom" in log_text
    dialog.accept()
    open_and_wait(qtbot, window, [write_book(tmp_path)])


def test_shortcuts_and_tooltips(window):
    shortcuts = {a.shortcut().toString() for a in window.findChildren(type(window.play_action))}
    assert {"Space", "Ctrl+G", "Ctrl+O", "Ctrl+E", "Ctrl+F"} <= shortcuts
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit

    controls = [w for cls in (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit)
                for w in window.findChildren(cls)
                if not isinstance(w.parent(), (QDockWidget,)) and w.isVisibleTo(window)
                and w.objectName() not in ("qt_spinbox_lineedit",)
                and not isinstance(w.parent(), (QAbstractSpinBox, QComboBox))]
    missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()}" for w in controls
               if not w.toolTip()]
    assert not missing


def test_editing_the_abc_is_kept_and_problems_are_underlined(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [write_book(tmp_path)])
    window.library_panel.table.selectRow(0)
    view = window.tune_view
    tune_id = view.tune_id
    text = view.editor.toPlainText().replace("K:G", "K:Gxyz")
    with qtbot.waitSignal(view.problems_changed, timeout=5000) as problems:
        view.editor.setPlainText(text)
    assert problems.args[0] >= 1 and view.highlighter.problem_count() == problems.args[0]
    key_line = text.splitlines().index("K:Gxyz")
    assert any(view.highlighter.problem_at(key_line, c) for c in range(8))   # the tooltip text
    qtbot.waitUntil(lambda: window.library.get(tune_id).abc == text)   # written on its thread


def test_about_box_names_the_versions(window):
    from app.ui.about import library_versions

    box = window.show_about()
    assert set(library_versions()) >= {"Ceol", "Qt", "torch", "music21"}
    assert "music21" in box.text() and "torch" in box.text()
    box.close()


def test_closed_dialogs_do_not_stay_children_of_the_window(qtbot, window):
    from PySide6.QtWidgets import QDialog

    from app.ui.settings_dialog import SettingsDialog

    for _ in range(3):
        dialog = window.open_settings()
        dialog.reject()
        box = window.show_about()
        box.done(0)
        window.opener._report_load_error("tune.abc: not a tune book")
    boxes = [b for b in window.findChildren(QDialog) if b.windowTitle() == "Cannot open"]
    for b in boxes:
        b.done(0)
    qtbot.waitUntil(lambda: not window.findChildren(SettingsDialog) and not [
        d for d in window.findChildren(QDialog) if d.windowTitle() in ("About Ceol", "Cannot open")],
        timeout=5000)


def test_a_missing_midi_port_gives_a_message_and_playback_goes_on(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [write_book(tmp_path)])
    window.library_panel.table.selectRow(0)
    transport = window.transport
    transport.apply_settings("", "", "No Such Synth")
    with qtbot.waitSignal(transport.status, timeout=10000,
                          check_params_cb=lambda m: "MIDI" in m) as status:
        transport.toggle_play()
    assert "no MIDI output ports" in status.args[0] or "No Such Synth" in status.args[0]
    transport.stop()
    assert not transport.is_playing() and transport.play_button.isEnabled()


def test_closing_hides_the_window_before_waiting_for_jobs_to_end(qtbot, tmp_path):
    # The warm-up cannot be interrupted mid-import: closing right after start kept a frozen
    # window on screen for seconds. Now it disappears at once and the jobs wind down unseen.
    import threading

    from app.workers import Job, start_job

    window = make_window(qtbot, tmp_path)
    seen = []

    def slow_to_stop(ctx):
        ctx.stop.wait(10)
        threading.Event().wait(0.3)        # still busy after being told to stop
        seen.append(window.isVisible())    # while the GUI thread waits for this job

    job = Job(slow_to_stop, name="slow")
    window._jobs.add(job)
    start_job(job)
    window.error_reporter.uninstall()
    window.close()
    assert seen == [False]


def test_the_demos_dock_builds_its_panel_when_first_shown_and_keeps_its_state(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.demos_panel is None            # nothing loaded at start-up
    window.demos_dock.raise_()
    qtbot.waitUntil(lambda: window.demos_panel is not None, timeout=5000)
    panel = window.demos_panel
    assert window.demos_dock.widget() is panel
    qtbot.waitUntil(lambda: panel.state == "idle" and "nextword" in panel.pairs, timeout=60000)
    assert panel.next_top.text().count("<tr>") == 5    # the bundled model answers
    panel.tabs.setCurrentIndex(1)
    close_window(window)
    again = make_window(qtbot, tmp_path)
    again.demos_dock.raise_()
    qtbot.waitUntil(lambda: again.demos_panel is not None, timeout=5000)
    assert again.demos_panel.tabs.currentIndex() == 1
    close_window(again)


def test_a_big_book_is_stored_off_the_gui_thread_and_kept_whole(qtbot, tmp_path, monkeypatch):
    # Storing the 4,242 Celtic tunes on the GUI thread held it for 314 ms (the soak).
    import threading

    from app.library import Library
    from app.tune_files import LoadedFile

    calls, add_tunes = [], Library.add_tunes
    monkeypatch.setattr(Library, "add_tunes", lambda self, abcs, **kw: (
        calls.append((threading.current_thread(), len(abcs))), add_tunes(self, abcs, **kw))[1])
    window = make_window(qtbot, tmp_path)
    book = "\n".join(f"X:{i}\nT:Tune {i}\nM:4/4\nL:1/8\nK:D\nABcd efga|\n"
                     for i in range(1, 811))
    path = write_book(tmp_path, "big.abc", book)
    with qtbot.waitSignal(window.tunes_loaded, timeout=20000) as loaded:
        window.open_paths([str(path)])
    assert loaded.args[1] == 810 and window.library_panel.count_label.text() == "810 tunes"
    assert calls == [(window.library_worker.thread, 810)]      # one write, on its thread
    # closing while a book is still waiting to be stored keeps all of it
    abcs = [f"X:{i}\nT:Other {i}\nK:G\nGABc|\n" for i in range(401)]
    window.opener._store_loaded("file", LoadedFile(str(tmp_path / "other.abc"), abcs))
    close_window(window)
    assert [n for _, n in calls] == [810, 401]
    with Library(tmp_path / "data" / "library.db") as library:
        assert library.count() == 1211
