"""Benchmarks of the desktop app (issue 6), and the screenshots in docs/screenshots/app_*.png.

    python benchmarks/bench_app.py               all measurements, printed as a table
    python benchmarks/bench_app.py --screenshots  also save the four screenshots

Everything runs offscreen on a temporary data folder and settings file (never the user's).
Measurements: time from starting `python main.py` until the window is visible; GUI timer
lateness (a 10 ms QTimer probe) while the Train panel trains on all cores; time from pressing
Generate (8 variations) to the first tune stored, shown and rendered to MIDI; search time in
a 50,000-tune library (the list read on the library's thread: the time until it is shown, and
the GUI thread's share of it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
SHOTS = ROOT / "docs" / "screenshots"


def window_visible_seconds(runs: int = 5) -> list[float]:
    """Wall time from spawning `python main.py` to the window being shown (torch not loaded).

    The app logs "window visible" once its event loop has painted the window; the log file in
    the temporary data folder is polled every 5 ms, then the app is stopped.
    """
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, CEOL_DATA_DIR=tmp, XDG_CONFIG_HOME=tmp)
            log = Path(tmp) / "logs" / "ceol.log"
            start = time.perf_counter()
            proc = subprocess.Popen([sys.executable, str(ROOT / "main.py")], env=env, cwd=ROOT)
            try:
                while proc.poll() is None and time.perf_counter() - start < 60:
                    text = log.read_text(errors="replace") if log.exists() else ""
                    if "window visible" in text:
                        times.append(time.perf_counter() - start)
                        assert "torch loaded: False" in text, text
                        break
                    time.sleep(0.005)
            finally:
                proc.terminate()
                proc.wait(30)
    return times


def close(window) -> None:
    """Shut a window down and free it on this (the GUI) thread."""
    import gc

    from PySide6.QtWidgets import QApplication

    window.shutdown()
    window.deleteLater()
    QApplication.processEvents()
    gc.collect()


def make_window(tmp: Path):
    from PySide6.QtWidgets import QApplication

    from app.settings import AppPaths, Settings
    from app.ui.launch import create_window

    _, window = create_window([], AppPaths(tmp / "data", tmp / "logs"), Settings(tmp / "s.ini"))
    window.error_reporter.uninstall()   # let a failing benchmark print its traceback
    window.resize(1280, 800)
    window.show()
    QApplication.processEvents()
    return window


def wait(predicate, timeout: float = 60.0) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish in time")
        QApplication.processEvents()
        time.sleep(0.005)


def load_celtic(window) -> None:
    window.load_corpus("celtic")
    wait(lambda: window.library.count() > 1000)
    wait(lambda: not window._jobs)


class LatenessProbe:
    """A 10 ms QTimer that records how late each tick arrives."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.interval = interval_ms / 1000
        self.late: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.last = time.perf_counter()
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.late.append(max(0.0, now - self.last - self.interval))
        self.last = now

    def stop(self) -> dict:
        self.timer.stop()
        late = sorted(self.late)
        return {"ticks": len(late), "p99_ms": 1000 * late[int(0.99 * (len(late) - 1))],
                "worst_ms": 1000 * late[-1], "median_ms": 1000 * statistics.median(late)}


def training_lateness(tmp: Path, seconds: float, preset: str, shot: bool) -> dict:
    window = make_window(tmp)
    load_celtic(window)
    panel = window.train_panel
    window.train_dock.raise_()
    panel.form.data_choice.setCurrentIndex(panel.form.data_choice.findData("celtic"))
    panel.form.preset.setCurrentText(preset)
    panel.form.budget_unit.setCurrentText("minutes")
    panel.form.budget_value.setValue(seconds / 60 + 0.5)
    panel.confirm = lambda data: True   # the data summary is confirmed, as a user would
    panel.start()
    wait(lambda: panel.state == "training", 60)
    wait(lambda: panel.last_step > 0, 120)
    probe = LatenessProbe()
    end = time.monotonic() + seconds
    wait(lambda: time.monotonic() > end, seconds + 30)
    result = probe.stop()
    result.update(steps=panel.last_step, chars_per_second=panel.last_progress.chars_per_second)
    if shot:
        window.grab().save(str(SHOTS / "app_training.png"))
    panel.stop()
    wait(lambda: panel.state == "idle", 30)
    result["stop_latency_s"] = panel.stop_latency
    close(window)
    return result


def first_variation_seconds(tmp: Path, model: Path, shot: bool, count: int = 8,
                            temperature: float = 0.8, warm: bool = False) -> float:
    """Seconds from Generate to the first variation stored, shown and rendered to MIDI.

    warm=False presses Generate the moment the window is up (the first generation then also
    imports torch and music21 and reads the model, if nothing before did); warm=True first
    lets the window's start-up warm-up finish, as it does while a user picks settings.
    """
    window = make_window(tmp)
    window.generate_panel.add_model(str(model))
    if warm:
        t0 = time.perf_counter()
        window.warm_up()
        window.warm_up_job.thread.wait(60_000)
        print(f"start-up warm-up: {time.perf_counter() - t0:.2f} s")
    gen = window.generate_panel
    gen.count.setValue(count)
    gen.seed.setText("5")
    gen.temperature.setValue(temperature)
    gen.key.setCurrentText("D")
    gen.meter.setCurrentText("4/4")
    gen.length.setValue(600)
    first = []
    gen.tune_generated.connect(lambda item: first.append(time.perf_counter()))
    start = time.perf_counter()
    window.generate()
    wait(lambda: first, 60)
    wait(lambda: window.tune_view.tune_id and window.transport.play_button.isEnabled())
    window.transport.playable()      # rendered to MIDI: what pressing play needs first
    elapsed = time.perf_counter() - start
    wait(lambda: gen.job is None, 60)
    if shot:
        window.tune_view.setCurrentIndex(0)
        wait(lambda: window.tune_view.score.note_count() > 0
             if hasattr(window.tune_view.score, "note_count") else True, 20)
        window.grab().save(str(SHOTS / "app_generated.png"))
    close(window)
    return elapsed


