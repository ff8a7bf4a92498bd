"""Ties and broken rhythm as abc2midi plays them: the rhythm half of `checker_portable`.

abc2midi ties only a note to the same pitch (`tie_findings`), applies `>` and `<` only between
notes of equal written length and equal staccato and fermata marks, because it shortens
staccato notes and lengthens fermatas (`broken_rhythm_findings`), swings the eighth pairs
of a hornpipe as if they were written with `>` (`hornpipe_swing_findings`), and reads a note
length only when the number after its `/` is a power of 2 (`length_findings`). Each returns
`checker_records.Finding`s by body token index; `checker_portable` collects them for the
checker and `repair_portable` repairs them.
"""

from __future__ import annotations

import re
from fractions import Fraction

from app.music import abc_tokens as T
from app.music.checker_records import Finding

HORNPIPE_METERS = frozenset({"C", "2/4", "4/4"})     # the meters abc2midi plays hornpipes in
NOTE_HEAD = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)")
_DIVISOR = re.compile(r"/(\d+)$")


def length_divisor(tok: T.Token) -> int | None:
    """Return the written divisor of a note, rest or chord length abc2midi refuses (3 in
    `G/3`, 12 in `z2/12`, 3 in `]/3`), or None where it reads the length."""
    if tok.kind not in (T.NOTE, T.REST, T.CHORD_CLOSE):
        return None
    m = _DIVISOR.search(tok.text)
    divisor = int(m.group(1)) if m else 0
    return divisor if divisor & (divisor - 1) else None


def length_findings(body: list[T.Token]) -> list[Finding]:
    """Return the lengths abc2midi refuses ("3 b is not a power of 2"): `odd-length`."""
    found = []
    for i, tok in enumerate(body):
        divisor = length_divisor(tok)
        if divisor is not None:
            what = "chord length" if tok.kind == T.CHORD_CLOSE else "length"
            found.append(Finding("odd-length", i, f"abc2midi reads no {what} {tok.text} "
                                 f"({divisor} is not a power of 2); write a tuplet, "
                                 "such as (3:2:1G/2 for G/3"))
    return found


def letter_decoration(tok: T.Token) -> bool:
    """Tell whether a token is a one-letter decoration (`.`, `~`, `u`, `T`, `H` ...)."""
    # "H" right before a note is an ERROR token (music21 drops the note), still a decoration.
    return tok.kind in (T.DECORATION, T.ERROR) and len(tok.text) == 1 and \
        (tok.kind == T.DECORATION or tok.text == "H")


def tie_findings(body: list[T.Token]) -> list[Finding]:
    """Return the ties abc2midi cannot play (`tie-mismatch`, `staccato-tie`)."""
    found = []
    depth = 0
    for i, tok in enumerate(body):
        depth += (tok.kind == T.CHORD_OPEN) - (tok.kind == T.CHORD_CLOSE)
        if tok.kind != T.TIE or depth > 0:      # ties inside a chord: left to music21
            continue
        # "A -A" and "A>-B": abc2midi ties the note before the blank or the broken rhythm.
        tied = i - 1
        while tied >= 0 and body[tied].kind in (T.SPACE, T.BROKEN):
            tied -= 1
        kind = body[tied].kind if tied >= 0 else None
        if kind not in (T.NOTE, T.CHORD_CLOSE):
            what = "from grace notes" if kind == T.GRACE_CLOSE else "with no note before it"
            found.append(Finding("tie-mismatch", i, f"abc2midi cannot tie {what}"))
            continue
        if kind == T.NOTE:
            dot = next((j for j in range(tied - 1, -1, -1) if body[j].kind != T.DECORATION
                        or body[j].text in (".", "!staccato!")), None)
            if dot is not None and body[dot].kind == T.DECORATION:
                found.append(Finding("staccato-tie", dot, "abc2midi cannot tie from a "
                                     "staccato note"))
        j, crossed = i + 1, ""
        while j < len(body) and body[j].kind in (T.SPACE, T.NEWLINE, T.BAR, T.SLUR_OPEN,
                                                 T.SLUR_CLOSE, T.QUOTE, T.DECORATION,
                                                 T.COMMENT, T.FIELD, T.INLINE_FIELD):
            if letter_decoration(body[j]) and body[j].text not in ".k":
                crossed += body[j].text
            j += 1
        nxt = body[j] if j < len(body) else None
        before = _pitches(body, tied)
        if crossed:
            why = f"across the decoration {crossed}"
        elif nxt is None or nxt.kind not in (T.NOTE, T.CHORD_OPEN):
            why = "to " + ("nothing" if nxt is None else repr(nxt.text))
        elif not before <= _pitches(body, j):
            missing = ", ".join(sorted(before - _pitches(body, j)))
            why = f"{missing} to notes without it"
        else:
            continue
        found.append(Finding("tie-mismatch", i, f"abc2midi cannot tie {why}"))
    return found


