"""Check one ABC tune for the faults that stop it from playing or make its bars wrong.

`check_tune(abc)` returns a list of `Problem`s, each with a code, a one-line message and the
1-based line and column it is about. It covers the header (X, M, L and K present and well
formed, K last), text that is not ABC music, unbalanced chords, slurs, grace notes and quotes,
tuplets with too few notes, repeats and endings music21 cannot expand, and bars whose length
does not match the meter. Bar lengths follow folk practice: a pickup bar, a last bar that
completes the pickup, short bars on both sides of a section or repeat boundary that add up to
one bar, first and second endings, and meter or unit-length changes inside the tune are all
fine. Pure Python on `abc_tokens`; fast enough to judge every generated tune.

"clean" (no errors) is meant to imply that music21 converts the tune to MIDI with the
durations counted here; warnings do not stop that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

from app.music import abc_tokens as T

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One fault in a tune: a short code, a message, where it is (1-based) and how bad."""

    code: str
    message: str
    line: int
    column: int
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.severity}: {self.message} [{self.code}]"


_METER = re.compile(r"(?:C\|?|none|[1-9]\d{0,3}(?:\+[1-9]\d{0,3})*/(?:1|2|4|8|16|32|64))$")
_UNIT = re.compile(r"([1-9]\d{0,3})/(1|2|4|8|16|32|64)$")
_MODES = ("", "m", "maj", "major", "min", "minor", "ion", "ionian", "dor", "dorian", "phr",
          "phrygian", "lyd", "lydian", "mix", "mixolydian", "aeo", "aeolian", "loc", "locrian")
_KEY = re.compile(r"(?:(?P<tonic>[A-G][#b]?)[ \t]*(?P<mode>(?i:%s)(?![A-Za-z=])|)|HP|Hp|none)"
                  r"(?P<rest>.*)$" % "|".join(sorted(_MODES[1:], key=len, reverse=True)))
_KEY_EXTRA = re.compile(
    r"(?:[_^=][a-gA-G]|(?:clef|middle|transpose|octave|stafflines|staffscale|m)=\S+"
    r"|(?:treble|bass|alto|tenor|baritone|perc|none)(?:[+-]8)?\d?)$")


def _short(value: str) -> str:
    """Cut a field value for a message (a generated header can hold thousands of digits)."""
    return value if len(value) <= 40 else value[:37] + "..."


def parse_meter(value: str) -> tuple[Fraction | None, bool] | None:
    """Return (bar length in whole notes or None for free meter, compound?) or None if bad."""
    value = value.strip()
    if not _METER.match(value):
        return None
    if value == "none":
        return None, False
    if value.startswith("C"):
        return Fraction(1), False
    top, bottom = value.split("/")
    beats = sum(int(part) for part in top.split("+"))
    return Fraction(beats, int(bottom)), beats % 3 == 0 and beats > 3


def parse_unit_length(value: str) -> Fraction | None:
    """Return the unit note length of an L: value ("1/8") or None if malformed."""
    m = _UNIT.match(value.strip())
    return Fraction(int(m.group(1)), int(m.group(2))) if m else None


def is_valid_key(value: str) -> bool:
    """Tell whether a K: value is a key music21 reads: "D", "Ador", "F#m", "A dorian", "HP"."""
    m = _KEY.match(value.strip())
    if not m:
        return False
    return all(_KEY_EXTRA.match(part) for part in m.group("rest").split())


def default_unit_length(meter: Fraction | None) -> Fraction:
    """Return ABC's default L: for a meter: 1/16 below 3/4, else 1/8."""
    return Fraction(1, 16) if meter is not None and meter < Fraction(3, 4) else Fraction(1, 8)


class Span(NamedTuple):
    """Where one note, rest or chord is in the body tokens, and how long it lasts."""

    start: int                # index of its first token (a chord's "[")
    end: int                  # index of its last token
    duration: Fraction        # in whole notes
    plain: bool               # its written length alone sets it (no tuplet, no broken rhythm)
    tuplet: int | None        # index of the tuplet token it belongs to


