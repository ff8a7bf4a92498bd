"""A person's session in the real window, about a minute long: the Celtic corpus and a folder
of tune books clicked through (each tune engraved or a reason shown), playing with the piano
roll and score following, seek, loop, instrument and tempo, every export format, a few
Generate batches, training started and stopped, a fine-tune, Settings, quit and reopen.

Units alone missed crashes that killed the window within seconds; this drives the whole
window the way people do (tests/ui/session.py). Timings are printed (run with -s), never
asserted; the asserts are what a person would notice: the window is alive, every tune shows
music or says why, files are written, jobs end and leave no threads behind.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ui.helpers import BOOK, tiny_model, write_book
from tests.ui.session import Session, sample_process, wait_until

TUNES_TO_CLICK = 30
THREAD_SLACK = 3     # Qt's and torch's pools may keep a thread or two parked


def log_step(message):
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def tune_books(folder):
    """A folder of two tune books, one in a sub-folder, as a person keeps them."""
    (folder / "reels").mkdir(parents=True)
    write_book(folder, "session.abc", BOOK)
    write_book(folder / "reels", "more.abc", BOOK.replace("The Kesh", "The Kesh Again"))
    return folder


@pytest.mark.slow
def test_a_scripted_session_in_the_real_window(qapp, tmp_path):
    models = tmp_path / "s" / "data" / "models"
    models.mkdir(parents=True)
    shutil.copy(tiny_model(), models / "tiny-reel.safetensors")
    session = Session(tmp_path / "s", log=log_step)
    report = session.report
    try:
        window = session.open_window()
        threads_at_start = sample_process()[1]
        click_through_corpus_and_books(session, tmp_path / "books")
        play_and_export(session, tmp_path / "exports")
        generate_batches(session)
        train_settings_and_demos(session)

        # jobs end and leave no threads behind; the app is alive and reported no error
        assert wait_until(session.jobs_idle, 60)
        assert wait_until(lambda: sample_process()[1] <= threads_at_start + THREAD_SLACK, 30), (
            threads_at_start, sample_process()[1])
        assert session.alive() and window.error_reporter.count == 0

        # quit and reopen on the same paths: the library is intact
        in_library = window.library.count()
        session.quit()
        again = session.open_window(warm_up=False)
        assert again.library.count() == in_library
        assert wait_until(lambda: again.tune_view.abc.strip() != "", 10)
    finally:
        session.finish()
        print_report(session)
    assert not report.problems, report.problems


def click_through_corpus_and_books(session, books):
    """The Celtic corpus clicked through from top to bottom, then a folder of tune books with
    every tune clicked."""
    report = session.report
    total = session.open_corpus("celtic")
    assert total > 4000
    for i in range(TUNES_TO_CLICK):
        session.click_row(i * (total - 1) // (TUNES_TO_CLICK - 1))
        assert session.alive()
    assert report.engraved >= report.tunes_clicked * 0.8, report.engrave_failed
    assert not report.engrave_silent, report.engrave_silent
    assert session.score_drawn()
    assert session.open_folder(tune_books(books)) == 6
    for row in range(session.rows()):
        assert session.click_row(row) in ("engraved", "unchanged")   # row 0 is shown


def play_and_export(session, exports):
    """Playing: piano roll, seek, loop, another instrument and tempo, then the score; every
    export format through the Export menu."""
    window = session.window
    session.set_instrument(1)
    reached = session.play(2.5, tab=2)
    assert reached > 0.5 and window.tune_view.roll.isVisible()
    session.seek(0.5)
    session.toggle_loop()
    session.set_instrument(3)
    session.set_tempo(150)
    session.play(2.0, tab=0)
    assert window.tune_view.score.current_note() is not None   # the score follows
    session.toggle_loop()
    session.stop()
    sizes = session.export_all(exports)
    assert sorted(sizes) == ["abc", "mid", "musicxml", "png", "svg", "wav"]
    assert all(size > 0 for size in sizes.values()), sizes


def generate_batches(session):
    """A few batches with the tiny model, one with the bundled model; every tune listed."""
    window, report = session.window, session.report
    session.choose_model("tiny-reel")
    for count in (4, 4, 6):
        assert session.generate(count) == count
    assert session.choose_model("ceol-celtic")
    assert session.generate(2, rhythm="jig") == 2
    listed = window.library_panel.count_label    # every tune of every batch is listed
    assert wait_until(lambda: listed.text() == f"{report.tunes_generated} tunes", 5), (
        listed.text())
    assert wait_until(lambda: window.tune_view.score.note_count() > 0, 30)


def train_settings_and_demos(session):
    """Train from scratch and stop, three times; fine-tune once; the settings; the Demos
    dock: type in both demos, choose another cell, retrain briefly and stop."""
    for _ in range(3):
        assert session.train_and_stop(steps_before_stop=3)
    assert session.train_and_stop(steps_before_stop=2, fine_tune_from="tiny-reel")
    assert session.open_and_close_settings(theme="light")
    assert session.use_demos("I grew up in France so I speak fluent")
    assert session.use_demos("The food was bad, not good at all", cell_index=1,
                             retrain_s=0.5)
    assert session.report.demo_answers == 4 and session.report.demo_trainings == 1


def print_report(session):
    report, (rss, threads) = session.report, sample_process()
    print(f"\nsession: {report.tunes_clicked} tunes clicked, {report.engraved} engraved, "
          f"{len(report.engrave_failed)} with a reason shown; {report.seconds_played:.1f} s "
          f"played ({report.positions_followed} positions); {report.tunes_generated} "
          f"generated; {report.trainings} trainings, {report.fine_tunes} fine-tune; "
          f"{report.demo_answers} demo answers; worst "
          f"GUI stall {session.stalls.worst * 1000:.0f} ms ({session.stalls.over_250ms} over "
          f"250 ms; worst steps {session.worst_stalls()}; stalled in "
          f"{session.stalls.top_stacks()}); RSS {rss:.0f} MiB, threads {threads}; "
          f"{len(session.dialogs.seen)} dialogs answered; problems {report.problems}")

DESCHEDULED_WORKER = """
import pathlib, sys, tempfile, time
from PySide6.QtCore import Qt
from app.settings import AppPaths, Settings
from app.ui.launch import create_window
from app.workers import Job
from tests.ui.session import wait

