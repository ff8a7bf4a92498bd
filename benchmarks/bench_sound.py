"""Sound and sight timings (issue 5): render, first buffer, engrave-and-show.

Run: `python3 benchmarks/bench_sound.py` (offscreen Qt; a few seconds). Prints a Markdown table
for benchmarks/RESULTS.md. Each number is the best of N runs in one process, after one warm-up
(music21, verovio and the SoundFont are loaded once, as in the running app); cold first-call
times are printed too, because a user meets them once per session.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REEL_32 = "X:1\nT:Thirty-Two Bars\nR:reel\nM:4/4\nL:1/8\nQ:1/4=200\nK:D\n" + "\n".join(
    ["DFAF dFAF|GBdB AFEF|DFAF dFAF|GBAG FDD2|", "fdfa fdfa|gbge fdfe|fdfa fdfa|gbag fdd2|"]
    * 4) + "\n"  # 32 bars, 256 eighths: 38.4 s at 200 quarter notes a minute


def best(func, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    from app.music.audio import RenderOptions

    rows = [_soundfont_row()]
    five_times = RenderOptions(instrument="fiddle", repeats=5)  # 5 x 38.4 s = 192 s
    rows += _render_rows(five_times)
    rows += _press_play_rows(five_times)
    rows += _engrave_rows()
    print("| Measurement | Ceol | Target |\n|---|---|---|")
    for name, value, target in rows:
        print(f"| {name} | {value * 1000:.0f} ms | {target} |")


def _soundfont_row() -> tuple[str, float, str]:
    """Time loading the bundled SoundFont, once (a running app loads it once)."""
    from app.music.synth import SoundFont, default_soundfont_path

    start = time.perf_counter()
    SoundFont.load(default_soundfont_path())
    return ("Load the bundled GM SoundFont (5.7 MB)", time.perf_counter() - start, "-")


def _render_rows(five_times) -> list[tuple[str, float, str]]:
    """Time rendering the tune to PCM: synth only, without reused voices, from ABC, and cold."""
    from app.music.audio import RenderOptions, prepare_abc, render_abc

    start = time.perf_counter()
    prepare_abc(REEL_32, five_times)  # cold: music21 import and first parse
    cold_parse = time.perf_counter() - start
    renderer = prepare_abc(REEL_32, five_times)
    seconds = renderer.frames / renderer.sample_rate
    fresh = [prepare_abc(REEL_32, five_times) for _ in range(3)]  # cold note caches
    synth_only = min(best(r.render, 1) for r in fresh)
    varied = prepare_abc(REEL_32, RenderOptions(instrument="fiddle", repeats=5, swing=0.6))
    no_reuse = best(lambda: type(varied)(
        [n.__class__(n.start, n.duration * (1 + i * 1e-4), n.pitch, n.velocity, n.program)
         for i, n in enumerate(varied.notes)], varied.soundfont, varied.sample_rate).render(), 1)
    whole = best(lambda: render_abc(REEL_32, five_times), 3)
    return [(f"Render a {seconds:.0f} s tune to PCM (synth only, notes known)", synth_only,
             "< 0.3 s"),
            ("  the same with every note a different length (no reuse of voices)",
             no_reuse, "< 0.3 s"),
            (f"Render a {seconds:.0f} s tune from ABC (music21 parse + synth)", whole, "-"),
            ("  first ABC parse in a session (music21 import)", cold_parse, "-")]


def _press_play_rows(five_times) -> list[tuple[str, float, str]]:
    """Time from pressing play to the first buffer at the sink, tune prepared or parsed anew."""
    from app.music.audio import prepare_abc
    from app.music.player import NullSink, Player

    class FirstBuffer(NullSink):
        def write(self, samples):
            if self.frames == 0:
                self.first_at = time.perf_counter()
            super().write(samples)

    def press_play(prepared):
        sink = FirstBuffer()
        player = Player(sink)
        pressed = time.perf_counter()
        player.load(prepared if prepared is not None else prepare_abc(REEL_32, five_times))
        player.play()
        return sink.first_at - pressed

    return [("Press play -> first buffer to the sink (tune rendered on demand, window by "
             "window)", min(press_play(prepare_abc(REEL_32, five_times)) for _ in range(5)),
             "< 150 ms"),
            ("Press play -> first buffer, including the ABC parse (new tune or options)",
             min(press_play(None) for _ in range(3)), "-")]


def _engrave_rows() -> list[tuple[str, float, str]]:
    """Time engraving to SVG, and engraving shown in a painted ScoreView (cold and warm)."""
    from PySide6.QtWidgets import QApplication

    from app.music.notation import engrave
    from app.ui.widgets.score_view import ScoreView

    app = QApplication.instance() or QApplication([])
    view = ScoreView()
    view.resize(900, 700)
    view.show()
    start = time.perf_counter()
    view.show_abc_now(REEL_32)
    app.processEvents()
    cold_show = time.perf_counter() - start

    def show() -> None:
        view.show_abc_now(REEL_32 + " ")  # a changed text, as when the user edits
        app.processEvents()

    return [("Engrave a 32-bar tune to SVG (verovio)", best(lambda: engrave(REEL_32)), "-"),
            ("Engrave a 32-bar tune and show it (ScoreView, painted)", best(show), "< 150 ms"),
            ("  first engraving in a session (verovio start-up)", cold_show, "-")]


if __name__ == "__main__":
    main()
