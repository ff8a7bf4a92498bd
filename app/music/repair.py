"""Repair the common faults of generated ABC tunes, and say what was changed.

The generator calls `repair_tune` on every tune it samples; a char-level network stops in the
middle of a note, forgets to close a slur or a repeat, or writes one bar too many. The repair
works on the checker's tokens and bars (`checker.analyse_tune`), in small passes, each of which
re-checks the tune:

1. missing or malformed header fields come from the generation settings (`defaults`) or
   sensible defaults (the meter and unit length that make the most bars fit), K: goes last;
2. text the grammar rejects: stray characters go, `+trill+` becomes `!trill!`, `H` before a
   note becomes `!fermata!`, the invisible rest `x` becomes `z`;
3. a dangling tail goes (a tie, an accidental, a broken-rhythm sign, an unfinished inline
   field or quote, an opening bracket at the very end);
4. what is left open is closed (chords and grace groups where the bar then fits, slurs,
   repeats) and closers without an opener go; tuplets with too few notes lose their marker;
5. a middle bar is changed only when it is clearly safe (a missing or misplaced bar line);
   the last bar is completed (a longer last note, or a rest) or trimmed.

A pass is kept only if it leaves fewer errors. The original text is kept; every change is
listed (positions are lines of the repaired text); a tune that still has errors comes back
with `ok=False` and its remaining problems, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from app.music import abc_tokens as T
from app.music.checker import (ERROR, Analysis, Problem, Span, analyse_tune,
                               default_unit_length, is_valid_key, parse_meter, parse_unit_length)
from app.music.limits import MAX_REPAIR_CHARS

# Meters tried, in this order, when a tune has no usable M: and no default is given.
_METER_GUESSES = ("4/4", "6/8", "3/4", "2/4", "9/8", "12/8", "3/8", "2/2")

_DANGLING = frozenset({T.TIE, T.BROKEN, T.DECORATION, T.GRACE_OPEN, T.CHORD_OPEN,
                       T.SLUR_OPEN, T.TUPLET, T.QUOTE, T.ENDING, T.ERROR, T.INLINE_FIELD})
_QUIET = frozenset({T.SPACE, T.NEWLINE, T.COMMENT})


@dataclass
class RepairResult:
    """A repaired tune: its text, the input, what was changed and what is still wrong."""

    text: str
    original: str
    repairs: list[str] = field(default_factory=list)
    problems_left: list[Problem] = field(default_factory=list)
    ok: bool = False


def repair_tune(abc: str, *, defaults: dict[str, str] | None = None) -> RepairResult:
    """Repair one tune's ABC text; `defaults` holds header values such as {"M": "6/8"}.

    Never raises on bad input: what cannot be repaired is left in `problems_left`. A tune over
    `limits.MAX_REPAIR_CHARS` characters is not looked at: it comes back with `ok=False` and one
    "too-long" problem.
    """
    defaults = {k.upper(): v for k, v in (defaults or {}).items()}
    repairs: list[str] = []
    text = abc.replace("\r\n", "\n").replace("\r", "\n").strip("\n") + "\n"
    if len(text) > MAX_REPAIR_CHARS:
        message = (f"the tune has {len(text):,} characters; Ceol repairs tunes of at most "
                   f"{MAX_REPAIR_CHARS:,} characters")
        return RepairResult(text, abc, [], [Problem("too-long", message, 1, 1)], False)
    first = analyse_tune(text)
    if not first.problems:
        return RepairResult(text, abc, [], [], True)
    text = _fix_header(text, defaults, repairs)
    text = _guarded(_fix_tokens, text, repairs)
    text = _guarded(_drop_dangling_tail, text, repairs, must_improve=False)
    text = _guarded(_balance, text, repairs)
    text = _guarded(_drop_empty_bars, text, repairs)
    text = _guarded(_close_repeat, text, repairs)
    text = _guarded(_fix_middle_bars, text, repairs)
    text = _guarded(_fix_last_bar, text, repairs)
    analysis = analyse_tune(text)
    ok = not any(p.severity == ERROR for p in analysis.problems)
    return RepairResult(text, abc, repairs, analysis.problems, ok)


def _errors(text: str) -> int:
    return sum(p.severity == ERROR for p in analyse_tune(text).problems)


def _guarded(step, text: str, repairs: list[str], *, must_improve: bool = True) -> str:
    """Run one repair pass; keep its result only if it leaves fewer errors than before (or,
    for a pass that only tidies, no more errors)."""
    notes: list[str] = []
    new = step(text, notes)
    before, after = _errors(text), _errors(new)
    if new == text or after > before or (must_improve and after == before):
        return text
    repairs.extend(notes)
    return new


# -- editing helpers ---------------------------------------------------------------------
class _Edit:
    """Replacements and insertions on a tokenised tune, written back as text."""

    def __init__(self, text: str) -> None:
        self.tune = T.tokenize_tune(text)
        self.body = self.tune.body
        self.header_end = self.tune.header[-1].line if self.tune.header else 0
        self.replace: dict[int, str] = {}
        self.after: dict[int, str] = {}

    def drop(self, index: int) -> None:
        self.replace[index] = ""

    def insert_after(self, index: int, text: str) -> None:
        self.after[index] = self.after.get(index, "") + text

    def text(self) -> str:
        head = self.tune.lines[:self.header_end]
        parts = []
        for i, tok in enumerate(self.body):
            parts.append(self.replace.get(i, "\n" if tok.kind == T.NEWLINE else tok.text))
            if i in self.after:
                parts.append(self.after[i])
        body = "".join(parts)
        lines = [line for line in body.split("\n") if line.strip()]
        return "\n".join(head + lines) + "\n"


def _where(tok: T.Token) -> str:
    return f"line {tok.line}, column {tok.column}"


def _last_music_index(body: list[T.Token]) -> int | None:
    for i in range(len(body) - 1, -1, -1):
        if body[i].kind not in _QUIET and body[i].kind != T.FIELD:
            return i
    return None


# -- pass 1: text the grammar rejects ---------------------------------------------------------
def _fix_tokens(text: str, repairs: list[str]) -> str:
    edit = _Edit(text)
    body = edit.body
    for i, tok in enumerate(body):
        if tok.kind == T.REST and tok.text.startswith("x"):
            edit.replace[i] = "z" + tok.text[1:]
            repairs.append(f"{_where(tok)}: invisible rest {tok.text} written as z")
        if tok.kind == T.ENDING and not tok.text.startswith("[") and i \
                and body[i - 1].kind == T.BAR and body[i - 1].text not in ("|", ":|"):
            edit.replace[i] = "[" + tok.text
            repairs.append(f"{_where(tok)}: ending {body[i - 1].text}{tok.text} written as "
                           f"{body[i - 1].text}[{tok.text}")
        if tok.kind != T.ERROR:
            continue
        code = tok.value[0]
        if code == "unsupported-decoration":
            edit.replace[i] = "!fermata!"
            repairs.append(f"{_where(tok)}: fermata H written as !fermata!")
        elif tok.text.startswith("+") and len(tok.text) > 2:
            inner = tok.text[1:-1]
            # "+E3A3+" is an old (ABC 1.6) chord; "+trill+" a decoration.
            new = f"[{inner}]" if re.fullmatch(r"(?:[_^=]*[A-Ga-g][,']*[\d/]*)+", inner) \
                else f"!{inner}!"
            edit.replace[i] = new
            repairs.append(f"{_where(tok)}: {tok.text} written as {new}")
        elif code == "zero-length" or code == "huge-length" and tok.text[:1] != "Z":
            edit.replace[i] = re.sub(r"\d*/*\d*$", "", tok.text) if code == "huge-length" \
                else re.sub(r"/[\d/]*$", "", tok.text)
            repairs.append(f"{_where(tok)}: length {tok.text} written as {edit.replace[i]}")
        elif code in ("bad-token", "dangling-accidental") and len(tok.text) <= 1:
            edit.drop(i)
            repairs.append(f"{_where(tok)}: removed stray {tok.text!r}")
    return edit.text()


# -- pass 2: an unfinished end ----------------------------------------------------------------
def _drop_dangling_tail(text: str, repairs: list[str]) -> str:
    edit = _Edit(text)
    body = edit.body
    i = len(body) - 1
    while i >= 0:
        tok = body[i]
        if tok.kind in _QUIET:
            i -= 1
            continue
        if tok.kind not in _DANGLING:
            break
        edit.drop(i)
        what = tok.text.strip() or tok.kind
        repairs.append(f"{_where(tok)}: dropped the unfinished {what!r} at the end")
        i -= 1
    return edit.text()


# -- pass 3: balance --------------------------------------------------------------------------
def _balance(text: str, repairs: list[str]) -> str:
    edit = _Edit(text)
    body = edit.body
    chord: int | None = None
    chord_notes: list[int] = []
    grace: int | None = None
    grace_notes: list[int] = []
    slurs: list[int] = []
    tuplet: int | None = None
    tuplet_left = 0
    broken: int | None = None
    last_event: int | None = None

    groups: list[tuple[int, str, list[int]]] = []   # (opening, closer, where it may close)

    def close_groups() -> None:
        nonlocal chord, grace
        for opening, notes, closer, name in ((chord, chord_notes, "]", "chord ["),
                                             (grace, grace_notes, "}", "grace notes {")):
            if opening is None:
                continue
            if not notes:
                edit.drop(opening)
                repairs.append(f"{_where(body[opening])}: removed an empty {name}")
            else:
                groups.append((opening, closer, _closing_candidates(body, opening, notes)))
                repairs.append(f"{_where(body[opening])}: closed the {name} with {closer}")
        chord = grace = None

    def close_bar() -> None:
        nonlocal tuplet, broken
        close_groups()
        if tuplet is not None:
            edit.drop(tuplet)
            repairs.append(f"{_where(body[tuplet])}: removed tuplet {body[tuplet].text} that "
                           "had too few notes")
            tuplet = None
        if broken is not None:
            edit.drop(broken)
            repairs.append(f"{_where(body[broken])}: removed broken rhythm "
                           f"{body[broken].text} with no note after it")
            broken = None

    for i, tok in enumerate(body):
        kind = tok.kind
        if kind == T.NOTE:
            if grace is not None:
                grace_notes.append(i)
            elif chord is not None:
                chord_notes.append(i)
            else:
                last_event, broken = i, None
                if tuplet is not None:
                    tuplet_left -= 1
                    tuplet = None if tuplet_left == 0 else tuplet
        elif kind == T.REST and grace is None and chord is None:
            last_event, broken = i, None
            if tuplet is not None:
                tuplet_left -= 1
                tuplet = None if tuplet_left == 0 else tuplet
        elif kind == T.CHORD_OPEN:
            close_groups() if chord is not None else None
            chord, chord_notes = i, []
        elif kind == T.CHORD_CLOSE:
            if chord is None:
                edit.drop(i)
                repairs.append(f"{_where(tok)}: removed {tok.text} without an opening [")
            elif not chord_notes:
                edit.drop(chord)
                edit.drop(i)
                repairs.append(f"{_where(body[chord])}: removed an empty chord []")
                chord = None
            else:
                chord, last_event, broken = None, i, None
                if tuplet is not None:
                    tuplet_left -= 1
                    tuplet = None if tuplet_left == 0 else tuplet
        elif kind == T.GRACE_OPEN:
            close_groups() if grace is not None else None
            grace, grace_notes = i, []
        elif kind == T.GRACE_CLOSE:
            if grace is None:
                edit.drop(i)
                repairs.append(f"{_where(tok)}: removed }} without an opening {{")
            else:
                grace = None
        elif kind == T.SLUR_OPEN:
            slurs.append(i)
        elif kind == T.SLUR_CLOSE:
            if slurs:
                slurs.pop()
            else:
                edit.drop(i)
                repairs.append(f"{_where(tok)}: removed ) without an opening (")
        elif kind == T.TUPLET and chord is None and grace is None:
            if tuplet is None:
                p, _, r = tok.value
                tuplet, tuplet_left = i, r or p
        elif kind == T.BROKEN:
            broken = i
        elif kind == T.BAR:
            close_bar()
        elif kind == T.NEWLINE:
            close_groups()
    close_bar()
    for _, closer, candidates in groups:
        _close_where_the_bar_fits(edit, closer, candidates)
    if slurs and last_event is not None:
        for index in slurs:
            edit.insert_after(last_event, ")")
            repairs.append(f"{_where(body[index])}: closed the slur ( after the last note")
    elif slurs:
        for index in slurs:
            edit.drop(index)
    return edit.text()


def _closing_candidates(body: list[T.Token], opening: int, notes: list[int]) -> list[int]:
    """Return where an unclosed chord or grace group may end, the likeliest first: after its
    last note before a space, else after its last note, then after each other note."""
    if body[opening].kind == T.GRACE_OPEN:
        return list(notes)  # grace groups are short: the fewer notes, the likelier
    first_space = next((i for i in range(opening, notes[-1]) if body[i].kind == T.SPACE), None)
    before_space = [n for n in notes if first_space is None or n < first_space]
    likeliest = before_space[-1] if before_space else notes[-1]
    return [likeliest] + [n for n in notes if n != likeliest]


def _close_where_the_bar_fits(edit: _Edit, closer: str, candidates: list[int]) -> None:
    """Insert the closer at the candidate that leaves the fewest errors (first one on ties)."""
    best, best_errors = candidates[0], None
    for index in candidates:
        trial = _Edit.__new__(_Edit)
        trial.__dict__.update(edit.__dict__, replace=dict(edit.replace), after=dict(edit.after))
        trial.insert_after(index, closer)
        errors = _errors(trial.text())
        if best_errors is None or errors < best_errors:
            best, best_errors = index, errors
    edit.insert_after(best, closer)


# -- pass 4: header ---------------------------------------------------------------------------
def _fix_header(text: str, defaults: dict[str, str], repairs: list[str]) -> str:
    """Add or replace missing and malformed X, M, L, K; leave a sound header untouched."""
    before = len(repairs)
    fixed = _rebuild_header(text, defaults, repairs)
    return fixed if len(repairs) > before else text


def _rebuild_header(text: str, defaults: dict[str, str], repairs: list[str]) -> str:
    tune = T.tokenize_tune(text)
    fields = [[tok.value[0], tok.value[1]] for tok in tune.header]
    body = list(tune.body)
    # Required fields written between K: and the music move up into the header.
    while body and body[0].kind in (T.FIELD, T.NEWLINE, T.COMMENT):
        tok = body[0]
        if tok.kind == T.FIELD and tok.value[0] in "XML" and not _has(fields, tok.value[0]):
            fields.append([tok.value[0], tok.value[1]])
            repairs.append(f"moved {tok.value[0]}: before K: (K: must be the last header field)")
            body.pop(0)
            if body and body[0].kind == T.NEWLINE:
                body.pop(0)
            continue
        if tok.kind == T.FIELD:
            break
        body.pop(0)
    body_text = T.render_body(body)

    x = _get(fields, "X")
    if x is None or not x.isdigit():
        _set(fields, "X", "1")
        repairs.append("added X:1" if x is None else f"replaced X:{x} with X:1")
    meter, unit = _get(fields, "M"), _get(fields, "L")
    meter_ok = meter is not None and parse_meter(meter) is not None
    unit_ok = unit is not None and parse_unit_length(unit) is not None
    if not (meter_ok and unit_ok):
        meters = [meter] if meter_ok else _choices(defaults.get("M"), parse_meter, _METER_GUESSES)
        units = [unit] if unit_ok else _choices(defaults.get("L"), parse_unit_length, None)
        new_meter, new_unit = _best_fit(meters, units, body_text)
        how = "the generation settings" if len(meters) == 1 else "the meter that fits most bars"
        if not meter_ok:
            _set(fields, "M", new_meter)
            repairs.append(f"{'added' if meter is None else f'replaced M:{meter} with'} "
                           f"M:{new_meter} (from {how})")
        if not unit_ok:
            _set(fields, "L", new_unit)
            repairs.append(f"{'added' if unit is None else f'replaced L:{unit} with'} "
                           f"L:{new_unit}")
    key = _get(fields, "K")
    if key is None or not is_valid_key(key):
        new = defaults.get("K")
        if new is None or not is_valid_key(new):
            tonic = re.match(r"[A-G][#b]?", (key or "").strip())
            new = tonic.group() if tonic else "C"
        _set(fields, "K", new)
        repairs.append(f"{'added' if key is None else f'replaced K:{key} with'} K:{new}")
    order = ["X"] + [f[0] for f in fields if f[0] not in "XK"] + ["K"]
    header = []
    for letter in dict.fromkeys(order):
        header += [f"{f[0]}:{f[1]}" for f in fields if f[0] == letter]
    old_order = [tok.value[0] for tok in tune.header]
    if "X" in old_order and old_order[0] != "X":
        repairs.append("put X: first in the header")
    return "\n".join(header) + "\n" + body_text.strip("\n") + "\n"


def _has(fields: list[list[str]], letter: str) -> bool:
    return any(f[0] == letter for f in fields)


def _get(fields: list[list[str]], letter: str) -> str | None:
    return next((f[1] for f in fields if f[0] == letter), None)


def _set(fields: list[list[str]], letter: str, value: str) -> None:
    for f in fields:
        if f[0] == letter:
            f[1] = value
            return
    fields.append([letter, value])


def _choices(default: str | None, valid, guesses: tuple[str, ...] | None) -> list[str | None]:
    """The values to try for a missing field: the setting if valid, else the guesses (for L:
    1/8, then ABC's default for the meter (None), then 1/16 and 1/4)."""
    if default is not None and valid(default) is not None:
        return [default]
    return list(guesses) if guesses else ["1/8", None, "1/16", "1/4"]


def _best_fit(meters: list, units: list, body: str) -> tuple[str, str]:
    """Return the (M, L) pair under which the fewest bars have the wrong length."""
    best, best_faults = None, None
    for unit in units:
        for meter in meters:
            if unit is None:
                value = parse_meter(meter)
                length = default_unit_length(value[0] if value else None)
                unit = f"{length.numerator}/{length.denominator}"
            faults = len(analyse_tune(f"X:1\nM:{meter}\nL:{unit}\nK:C\n{body}").faults)
            if best_faults is None or faults < best_faults:
                best, best_faults = (meter, unit), faults
    return best


def _drop_empty_bars(text: str, repairs: list[str]) -> str:
    """Drop the bar line before an empty bar that a repeat sign closes: "G2F[|]:|"."""
    edit = _Edit(text)
    body = edit.body
    previous_bar: int | None = None
    for i, tok in enumerate(body):
        if tok.kind == T.BAR:
            if tok.text.startswith(":") and previous_bar is not None:
                edit.drop(previous_bar)
                repairs.append(f"{_where(body[previous_bar])}: removed the bar line "
                               f"{body[previous_bar].text} before {tok.text} (an empty bar)")
            previous_bar = i
        elif tok.kind in (T.NOTE, T.REST, T.MULTI_REST, T.CHORD_CLOSE):
            previous_bar = None
    return edit.text()


# -- pass 5: repeats --------------------------------------------------------------------------
def _close_repeat(text: str, repairs: list[str]) -> str:
    analysis = analyse_tune(text)
    unclosed = [p for p in analysis.problems if p.code == "unclosed-repeat"]
    if not unclosed:
        return text
    edit = _Edit(text)
    body = edit.body
    starts = [i for i, t in enumerate(body) if t.kind == T.BAR and t.text.endswith(":")]
    for problem in unclosed:
        index = next((i for i in starts if (body[i].line, body[i].column)
                      == (problem.line, problem.column)), None)
        if index is None:
            continue
        later = [i for i in starts if i > index]
        if problem.severity != ERROR or _last_music_index(body) == index:
            edit.replace[index] = body[index].text[:-1] or "|"
            repairs.append(f"{_where(body[index])}: removed a repeat |: with nothing after it")
        elif later:
            edit.replace[later[0]] = ":||:"
            repairs.append(f"{_where(body[index])}: closed the repeat |: with :| before the "
                           "next one")
        else:
            last = _last_music_index(body)
            if body[last].kind == T.BAR and not body[last].text.startswith(":"):
                edit.replace[last] = ":|"
            else:
                edit.insert_after(last, " :|")
            repairs.append(f"{_where(body[index])}: closed the repeat |: with :| at the end")
    return edit.text()


# -- pass 6 and 7: bar lengths ----------------------------------------------------------------
def _fmt_length(multiplier: Fraction) -> str:
    if multiplier == 1:
        return ""
    if multiplier.denominator == 1:
        return str(multiplier.numerator)
    if multiplier.numerator == 1:
        return f"/{multiplier.denominator}"
    return f"{multiplier.numerator}/{multiplier.denominator}"


def _fix_middle_bars(text: str, repairs: list[str]) -> str:
    analysis = analyse_tune(text)
    bars, faults = analysis.bars, analysis.faults
    last = len(bars) - 1
    edit = _Edit(text)
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


def _move_bar_line(edit: _Edit, bars: list, j: int, last: int, changed: set[int]) -> bool:
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


def _fix_last_bar(text: str, repairs: list[str]) -> str:
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
    edit = _Edit(text)
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


def _drop_span(edit: _Edit, span: Span) -> Fraction:
    """Drop one note, rest or chord with its decorations and a tie or > after it."""
    start, end = span.start, span.end
    while start > 0 and edit.body[start - 1].kind in (T.DECORATION, T.QUOTE):
        start -= 1
    while end + 1 < len(edit.body) and edit.body[end + 1].kind in (T.TIE, T.BROKEN):
        end += 1
    for i in range(start, end + 1):
        edit.drop(i)
    return span.duration


def _extend(edit: _Edit, span: Span, missing: Fraction, analysis: Analysis,
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