def _pitches(body: list[T.Token], index: int) -> set[str]:
    """Return the pitches (letter and octave marks) of the note or chord at `index` (a note,
    a chord's "[" or its "]")."""
    if body[index].kind == T.NOTE:
        return {_pitch(body[index].text)}
    step = 1 if body[index].kind == T.CHORD_OPEN else -1
    stop = T.CHORD_CLOSE if step == 1 else T.CHORD_OPEN
    pitches, i = set(), index + step
    while 0 <= i < len(body) and body[i].kind not in (stop, T.NEWLINE):
        if body[i].kind == T.NOTE:
            pitches.add(_pitch(body[i].text))
        i += step
    return pitches


def _pitch(note: str) -> str:
    m = NOTE_HEAD.match(note)
    return m.group(2) + m.group(3)


def broken_rhythm_findings(body: list[T.Token]
                           ) -> tuple[list[Finding], dict[int, list[int]], dict[int, Fraction]]:
    """Return the broken-rhythm findings, the chain of notes of each, and the notes' lengths.

    The chains map a finding's broken-rhythm token to the indices of the notes and rests linked
    by broken rhythms around it (`A>B>c`); the lengths are each note's or rest's multiplier of
    the unit length once broken rhythm is applied, so a repair can write a chain out exactly.
    """
    found: list[Finding] = []
    chains: dict[int, list[int]] = {}
    previous: int | None = None      # the last note or rest outside chords and grace groups
    effective: dict[int, Fraction] = {}
    pending: tuple[int, int, Fraction] | None = None  # (broken index, note before, factor)
    chain: list[int] = []
    depth = 0                        # inside a chord or grace group
    for i, tok in enumerate(body):
        if tok.kind in (T.CHORD_OPEN, T.GRACE_OPEN):
            depth += 1
        elif tok.kind in (T.CHORD_CLOSE, T.GRACE_CLOSE):
            depth = max(0, depth - 1)
            if tok.kind == T.CHORD_CLOSE and not depth:
                previous, pending, chain = None, None, []
        elif tok.kind == T.BROKEN and not depth:
            if previous is None or pending is not None:
                previous, pending, chain = None, None, []   # "A><B" is no rhythm to write out
                continue
            pending = (i, previous, tok.value)
            if not chain or chain[-1] != previous:
                chain = [previous]
        elif tok.kind in (T.NOTE, T.REST) and not depth:
            effective[i] = tok.value
            if pending is not None:
                b, before, factor = pending
                # abc2midi shortens staccato notes and lengthens fermatas, so both notes must
                # carry the same of these marks.
                marks = tok.kind == T.NOTE and body[before].kind == T.NOTE \
                    and _length_marks(body, i) != _length_marks(body, before)
                if effective[before] != tok.value or marks:
                    what = "notes with different staccato or fermata marks" \
                        if effective[before] == tok.value else "notes of different lengths"
                    found.append(Finding("unequal-broken-rhythm", b, f"abc2midi cannot apply "
                                         f"the broken rhythm {body[b].text} to {what}"))
                    chains[b] = chain
                effective[before] *= factor
                effective[i] = tok.value * (2 - factor)
                chain.append(i)
                pending = None
            else:
                chain = []
            previous = i
        elif tok.kind in (T.BAR, T.TUPLET):
            previous, pending, chain = None, None, []
    return found, chains, effective


_LENGTH_MARKS = {".": ".", "!staccato!": ".", "H": "H", "!fermata!": "H"}


def hornpipe_swing_findings(tune: T.TuneTokens, bars: list) -> list[Finding]:
    """Return the note pairs abc2midi swings in a hornpipe whose staccato or fermata marks differ.

    In a tune with `R:hornpipe` in 2/4 or 4/4, abc2midi plays two equal eighths (4/4) or
    sixteenths (2/4), the second starting off the beat, as `>`, and then refuses marks that make
    them unequal. `bars` are the checker's bars of the tune (`checker_records.Bar`); each
    finding is about the second note of the pair.
    """
    fields = {tok.value[0]: tok.value[1] for tok in reversed(tune.header)}
    meter = fields.get("M", "").replace(" ", "")
    if not fields.get("R", "").strip().lower().startswith("hornpipe") \
            or meter not in HORNPIPE_METERS:
        return []
    pair = Fraction(1, 16) if meter == "2/4" else Fraction(1, 8)
    body, found = tune.body, []
    for bar in bars:
        position, previous = Fraction(0), None
        for span in bar.spans:
            note = body[span.start].kind == T.NOTE and span.tuplet is None and span.plain
            if note and previous is not None and span.duration == previous.duration == pair \
                    and position.denominator == pair.denominator \
                    and _length_marks(body, span.start) != _length_marks(body, previous.start):
                found.append(Finding("hornpipe-swing", span.start, "abc2midi swings this pair "
                                     "of a hornpipe and cannot when only one is staccato or "
                                     "a fermata"))
            previous = span if note else None
            position += span.duration
    return found


def _length_marks(body: list[T.Token], index: int) -> set[str]:
    """Return the staccato (".") and fermata ("H") marks right before the note at `index`."""
    marks = set()
    i = index - 1
    # "H" before a note is an ERROR token (music21 drops the note; the repair writes !fermata!).
    while i >= 0 and (body[i].kind == T.DECORATION or body[i].text == "H"):
        if body[i].text in _LENGTH_MARKS:
            marks.add(_LENGTH_MARKS[body[i].text])
        i -= 1
    return marks