@dataclass
class _Bar:
    line: int
    column: int
    expected: Fraction | None
    meter_text: str = ""
    duration: Fraction = Fraction(0)
    events: int = 0
    multi_rest: int = 0
    start_boundary: bool = False
    end_boundary: bool = False
    section_first: int = 0
    spans: list[Span] = field(default_factory=list)
    bar_line: int | None = None  # index of the bar-line token that closes it


@dataclass
class _State:
    meter: Fraction | None = None
    meter_text: str = ""
    compound: bool = False
    unit: Fraction = Fraction(1, 8)
    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, tok: T.Token, severity: str = ERROR) -> None:
        self.problems.append(Problem(code, message, tok.line, tok.column, severity))


@dataclass
class Analysis:
    """What the checker found out about a tune; the repair works from this."""

    tune: T.TuneTokens
    problems: list[Problem]
    bars: list[_Bar]            # bars with notes or rests, in order
    faults: dict[int, str]      # bar index -> "long", "short" or "multi"
    open_slurs: list[int]       # token indices of unclosed "("
    open_repeat: int | None     # token index of an unclosed "|:"
    unit: Fraction              # the unit note length in force at the end of the tune


def analyse_tune(abc: str) -> Analysis:
    """Check one tune and keep the bars and token positions found on the way."""
    tune = T.tokenize_tune(abc)
    state = _State()
    _check_header(tune, state)
    walker = _Walker(state)
    walker.run(tune.body)
    state.problems.sort(key=lambda p: (p.line, p.column))
    return Analysis(tune, state.problems, walker.bars, walker.faults,
                    [tune.body.index(t) for t in walker.slurs], walker.open_repeat_index,
                    state.unit)


def check_tune(abc: str) -> list[Problem]:
    """Return the problems of one tune's ABC text (header and body), sorted by position."""
    return analyse_tune(abc).problems


def is_clean(abc: str) -> bool:
    """Tell whether a tune has no errors (warnings allowed)."""
    return not any(p.severity == ERROR for p in check_tune(abc))


def _check_header(tune: T.TuneTokens, state: _State) -> None:
    fields = {}
    for tok in tune.header:
        fields.setdefault(tok.value[0], tok)
    first = tune.header[0] if tune.header else None
    where = first or T.Token(T.FIELD, "", 1, 1)
    # Required fields written after K: (before the music) count, but K: must come last.
    late = {}
    for tok in tune.body:
        if tok.kind == T.FIELD and tok.value[0] in "XML" and tok.value[0] not in fields:
            late.setdefault(tok.value[0], tok)
        elif tok.kind not in (T.FIELD, T.NEWLINE, T.SPACE, T.COMMENT):
            break
    for letter, tok in late.items():
        state.add("header-order", f"{letter}: comes after K:; K: must be the last header field",
                  tok)
    fields = {**late, **fields}
    if "X" not in fields:
        state.add("missing-header", "missing X: (reference number) field", where)
    elif not fields["X"].value[1].isdigit():
        state.add("bad-header", f"X: must be a number, not {fields['X'].value[1]!r}", fields["X"])
    elif first is not None and first.value[0] != "X":
        state.add("header-order", "X: must be the first header field", fields["X"],
                  WARNING)
    meter = None
    if "M" not in fields:
        state.add("missing-header", "missing M: (meter) field", where)
    else:
        meter = parse_meter(fields["M"].value[1])
        if meter is None:
            state.add("bad-header", f"malformed meter M:{_short(fields['M'].value[1])}",
                      fields["M"])
        else:
            state.meter, state.compound = meter
            state.meter_text = fields["M"].value[1]
    state.unit = default_unit_length(state.meter)
    if "L" not in fields:
        state.add("missing-header", "missing L: (unit note length) field", where)
    else:
        unit = parse_unit_length(fields["L"].value[1])
        if unit is None:
            state.add("bad-header", f"malformed unit length L:{_short(fields['L'].value[1])}",
                      fields["L"])
        else:
            state.unit = unit
    if not tune.has_key:
        state.add("missing-header", "missing K: (key) field before the music", where)
    elif not is_valid_key(fields["K"].value[1]):
        state.add("bad-header", f"malformed key K:{_short(fields['K'].value[1])}", fields["K"])


