"""Repair passes on bar lines and bar lengths: empty bars, open repeats, bars too long or short.

These work from the checker's bars (`checker.analyse_tune`): each `Bar` has its length, its
expected length and the `Span` of every note by token index, so a pass can put a bar line
after the right token. `drop_empty_bars` and `close_repeat` make the repeats music21 expands;
`fix_middle_bars` changes a middle bar only when that is clearly safe; `fix_last_bar` trims or
completes the last bar.
"""

from __future__ import annotations

import re
from fractions import Fraction

from app.music import abc_tokens as T
from app.music.checker import ERROR, Analysis, Span, analyse_tune
from app.music.repair_edit import Edit, last_music_index, where


def drop_empty_bars(text: str, repairs: list[str]) -> str:
    """Drop the bar line before an empty bar that a repeat sign closes: "G2F[|]:|"."""
    edit = Edit(text)
    body = edit.body
    previous_bar: int | None = None
    for i, tok in enumerate(body):
        if tok.kind == T.BAR:
            if tok.text.startswith(":") and previous_bar is not None:
                edit.drop(previous_bar)
                repairs.append(f"{where(body[previous_bar])}: removed the bar line "
                               f"{body[previous_bar].text} before {tok.text} (an empty bar)")
            previous_bar = i
        elif tok.kind in (T.NOTE, T.REST, T.MULTI_REST, T.CHORD_CLOSE):
            previous_bar = None
    return edit.text()


def close_repeat(text: str, repairs: list[str]) -> str:
    """Close each unclosed `|:` before the next one or at the end; drop one repeating nothing."""
    analysis = analyse_tune(text)
    unclosed = [p for p in analysis.problems if p.code == "unclosed-repeat"]
    if not unclosed:
        return text
    edit = Edit(text)
    body = edit.body
    starts = [i for i, t in enumerate(body) if t.kind == T.BAR and t.text.endswith(":")]
    for problem in unclosed:
        index = next((i for i in starts if (body[i].line, body[i].column)
                      == (problem.line, problem.column)), None)
        if index is None:
            continue
        later = [i for i in starts if i > index]
        if problem.severity != ERROR or last_music_index(body) == index:
            edit.replace[index] = body[index].text[:-1] or "|"
            repairs.append(f"{where(body[index])}: removed a repeat |: with nothing after it")
        elif later:
            edit.replace[later[0]] = ":||:"
            repairs.append(f"{where(body[index])}: closed the repeat |: with :| before the "
                           "next one")
        else:
            last = last_music_index(body)
            if body[last].kind == T.BAR and not body[last].text.startswith(":"):
                edit.replace[last] = ":|"
            else:
                edit.insert_after(last, " :|")
            repairs.append(f"{where(body[index])}: closed the repeat |: with :| at the end")
    return edit.text()


def _fmt_length(multiplier: Fraction) -> str:
    if multiplier == 1:
        return ""
    if multiplier.denominator == 1:
        return str(multiplier.numerator)
    if multiplier.numerator == 1:
        return f"/{multiplier.denominator}"
    return f"{multiplier.numerator}/{multiplier.denominator}"


def fix_middle_bars(text: str, repairs: list[str]) -> str:
    """Mend a middle bar only where it is clearly safe: add missing bar lines to a bar exactly
    two or more bars long, or move a bar line one note off between two bars."""
    analysis = analyse_tune(text)
    bars, faults = analysis.bars, analysis.faults
    last = len(bars) - 1
    edit = Edit(text)
    changed = set()
    for i, kind in sorted(faults.items()):
        if i == last or i in changed:
            continue
        bar = bars[i]
        exp = bar.expected
        if kind == "long" and bar.duration % exp == 0:
            cuts = _cuts(bar.spans, exp)
            if len(cuts) == bar.duration / exp - 1:
                for cut in cuts:
                    edit.insert_after(cut, " |")
                changed.add(i)
                repairs.append(f"bar {i + 1}: added {len(cuts)} missing bar line(s)")
        else:
            # A bar line one note off: this bar and a neighbour add up to two full bars.
            for j in (i - 1, i) if kind == "long" else (i, i - 1):
                if _move_bar_line(edit, bars, j, last, changed):
                    repairs.append(f"bars {j + 1}-{j + 2}: moved a misplaced bar line")
                    break
    return edit.text() if changed else text


