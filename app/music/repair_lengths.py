"""Repair pass for note lengths abc2midi refuses (`odd-length`: `G/3`, `z2/6`, `[GB]/3`).

abc2midi reads a length only when the number after its `/` is a power of 2 ("3 b is not a
power of 2"); music21 reads `G/3` as a third of the unit. The same length is a tuplet, which
both read alike (measured: `(3:2:1G/2` is 1/6 of a quarter in music21 and in abc2midi's MIDI):
a length a/(m*2^k) with m odd is m notes in the time of q (the power of 2 below m) of length
a/(q*2^k). `fix_lengths(text, repairs)` writes

- a run of such notes, rests or chords with the same m (nothing but spaces, decorations, chord
  symbols, slurs, ties, broken rhythm and grace notes between them, at most 9) as one tuplet:
  `G/3A/3B/3` -> `(3G/2A/2B/2`, `G/3 A` -> `(3:2:1G/2 A`, `G/5` -> `(5:4:1G/4`;
- a length that is a power of 2 once reduced (`G6/12`) in its short spelling (`G/`);
- a chord whose notes all sound the same length as a tuplet of that chord (`[G/3B/3]` ->
  `(3:2:1[GB]/2`);
- a grace note's length to the nearest length abc2midi reads (`{g/3}` -> `{g/4}`): grace notes
  take no time of the bar, in music21 and in abc2midi, so no note of the tune moves.

Left as they are, the tune then failing the checker (generation samples it again): a length
inside a tuplet already (abc2midi refuses nested tuplets), a chord whose notes differ in
length, and an odd part over 9 (`G/11`): none is written without changing what sounds.
"""

from __future__ import annotations

import re
from fractions import Fraction

from app.music import abc_tokens as T
from app.music.checker_rhythm import length_divisor
from app.music.repair_edit import Edit, where

_HEAD = re.compile(r"(\^\^|\^|__|_|=)?[A-Ga-g][,']*|[zx]")
# Tokens that may stand between the notes of one tuplet.
_BETWEEN = frozenset({T.SPACE, T.DECORATION, T.QUOTE, T.SLUR_OPEN, T.SLUR_CLOSE, T.TIE,
                      T.BROKEN, T.GRACE_OPEN, T.GRACE_CLOSE})
_TUPLET_TIMES = {3: 2, 5: 4, 7: 4, 9: 8}     # p -> q: the tuplets written here


def length_text(multiplier: Fraction) -> str:
    """Write a length multiplier as ABC: 1 -> "", 2 -> "2", 1/2 -> "/", 3/4 -> "3/4"."""
    n, d = multiplier.numerator, multiplier.denominator
    if d == 1:
        return "" if n == 1 else str(n)
    if n == 1:
        return "/" if d == 2 else f"/{d}"
    return f"{n}/{d}"


def odd_part(length: Fraction) -> int:
    """Return the odd factor of a length's denominator: 3 for 1/3 and 1/6, 1 for 3/8."""
    d = length.denominator
    return d // (d & -d)


def fix_lengths(text: str, repairs: list[str]) -> str:
    """Rewrite the lengths abc2midi refuses (see the module docstring); note each in `repairs`."""
    edit = Edit(text)
    body = edit.body
    if not any(length_divisor(tok) is not None for tok in body):
        return text
    items = _items(body)
    for group in _groups(body, items):
        _write_tuplet(edit, group, repairs)
    _round_grace_notes(edit, repairs)
    return edit.text()


def _items(body: list[T.Token]) -> list[tuple[int, int, Fraction | None]]:
    """Return (first, last token index, sounding length or None) of each note, rest and chord
    outside grace notes; the length is None inside a tuplet or for a chord of unequal notes."""
    items, i, in_tuplet, grace = [], 0, 0, False
    while i < len(body):
        tok = body[i]
        if tok.kind in (T.GRACE_OPEN, T.GRACE_CLOSE):
            grace = tok.kind == T.GRACE_OPEN
        elif tok.kind == T.TUPLET:
            p, _, r = tok.value
            in_tuplet = r or p
        elif not grace and tok.kind in (T.NOTE, T.REST, T.CHORD_OPEN):
            last = _chord_end(body, i) if tok.kind == T.CHORD_OPEN else i
            length = _sounding_length(body, i, last)
            items.append((i, last, None if in_tuplet else length))
            in_tuplet = max(0, in_tuplet - 1)
            i = last
        i += 1
    return items