_BOUNDARIES = frozenset({"||", "|]", "[|"})


class _Walker:
    """One pass over the body tokens: balance, tuplets, repeats and bar durations."""

    def __init__(self, state: _State) -> None:
        self.s = state
        self.bars: list[_Bar] = []
        self.bar: _Bar | None = None
        self.chord: T.Token | None = None
        self.chord_first: Fraction | None = None
        self.grace: T.Token | None = None
        self.grace_notes = 0
        self.slurs: list[T.Token] = []
        self.tuplet: T.Token | None = None
        self.tuplet_left = 0
        self.tuplet_factor = Fraction(1)
        self.broken: T.Token | None = None
        self.broken_next = Fraction(1)
        self.last_duration: Fraction | None = None
        self.tie: T.Token | None = None
        self.decoration: T.Token | None = None
        self.open_repeat: T.Token | None = None
        self.first_ending: T.Token | None = None
        self.first_ending_closed = False
        self.after_repeat_end = False
        self.boundary_before = True
        self.section_first = 0
        self.previous_section_first = 0
        self.any_note = False
        self.notes = 0
        self.notes_at_repeat = 0
        self.index = 0
        self.chord_index = 0
        self.tuplet_index = 0
        self.open_repeat_index: int | None = None
        self.faults: dict[int, str] = {}

    # -- bars --------------------------------------------------------------------------
    def _current_bar(self, tok: T.Token) -> _Bar:
        if self.bar is None:
            self.bar = _Bar(tok.line, tok.column, self.s.meter, self.s.meter_text,
                            start_boundary=self.boundary_before)
        return self.bar

    def _close_bar(self, end_boundary: bool, bar_line: int | None = None) -> None:
        bar, self.bar = self.bar, None
        self.last_duration = None
        if bar is not None and (bar.events or bar.multi_rest):
            bar.end_boundary = end_boundary
            bar.bar_line = bar_line
            bar.section_first = self.section_first
            self.bars.append(bar)

    def _event(self, multiplier: Fraction, tok: T.Token, start: int | None = None) -> None:
        if multiplier == 0:
            self.s.add("zero-length", f"{tok.text} has zero length", tok)
        duration = self.s.unit * multiplier
        plain = self.tuplet is None and self.broken is None
        tuplet = self.tuplet_index if self.tuplet is not None else None
        if self.tuplet is not None:
            duration *= self.tuplet_factor
            self.tuplet_left -= 1
            if self.tuplet_left == 0:
                self.tuplet = None
        if self.broken is not None:
            duration *= self.broken_next
            self.broken = None
        bar = self._current_bar(tok)
        bar.duration += duration
        bar.events += 1
        bar.spans.append(Span(self.index if start is None else start, self.index, duration,
                              plain, tuplet))
        self.last_duration = duration
        self.tie = self.decoration = None
        self.any_note = True
        self.notes += 1

    # -- token handlers ----------------------------------------------------------------
    def run(self, body: list[T.Token]) -> None:
        self.body = body
        for index, tok in enumerate(body):
            handler = self._handlers.get(tok.kind)
            if handler is not None:
                self.index = index
                handler(self, tok)
        self._finish()

    def _note(self, tok: T.Token) -> None:
        if self.grace is not None:
            self.grace_notes += 1
            return
        if self.chord is not None:
            if self.chord_first is None:
                self.chord_first = tok.value
            return
        self._event(tok.value, tok)

    def _rest(self, tok: T.Token) -> None:
        if self.grace is not None or self.chord is not None:
            self.s.add("bad-token", f"rest {tok.text} inside a "
                       f"{'grace group' if self.grace else 'chord'}", tok)
            return
        self._event(tok.value, tok)

    def _multi_rest(self, tok: T.Token) -> None:
        bar = self._current_bar(tok)
        bar.multi_rest += tok.value
        self.any_note = True
        self.notes += 1
        self.s.add("multi-rest", f"music21 does not play the multi-bar rest {tok.text}", tok,
                   WARNING)

    def _chord_open(self, tok: T.Token) -> None:
        if self.grace is not None:
            self.s.add("bad-token", "chord inside a grace group", tok)
        if self.chord is not None:
            self.s.add("unclosed-chord", "chord [ is not closed with ]", self.chord)
        self.chord, self.chord_first, self.chord_index = tok, None, self.index

    def _chord_close(self, tok: T.Token) -> None:
        if self.chord is None:
            self.s.add("unbalanced-chord", "] without an opening [", tok)
            return
        first, self.chord = self.chord_first, None
        if first is None:
            self.s.add("empty-chord", "chord [] without notes", tok)
            return
        if self.grace is None:
            self._event(first * tok.value, tok, self.chord_index)

    def _grace_open(self, tok: T.Token) -> None:
        if self.grace is not None:
            self.s.add("unclosed-grace", "grace notes { are not closed with }", self.grace)
        if self.tuplet is not None:
            self.s.add("bad-tuplet", "grace notes inside a tuplet (music21 miscounts them)",
                       tok)
        self.grace, self.grace_notes = tok, 0

    def _grace_close(self, tok: T.Token) -> None:
        if self.grace is None:
            self.s.add("unbalanced-grace", "} without an opening {", tok)
            return
        if not self.grace_notes:
            self.s.add("empty-grace", "grace group {} without notes", self.grace)
        self.grace = None

    def _slur_open(self, tok: T.Token) -> None:
        self.slurs.append(tok)

    def _slur_close(self, tok: T.Token) -> None:
        if self.slurs:
            self.slurs.pop()
        else:
            self.s.add("unbalanced-slur", ") without an opening (", tok)

    def _tuplet(self, tok: T.Token) -> None:
        if self.tuplet is not None:
            self.s.add("bad-tuplet", f"tuplet {tok.text} inside tuplet {self.tuplet.text}", tok)
        if self.chord is not None or self.grace is not None:
            self.s.add("bad-tuplet", f"tuplet {tok.text} inside a chord or grace group", tok)
            return
        p, q, r = tok.value
        if q is None:
            q = 3 if p in (2, 4, 8) else 2 if p in (3, 6) else (3 if self.s.compound else 2)
        self.tuplet, self.tuplet_left, self.tuplet_index = tok, r or p, self.index
        self.tuplet_factor = Fraction(q, p)

    def _broken(self, tok: T.Token) -> None:
        if self.last_duration is None or self.bar is None or not self.bar.spans \
                or self.chord or self.grace:
            self.s.add("dangling-broken-rhythm", f"broken rhythm {tok.text} without a note "
                       "before it in the bar", tok)
            return
        self.bar.duration += self.last_duration * (tok.value - 1)
        span = self.bar.spans[-1]
        self.bar.spans[-1] = span._replace(duration=span.duration * tok.value, plain=False)
        self.broken, self.broken_next = tok, 2 - tok.value

    def _tie(self, tok: T.Token) -> None:
        self.tie = tok

    def _decoration(self, tok: T.Token) -> None:
        self.decoration = tok

    def _field(self, tok: T.Token) -> None:
        letter, value = tok.value
        if letter == "X":
            self.s.add("bad-header", "X: inside the tune body (two tunes run together?)", tok)
        elif letter == "M":
            meter = parse_meter(value)
            if meter is None:
                self.s.add("bad-field", f"malformed meter M:{_short(value)}", tok)
                return
            self.s.meter, self.s.compound = meter
            self.s.meter_text = value
            if self.bar is not None and not self.bar.events:
                self.bar.expected, self.bar.meter_text = self.s.meter, value
        elif letter == "L":
            unit = parse_unit_length(value)
            if unit is None:
                self.s.add("bad-field", f"malformed unit length L:{_short(value)}", tok)
            else:
                self.s.unit = unit
        elif letter == "K" and not is_valid_key(value):
            self.s.add("bad-field", f"malformed key K:{_short(value)}", tok)

    def _error(self, tok: T.Token) -> None:
        code, message = tok.value
        self.s.add(code, message, tok)

    def _newline(self, tok: T.Token) -> None:
        self._close_groups(tok, at_bar=False)

    def _close_groups(self, tok: T.Token, at_bar: bool) -> None:
        if self.chord is not None:
            self.s.add("unclosed-chord", "chord [ is not closed with ]", self.chord)
            self.chord = None
        if self.grace is not None:
            self.s.add("unclosed-grace", "grace notes { are not closed with }", self.grace)
            self.grace = None
        if not at_bar:
            return
        if self.tuplet is not None:
            p, _, r = self.tuplet.value
            wanted = r or p
            self.s.add("short-tuplet", f"tuplet {self.tuplet.text} has "
                       f"{wanted - self.tuplet_left} of its {wanted} notes", self.tuplet)
            self.tuplet = None
        if self.broken is not None:
            self.s.add("dangling-broken-rhythm", f"broken rhythm {self.broken.text} without a "
                       "note after it in the bar", self.broken)
            self.broken = None

    def _bar_line(self, tok: T.Token) -> None:
        self._close_groups(tok, at_bar=True)
        text = tok.text
        repeat_end = text.startswith(":")
        repeat_start = text.endswith(":")
        boundary = repeat_end or repeat_start or text in _BOUNDARIES
        empty = self.bar is None or not (self.bar.events or self.bar.multi_rest)
        if repeat_end and empty and self.bars and self.bars[-1].bar_line is not None:
            self.s.add("empty-bar", f"empty bar before {text} (music21 cannot expand the "
                       "repeat)", tok)
        if empty and boundary and self.bars and self.bars[-1].bar_line is not None:
            # "|\n||": a boundary right after a bar line still ends the bar before it.
            self.bars[-1].end_boundary = True
        self._close_bar(boundary, self.index)
        self.last_duration = None
        if repeat_end:
            self.open_repeat = None
            if self.first_ending is not None:
                self.first_ending_closed = True
        if repeat_start:
            if self.open_repeat is not None:
                self.s.add("unclosed-repeat", "repeat |: is never closed with :|",
                           self.open_repeat)
            self.open_repeat, self.open_repeat_index = tok, self.index
            self.notes_at_repeat = self.notes
        if boundary:
            self.previous_section_first = self.section_first
            self.section_first = len(self.bars)
        self.after_repeat_end = repeat_end
        # "||\n|": the empty bar between keeps the boundary for the next bar.
        self.boundary_before = boundary or (empty and self.boundary_before)

    def _ending(self, tok: T.Token) -> None:
        numbers = tok.value
        if not numbers.isdigit():
            self.s.add("bad-ending", f"ending {tok.text} is not supported (music21 reads only "
                       "single numbers like [1 and [2)", tok)
            return
        previous = self.body[self.index - 1] if self.index else None
        if not tok.text.startswith("[") and previous is not None and previous.kind == T.BAR \
                and previous.text not in ("|", ":|"):
            self.s.add("bad-ending", f"ending {previous.text}{tok.text} is not read by music21; "
                       f"write {previous.text}[{tok.text}", tok)
        self._close_bar(True)
        self.boundary_before = True
        if numbers == "1":
            self.first_ending, self.first_ending_closed = tok, False
        else:
            if self.first_ending is None or not self.first_ending_closed:
                self.s.add("bad-ending", f"ending {tok.text} without a first ending closed by "
                           ":|", tok)
            if self.after_repeat_end:
                # Later endings belong to the section of the first ending.
                self.section_first = self.previous_section_first
        if self.bars:
            self.bars[-1].end_boundary = True

    def _finish(self) -> None:
        end = T.Token(T.NEWLINE, "", 0, 0)
        self._close_groups(end, at_bar=True)
        self._close_bar(True)
        if self.bars:
            self.bars[-1].end_boundary = True
        for slur in self.slurs:
            self.s.add("unclosed-slur", "slur ( is not closed with )", slur)
        if self.open_repeat is not None:
            if self.notes == self.notes_at_repeat:
                self.s.add("unclosed-repeat", "repeat |: at the end repeats nothing",
                           self.open_repeat, WARNING)
            else:
                self.s.add("unclosed-repeat", "repeat |: is never closed with :|",
                           self.open_repeat)
        else:
            self.open_repeat_index = None
        if self.tie is not None:
            self.s.add("dangling-tie", "tie - at the end of the tune ties to nothing", self.tie,
                       WARNING)
        if self.decoration is not None:
            self.s.add("dangling-decoration", f"decoration {self.decoration.text} at the end "
                       "of the tune decorates nothing", self.decoration, WARNING)
        if not self.any_note:
            self.s.problems.append(Problem("empty-tune", "the tune has no notes", 1, 1))
        self.faults = _check_bar_lengths(self.bars, self.s)

    _handlers = {
        T.NOTE: _note, T.REST: _rest, T.MULTI_REST: _multi_rest, T.CHORD_OPEN: _chord_open,
        T.CHORD_CLOSE: _chord_close, T.GRACE_OPEN: _grace_open, T.GRACE_CLOSE: _grace_close,
        T.SLUR_OPEN: _slur_open, T.SLUR_CLOSE: _slur_close, T.TUPLET: _tuplet,
        T.BROKEN: _broken, T.TIE: _tie, T.DECORATION: _decoration, T.FIELD: _field,
        T.INLINE_FIELD: _field, T.ERROR: _error, T.NEWLINE: _newline, T.BAR: _bar_line,
        T.ENDING: _ending,
    }


