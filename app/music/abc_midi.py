"""ABC -> music21 score -> notes, MIDI or MusicXML, with repeats expanded and errors located.

Each entry point takes ABC text or a `Tune` from a tune book and raises MusicError naming the
tune (its label) and, where it can, the line. Reading the ABC into a music21 Score (text
preparation, the lean parse, limits, locating errors) is `abc_score`'s job; this module takes
what sounds from the score: notes with ties merged, the meter, key and tempo for the MIDI
header, and writes MIDI (`midi_file.write_midi`) or MusicXML.

Tempo: `Q:` when the tune has one; else 110 dotted quarters a minute (165 qpm) for compound
meters (6/8 jigs, 9/8 slip jigs, 12/8 slides) and 120 quarter notes a minute for everything else
(4/4 and 2/2 reels at a steady session pace, 2/4 polkas, 3/4 waltzes, 3/2 hornpipes).
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from typing import BinaryIO

from app.music.abc_score import AbcSource, describe_source, expand_score_repeats, parse_abc
from app.music.errors import MusicError
from app.music.limits import MAX_MUSICXML_BARS
from app.music.midi_file import (MAX_QPM, MIN_QPM, NoteEvent, key_signature_name, save_bytes,
                                 write_midi)

__all__ = ["AbcSource", "abc_note_events", "abc_to_midi", "abc_to_musicxml", "abc_to_score",
           "default_tempo_qpm", "parse_abc", "score_context", "score_note_events",
           "transposed_sharps"]

log = logging.getLogger(__name__)

COMPOUND_QPM = 165.0   # 110 dotted quarters per minute
SIMPLE_QPM = 120.0


def default_tempo_qpm(meter: tuple[int, int] | None) -> float:
    """Return the default tempo (quarter notes per minute) for a meter (see module docstring)."""
    if meter and meter[1] == 8 and meter[0] in (6, 9, 12):
        return COMPOUND_QPM
    return SIMPLE_QPM


def abc_to_score(abc: AbcSource, label: str | None = None):
    """Return the music21 Score of one ABC tune with repeats expanded (MusicError if bad).

    The parse is lean (no beams): the score is for its notes, not for engraving.
    """
    return parse_abc(abc, label, lean=True)


def score_note_events(score) -> list[NoteEvent]:
    """Return the sounding notes of a score in time order, ties merged, grace notes dropped.

    A tie joins a note only to the next note of the same pitch that starts where it ends; a
    "tie" between different pitches (O'Neill's transcriptions use `-` as a slur) keeps both
    notes, where music21's stripTies would swallow the second one.
    """
    events: list[NoteEvent] = []
    open_ties: dict[int, int] = {}   # pitch -> index in events of a note tied onwards
    for element in score.flatten().notes:
        duration = Fraction(element.quarterLength)
        if duration <= 0:
            continue
        onset = Fraction(element.offset)
        parts = element.notes if element.isChord else [element]
        for part in parts:
            pitch = part.pitch.midi
            tie = part.tie if part.tie is not None else element.tie
            index = open_ties.pop(pitch, None)
            if index is not None and events[index].onset + events[index].duration == onset:
                events[index] = events[index]._replace(duration=events[index].duration + duration)
            else:
                index = len(events)
                events.append(NoteEvent(pitch, onset, duration))
            if tie is not None and tie.type in ("start", "continue"):
                open_ties[pitch] = index
    events.sort(key=lambda e: (e.onset, e.pitch))
    return events


def abc_note_events(abc: AbcSource) -> list[NoteEvent]:
    """Return (MIDI pitch, onset, duration) of every note, in quarter lengths, repeats expanded."""
    return score_note_events(abc_to_score(abc))


def score_context(score) -> dict:
    """Return the first meter, key signature and tempo of a score: what the MIDI header holds.

    A tempo that is zero or outside MIN_QPM-MAX_QPM is left out (the meter's default applies).

    Read it before expanding repeats: music21's expansion can drop the opening time signature.
    """
    from music21 import key, meter, tempo

    flat = score.recurse()   # document order; flatten() can sort a stray meter first
    found: dict = {"time_signature": None, "key_sharps": 0, "minor": False, "tempos": [],
                   "pickup": None}
    ts = flat.getElementsByClass(meter.TimeSignature).first()
    if ts is not None:
        found["time_signature"] = (ts.numerator, ts.denominator)
        first = score.parts[0].getElementsByClass("Measure").first() if score.parts else None
        if first is not None and 0 < first.duration.quarterLength < ts.barDuration.quarterLength:
            found["pickup"] = Fraction(first.duration.quarterLength)
    ks = flat.getElementsByClass(key.KeySignature).first()
    if ks is not None:
        found["key_sharps"] = ks.sharps
        found["minor"] = getattr(ks, "mode", "major") == "minor"
    mark = flat.getElementsByClass(tempo.MetronomeMark).first()
    try:
        qpm = mark.getQuarterBPM() if mark is not None else None
    except (ArithmeticError, ValueError):   # Q:1/4=0 divides by zero inside music21
        qpm = None
    if qpm and MIN_QPM <= qpm <= MAX_QPM:
        found["tempos"].append((Fraction(0), float(qpm)))
    elif qpm:
        log.warning("tempo %g quarter notes a minute ignored (outside %g-%g)", qpm, MIN_QPM,
                    MAX_QPM)
    return found


def transposed_sharps(sharps: int, semitones: int) -> int:
    """Return the key signature (-6..6 sharps) a transposition by `semitones` leads to."""
    return (sharps + 7 * semitones + 6) % 12 - 6


def abc_to_midi(abc: AbcSource, out: str | os.PathLike | BinaryIO | None = None, *,
                program: int = 0, tempo_qpm: float | None = None, label: str | None = None,
                transpose: int = 0, provenance: dict[str, str] | None = None) -> bytes:
    """Convert one ABC tune to a type 1 MIDI file; return the bytes (also saved to `out`).

    Tempo from `tempo_qpm`, else the tune's Q:, else the meter's default; `program` is the GM
    program (0-127); `transpose` shifts every note by semitones. Raises MusicError.
    """
    text, label, tune = describe_source(abc, label)
    score = parse_abc(abc, label, expand_repeats=False, lean=True)
    context = score_context(score)
    score = expand_score_repeats(score, label)
    events = score_note_events(score)
    if transpose:
        events = [e._replace(pitch=e.pitch + transpose) for e in events]
    if any(not 0 <= e.pitch <= 127 for e in events):
        shift = f" transposed by {transpose} semitones" if transpose else ""
        raise MusicError(f"a note{shift} lies outside the MIDI range 0-127", path=label)
    sharps = transposed_sharps(context["key_sharps"], transpose) if transpose \
        else context["key_sharps"]
    tempos = context["tempos"]
    if tempo_qpm is not None:
        tempos = [(Fraction(0), float(tempo_qpm))]
    elif not tempos:
        tempos = [(Fraction(0), default_tempo_qpm(context["time_signature"]))]
    title = tune.title if tune is not None else (score.metadata.title if score.metadata else "")
    return write_midi(events, out, title=title or "", tempos=tempos,
                      time_signature=_midi_meter(context["time_signature"]),
                      key_signature=key_signature_name(max(-7, min(7, sharps)), context["minor"]),
                      program=program, provenance=provenance, pickup=context["pickup"])


def _midi_meter(meter: tuple[int, int] | None) -> tuple[int, int] | None:
    if meter is None:
        return None
    num, den = meter
    # MIDI stores the denominator as a power of two.
    return (num, den) if den > 0 and den & (den - 1) == 0 and 0 < num < 256 else None


def abc_to_musicxml(abc: AbcSource, out: str | os.PathLike | BinaryIO | None = None,
                    label: str | None = None, *, transpose: int = 0) -> bytes:
    """Convert one ABC tune to MusicXML (repeats kept as written); return the bytes.

    Raises MusicError for ABC music21 cannot read and for a tune over MAX_MUSICXML_BARS bars.
    """
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    _, label, _ = describe_source(abc, label)
    score = parse_abc(abc, label, expand_repeats=False, max_bars=MAX_MUSICXML_BARS)
    if transpose:
        score = score.transpose(transpose)
    try:
        data = GeneralObjectExporter(score).parse()
    except Exception as exc:  # noqa: BLE001 - music21 export errors are about this tune
        raise MusicError(f"cannot write MusicXML: {exc}", path=label) from None
    if out is not None:
        save_bytes(data, out)
    return data
