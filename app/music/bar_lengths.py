"""Folk-practice rules for bar lengths: which bars of a tune are too long or too short.

A bar must fill the meter, except where folk tunes leave it short on purpose: a pickup bar, a
last bar that completes the pickup, short bars on both sides of a section or repeat boundary
that add up to one bar, and a section that opens with a pickup of its own. The checker's walker
measures the bars (`checker_records.Bar`); `check_bar_lengths` judges them and reports each
fault as a problem; the repair uses `bar_length_faults` to choose a meter and to mend bars.
"""

from __future__ import annotations

from fractions import Fraction

from app.music import abc_tokens as T
from app.music.checker_records import Bar, State


def _fmt(duration: Fraction, meter_text: str) -> str:
    """Write a duration over the meter's denominator: 7/8 for 6/8, 5/4 for 4/4."""
    written = meter_text.partition("/")[2]
    first = int(written) if written.isdigit() else 4 if meter_text == "C" else 2
    for denominator in (first, 4, 8, 16, 32, 64):
        count = duration * denominator
        if count.denominator == 1:
            return f"{count.numerator}/{denominator}"
    return str(duration)


def bar_length_faults(bars: list[Bar]) -> dict[int, str]:
    """Return {index: 'long'|'short'|'multi'} for bars that do not fit folk practice ('multi':
    a multi-bar rest Z with notes beside it)."""
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


def check_bar_lengths(bars: list[Bar], state: State) -> dict[int, str]:
    """Record a problem for each bar that breaks the rules; return `bar_length_faults`."""
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
