"""Timing of a MIDI transcription: the melody line, its grid, its meter and its pickup.

`midi_to_abc` takes the melody with `melody_line` (block chords kept, the highest note where
notes overlap), snaps it with `quantise` to the grid `choose_grid` finds (the coarsest grid the
file fits exactly, else sixteenths, or sixteenths and triplets when that fits the playing
better), and, where the file has no time signature, guesses the meter from accents with
`estimate_meter`; `choose_pickup` places the first bar line so long notes fall on downbeats.
Times are quarter lengths as exact Fractions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple, Sequence

from app.music.midi_file import NoteEvent

EXACT_GRIDS = (1, 2, 4, 8, 3, 6, 12, 16, 24, 32, 48, 5, 10, 20, 40, 7, 14, 28, 96)
CANDIDATE_METERS = ((4, 4), (3, 4), (6, 8), (2, 4), (9, 8), (12, 8))


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


def bar_length(meter: tuple[int, int]) -> Fraction:
    """Return the length of a bar of `meter` (numerator, denominator) in quarter lengths."""
    return Fraction(4 * meter[0], meter[1])


def beat_length(meter: tuple[int, int]) -> Fraction:
    """Return the beat of a meter in quarter lengths: a dotted quarter in 6/8, 9/8 and 12/8."""
    num, den = meter
    if den == 8 and num % 3 == 0 and num > 3:
        return Fraction(3, 2)
    return Fraction(4, den)


def _weight(pos: Fraction, bar: Fraction, beat: Fraction) -> float:
    """Weigh a position in the bar: downbeat > half bar > beat > half beat."""
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
    bar, beat = bar_length(meter), beat_length(meter)
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
    bar = bar_length(meter)
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
