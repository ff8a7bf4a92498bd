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

This module reads the file, keeps the limits and puts the tune together; the timing (melody,
grid, meter, pickup) is in `midi_to_abc_timing`, the writing of bars in `midi_to_abc_spelling`.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from app.music.errors import MusicError
from app.music.midi_file import MidiSource, MidiTune, read_midi, save_bytes
from app.music.midi_to_abc_spelling import (Key, analyse_key, cut_bars, key_from_name,
                                            unit_length, write_bar)
from app.music.midi_to_abc_timing import (Sound, bar_length, beat_length, choose_pickup,
                                          estimate_meter, melody_line, quantise)

# Transcription limits: a long folk tune has a few hundred notes in under 200 bars; the meter
# and pickup search and music21's key analysis grow with the notes, the writing with the bars.
MAX_TRANSCRIBE_NOTES = 10_000        # in the melody line
MAX_TRANSCRIBE_FILE_NOTES = 100_000  # in the whole file, counted before any note is built
MAX_TRANSCRIBE_BARS = 2_000


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
    bars = (end - (pickup or 0)) / bar_length(meter) + 1
    if bars > MAX_TRANSCRIBE_BARS:
        raise MusicError(f"the melody lasts {int(bars):,} bars of {meter[0]}/{meter[1]}; Ceol "
                         f"transcribes at most {MAX_TRANSCRIBE_BARS:,} (MAX_TRANSCRIBE_BARS)",
                         path=path)


def _usable_meter(meter: tuple[int, int] | None) -> tuple[int, int] | None:
    if meter and meter[0] > 0 and meter[1] in (1, 2, 4, 8, 16, 32):
        return meter
    return None


def _key_for(tune: MidiTune, notes: Sequence[Sound], transpose: int) -> Key:
    if tune.key_signature and not transpose:
        try:
            return key_from_name(tune.key_signature)
        except MusicError:
            pass
    return analyse_key(notes)


def notes_to_abc(notes: Sequence[Sound], *, meter: tuple[int, int], key: Key,
                 title: str = "", tempo_qpm: float | None = None, number: int = 1,
                 pickup: Fraction | None = None) -> str:
    """Write quantised monophonic notes (quarter lengths) as one ABC tune."""
    unit = unit_length(meter, notes)
    bar = bar_length(meter)
    if pickup is None:
        pickup = choose_pickup(notes, meter)
    _check_bars(notes, meter, pickup)
    bars = cut_bars(notes, bar, pickup, unit)
    beat_units = beat_length(meter) / unit
    per_line = 4 if bar >= 2 else 8
    lines: list[str] = []
    texts = [write_bar(items, key, beat_units) for items in bars]
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
    text = midi_to_abc(in_path, title, transpose=transpose)
    save_bytes(text.encode("utf-8"), out_path)
    return text
