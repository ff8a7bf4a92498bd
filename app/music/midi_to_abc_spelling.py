"""Spelling of a MIDI transcription: how each bar of the melody is written in ABC.

The key comes from the file's key signature (`key_from_name`) or music21's key analysis
(`analyse_key`); `spell` names each pitch in that key, and a bar's accidentals carry through
the bar as ABC 2.1 says (written again for the same letter in another octave, so readers that
differ on that point agree). `cut_bars` cuts the quantised timeline into bars, with rests for
gaps and notes tied across bar lines; `write_bar` writes a bar's lengths relative to L: as plain
or dotted lengths tied together, and runs that no binary length fits as tuplets like `(3`.
Lengths here are in units of L: unless a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from app.music.midi_file import key_signature_name, key_signature_sharps
from app.music.midi_to_abc_timing import Sound

LETTERS = "CDEFGAB"
NATURAL_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_ORDER = "FCGDAEB"
TUPLETS = ((3, 2), (5, 4), (6, 4), (7, 4), (9, 8))   # (p, q): p notes in the time of q


@dataclass(frozen=True)
class Key:
    """A key signature for writing ABC: sharps (-7..7) and its ABC name ("G", "Em")."""

    sharps: int
    name: str
    tonic_pc: int

    def alteration(self, letter: str) -> int:
        """Return the signature's alteration (-1, 0, 1) of a letter."""
        if self.sharps > 0 and letter in SHARP_ORDER[:self.sharps]:
            return 1
        if self.sharps < 0 and letter in SHARP_ORDER[::-1][:-self.sharps]:
            return -1
        return 0


def key_from_name(name: str) -> Key:
    """Return the Key for a mido key name ("G", "F#m", "Bb")."""
    sharps, minor = key_signature_sharps(name)
    tonic = name[:-1] if minor else name
    pc = (NATURAL_PC[tonic[0]] + tonic.count("#") - tonic.count("b")) % 12
    return Key(sharps, name, pc)


def analyse_key(notes: Sequence[Sound]) -> Key:
    """Detect the key with music21's key analysis (Krumhansl-Schmuckler weighted by length)."""
    from music21 import note as m21note, stream

    melody = stream.Stream()
    for event in notes:
        element = m21note.Note(event.pitches[-1])
        element.quarterLength = float(event.duration)
        melody.insert(float(event.onset), element)
    found = melody.analyze("key")
    sharps = max(-7, min(7, found.sharps))
    minor = found.mode == "minor"
    return key_from_name(key_signature_name(sharps, minor))


def spell(pitch: int, key: Key) -> tuple[str, int, int]:
    """Return (letter, alteration, octave) for a MIDI pitch in a key; octave 4 holds middle C."""
    pc = pitch % 12
    leading = (key.tonic_pc - 1) % 12
    direction = 1 if key.sharps >= 0 or pc == leading else -1
    best = None
    for letter in LETTERS:
        alter = (pc - NATURAL_PC[letter] + 6) % 12 - 6
        if abs(alter) > 2:
            continue
        rank = (0 if alter == key.alteration(letter) else 1 if alter == 0
                else 2 if alter == direction else 3 if abs(alter) == 1 else 4)
        if best is None or rank < best[0]:
            best = (rank, letter, alter)
    _, letter, alter = best
    octave = (pitch - alter) // 12 - 1
    return letter, alter, octave


def abc_pitch(letter: str, octave: int) -> str:
    """Return ABC for a letter in an octave: C middle C, c above, c' and C, further out."""
    if octave >= 5:
        return letter.lower() + "'" * (octave - 5)
    return letter + "," * (4 - octave)


ACCIDENTAL = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}


def _is_binary(value: Fraction) -> bool:
    den = value.denominator
    return den & (den - 1) == 0


def length_text(units: Fraction) -> str:
    """Return the ABC length suffix for a length in units of L ("", "2", "/", "3/2", ...)."""
    if units == 1:
        return ""
    if units.denominator == 1:
        return str(units.numerator)
    if units.numerator == 1 and units.denominator == 2:
        return "/"
    if units.numerator == 1:
        return f"/{units.denominator}"
    return f"{units.numerator}/{units.denominator}"


def split_length(units: Fraction) -> list[Fraction]:
    """Split a binary length into plain or dotted lengths, longest first (tied when written)."""
    pieces: list[Fraction] = []
    rest = units
    while rest > 0:
        power = Fraction(2) ** (rest.numerator.bit_length() - rest.denominator.bit_length() + 1)
        while power > rest:
            power /= 2
        dotted = power * Fraction(3, 2)
        piece = dotted if dotted <= rest and _is_binary(rest - dotted) else power
        pieces.append(piece)
        rest -= piece
    return pieces


@dataclass
class BarItem:
    """A note, chord or rest of one bar, before its length is spelled."""

    pitches: tuple[int, ...]   # () for a rest
    units: Fraction            # length in units of L
    tie: bool = False          # tied to the next item


