"""Check one ABC tune for the faults that stop it from playing or make its bars wrong.

`check_tune(abc)` returns a list of `Problem`s, each with a code, a one-line message and the
1-based line and column it is about. It covers the header (X, M, L and K present and well
formed, K last), text that is not ABC music, unbalanced chords, slurs, grace notes and quotes,
tuplets with too few notes, repeats and endings music21 cannot expand, bars whose length
does not match the meter, and what abc2midi (the reference implementation) rejects although
music21 reads it (`checker_portable`: misplaced decorations, broken rhythm between unequal
notes, ties to another pitch, `d,`, unknown chord symbols, a hornpipe in 2/2, an ending inside
another, voice fields made up in a one-voice tune, a length such as `G/3`). Bar lengths
follow folk practice: a pickup bar, a last bar that completes the pickup, short bars on both
sides of a section or repeat boundary that add up to one bar, first and second endings, and
meter or unit-length changes inside the tune are all fine. Pure Python on `abc_tokens`; fast enough to judge every generated tune.

This module checks the header and gives the entry points; the field values are read by
`abc_fields`, the body is walked by `checker_walker` into the records of `checker_records`,
and bar lengths are judged by `bar_lengths`.

"clean" (no errors) is meant to imply that music21 converts the tune to MIDI with the
durations counted here, and that abc2midi reports no error (`benchmarks/abc2midi_judge.py`
measures it); warnings do not stop that.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from app.music import abc_tokens as T
from app.music.abc_fields import (default_unit_length, is_valid_key, parse_meter,
                                  parse_unit_length, shorten)
from app.music.bar_lengths import bar_length_faults
from app.music.checker_portable import hornpipe_swing_findings, portable_findings
from app.music.checker_records import ERROR, WARNING, Bar, Problem, Span, State
from app.music.checker_walker import Walker

__all__ = ["ERROR", "WARNING", "Analysis", "Problem", "Span", "analyse_tune", "bar_length_faults",
           "check_tune", "default_unit_length", "is_clean", "is_valid_key", "parse_meter",
           "parse_unit_length"]


@dataclass
class Analysis:
    """What the checker found out about a tune; the repair works from this."""

    tune: T.TuneTokens
    problems: list[Problem]
    bars: list[Bar]             # bars with notes or rests, in order
    faults: dict[int, str]      # bar index -> "long", "short" or "multi"
    open_slurs: list[int]       # token indices of unclosed "("
    open_repeat: int | None     # token index of an unclosed "|:"
    unit: Fraction              # the unit note length in force at the end of the tune


def analyse_tune(abc: str) -> Analysis:
    """Check one tune and keep the bars and token positions found on the way."""
    tune = T.tokenize_tune(abc)
    state = State()
    _check_header(tune, state)
    walker = Walker(state)
    walker.run(tune.body)
    _check_portable(tune, state, walker.bars)
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


def _check_portable(tune: T.TuneTokens, state: State, bars: list[Bar]) -> None:
    for finding in portable_findings(tune) + hornpipe_swing_findings(tune, bars):
        index = finding.index
        tok = tune.body[index] if index >= 0 else tune.header[-1 - index]
        state.add(finding.code, finding.message, tok)


def _check_header(tune: T.TuneTokens, state: State) -> None:
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
            state.add("bad-header", f"malformed meter M:{shorten(fields['M'].value[1])}",
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
            state.add("bad-header", f"malformed unit length L:{shorten(fields['L'].value[1])}",
                      fields["L"])
        else:
            state.unit = unit
    if not tune.has_key:
        state.add("missing-header", "missing K: (key) field before the music", where)
    elif not is_valid_key(fields["K"].value[1]):
        state.add("bad-header", f"malformed key K:{shorten(fields['K'].value[1])}", fields["K"])