def library_search_ms(tmp: Path, n: int = 50_000) -> dict:
    from app.library import Library
    from app.ui.library_panel import LibraryPanel
    from app.ui.library_worker import LibraryWorker

    library = Library(tmp / "big.db")
    keys, meters, rhythms = ["D", "G", "A", "Em", "Am"], ["4/4", "6/8", "3/4"], \
        ["reel", "jig", "waltz", "hornpipe"]
    abcs = [f"X:{i}\nT:Tune {i} of the {['glen', 'hill', 'shore'][i % 3]}\n"
            f"R:{rhythms[i % 4]}\nM:{meters[i % 3]}\nL:1/8\nK:{keys[i % 5]}\nABcd efga|\n"
            for i in range(n)]
    t0 = time.perf_counter()
    library.add_tunes(abcs, source_kind="corpus", source="bench")
    insert_s = time.perf_counter() - t0
    worker = LibraryWorker(tmp / "big.db")
    shown = []
    t0 = time.perf_counter()
    panel = LibraryPanel(library, worker)
    panel.view_shown.connect(shown.append)
    wait(lambda: shown)
    open_ms = 1000 * (time.perf_counter() - t0)
    timings, gui = [], []

    def search(change) -> None:
        change()
        shown.clear()
        t0 = time.perf_counter()
        panel.apply_filters()
        gui.append(1000 * (time.perf_counter() - t0))
        wait(lambda: shown)
        timings.append(1000 * (time.perf_counter() - t0))

    for text in ["glen", "Tune 4999", "shore", "zzz", "of the", "1"]:
        search(lambda: panel.search.setText(text))
    panel.search.setText("")
    search(lambda: panel.rhythm.setCurrentIndex(panel.rhythm.findData("jig")))
    panel.shutdown()
    worker.close()
    library.close()
    return {"tunes": n, "insert_s": insert_s, "panel_open_ms": open_ms,
            "search_median_ms": statistics.median(timings), "search_worst_ms": max(timings),
            "search_gui_thread_worst_ms": max(gui)}


def screenshots_of_library_and_settings(tmp: Path) -> None:
    window = make_window(tmp)
    load_celtic(window)
    panel = window.library_panel
    panel.search.setText("")
    shown = []
    panel.view_shown.connect(shown.append)
    panel.show_source("corpus", "celtic")
    wait(lambda: shown)
    panel.table.selectRow(5)
    score = window.tune_view.score
    wait(lambda: score.note_count() > 0 if hasattr(score, "note_count") else True, 20)
    window.grab().save(str(SHOTS / "app_library.png"))
    dialog = window.open_settings()
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    dialog.grab().save(str(SHOTS / "app_settings.png"))
    dialog.reject()
    close(window)


def bench_model(tmp: Path) -> Path:
    """The bundled model when there is one, else a laptop-sized model after a few steps."""
    bundled = sorted((ROOT / "resources" / "models").glob("*.safetensors"))
    if bundled:
        return bundled[0]
    from dataclasses import replace

    from app.music.corpus import load_corpus
    from app.music.normalize import corpus_text
    from model.config import LAPTOP
    from model.train import train

    path = tmp / "laptop-sized.safetensors"
    text = corpus_text(load_corpus(["celtic"]).tunes[:300])
    train(replace(LAPTOP.train, steps=20, minutes=None, eval_interval=20, out_path=str(path)),
          (text, text[:5000]), model_config=LAPTOP.model)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screenshots", action="store_true")
    parser.add_argument("--train-seconds", type=float, default=30)
    parser.add_argument("--preset", default="laptop")
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    SHOTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ceol-bench-"))
    try:
        visible = window_visible_seconds()
        print(f"window visible after `python main.py`: median {statistics.median(visible):.3f} s,"
              f" worst {max(visible):.3f} s (torch not loaded)")
        search = library_search_ms(tmp / "search")
        print("library: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in search.items()))
        if args.screenshots:
            screenshots_of_library_and_settings(tmp / "shots")
        model = bench_model(tmp)
        first = first_variation_seconds(tmp / "gen", model, False)
        print(f"8 variations with {model.name}, Generate pressed as the window opens: "
              f"first playable after {first:.3f} s")
        for run in range(3):
            first = first_variation_seconds(tmp / f"gen{run}", model, args.screenshots and run == 2,
                                            warm=True)
            print(f"8 variations with {model.name}, after the start-up warm-up (run {run + 1}): "
                  f"first playable after {first:.3f} s")
        late = training_lateness(tmp / "train", args.train_seconds, args.preset, args.screenshots)
        print("GUI timer lateness while training: " + ", ".join(
            f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in late.items()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