def _fmt(duration: Fraction, meter_text: str) -> str:
    """Write a duration over the meter's denominator: 7/8 for 6/8, 5/4 for 4/4."""
    written = meter_text.partition("/")[2]
    first = int(written) if written.isdigit() else 4 if meter_text == "C" else 2
    for denominator in (first, 4, 8, 16, 32, 64):
        count = duration * denominator
        if count.denominator == 1:
            return f"{count.numerator}/{denominator}"
    return str(duration)


def bar_length_faults(bars: list[_Bar]) -> dict[int, str]:
    """Return {index: 'long'|'short'} for bars whose length does not fit folk practice."""
    if not bars:
        return {}
    first = bars[0]
    pickup = first.duration if first.expected and first.duration < first.expected else None
    ok = {0}
    # Any pickup the tune or one of its sections opens with may be completed at a section end.
    pickups = {b.duration for b in bars if b.start_boundary and b.expected
               and b.duration < b.expected and not b.multi_rest}
    if pickup is not None:
        pickups.add(pickup)
    for i, bar in enumerate(bars):
        exp = bar.expected
        if exp is None or bar.multi_rest or bar.duration >= exp:
            continue
        if bar.end_boundary:
            if exp - bar.duration in pickups:
                ok.add(i)
            nxt = bars[i + 1] if i + 1 < len(bars) else None
            if nxt is not None and nxt.start_boundary and bar.duration + nxt.duration == exp:
                ok.update((i, i + 1))
            s = bar.section_first
            if s != i and s < len(bars) and bar.duration + bars[s].duration == exp:
                ok.update((i, s))
        if bar.start_boundary:
            # A section may open with a pickup of its own length.
            ok.add(i)
    faults = {}
    for i, bar in enumerate(bars):
        exp = bar.expected
        if exp is None:
            continue
        if bar.multi_rest:
            if bar.events:
                faults[i] = "multi"
            continue
        if bar.duration > exp:
            faults[i] = "long"
        elif bar.duration < exp and i not in ok:
            faults[i] = "short"
    return faults


def _check_bar_lengths(bars: list[_Bar], state: _State) -> dict[int, str]:
    faults = bar_length_faults(bars)
    for i, kind in faults.items():
        bar = bars[i]
        tok = T.Token(T.NOTE, "", bar.line, bar.column)
        if kind == "multi":
            state.add("bad-bar", f"bar {i + 1} mixes a multi-bar rest Z with notes", tok)
            continue
        have, meter = _fmt(bar.duration, bar.meter_text), bar.meter_text
        if kind == "long":
            state.add("bar-too-long", f"bar {i + 1} is too long: {have} in M:{meter}", tok)
        else:
            state.add("bar-too-short", f"bar {i + 1} is too short: {have} in M:{meter}", tok)
    return faults
