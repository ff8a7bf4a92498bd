"""Transposing an ABC tune as text: the key field, every note, inline keys and chord symbols.

Training on each tune in several keys is a standard way to give a music language model more
to learn from (the melody's shape stays, the key changes). `transpose_abc(text, tonic)` moves
a tune to a new tonic by one spelled interval: the letter of every note moves by the same
number of steps and its pitch by the same number of semitones (`Interval`), so notes that
follow the key signature still need no accidental, and an explicit accidental (`^`, `=`, `_`,
`^^`, `__`) is rewritten to the one that gives the transposed pitch. Because every letter maps
to one letter, accidentals carried through a bar keep their meaning. `K:` lines (header and
body) and inline `[K:...]` fields get the transposed tonic with the same mode; chord symbols
in quotes ("Am7", "D/F#") move their root and bass; text annotations, titles and all other
fields are left alone. A tune that cannot be moved this way (a key like `K:none` or `K:HP`,
explicit key accidentals, a note that would need a triple sharp) raises `TransposeError`.

`transposition_targets(key, count)` picks the keys to copy a tune into: the tonics of the same
mode with the fewest sharps or flats, moved at most a tritone. Pure text work on
`app.music.abc_tokens`; no music21 (the tests check with it that the intervals stay the same).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.music import abc_tokens as T
from app.music.annotations import is_chord_symbol
from app.music.errors import MusicError

LETTERS = "CDEFGAB"
_NATURAL = (0, 2, 4, 5, 7, 9, 11)                         # semitones of C D E F G A B
_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}
_MODE_FIFTHS = {"": 0, "m": -3, "mix": -1, "dor": -2, "phr": -4, "lyd": 1, "loc": -5}
_ACCIDENTALS = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_WRITE = {2: "^^", 1: "^", 0: "=", -1: "_", -2: "__"}
_KEY = re.compile(r"^([A-G])([#b]?)(m|mix|dor|phr|lyd|loc|)$")
_NOTE = re.compile(r"^(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)(.*)$", re.DOTALL)
_CHORD_ROOT = re.compile(r"([A-G])([#b]?)")
_FIELD_LINE = re.compile(r"[A-Ga-gxzXZ]:(?!\|)|[H-WYh-wy]:")   # as app.music.abc_tokens reads


class TransposeError(MusicError):
    """A tune that cannot be transposed as text (its key, or a note needing a triple sharp)."""


@dataclass(frozen=True)
class Interval:
    """A spelled interval: letter steps (signed) and semitones (signed)."""

    steps: int
    semitones: int

    def move(self, letter: str, alteration: int) -> tuple[str, int, int]:
        """Return (letter, alteration, octave change) of a natural-letter pitch moved up."""
        i = LETTERS.index(letter) + self.steps
        octave, j = divmod(i, 7)
        natural = _NATURAL[j] + 12 * octave - _NATURAL[LETTERS.index(letter)]
        return LETTERS[j], alteration + self.semitones - natural, octave


@dataclass(frozen=True)
class Key:
    """A key as ABC's short form writes it: tonic letter, "#"/"b"/"", and mode ("" major)."""

    letter: str
    accidental: str
    mode: str

    @property
    def fifths(self) -> int:
        """Sharps (above 0) or flats (below 0) of its signature."""
        shift = {"#": 7, "b": -7, "": 0}[self.accidental]
        return _FIFTHS[self.letter] + shift + _MODE_FIFTHS[self.mode]

    @property
    def pitch_class(self) -> int:
        return (_NATURAL[LETTERS.index(self.letter)] + {"#": 1, "b": -1, "": 0}
                [self.accidental]) % 12

    def __str__(self) -> str:
        return f"{self.letter}{self.accidental}{self.mode}"


def parse_key(value: str) -> Key:
    """Read a key in the training text's short spelling ("D", "Em", "Bbmix", "F#dor").

    Raises TransposeError for anything else (no key, `none`, `HP`, explicit accidentals).
    """
    from app.music.normalize import canonical_key

    tokens = canonical_key(value).split()
    match = _KEY.match(tokens[0]) if tokens else None
    if not match or any(t.startswith(("^", "_", "=", "exp")) for t in tokens[1:]):
        raise TransposeError(f"cannot transpose the key {value.strip()!r}")
    return Key(match.group(1), match.group(2), match.group(3))


