"""The checker's walk over a tune's body: one pass that follows what is open and counts bars.

`Walker.run` visits every token once, with one handler per token kind. It follows chords,
grace groups, slurs, tuplets, broken rhythms, ties, repeats and endings, records a `Problem`
where one is opened and never closed (or closed without being opened), and measures each bar
into a `Bar` with the `Span`s of its notes, rests and chords, keeping the section and repeat
boundaries around it. Inline M: and L: fields change the meter and unit length from where they
stand. At the end the bar-length rules (`bar_lengths`) judge the bars it found.
"""

from __future__ import annotations

from fractions import Fraction

from app.music import abc_tokens as T
from app.music.abc_fields import is_valid_key, parse_meter, parse_unit_length, shorten
from app.music.bar_lengths import check_bar_lengths
from app.music.checker_records import WARNING, Bar, Problem, Span, State

_BOUNDARIES = frozenset({"||", "|]", "[|"})


class Walker:
    """One pass over the body tokens: balance, tuplets, repeats and bar durations."""

    def __init__(self, state: State) -> None:
        self.s = state
        self.bars: list[Bar] = []
        self.bar: Bar | None = None
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
    def _current_bar(self, tok: T.Token) -> Bar:
        if self.bar is None:
            self.bar = Bar(tok.line, tok.column, self.s.meter, self.s.meter_text,
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
                self.s.add("bad-field", f"malformed meter M:{shorten(value)}", tok)
                return
            self.s.meter, self.s.compound = meter
            self.s.meter_text = value
            if self.bar is not None and not self.bar.events:
                self.bar.expected, self.bar.meter_text = self.s.meter, value
        elif letter == "L":
            unit = parse_unit_length(value)
            if unit is None:
                self.s.add("bad-field", f"malformed unit length L:{shorten(value)}", tok)
            else:
                self.s.unit = unit
        elif letter == "K" and not is_valid_key(value):
            self.s.add("bad-field", f"malformed key K:{shorten(value)}", tok)

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
        self.faults = check_bar_lengths(self.bars, self.s)

    _handlers = {
        T.NOTE: _note, T.REST: _rest, T.MULTI_REST: _multi_rest, T.CHORD_OPEN: _chord_open,
        T.CHORD_CLOSE: _chord_close, T.GRACE_OPEN: _grace_open, T.GRACE_CLOSE: _grace_close,
        T.SLUR_OPEN: _slur_open, T.SLUR_CLOSE: _slur_close, T.TUPLET: _tuplet,
        T.BROKEN: _broken, T.TIE: _tie, T.DECORATION: _decoration, T.FIELD: _field,
        T.INLINE_FIELD: _field, T.ERROR: _error, T.NEWLINE: _newline, T.BAR: _bar_line,
        T.ENDING: _ending,
    }