def _chord_end(body: list[T.Token], start: int) -> int:
    i = start
    while i + 1 < len(body) and body[i].kind not in (T.CHORD_CLOSE, T.NEWLINE):
        i += 1
    return i


def _sounding_length(body: list[T.Token], first: int, last: int) -> Fraction | None:
    if first == last:
        return body[first].value
    if body[last].kind != T.CHORD_CLOSE:
        return None
    lengths = {tok.value * body[last].value for tok in body[first:last] if tok.kind == T.NOTE}
    return lengths.pop() if len(lengths) == 1 else None


def _needs_rewrite(body: list[T.Token], item: tuple[int, int, Fraction | None]) -> bool:
    first, last, length = item
    return length is not None and any(length_divisor(tok) is not None
                                      for tok in body[first:last + 1])


def _groups(body: list[T.Token], items: list) -> list[list]:
    """Group the items to rewrite into runs with the same odd part and only `_BETWEEN` tokens
    between them."""
    groups: list[list] = []
    for item in items:
        if not _needs_rewrite(body, item):
            continue
        m = odd_part(item[2])
        if m != 1 and m not in _TUPLET_TIMES:
            continue
        previous = groups[-1][-1] if groups else None
        if previous is not None and m != 1 and odd_part(previous[2]) == m \
                and len(groups[-1]) < 9 \
                and all(tok.kind in _BETWEEN for tok in body[previous[1] + 1:item[0]]):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _write_tuplet(edit: Edit, group: list, repairs: list[str]) -> None:
    body = edit.body
    m = odd_part(group[0][2])
    q = _TUPLET_TIMES.get(m, 1)
    for first, last, length in group:
        written = length * m / q
        if first == last:
            edit.replace[first] = _HEAD.match(body[first].text).group() + length_text(written)
            continue
        for i in range(first + 1, last):
            if body[i].kind == T.NOTE:
                edit.replace[i] = _HEAD.match(body[i].text).group()
        edit.replace[last] = "]" + length_text(written)
    old = "".join(tok.text for tok in body[group[0][0]:group[-1][1] + 1])
    if m == 1:
        repairs.append(f"{where(body[group[0][0]])}: {old} written {edit.replace[group[0][1]]}")
        return
    marker = "(3" if (m, len(group)) == (3, 3) else f"({m}:{q}:{len(group)}"
    start = group[0][0]
    while start > 0 and body[start - 1].kind == T.DECORATION:
        start -= 1      # a decoration stays right before its note, after the tuplet
    if start:
        edit.insert_after(start - 1, marker)
    else:
        edit.replace[0] = marker + edit.replace.get(0, body[0].text)
    repairs.append(f"{where(body[group[0][0]])}: {old.strip()} written as the tuplet {marker} "
                   "(abc2midi reads lengths divided by powers of 2 only)")


def _round_grace_notes(edit: Edit, repairs: list[str]) -> None:
    grace = False
    for i, tok in enumerate(edit.body):
        if tok.kind in (T.GRACE_OPEN, T.GRACE_CLOSE):
            grace = tok.kind == T.GRACE_OPEN
        elif grace and length_divisor(tok) is not None:
            step = 1 << tok.value.denominator.bit_length()
            rounded = max(Fraction(1, step), Fraction(round(tok.value * step), step))
            edit.replace[i] = _HEAD.match(tok.text).group() + length_text(rounded)
            repairs.append(f"{where(tok)}: grace note {tok.text} written "
                           f"{edit.replace[i]} (abc2midi reads no {tok.text})")
