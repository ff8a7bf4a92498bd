"""The long scripted session (a soak): a person using Ceol for half an hour, measured.

Drives the real window with tests/ui/session.py, round after round until the time is up:
click through the Celtic corpus (every tune engraved or a reason shown), play with the piano
roll and the score following (seek, loop, instrument and tempo changes), export every format,
generate big batches, train from scratch and stop (up to twenty times), fine-tune, use the
Demos dock (type, change cell, retrain and stop), open Settings, quit and reopen on the same
paths. Every few seconds it writes resident memory,
OS threads and the worst GUI-timer gap since the last row to a CSV, and at the end draws the
memory curve as a PNG. Run it under Xvfb to see a real X window (screenshots with xwd):

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/soak.py --minutes 25 \
        --out runs/soak --plot docs/soak_memory.png --screenshots runs/soak/shots

Targets (issue 10): resident memory grows less than 10% after warm-up, no thread leak, no
crash, no GUI stall over 250 ms. Warm-up ends with the first round after which every kind of
step (click, play, export, generate, train, fine-tune, demos, settings) has run at least once
(rounds 0 and 1 with the default schedule): the first use of each feature loads code and
fills caches once, which is start-up cost, not growth. The summary also gives the growth
measured from the end of round 0 (`rss_growth_from_round0_pct`), for comparison with earlier runs.
"""

from __future__ import annotations

import argparse
import csv
import faulthandler
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIELDS = ("seconds", "rss_mib", "workers_rss_mib", "threads", "worst_gap_ms", "tunes_clicked", "tunes_generated",
          "trainings", "phase")


class Recorder:
    """A CSV row every `every_s` seconds (a GUI timer), flushed at once so a crash keeps it."""

    def __init__(self, session, path: Path, every_s: float) -> None:
        from PySide6.QtCore import QTimer

        self.session, self.start = session, time.monotonic()
        self.rows: list[dict] = []
        self.phase = "start"
        self.file = open(path, "w", newline="")
        self.writer = csv.DictWriter(self.file, FIELDS)
        self.writer.writeheader()
        self.timer = QTimer()
        self.timer.setInterval(int(every_s * 1000))
        self.timer.timeout.connect(self.sample)
        self.timer.start()

    def sample(self) -> dict:
        from tests.ui.session import sample_process, workers_rss

        rss, threads = sample_process()
        r = self.session.report
        row = {"seconds": round(time.monotonic() - self.start, 1), "rss_mib": round(rss, 1),
               "workers_rss_mib": round(workers_rss(), 1),
               "threads": threads,
               "worst_gap_ms": round(self.session.stalls.take_recent() * 1000, 1),
               "tunes_clicked": r.tunes_clicked, "tunes_generated": r.tunes_generated,
               "trainings": r.trainings, "phase": self.phase}
        self.rows.append(row)
        self.writer.writerow(row)
        self.file.flush()
        return row

    def close(self) -> None:
        self.timer.stop()
        self.file.close()


def screenshot(folder: Path | None, name: str, window) -> None:
    """The whole X screen (xwd) when there is one, else the window drawn by Qt."""
    if folder is None:
        return
    from tests.ui.session import wait

    wait(400)             # let the window paint what the last step changed
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    if os.environ.get("DISPLAY") and shutil.which("xwd") and shutil.which("convert"):
        # In the background: the X server hands over the screen without the app's help, and
        # waiting for convert here would itself stall the GUI being measured.
        subprocess.Popen(f"xwd -root -silent -display {os.environ['DISPLAY']} | convert xwd:- "
                         f"'{target}'", shell=True)
    elif window is not None:
        window.grab().save(str(target))