def _move_bar_line(edit: Edit, bars: list, j: int, last: int, changed: set[int]) -> bool:
    """Move the plain bar line between bars j and j+1 if that makes both bars full."""
    if j < 0 or j + 1 >= last or j in changed or j + 1 in changed:
        return False
    first, second = bars[j], bars[j + 1]
    exp = first.expected
    if exp is None or second.expected != exp or first.bar_line is None \
            or edit.body[first.bar_line].text != "|" \
            or first.duration + second.duration != 2 * exp:
        return False
    cuts = _cuts(first.spans + second.spans, exp)
    if len(cuts) != 1:
        return False
    edit.drop(first.bar_line)
    edit.insert_after(cuts[0], " |")
    changed.update((j, j + 1))
    return True


def _cuts(spans: list[Span], exp: Fraction) -> list[int]:
    """Return the token indices after which the running duration is a multiple of exp (never
    inside a tuplet)."""
    total, cuts = Fraction(0), []
    for span, after in zip(spans, spans[1:]):
        total += span.duration
        if total % exp == 0 and (span.tuplet is None or after.tuplet != span.tuplet):
            cuts.append(span.end)
    return cuts


def fix_last_bar(text: str, repairs: list[str]) -> str:
    """Trim a last bar that is too long; complete one that is too short (to the pickup's
    complement or a whole bar) by lengthening its last note or adding a rest."""
    analysis = analyse_tune(text)
    bars, faults = analysis.bars, analysis.faults
    if not bars or (len(bars) - 1) not in faults:
        return text
    index = len(bars) - 1
    bar = bars[index]
    exp = bar.expected
    if faults[index] == "multi" or exp is None:
        return text
    first = bars[0]
    pickup = first.duration if len(bars) > 1 and first.duration < (first.expected or 0) else 0
    completes = exp - pickup if pickup and first.expected == exp else exp
    edit = Edit(text)
    spans = list(bar.spans)
    duration = bar.duration
    removed = 0
    while duration > exp and len(spans) > 1:
        span = spans.pop()
        duration -= _drop_span(edit, span)
        removed += 1
        if span.tuplet is not None:
            # A tuplet goes as a whole, its marker with it.
            while len(spans) > 1 and spans[-1].tuplet == span.tuplet:
                duration -= _drop_span(edit, spans.pop())
                removed += 1
            edit.drop(span.tuplet)
    if removed:
        repairs.append(f"last bar: removed {removed} note(s) that made it too long")
    if duration > exp:
        return edit.text() if removed else text
    target = completes if duration <= completes else exp
    missing = target - duration
    if missing:
        _extend(edit, spans[-1], missing, analysis, repairs)
    return edit.text()


def _drop_span(edit: Edit, span: Span) -> Fraction:
    """Drop one note, rest or chord with its decorations and a tie or > after it."""
    start, end = span.start, span.end
    while start > 0 and edit.body[start - 1].kind in (T.DECORATION, T.QUOTE):
        start -= 1
    while end + 1 < len(edit.body) and edit.body[end + 1].kind in (T.TIE, T.BROKEN):
        end += 1
    for i in range(start, end + 1):
        edit.drop(i)
    return span.duration


def _extend(edit: Edit, span: Span, missing: Fraction, analysis: Analysis,
            repairs: list[str]) -> None:
    start, end, duration, plain, _ = span
    tok = edit.body[end]
    if plain and tok.kind in (T.NOTE, T.CHORD_CLOSE) and tok.value:
        multiplier = tok.value * (duration + missing) / duration
        length = re.search(r"\d*/*\d*$", tok.text)
        base = tok.text[:length.start()]
        edit.replace[end] = base + _fmt_length(multiplier)
        old = "".join(t.text for t in edit.body[start:end + 1])
        new = "".join(t.text for t in edit.body[start:end]) + edit.replace[end]
        repairs.append(f"last bar: lengthened the last note {old} to {new} to complete "
                       "the bar")
        return
    rest = "z" + _fmt_length(missing / analysis.unit)
    edit.insert_after(end, rest)
    repairs.append(f"last bar: added the rest {rest} to complete the bar")
