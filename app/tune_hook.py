"""The hook that applies the generation controls step by step (see app/generation.py).

`TuneHook` steers `model.sample.sample_rows` for one batch of tunes: it counts bars, bans what
the controls forbid, stops at the length asked for or drawn, resamples bars that do not fit the
meter and a last bar that does not end on the tonic, and closes bars that are full.
"""

from __future__ import annotations

import re

from app.music.bars import BarCounter, draw_length, split_header

CHARS_PER_DRAWN_BAR = 24    # a drawn length fits the length cap at this many chars per bar

MAX_BAR_TRIES = 8        # samples of one bar before its misfit is accepted (repair follows)
MAX_REWINDS = 64         # bar resamplings per variation in all


class TuneHook:
    """Steers `model.sample.sample_rows` for one batch of tunes (see the module docstring).

    Per variation it counts bars, bans what the controls forbid (a K:/M: change, a blank line
    or a final bar line before the bars asked for), stops at the bars asked for, draws a length
    from the model's `tune_lengths` profile once the meter is known (when none was asked for),
    and, with `fit_bars`, checks each finished bar against the meter with the checker and sends
    the variation back to the bar's start to sample it again when it is too long or too short
    (up to MAX_BAR_TRIES times per bar, MAX_REWINDS per tune).
    """

    rewinds = True

    def __init__(self, prime: str, targets: list[int | None], bans: dict[str, set[str]],
                 profile: dict | None, seed: int, index: dict[str, int], fit_bars: bool = True,
                 floor: int = 0, max_chars: int = 1500) -> None:
        self.prime, self.targets, self.bans, self.index = prime, list(targets), bans, index
        self.most_bars = max(1, max_chars // CHARS_PER_DRAWN_BAR)  # drawn lengths fit the cap
        self.profile, self.seed, self.fit_bars, self.floor = profile, seed, fit_bars, floor
        self.rewinds = fit_bars

    def begin(self, count: int, prime: str) -> None:
        import copy
        import random

        self._copy = copy.copy
        self.count = count
        head, body = split_header(prime)
        self.header_done = "\nK:" in "\n" + head or "\nK:" in "\n" + prime
        self.rngs = [random.Random(self.seed * 1009 + b) for b in range(count)]
        self.texts: list[list[str]] = [[] for _ in range(count)]
        self.counters = []
        for _ in range(count):
            counter = BarCounter()
            for ch in body:
                counter.feed(ch)
            self.counters.append(counter)
        self.prev_newline = [prime.endswith("\n")] * count
        self.pending = [False] * count       # a bar line just closed a bar: check it next
        self.tries = [0] * count
        self.total = [0] * count
        self.done_header = [self.header_done] * count
        self.heads: list[str | None] = [head if self.header_done else None] * count
        self.bar_start = [0] * count         # where the bar being written starts in texts[b]
        self.prime_tail = body.rsplit("|", 1)[-1] if "|" in body else body
        self.marks = [self._snapshot(b) for b in range(count)]
        if self.header_done:
            for b in range(count):
                self._draw(b, prime)

    # -- per-row state for rewinds --------------------------------------------------
    def _snapshot(self, b: int):
        return (self._copy(self.counters[b]), len(self.texts[b]), self.prev_newline[b],
                self.done_header[b], self.targets[b], self.heads[b], self.bar_start[b])

    def _restore(self, b: int) -> None:
        counter, n, prev, header, target, head, start = self.marks[b]
        self.counters[b] = self._copy(counter)
        del self.texts[b][n:]
        self.prev_newline[b], self.done_header[b], self.targets[b] = prev, header, target
        self.heads[b], self.bar_start[b] = head, start
        self.pending[b] = False

    def bars_written(self, b: int) -> int | None:
        """The length to close the tune at: the bars asked for or drawn (None: the model's)."""
        return self.targets[b]

    def _draw(self, b: int, text: str) -> None:
        if self.targets[b] is not None or not self.profile:
            return
        head = split_header(text)[0]
        meter = next((line[2:].strip() for line in head.splitlines() if line.startswith("M:")),
                     None)
        bars = draw_length(self.profile, meter, self.rngs[b], most=self.most_bars)
        if bars is not None and bars > max(self.floor, self.counters[b].bars):
            self.targets[b] = bars

    # -- the hook protocol ----------------------------------------------------------
    def mask(self, logits, active: list[int]) -> None:
        index = self.index
        for b in active:
            texts = self.texts[b]
            last = texts[-1] if texts else self.prime[-1:]
            counter, target = self.counters[b], self.targets[b]
            early = target is not None and counter.bars < target
            if counter.mode == "":
                banned = self.bans.get(last)
                if banned:
                    logits[b, [index[c] for c in banned if c in index]] = float("-inf")
                if early and last == "|" and "]" in index:
                    logits[b, index["]"]] = float("-inf")   # no final bar line before the end
            if early and self.prev_newline[b] and "\n" in index:
                logits[b, index["\n"]] = float("-inf")      # no blank line before the end
            if self.fit_bars and last == " " and counter.mode == "" and counter.music \
                    and self.heads[b] is not None and self._bar_full(b):
                keep = [index[c] for c in "|:" if c in index]   # the bar is full: close it
                if keep:
                    saved = logits[b, keep].clone()
                    logits[b] = float("-inf")
                    logits[b, keep] = saved

    def feed(self, b: int, ch: str) -> int:
        from model.hooks import END, END_KEEP, KEEP, MARK, REWIND

        verdict = KEEP
        if self.pending[b] and ch not in "|:]":
            self.pending[b] = False
            if not self._bar_fits(b, final=False) and self._may_retry(b):
                self._restore(b)
                return REWIND
            self.tries[b] = 0
            self.marks[b] = self._snapshot(b)
            verdict = MARK
        if ch == "\n" and self.prev_newline[b]:
            return END
        self.texts[b].append(ch)
        self.prev_newline[b] = ch == "\n"
        counter = self.counters[b]
        closed = counter.feed(ch)
        if not self.done_header[b] and ch == "\n":
            line = "".join(self.texts[b]).rsplit("\n", 2)[-2]
            if line.startswith("K:"):
                self.done_header[b] = True
                self.heads[b] = split_header(self.prime + "".join(self.texts[b]))[0]
                self._draw(b, self.prime + "".join(self.texts[b]))
        if closed:
            bar_text = "".join(self.texts[b][self.bar_start[b]:])
            self.bar_start[b] = len(self.texts[b])
            target = self.targets[b]
            if target is not None and counter.bars >= target:
                # The last bar: it must fit, and come home (end on the tonic) if it can.
                if not (self._bar_fits(b, final=True) and self._ends_home(b, bar_text)) \
                        and self._may_retry(b):
                    self._restore(b)
                    return REWIND
                return END_KEEP
            self.pending[b] = self.fit_bars
        return verdict

    def _ends_home(self, b: int, bar_text: str) -> bool:
        """Tell whether the bar just closed ends on the key's tonic (any octave)."""
        key = next((line[2:].strip() for line in (self.heads[b] or "").splitlines()
                    if line.startswith("K:")), "")
        if not key[:1] or key[0].upper() not in "ABCDEFG":
            return False
        music = re.sub(r'"[^"]*"|![^!]*!|\{[^}]*\}|\[[A-Za-z]:[^\]]*\]', "", bar_text)
        notes = re.findall(r"[_^=]*([A-Ga-g])", music)
        return bool(notes) and notes[-1].upper() == key[0].upper()

    def _bar_full(self, b: int) -> bool:
        """Tell whether the bar being written already lasts as long as the meter asks.

        Checked after a space (where ABC groups beats), so a bar is closed where it is full
        instead of running on and being sampled again; cheap, it reads only the header and
        this bar.
        """
        from app.music.checker import analyse_tune

        text = "".join(self.texts[b][self.bar_start[b]:])
        if self.bar_start[b] == 0 and not self.counters[b].bars:
            text = self.prime_tail + text
        text = text.lstrip("|:[]0123456789, ")
        if not text.strip():
            return False
        bars = analyse_tune(self.heads[b] + text + "\n").bars
        return bool(bars) and bars[-1].expected is not None \
            and bars[-1].duration >= bars[-1].expected

    def _may_retry(self, b: int) -> bool:
        if not self.fit_bars or self.tries[b] >= MAX_BAR_TRIES or self.total[b] >= MAX_REWINDS:
            return False
        self.tries[b] += 1
        self.total[b] += 1
        return True

    def _bar_fits(self, b: int, final: bool) -> bool:
        """Tell whether the bar just closed has a length the meter allows (folk practice)."""
        from app.music.checker import analyse_tune

        analysis = analyse_tune(self.prime + "".join(self.texts[b]))
        if not analysis.bars:
            return True
        i = len(analysis.bars) - 1
        bar = analysis.bars[i]
        if bar.expected is None or bar.multi_rest:
            return True
        if bar.duration > bar.expected:
            return False
        if bar.duration == bar.expected or i < self.floor:
            return True
        if final:
            return i not in analysis.faults
        if i == 0 or bar.start_boundary:
            return True          # a pickup, of the tune or of a section
        token = analysis.tune.body[bar.bar_line] if bar.bar_line is not None else None
        if token is None or token.text == "|":
            return False         # short in the middle of a section
        return i not in analysis.faults