def plot(rows: list[dict], warm_up_s: float, path: Path) -> None:
    """Resident memory and threads over time (matplotlib; QPainter when it is missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    minutes = [r["seconds"] / 60 for r in rows]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _plot_qt(rows, path)
    fig, ax = plt.subplots(figsize=(9, 5.2), dpi=110)
    ax.plot(minutes, [r["rss_mib"] for r in rows], color="#1f5fa8",
            label="resident memory, window process")
    ax.plot(minutes, [r["rss_mib"] + r.get("workers_rss_mib", 0) for r in rows],
            color="#a83a1f", label="with its worker processes (engraver, music21)")
    ax.axvline(warm_up_s / 60, color="#999999", linestyle="--", label="end of warm-up")
    ax.set_xlabel("minutes")
    ax.set_ylabel("MiB")
    twin = ax.twinx()
    twin.plot(minutes, [r["threads"] for r in rows], color="#c46a00", alpha=0.6,
              label="OS threads")
    twin.set_ylabel("threads")
    lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    # below the axes, where it covers no curve
    ax.legend(lines, [ln.get_label() for ln in lines], loc="upper center",
              bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize="small", frameon=False)
    ax.set_title("Ceol soak: a scripted session in the real window")
    fig.tight_layout()
    fig.savefig(path)


def _plot_qt(rows: list[dict], path: Path) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor, QImage, QPainter, QPen

    image = QImage(900, 450, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    top = max(r["rss_mib"] for r in rows) * 1.1
    end = max(r["seconds"] for r in rows) or 1
    painter = QPainter(image)
    painter.setPen(QPen(QColor("#1f5fa8"), 2))
    points = [QPointF(50 + 820 * r["seconds"] / end, 420 - 380 * r["rss_mib"] / top) for r in rows]
    for a, b in zip(points, points[1:]):
        painter.drawLine(a, b)
    painter.setPen(QColor("black"))
    painter.drawText(10, 20, f"resident memory, MiB (top {top:.0f}) over {end / 60:.1f} min")
    painter.end()
    image.save(str(path))


def make_folder_of_books(folder: Path) -> Path:
    from tests.ui.helpers import BOOK, write_book

    (folder / "more").mkdir(parents=True, exist_ok=True)
    write_book(folder, "session.abc", BOOK)
    write_book(folder / "more", "book2.abc", BOOK.replace("The Kesh", "The Kesh (2)"))
    return folder


# Every kind of step a round can take; warm-up lasts until each has run once.
STEP_KINDS = frozenset({"click tunes", "play", "export", "generate", "train and stop",
                        "fine-tune", "demos", "settings"})


class Soak:
    """The rounds of the long session."""

    def __init__(self, args) -> None:
        from tests.ui.helpers import tiny_model
        from tests.ui.session import Session

        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.deadline = time.monotonic() + args.minutes * 60
        root = Path(tempfile.mkdtemp(prefix="ceol-soak-"))
        models = root / "data" / "models"
        models.mkdir(parents=True)
        shutil.copy(tiny_model(), models / "tiny-reel.safetensors")
        self.books = make_folder_of_books(root / "books")
        self.session = Session(root, log=self.log)
        self.log_file = open(self.out / "soak.log", "w")
        self.row = 0
        self.round = 0
        self.kinds_done: set[str] = set()
        self.warm_up_rounds = 0
        self.shots = Path(args.screenshots) if args.screenshots else None

    def log(self, message: str) -> None:
        self.log_file.write(f"{time.strftime('%H:%M:%S')} {message}\n")
        self.log_file.flush()

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def phase(self, name: str) -> None:
        self.recorder.phase = name
        kind = name.split(": ", 1)[-1]
        if kind in STEP_KINDS and kind not in self.kinds_done:
            self.kinds_done.add(kind)
            self.warm_up_rounds = self.round + 1
        self.log(f"== {name}")

    def run(self) -> dict:
        s = self.session
        if self.args.stall_dumps:
            self._start_stall_sampler()
        s.open_window()
        self.recorder = Recorder(s, self.out / "soak.csv", self.args.sample_every)
        self.phase("corpus")
        self.total = s.open_corpus("celtic")
        s.open_folder(self.books)
        s.open_corpus("celtic")
        marks = self._rounds()
        self.phase("end")
        self._settle()
        end = self.recorder.sample()
        alive = s.alive()
        errors = s.window.error_reporter.count if s.window else -1
        screenshot(self.shots, "zz-end", s.window)
        s.finish()
        self.recorder.close()
        summary = self._summary(marks, end, alive, errors)
        plot(self.recorder.rows, marks["warm_up_s"], Path(self.args.plot))
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1))
        return summary

    def _rounds(self) -> dict:
        """Run rounds until the time is up; return the readings taken after round 0 and after
        warm-up (the first round by whose end every kind of step had run once)."""
        marks: dict = {"warm_up_s": None}
        while self.time_left() > 0:
            self._trace_memory()
            self.one_round()
            self.round += 1
            warm = self.kinds_done >= STEP_KINDS
            if "round0" not in marks or (marks["warm_up_s"] is None and warm):
                self._settle()
                row = self.recorder.sample()
                marks.setdefault("round0", row)
                if warm:
                    marks["warm_up_s"], marks["warm"] = row["seconds"], row
        if marks["warm_up_s"] is None:
            raise SystemExit("the soak ended before every kind of step had run once: give it "
                             "more --minutes")
        return marks

    def _summary(self, marks: dict, end: dict, alive: bool, errors: int) -> dict:
        s, rows, warm = self.session, self.recorder.rows, marks["warm"]
        after = [r for r in rows if r["seconds"] >= marks["warm_up_s"]]
        top = max(r["rss_mib"] for r in after)
        total_warm = warm["rss_mib"] + warm["workers_rss_mib"]
        total_end = end["rss_mib"] + end["workers_rss_mib"]

        def pct(now: float, then: float) -> float:
            return round(100 * (now / then - 1), 1)

        return {
            "minutes": round(end["seconds"] / 60, 1), "rounds": self.round,
            "tunes_clicked": s.report.tunes_clicked, "engraved": s.report.engraved,
            "engrave_failed": len(s.report.engrave_failed),
            "engrave_silent": s.report.engrave_silent,
            "seconds_played": round(s.report.seconds_played),
            "play_refused": len(s.report.play_refused),
            "play_refused_first": s.report.play_refused[:10],
            "tunes_generated": s.report.tunes_generated, "trainings": s.report.trainings,
            "fine_tunes": s.report.fine_tunes, "exports": s.report.exports,
            "rss_after_warm_up_mib": warm["rss_mib"], "rss_end_mib": end["rss_mib"],
            "rss_max_after_warm_up_mib": top,
            "rss_growth_pct": pct(end["rss_mib"], warm["rss_mib"]),
            "rss_after_round0_mib": marks["round0"]["rss_mib"],
            "rss_growth_from_round0_pct": pct(end["rss_mib"], marks["round0"]["rss_mib"]),
            "warm_up_rounds": self.warm_up_rounds,
            "rss_max_growth_pct": pct(top, warm["rss_mib"]),
            "workers_rss_end_mib": end["workers_rss_mib"],
            "total_rss_after_warm_up_mib": total_warm, "total_rss_end_mib": total_end,
            "total_rss_growth_pct": pct(total_end, total_warm),
            "threads_start": rows[0]["threads"], "threads_after_warm_up": warm["threads"],
            "threads_end": end["threads"],
            "worst_gui_stall_ms": round(s.stalls.worst * 1000),
            "stalls_over_250ms": s.stalls.over_250ms, "worst_steps_ms": s.worst_stalls(8),
            "window_construction_ms": s.report.window_construction_ms,
            "closing_ms": s.report.closing_ms,
            "demo_answers": s.report.demo_answers, "demo_trainings": s.report.demo_trainings,
            "stalled_in": s.stalls.top_stacks(10), "window_alive_at_end": alive,
            "unexpected_error_dialogs": errors, "dialogs_answered": len(s.dialogs.seen),
            "problems": s.report.problems, "engrave_failures": s.report.engrave_failed[:50],
        }

    def _trace_memory(self) -> None:
        """Start tracemalloc at the chosen round; after each later round, settle, collect and
        dump what is still allocated since then (the growth, with the code that made it)."""
        import gc
        import tracemalloc

        start = self.args.trace_memory_from_round
        if start < 0 or self.round < start:
            return
        if self.round == start:
            self._settle()
            gc.collect()
            tracemalloc.start(8)
            self.log(f"tracemalloc started before round {self.round}")
            return
        self._settle()
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
        path = self.out / f"memory-r{self.round - 1}.snapshot"
        snapshot.dump(str(path))
        self.log(f"tracemalloc snapshot after round {self.round - 1}: {path.name}, "
                 f"{tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB traced")

    def _start_stall_sampler(self) -> None:
        ticks = self.out / "ticks.bin"
        self.session.stalls.publish_ticks(ticks)
        subprocess.Popen([sys.executable, str(Path(__file__).with_name("stall_sampler.py")),
                          "--pid", str(os.getpid()), "--ticks", str(ticks),
                          "--out", str(self.out / "stall_dumps.txt")])

    def _settle(self) -> None:
        from tests.ui.session import wait_until

        wait_until(self.session.jobs_idle, 120)
        wait_until(lambda: False, 5)

    def one_round(self) -> None:
        n = self.round
        self._click_tunes(n)
        if self.time_left() < 0:
            return
        self._play(n)
        if n % 3 == 0:
            self.phase(f"round {n}: export")
            self.session.export_all(self.out / "exports")
        self._generate(n)
        self._train(n)
        self._demos_settings_reopen(n)

    def _click_tunes(self, n: int) -> None:
        s = self.session
        self.phase(f"round {n}: click tunes")
        s.open_corpus("celtic")
        for i in range(self.args.tunes_per_round):
            if self.time_left() < 0:
                return
            self._next_tune()
            if i == 2 and n < 3:
                screenshot(self.shots, f"r{n}-score", s.window)

    def _next_tune(self) -> None:
        self.session.click_row(self.row % self.total)
        self.row += self.args.stride

    def _play(self, n: int) -> None:
        from tests.ui.session import wait

        s = self.session
        self.phase(f"round {n}: play")
        for _ in range(20):              # a tune that plays (some say why they cannot)
            if s.play(1.5, tab=2) > 0:
                break
            self._next_tune()
        for k in range(self.args.play_seconds // 10):
            s.set_instrument(n + k)
            s.set_tempo(0 if k % 2 else 90 + 20 * k)
            if k == 1:
                s.seek(0.4)
                s.toggle_loop()
            s.play(10, tab=2 if k % 3 != 2 else 0)
            if k == 0 and n < 3:
                s.window.tune_view.setCurrentIndex(2)
                s.window.transport.play_button.click()
                wait(1500)
                screenshot(self.shots, f"r{n}-piano-roll", s.window)
                s.window.transport.play_button.click()
        if s.window.transport.loop.isChecked():
            s.toggle_loop()
        s.stop()

    def _generate(self, n: int) -> None:
        s = self.session
        self.phase(f"round {n}: generate")
        s.choose_model("tiny-reel")
        for _ in range(self.args.big_batches):
            s.generate(64)
        s.choose_model("ceol-celtic")
        s.generate(4, rhythm=("reel", "jig", "hornpipe", "polka")[n % 4])
        if n < 3:
            screenshot(self.shots, f"r{n}-generated", s.window)

    def _train(self, n: int) -> None:
        s = self.session
        if s.report.trainings < 20:
            self.phase(f"round {n}: train and stop")
            for _ in range(min(self.args.trainings_per_round, 20 - s.report.trainings)):
                s.train_and_stop(steps_before_stop=5)
            if n < 2:
                screenshot(self.shots, f"r{n}-training", s.window)
        if n % 4 == 1:
            self.phase(f"round {n}: fine-tune")
            s.train_and_stop(steps_before_stop=3, fine_tune_from="tiny-reel")

    def _demos_settings_reopen(self, n: int) -> None:
        s = self.session
        self.phase(f"round {n}: demos")
        s.use_demos(("I grew up in France so I speak fluent", "My sister said that",
                     "The food was good, not bad at all")[n % 3], cell_index=n,
                    retrain_s=1.0 if n % 2 else 0.0)
        if n < 2:
            screenshot(self.shots, f"r{n}-demos", s.window)
        if n % 3 == 1:
            self.phase(f"round {n}: settings")
            s.open_and_close_settings(theme=("light", "dark", "system")[n % 3])
        if n % 4 == 3:
            self.phase(f"round {n}: quit and reopen")
            self._settle()
            s.quit()
            s.open_window()

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=25)
    parser.add_argument("--out", default="runs/soak")
    parser.add_argument("--plot", default="docs/soak_memory.png")
    parser.add_argument("--screenshots", default="")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between rows")
    parser.add_argument("--tunes-per-round", type=int, default=60)
    parser.add_argument("--stride", type=int, default=1, help="rows between clicked tunes")
    parser.add_argument("--play-seconds", type=int, default=60)
    parser.add_argument("--big-batches", type=int, default=4, help="batches of 64 a round")
    parser.add_argument("--trainings-per-round", type=int, default=3)
    parser.add_argument("--trace-memory-from-round", type=int, default=-1, metavar="N",
                        help="start tracemalloc (8 frames) when round N starts and dump a "
                             "snapshot after every later round to OUT/memory-rN.snapshot "
                             "(see benchmarks/memory_growth.py); slows the rounds traced")
    parser.add_argument("--stall-dumps", action="store_true",
                        help="run benchmarks/stall_sampler.py beside the window (needs py-spy): "
                             "OUT/stall_dumps.txt gets a py-spy dump of every thread during "
                             "each GUI stall, the GIL holder marked")
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    crash_log = open(Path(args.out) / "faulthandler.txt", "w")
    faulthandler.enable(crash_log, all_threads=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY")
                          else "xcb")
    summary = Soak(args).run()
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0 if summary["window_alive_at_end"] and not summary["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