d = pathlib.Path(tempfile.mkdtemp())
app, window = create_window([], AppPaths(d, d / "logs"), Settings(d / "s.ini"))
def slow_exit():                 # the worker thread is descheduled right after `finished`
    time.sleep(0.5)
for _ in range(2):
    job = Job(lambda ctx: 1, name="open")
    job.finished.connect(slow_exit, Qt.ConnectionType.DirectConnection)
    window._run(job, "Opening...")
    del job                      # as after File > Open: only the window holds the job
    wait(1200)
print("alive", window.progress.isHidden())
window.shutdown()
"""


def test_a_finished_open_job_is_not_dropped_while_its_thread_still_runs():
    # The session found it: under load, opening a file or corpus aborted the app with
    # "QThread: Destroyed while thread 'open' is still running".
    out = subprocess.run([sys.executable, "-c", DESCHEDULED_WORKER], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[2],
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0 and out.stdout.split() == ["alive", "True"], out.stderr[-2000:]


def test_a_long_rhythm_field_does_not_squash_the_sheet_music(qapp, tmp_path):
    # The soak found it: generated tunes with R: fields like "e/l4f|fd ad2:" widened the
    # Rhythm filter, hence the Library dock, until the sheet music was a sliver.
    folder = tmp_path / "books"
    folder.mkdir()
    write_book(folder, "odd.abc", BOOK.replace("R:jig", "R:" + "e/l4f|fd ad2: " * 6))
    session = Session(tmp_path / "s")
    try:
        window = session.open_window(warm_up=False)
        assert session.open_folder(folder) == 3
        assert window.library_panel.rhythm.count() == 4
        wait_until(lambda: False, 0.3)
        assert window.tune_view.width() > window.width() // 3, (
            window.tune_view.width(), window.library_dock.width())
    finally:
        session.finish()


def test_the_piano_roll_lays_tunes_out_off_the_gui_thread(qtbot):
    # The session found the window frozen for 1-4 s on each click with the piano roll there:
    # music21 parsed and expanded the tune on the GUI thread. Now it runs in the "music21"
    # worker process (its objects stay out of the window's heap). The latest tune wins.
    import os

    from PySide6.QtCore import QTimer

    from app.music.isolate import shared
    from app.music.pianoroll import layout_abc
    from app.ui.widgets.piano_roll import PianoRoll

    roll = PianoRoll()
    qtbot.addWidget(roll)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    with qtbot.waitSignal(roll.laidOut, timeout=30000) as laid:
        roll.show_abc_now(BOOK.split("\n\n")[0])
        roll.show_abc_now(BOOK.split("\n\n")[1])
    timer.stop()
    assert ticks                                    # the event loop ran meanwhile
    worker = shared("music21").pid
    assert worker is not None and worker != os.getpid()
    assert laid.args[0] == len(roll.roll_layout().notes)
    qtbot.wait(300)
    assert roll.roll_layout().notes[0].pitch == layout_abc(BOOK.split("\n\n")[1]).notes[0].pitch


def test_the_gui_garbage_collector_freezes_what_imports_made_instead_of_collecting_it(qapp):
    # The soak found collections of the torch + music21 heap holding the GUI thread: about a
    # second for each full collection, 221 ms for the young generations while torch loaded on
    # the warm-up thread. Whatever is alive when modules were loaded is frozen instead.
    import sys

    from app.ui.launch import GarbageCollector

    class FakeGC:
        def __init__(self):
            self.calls = []

        def get_count(self):
            return (0, 0, 11)

        def get_threshold(self):
            return (700, 10, 10)

        def collect(self, generation):
            self.calls.append(("collect", generation))

        def freeze(self):
            self.calls.append(("freeze",))

    collector = GarbageCollector(qapp, interval_ms=10**6)
    collector.timer.stop()
    collector._gc = fake = FakeGC()
    collector.check()                       # nothing imported since: a full collection
    sys.modules["ceol_test_module_loaded_late"] = sys   # a module loads ...
    try:
        collector.check()                   # ... so freeze, do not collect
        collector.check()                   # and collect again once imports stop
    finally:
        del sys.modules["ceol_test_module_loaded_late"]
    assert fake.calls == [("collect", 2), ("freeze",), ("collect", 2)]
