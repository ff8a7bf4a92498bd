"""Piano-roll layout of a tune, GUI-free: notes as (pitch, start, length) with their ABC position.

`layout_abc(abc)` parses the tune with music21 as written, tags each written note with its
place in the ABC text (line and column, from the tokeniser), then expands the repeats, so the
roll shows what is heard, in playback order, and a note picked in the roll still knows where it
is in the source. Times are quarter notes from the start; the widget scales them to pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.music.errors import MusicError

NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def pitch_name(pitch: int) -> str:
    """Return the scientific name of a MIDI pitch: 60 -> "C4", 66 -> "F#4"."""
    return f"{NAMES[pitch % 12]}{pitch // 12 - 1}"


@dataclass(frozen=True)
class RollNote:
    """One note bar: MIDI pitch, start and length in quarter notes, where it is in the ABC."""

    pitch: int
    start: float
    length: float
    line: int | None = None
    column: int | None = None
    written: int | None = None   # the written note (or chord) it plays, in the ABC's order

    @property
    def name(self) -> str:
        return pitch_name(self.pitch)

    def describe(self) -> str:
        """Return e.g. "F#4 at line 7, column 12" (or just the name when the place is unknown)."""
        where = f" at line {self.line}, column {self.column}" if self.line else ""
        return f"{self.name}{where}"


@dataclass
class RollLayout:
    """Everything a piano roll draws: notes, bar lines, the pitch range and the length."""

    notes: list[RollNote]
    bar_lines: list[float] = field(default_factory=list)
    length: float = 0.0
    low: int = 60
    high: int = 72
    written: int = 0    # how many notes and chords the ABC writes (RollNote.written counts them)

    def note_at(self, quarters: float, pitch: int | None = None) -> RollNote | None:
        """Return the note sounding at a time (and at a pitch, when given), or None."""
        for note in self.notes:
            if note.start <= quarters < note.start + note.length and \
                    (pitch is None or note.pitch == pitch):
                return note
        return None


def _source_positions(abc: str) -> list[tuple[int, int]]:
    """Return (line, column) of each sounding note written in the ABC, grace notes skipped."""
    from app.music.abc_tokens import GRACE_CLOSE, GRACE_OPEN, NOTE, tokenize_tune

    positions, in_grace = [], False
    for token in tokenize_tune(abc).body:
        if token.kind == GRACE_OPEN:
            in_grace = True
        elif token.kind == GRACE_CLOSE:
            in_grace = False
        elif token.kind == NOTE and not in_grace:
            positions.append((token.line, token.column))
    return positions


def layout_abc(abc: str, label: str | None = None) -> RollLayout:
    """Lay out one ABC tune for a piano roll, repeats expanded; raises MusicError if bad."""
    from app.music.abc_midi import parse_abc, played_repeats
    from app.music.notation import check_abc

    check_abc(abc, label)
    # the endings as the player plays them (a first ending with no second is repeated), the
    # notes as written, so the roll keeps time with what is heard
    score = parse_abc(abc, label, expand_repeats=False, playback=played_repeats)
    written = [n for n in score.flatten().notes if n.quarterLength > 0]
    positions = _source_positions(abc)
    places: dict[str, list[tuple[int, int]]] = {}
    match = sum(len(n.pitches) for n in written) == len(positions)
    used = 0
    order: dict[str, int] = {}    # id -> the written note's place, for RollNote.written
    for i, element in enumerate(written):
        element.id = f"roll{i}"  # ids survive the copies that expanding repeats makes
        order[element.id] = i
        if match:
            places[element.id] = positions[used:used + len(element.pitches)]
            used += len(element.pitches)
    try:
        played = score.expandRepeats()
    except Exception:  # noqa: BLE001 - badly formed repeats: show the tune as written
        played = score
    notes = []
    for element in played.stripTies().flatten().notes:
        if element.quarterLength <= 0:
            continue
        where = places.get(str(element.id), [])
        index = order.get(str(element.id))
        for k, p in enumerate(element.pitches):
            line, column = where[k] if k < len(where) else (None, None)
            notes.append(RollNote(p.midi, float(element.offset), float(element.quarterLength),
                                  line, column, index))
    if not notes:
        raise MusicError("the tune has no notes", path=label)
    notes.sort(key=lambda n: (n.start, n.pitch))
    parts = played.parts if hasattr(played, "parts") and played.parts else [played]
    bars = sorted({float(m.offset) for m in parts[0].getElementsByClass("Measure")})
    length = max(n.start + n.length for n in notes)
    pitches = [n.pitch for n in notes]
    return RollLayout(notes, [b for b in bars if 0 < b < length], length,
                      min(pitches) - 2, max(pitches) + 2, len(written))
