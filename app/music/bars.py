"""Bars and headers of ABC text: where a tune's header ends, counting bars as text streams in,
and the lengths (in bars) of a model's training tunes.

GUI-free and torch-free. Generation (app/generation.py and its per-step rules in
app/tune_hook.py) counts bars while sampling; training stores `length_profile` of its tunes in
the model file, and generation draws lengths from it with `draw_length`.
"""

from __future__ import annotations

import re

MAX_BARS = 256   # the longest tune (in bars) that generation asks for or draws


def split_header(text: str) -> tuple[str, str]:
    """Split a tune at the end of its K: line."""
    match = re.search(r"^K:.*(\n|$)", text, re.MULTILINE)
    if match:
        return text[:match.end()], text[match.end():]
    end = 0  # no K: line: the header is the leading field lines
    for line in text.splitlines(keepends=True):
        if not re.match(r"[A-Za-z]:", line):
            break
        end += len(line)
    return text[:end], text[end:]


class BarCounter:
    """Count bars in body text fed character by character (strings, comments, fields skipped)."""

    def __init__(self) -> None:
        self.bars = 0
        self.music = False        # a note or rest since the last bar line
        self.mode = ""            # '"' string, '%' comment or field line, '!' decoration,
        self.column = 0           # '[' inline field
        self.prev = ""

    def feed(self, ch: str) -> bool:
        """Read one character; return True when it closes a bar."""
        closed = False
        if self.mode == '"':
            self.mode = "" if ch in '"\n' else self.mode
        elif self.mode == "%":
            self.mode = "" if ch == "\n" else self.mode
        elif self.mode == "!":
            self.mode = "" if ch in "!\n" else self.mode
        elif self.mode == "[":
            self.mode = "" if ch in "]\n" else self.mode
        elif ch in '"%!':
            self.mode = ch
        elif ch == ":" and self.column == 1 and self.prev.isalpha():
            self.mode = "%"        # a field line such as "K:G" inside the body
            if self.prev == "K" and not self.bars:
                self.music = False  # letters before the first K: line were header text
        elif ch == ":" and self.prev.isalpha() and self.before == "[":
            self.mode = "["        # an inline field such as [K:G]
        elif ch == "|":
            if self.music:
                self.bars += 1
                closed = True
            self.music = False
        elif ch in "ABCDEFGabcdefgzx":
            self.music = True
        self.column = 0 if ch == "\n" else self.column + 1
        self.before, self.prev = self.prev, ch
        return closed

    before = ""


def count_bars(body: str) -> int:
    """Bars in a tune body: bar lines that follow a note or rest."""
    counter = BarCounter()
    for ch in body:
        counter.feed(ch)
    return counter.bars


def bar_end_index(body: str, bars: int) -> int | None:
    """Index just past the bar line (and its ':'/'|'/']' partners) closing bar `bars`, or None."""
    counter = BarCounter()
    for i, ch in enumerate(body):
        if counter.feed(ch) and counter.bars == bars:
            end = i + 1
            while end < len(body) and body[end] in "|]" and body[end - 1] == "|":
                end += 1
            return end
    return None


def length_profile(tunes: list[str]) -> dict[str, dict[str, int]]:
    """Count tune lengths in bars by meter: {"6/8": {"16": 120, "32": 40}, ...} (JSON-ready).

    Training stores this in the model file; with no length asked for, generation draws each
    variation's length from it (an LSTM keeps no reliable count of 16 or 32 bars).
    """
    profile: dict[str, dict[str, int]] = {}
    for text in tunes:
        head, body = split_header(text)
        meter = next((line[2:].strip() for line in head.splitlines() if line.startswith("M:")),
                     "")
        bars = count_bars(body)
        if meter and bars:
            counts = profile.setdefault(meter, {})
            counts[str(bars)] = counts.get(str(bars), 0) + 1
    return profile


def draw_length(profile: dict[str, dict[str, int]] | None, meter: str | None,
                rng, most: int = MAX_BARS) -> int | None:
    """Draw a length in bars for `meter` from a model's length profile, at most `most` bars
    (None: no data)."""
    counts = (profile or {}).get((meter or "").strip())
    if not counts:
        return None
    values = [(int(k), int(v)) for k, v in counts.items()
              if str(k).isdigit() and 1 <= int(k) <= min(most, MAX_BARS) and int(v) > 0]
    if sum(v for _, v in values) < 20:     # too few tunes in this meter to trust
        return None
    pick = rng.random() * sum(v for _, v in values)
    for bars, weight in values:
        pick -= weight
        if pick < 0:
            return bars
    return values[-1][0]


def body_bars(abc: str) -> int:
    """Bars in the body of a whole tune (after its K: line)."""
    return count_bars(split_header(abc)[1])