def interval_between(source: Key, target: Key) -> Interval:
    """Return the spelled interval from one tonic to another, at most a tritone up or down."""
    semitones = (target.pitch_class - source.pitch_class + 6) % 12 - 6
    steps = (LETTERS.index(target.letter) - LETTERS.index(source.letter)) % 7
    if steps > 3 or (steps == 3 and semitones < 0):
        steps -= 7
    return Interval(steps, semitones)


def transposition_targets(key: str, count: int) -> list[Key]:
    """Return up to `count` keys to copy a tune in `key` into: the same mode, other tonics,
    the fewest sharps or flats first (at most 6); TransposeError if `key` cannot move."""
    source = parse_key(key)
    candidates = []
    for letter in LETTERS:
        for accidental in ("", "#", "b"):
            target = Key(letter, accidental, source.mode)
            if abs(target.fifths) <= 6 and target.pitch_class != source.pitch_class:
                candidates.append(target)
    candidates.sort(key=lambda k: (abs(k.fifths), k.fifths))
    chosen: list[Key] = []
    for target in candidates:
        if all(target.pitch_class != c.pitch_class for c in chosen):
            chosen.append(target)
    return chosen[:max(0, count)]


def transpose_abc(text: str, tonic: str | Key) -> str:
    """Return the tune `text` moved so that its first key's tonic becomes `tonic`.

    `tonic` is a key ("A", "Bm": its mode is ignored) or a Key. Raises TransposeError when the
    tune has no key it can move or a note would need more than a double accidental.
    """
    lines = text.split("\n")
    head = next((i for i, line in enumerate(lines) if line.startswith("K:")), None)
    if head is None:
        raise TransposeError("cannot transpose a tune without a K: line")
    source = parse_key(lines[head][2:])
    target = tonic if isinstance(tonic, Key) else parse_key(tonic)
    interval = interval_between(source, Key(target.letter, target.accidental, source.mode))
    out = lines[:head] + [f"K:{_move_key(lines[head][2:], interval)}"]
    for number, line in enumerate(lines[head + 1:], head + 2):
        if line.startswith("K:"):
            out.append(f"K:{_move_key(line[2:], interval)}")
        elif _FIELD_LINE.match(line):
            out.append(line)
        else:
            out.append(_move_line(line, interval, number))
    return "\n".join(out)


def _move_key(value: str, interval: Interval) -> str:
    key = parse_key(value)
    letter, alteration, _ = interval.move(key.letter, {"#": 1, "b": -1, "": 0}[key.accidental])
    if abs(alteration) > 1:
        raise TransposeError(f"the key {value.strip()!r} moved would need a double accidental")
    rest = value.split()[1:]
    return " ".join([f"{letter}{'#' if alteration > 0 else 'b' if alteration else ''}"
                     f"{key.mode}"] + rest)


def _move_line(line: str, interval: Interval, number: int) -> str:
    pieces = []
    for tok in T.tokenize_line(line, number):
        if tok.kind == T.NOTE:
            pieces.append(_move_note(tok.text, interval, number))
        elif tok.kind == T.QUOTE and is_chord_symbol(tok.text[1:-1]):
            pieces.append(_CHORD_ROOT.sub(lambda m: _move_root(m, interval, number), tok.text))
        elif tok.kind == T.INLINE_FIELD and tok.value[0] == "K":
            pieces.append(f"[K:{_move_key(tok.value[1], interval)}]")
        else:
            pieces.append(tok.text)
    return "".join(pieces)


def _move_note(text: str, interval: Interval, number: int) -> str:
    accidental, letter, marks, length = _NOTE.match(text).groups()
    octave = (1 if letter.islower() else 0) + marks.count("'") - marks.count(",")
    alteration = _ACCIDENTALS.get(accidental or "", 0)
    new_letter, new_alteration, carry = interval.move(letter.upper(), alteration)
    if accidental is None:
        written = ""
    elif abs(new_alteration) > 2:
        raise TransposeError(f"line {number}: the note {text} would need a triple accidental")
    else:
        written = _WRITE[new_alteration]
    octave += carry
    if octave >= 1:
        return f"{written}{new_letter.lower()}{chr(39) * (octave - 1)}{length}"
    return f"{written}{new_letter}{',' * -octave}{length}"


def _move_root(match: re.Match, interval: Interval, number: int) -> str:
    alteration = {"#": 1, "b": -1, "": 0}[match.group(2)]
    letter, new_alteration, _ = interval.move(match.group(1), alteration)
    if abs(new_alteration) > 1:
        raise TransposeError(f"line {number}: the chord root {match.group()} would need a "
                             "double accidental")
    return letter + {1: "#", -1: "b", 0: ""}[new_alteration]