def cut_bars(notes: Sequence[Sound], bar: Fraction, pickup: Fraction,
          unit: Fraction) -> list[list[BarItem]]:
    """Cut the timeline (notes and the rests between them) into bars of items."""
    end = notes[-1].onset + notes[-1].duration
    bounds = [Fraction(0)] + ([pickup] if pickup else [])
    while bounds[-1] < end:
        bounds.append(bounds[-1] + bar)
    bars: list[list[BarItem]] = [[] for _ in range(len(bounds) - 1)]
    segments: list[tuple[Fraction, Fraction, tuple[int, ...]]] = []
    now = Fraction(0)
    for note in notes:
        if note.onset > now:
            segments.append((now, note.onset, ()))
        segments.append((note.onset, note.onset + note.duration, note.pitches))
        now = note.onset + note.duration
    # A short last bar must complete the pickup, as folk practice (and the checker) expects:
    # pad it with a rest to that length, or to a whole bar when it is longer.
    last_start = bounds[-2]
    target = last_start + bar - pickup if pickup and end - last_start <= bar - pickup \
        else bounds[-1]
    if end < target and len(bounds) > 2:
        segments.append((end, target, ()))
    index = 0
    for start, stop, pitches in segments:
        while start < stop:
            while bounds[index + 1] <= start:
                index += 1
            cut = min(stop, bounds[index + 1])
            bars[index].append(BarItem(pitches, (cut - start) / unit,
                                       tie=bool(pitches) and cut < stop))
            start = cut
    return bars


def _group_tuplets(items: list[BarItem]) -> list[tuple[tuple[int, int] | None, list[BarItem]]]:
    """Group a bar's items: plain items alone, non-binary runs as tuplets (p, q)."""
    groups: list[tuple[tuple[int, int] | None, list[BarItem]]] = []
    i = 0
    while i < len(items):
        if _is_binary(items[i].units):
            groups.append((None, [items[i]]))
            i += 1
            continue
        total, j, found = Fraction(0), i, None
        while j < len(items) and found is None:
            total += items[j].units
            j += 1
            if _is_binary(total):
                found = j
        run = items[i:found] if found else items[i:]
        ratio = next(((p, q) for p, q in TUPLETS
                      if all(_is_binary(it.units * p / q) for it in run)), None)
        if found is None or ratio is None:
            # No tuplet fits: round each length to the nearest 1/8 unit so the ABC stays valid.
            for it in run:
                groups.append((None, [BarItem(it.pitches, max(Fraction(1, 8),
                                                          Fraction(round(it.units * 8), 8)),
                                            it.tie)]))
            i += len(run)
            continue
        p, q = ratio
        groups.append(((p, q), [BarItem(it.pitches, it.units * p / q, it.tie) for it in run]))
        i = found
    return groups


class _BarSpeller:
    """Writes the notes of one bar with accidentals carried as ABC 2.1 says."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.current: dict[tuple[str, int], int] = {}   # accidentals written in this bar

    def note(self, pitch: int) -> str:
        letter, alter, octave = spell(pitch, self.key)
        now = self.current.get((letter, octave), self.key.alteration(letter))
        # Some readers carry an accidental to every octave: write it out where they would differ.
        other = any(a != alter for (name, o), a in self.current.items()
                    if name == letter and o != octave)
        text = abc_pitch(letter, octave)
        if alter != now or other:
            text = ACCIDENTAL[alter] + text
            self.current[(letter, octave)] = alter
        return text


def _write_items(items: list[BarItem], speller: _BarSpeller) -> str:
    out: list[str] = []
    for item in items:
        pieces = split_length(item.units)
        for n, piece in enumerate(pieces):
            if not item.pitches:
                out.append("z" + length_text(piece))
                continue
            tie = "-" if item.tie or n < len(pieces) - 1 else ""
            if len(item.pitches) == 1:
                out.append(speller.note(item.pitches[0]) + length_text(piece) + tie)
            else:
                names = "".join(speller.note(p) + tie for p in item.pitches)
                out.append(f"[{names}]" + length_text(piece))
    return "".join(out)


def write_bar(items: list[BarItem], key: Key, beat_units: Fraction) -> str:
    """Write one bar's items as ABC, a space at each beat (`beat_units` long) to beam by beat."""
    speller = _BarSpeller(key)
    parts: list[str] = []
    position = Fraction(0)
    for ratio, group in _group_tuplets(items):
        if ratio is None:
            text = _write_items(group, speller)
            length = group[0].units
        else:
            p, q = ratio
            # r counts written notes: an item split into tied pieces is several of them.
            n = sum(len(split_length(it.units)) for it in group)
            head = "(3" if (p, q, n) == (3, 2, 3) else f"({p}:{q}:{n}"
            text = head + _write_items(group, speller)
            length = sum((it.units for it in group), Fraction(0)) * q / p
        # A space at each beat keeps notes beamed by beat, as folk transcriptions are.
        if parts and position % beat_units == 0:
            parts.append(" ")
        parts.append(text)
        position += length
    return "".join(parts)


def unit_length(meter: tuple[int, int], notes: Sequence[Sound]) -> Fraction:
    """Choose L: 1/16 for meters under 3/4 (ABC's own default rule), else 1/8."""
    return Fraction(1, 4) if meter[0] / meter[1] < 0.75 else Fraction(1, 2)
