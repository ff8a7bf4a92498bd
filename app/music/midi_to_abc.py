"""MIDI -> ABC: turn the melody of a MIDI file into a readable, correct ABC tune.

Steps: read the file (`midi_file.read_midi`), take the melody (the busiest track, highest note
where notes overlap), quantise onsets and ends to a grid (the coarsest grid the file fits exactly,
so machine-made files stay exact; else sixteenths, or sixteenths plus triplets when that fits the
playing better), take the meter from the time signature (estimated from accents when absent),
the key from the key signature (else music21's key analysis), choose the pickup (anacrusis) that
puts long notes on downbeats, then write bars: note lengths relative to `L:`, notes tied across
bar lines and split into plain or dotted lengths, rests for gaps, tuplets like `(3`, and
accidentals relative to the key signature that carry through the bar as ABC 2.1 says (written
again for the same letter in another octave, so readers that differ on that point agree).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple, Sequence

from app.music.errors import MusicError
from app.music.midi_file import (MidiSource, MidiTune, NoteEvent, key_signature_sharps,
                                 read_midi)

LETTERS = "CDEFGAB"
NATURAL_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_ORDER = "FCGDAEB"
EXACT_GRIDS = (1, 2, 4, 8, 3, 6, 12, 16, 24, 32, 48, 5, 10, 20, 40, 7, 14, 28, 96)
CANDIDATE_METERS = ((4, 4), (3, 4), (6, 8), (2, 4), (9, 8), (12, 8))
TUPLETS = ((3, 2), (5, 4), (6, 4), (7, 4), (9, 8))   # (p, q): p notes in the time of q
# Transcription limits: a long folk tune has a few hundred notes in under 200 bars; the meter
# and pickup search and music21's key analysis grow with the notes, the writing with the bars.
MAX_TRANSCRIBE_NOTES = 10_000        # in the melody line
MAX_TRANSCRIBE_FILE_NOTES = 100_000  # in the whole file, counted before any note is built
MAX_TRANSCRIBE_BARS = 2_000


class Sound(NamedTuple):
    """One event of the melody line: a note or a block chord (pitches low to high)."""

    pitches: tuple[int, ...]
    onset: Fraction
    duration: Fraction


def melody_line(notes: Sequence[NoteEvent], chords: bool = True) -> list[Sound]:
    """Reduce a track's notes to one line of sounds.

    Notes that start and end together form a block chord (kept when `chords`, else only the
    highest note); otherwise the highest note starting at a moment wins, and a note still
    sounding when the next one starts is cut short there.
    """
    groups: dict[Fraction, list[NoteEvent]] = {}
    for note in notes:
        if note.duration > 0:
            groups.setdefault(note.onset, []).append(note)
    line: list[Sound] = []
    for onset in sorted(groups):
        group = groups[onset]
        top = max(group, key=lambda n: (n.pitch, n.duration))
        block = [n.pitch for n in group if n.duration == top.duration]
        pitches = tuple(sorted(set(block))) if chords else (top.pitch,)
        if line:
            last = line[-1]
            end = last.onset + last.duration
            if end > onset:
                if max(last.pitches) > top.pitch and end >= onset + top.duration:
                    continue
                line[-1] = last._replace(duration=onset - last.onset)
        line.append(Sound(pitches, onset, top.duration))
    return line


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


def midi_to_abc(source: MidiSource, title: str | None = None, *, transpose: int = 0,
                chords: bool = True) -> str:
    """Convert the melody of a MIDI file (path, file object or bytes) to ABC text.

    The melody is the busiest track; see `melody_line` for overlapping notes (`chords=False`
    keeps only the highest note of block chords too). The title comes from `title`, else the
    file's track name, else the file name. Raises MusicError naming the file for unreadable
    files or files without notes.
    """
    tune = read_midi(source, max_notes=MAX_TRANSCRIBE_FILE_NOTES,
                     limit_name="MAX_TRANSCRIBE_FILE_NOTES")
    track = tune.melody_track()
    if track is None:
        raise MusicError("the MIDI file has no notes", path=tune.path)
    notes = melody_line(track.notes, chords)
    if len(notes) > MAX_TRANSCRIBE_NOTES:
        raise MusicError(f"the melody has {len(notes):,} notes; Ceol transcribes at most "
                         f"{MAX_TRANSCRIBE_NOTES:,} (MAX_TRANSCRIBE_NOTES)", path=tune.path)
    if transpose:
        notes = [n._replace(pitches=tuple(p + transpose for p in n.pitches)) for n in notes]
        if any(not 0 <= p <= 127 for n in notes for p in n.pitches):
            raise MusicError(f"transposing by {transpose} leaves the MIDI range", path=tune.path)
    notes = quantise(notes, tune.ticks_per_beat)
    if not notes:
        raise MusicError("the MIDI file has no notes longer than the grid", path=tune.path)
    if title is None:
        title = tune.title or (Path(tune.path).stem if tune.path else "")
    meter = _usable_meter(tune.time_signature)
    # Bars start where the file's time signature says; only without one are they guessed.
    pickup = tune.pickup if meter else None
    _check_bars(notes, meter or (4, 4), pickup, tune.path)
    meter = meter or estimate_meter(notes)
    key = _key_for(tune, notes, transpose)
    return notes_to_abc(notes, meter=meter, key=key, title=title, tempo_qpm=tune.tempo_qpm,
                        pickup=pickup)


def _check_bars(notes: Sequence[Sound], meter: tuple[int, int], pickup: Fraction | None,
                path: str | None = None) -> None:
    """Refuse a tune of more than MAX_TRANSCRIBE_BARS bars (a 10-hour file, a huge gap)."""
    end = notes[-1].onset + notes[-1].duration
    bars = (end - (pickup or 0)) / _bar_length(meter) + 1
    if bars > MAX_TRANSCRIBE_BARS:
        raise MusicError(f"the melody lasts {int(bars):,} bars of {meter[0]}/{meter[1]}; Ceol "
                         f"transcribes at most {MAX_TRANSCRIBE_BARS:,} (MAX_TRANSCRIBE_BARS)",
                         path=path)


def _usable_meter(meter: tuple[int, int] | None) -> tuple[int, int] | None:
    if meter and meter[0] > 0 and meter[1] in (1, 2, 4, 8, 16, 32):
        return meter
    return None


# ---------------------------------------------------------------- quantising

def _fits(times: Sequence[Fraction], grid: int, tolerance: Fraction) -> bool:
    return all(abs(t * grid - round(t * grid)) <= tolerance * grid for t in times)


def choose_grid(notes: Sequence[Sound], ticks_per_beat: int) -> int:
    """Return the grid as divisions of a quarter note that the notes fit best.

    The coarsest grid that every onset and end fits to the tick (a grid of at least 4 ticks);
    else 4 (sixteenths), or 12 (sixteenths and eighth-note triplets) when many more onsets
    fall near thirds of a beat than near odd sixteenths.
    """
    times = [n.onset for n in notes] + [n.onset + n.duration for n in notes]
    tolerance = Fraction(1, 2 * ticks_per_beat)   # a written file rounds to the nearest tick
    # A grid within 4 ticks of the file's resolution fits any playing: it is no evidence.
    for grid in sorted(g for g in EXACT_GRIDS if 4 * g <= ticks_per_beat):
        if _fits(times, grid, tolerance):
            return grid

    def near(targets: tuple[Fraction, ...]) -> int:
        margin = Fraction(1, 24)
        return sum(1 for n in notes
                   if any(abs(n.onset % 1 - target) < margin for target in targets))

    # Triplets when clearly more onsets sit near thirds of a beat than near odd sixteenths.
    thirds = near((Fraction(1, 3), Fraction(2, 3)))
    sixteenths = near((Fraction(1, 4), Fraction(3, 4)))
    return 12 if thirds > 2 * sixteenths and thirds * 5 >= len(notes) else 4


def quantise(notes: Sequence[Sound], ticks_per_beat: int) -> list[Sound]:
    """Snap onsets and ends to the grid; drop notes that vanish; cut overlaps (monophonic)."""
    grid = choose_grid(notes, ticks_per_beat)

    def snap(t: Fraction) -> Fraction:
        return Fraction(round(t * grid), grid)

    out: list[Sound] = []
    for note in notes:
        start, end = snap(note.onset), snap(note.onset + note.duration)
        if end <= start:
            continue
        if out and out[-1].onset == start:
            continue
        if out and out[-1].onset + out[-1].duration > start:
            out[-1] = out[-1]._replace(duration=start - out[-1].onset)
        out.append(Sound(note.pitches, start, end - start))
    return out


# ---------------------------------------------------------------- meter, pickup, key

def _bar_length(meter: tuple[int, int]) -> Fraction:
    return Fraction(4 * meter[0], meter[1])


def _beat_length(meter: tuple[int, int]) -> Fraction:
    num, den = meter
    if den == 8 and num % 3 == 0 and num > 3:
        return Fraction(3, 2)
    return Fraction(4, den)


def _weight(pos: Fraction, bar: Fraction, beat: Fraction) -> float:
    """Return the metrical weight of a position in the bar: downbeat > half bar > beat > half beat."""
    if pos == 0:
        return 1.0
    beats = bar / beat
    if beats.denominator == 1 and beats.numerator % 2 == 0 and pos == bar / 2:
        return 0.75
    if pos % beat == 0:
        return 0.5
    if pos % (beat / (3 if beat.denominator == 2 else 2)) == 0:
        return 0.2
    return 0.0


def _metric_score(notes: Sequence[Sound], meter: tuple[int, int], pickup: Fraction) -> float:
    """Score how well accents fit: long notes on strong beats, few notes across bar lines and a
    tune that ends on a bar line (a folk tune's last bar makes up for its pickup)."""
    bar, beat = _bar_length(meter), _beat_length(meter)
    total = score = 0.0
    for note in notes:
        pos = (note.onset - pickup) % bar
        length = float(min(note.duration, bar))
        score += _weight(pos, bar, beat) * length
        total += length
        if pos + note.duration > bar:
            score -= 0.5 * float(note.duration)
    grid = Fraction(1, 2)
    positions = [grid * i for i in range(int(bar / grid))]
    expected = sum(_weight(p, bar, beat) for p in positions) / len(positions)
    return score / max(total, 1e-9) - expected


def _pickup_scores(notes: Sequence[Sound], meter: tuple[int, int]) -> dict[Fraction, float]:
    bar = _bar_length(meter)
    step = Fraction(1, 2) if meter[1] <= 8 else Fraction(1, 4)
    if any(n.onset % step for n in notes):
        step = Fraction(1, 4)
    return {step * i: _metric_score(notes, meter, step * i) for i in range(int(bar / step))}


def choose_pickup(notes: Sequence[Sound], meter: tuple[int, int]) -> Fraction:
    """Return the length of the pickup before the first bar line (0 for none)."""
    scores = _pickup_scores(notes, meter)
    return max(scores, key=lambda p: (round(scores[p], 9), p == 0))


def estimate_meter(notes: Sequence[Sound]) -> tuple[int, int]:
    """Guess a meter: the one whose best bar alignment stands out most from its other
    alignments (ties go to the earlier, commoner meter)."""
    scored = []
    for order, meter in enumerate(CANDIDATE_METERS):
        scores = list(_pickup_scores(notes, meter).values())
        contrast = max(scores) - sum(scores) / len(scores)
        scored.append((round(contrast, 6), -order, meter))
    return max(scored)[2]


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
    from app.music.midi_file import key_signature_name

    return key_from_name(key_signature_name(sharps, minor))


def _key_for(tune: MidiTune, notes: Sequence[Sound], transpose: int) -> Key:
    if tune.key_signature and not transpose:
        try:
            return key_from_name(tune.key_signature)
        except MusicError:
            pass
    return analyse_key(notes)


# ---------------------------------------------------------------- spelling

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


# ---------------------------------------------------------------- lengths

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


# ---------------------------------------------------------------- writing

@dataclass
class _Item:
    pitches: tuple[int, ...]   # () for a rest
    units: Fraction            # length in units of L
    tie: bool = False          # tied to the next item


def _bars(notes: Sequence[Sound], bar: Fraction, pickup: Fraction,
          unit: Fraction) -> list[list[_Item]]:
    """Cut the timeline (notes and the rests between them) into bars of items."""
    end = notes[-1].onset + notes[-1].duration
    bounds = [Fraction(0)] + ([pickup] if pickup else [])
    while bounds[-1] < end:
        bounds.append(bounds[-1] + bar)
    bars: list[list[_Item]] = [[] for _ in range(len(bounds) - 1)]
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
            bars[index].append(_Item(pitches, (cut - start) / unit, tie=bool(pitches) and cut < stop))
            start = cut
    return bars


def _group_tuplets(items: list[_Item]) -> list[tuple[tuple[int, int] | None, list[_Item]]]:
    """Group a bar's items: plain items alone, non-binary runs as tuplets (p, q)."""
    groups: list[tuple[tuple[int, int] | None, list[_Item]]] = []
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
                groups.append((None, [_Item(it.pitches, max(Fraction(1, 8),
                                                          Fraction(round(it.units * 8), 8)),
                                            it.tie)]))
            i += len(run)
            continue
        p, q = ratio
        groups.append(((p, q), [_Item(it.pitches, it.units * p / q, it.tie) for it in run]))
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


def _write_items(items: list[_Item], speller: _BarSpeller) -> str:
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


def _write_bar(items: list[_Item], key: Key, beat_units: Fraction) -> str:
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


def _unit_length(meter: tuple[int, int], notes: Sequence[Sound]) -> Fraction:
    """Choose L: 1/16 for meters under 3/4 (ABC's own default rule), else 1/8."""
    return Fraction(1, 4) if meter[0] / meter[1] < 0.75 else Fraction(1, 2)


def notes_to_abc(notes: Sequence[Sound], *, meter: tuple[int, int], key: Key,
                 title: str = "", tempo_qpm: float | None = None, number: int = 1,
                 pickup: Fraction | None = None) -> str:
    """Write quantised monophonic notes (quarter lengths) as one ABC tune."""
    unit = _unit_length(meter, notes)
    bar = _bar_length(meter)
    if pickup is None:
        pickup = choose_pickup(notes, meter)
    _check_bars(notes, meter, pickup)
    bars = _bars(notes, bar, pickup, unit)
    beat_units = _beat_length(meter) / unit
    per_line = 4 if bar >= 2 else 8
    lines: list[str] = []
    texts = [_write_bar(items, key, beat_units) for items in bars]
    for start in range(0, len(texts), per_line):
        chunk = texts[start:start + per_line]
        last = start + per_line >= len(texts)
        lines.append(" | ".join(chunk) + (" |]" if last else " |"))
    header = [f"X:{number}"]
    if title:
        header.append(f"T:{' '.join(title.split())}")
    header.append(f"M:{meter[0]}/{meter[1]}")
    unit_whole = unit / 4
    header.append(f"L:{unit_whole.numerator}/{unit_whole.denominator}")
    if tempo_qpm:
        header.append(f"Q:1/4={round(tempo_qpm)}")
    header.append(f"K:{key.name}")
    return "\n".join(header + lines) + "\n"


def midi_file_to_abc_file(in_path: str | os.PathLike, out_path: str | os.PathLike, *,
                          title: str | None = None, transpose: int = 0) -> str:
    """Convert a MIDI file to an ABC file (written atomically); return the ABC text."""
    from app.music.midi_file import save_bytes

    text = midi_to_abc(in_path, title, transpose=transpose)
    save_bytes(text.encode("utf-8"), out_path)
    return text
