"""ABC -> music21 score -> notes, MIDI or MusicXML, with repeats expanded and errors located.

Each entry point takes ABC text or a `Tune` from a tune book and raises MusicError naming the
tune (its label) and, where it can, the line. Reading the ABC into a music21 Score (text
preparation, the lean parse, limits, locating errors) is `abc_score`'s job; this module takes
what sounds from the score: notes with ties merged, the meter, key and tempo for the MIDI
header, and writes MIDI (`midi_file.write_midi`) or MusicXML.

What sounds follows abc2midi, the reference player, where music21 reads the text otherwise
(`playback_text`, for notes and MIDI; MusicXML and the piano roll read the text as written).
The ornaments music21 drops are played as abc2midi 4.84 plays them (measured), on notes
outside chords and tuplets, in the note's own time (broken rhythm around them written out):
- grace notes `{g}A2`: each a quarter of the unit long, taken from the start of the note;
- a roll `~`: on a note of three units (`~G3` at L:1/8) the note, its upper neighbour, the
  note, its lower neighbour and the note (1, 1/4, 3/4, 1/4, 3/4 of a unit); on any other note
  longer than 1/4 unit the upper neighbour for 1/4 unit, then the note;
- a trill `T`, `!trill!`: the upper neighbour and the note by turns over the note, in the
  shortest notes lasting over 50 ms at the tune's Q: (32nd notes at 120 quarters a minute,
  abc2midi's tempo without Q:). The neighbours are the next letters up and down in the key;
- a first ending with no second (`|1 .. :| ..`) is played once, and the music after its `:|`
  follows the repeat: the `:|` gets a second ending (`:|2`). music21 played no repeat;
- a first ending closed by `||` with a `:|` later and no ending after it (`|1 GA|Bc||de|fg:|`)
  repeats from the part's start, and the second time the first ending's bars are left out:
  what lies between the `||` and the `:|` becomes the second ending as well. music21 played no
  repeat.

Tempo: `Q:` when the tune has one; else 110 dotted quarters a minute (165 qpm) for compound
meters (6/8 jigs, 9/8 slip jigs, 12/8 slides) and 120 quarter notes a minute for everything else
(4/4 and 2/2 reels at a steady session pace, 2/4 polkas, 3/4 waltzes, 3/2 hornpipes).
"""

from __future__ import annotations

import logging
import os
import re
from fractions import Fraction
from typing import BinaryIO

from app.music import abc_tokens as T
from app.music.abc_fields import parse_unit_length
from app.music.checker_rhythm import broken_rhythm_findings
from app.music.abc_score import (AbcSource, describe_source, ending_edits, expand_score_repeats,
                                 parse_abc)
from app.music.errors import MusicError
from app.music.limits import MAX_MUSICXML_BARS
from app.music.midi_file import (MAX_QPM, MIN_QPM, NoteEvent, key_signature_name, save_bytes,
                                 write_midi)

__all__ = ["AbcSource", "abc_note_events", "abc_to_midi", "abc_to_musicxml", "abc_to_score",
           "default_tempo_qpm", "parse_abc", "playback_text", "played_repeats", "score_context",
           "score_note_events", "transposed_sharps"]

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
    return parse_abc(abc, label, lean=True, playback=playback_text)


def score_note_events(score) -> list[NoteEvent]:
    """Return the sounding notes of a score in time order, ties merged, grace notes dropped
    (`playback_text` writes those it plays as notes).

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
    score = parse_abc(abc, label, expand_repeats=False, lean=True, playback=playback_text)
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


# --- the text as it sounds (see the module docstring) ---------------------------------------

_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)")
_LETTERS = "CDEFGAB"
_ROLL_UNIT = Fraction(1, 4)   # abc2midi's roll and grace notes: a quarter of the unit length
_TEMPO = re.compile(r"(?:(\d{1,9})/(\d{1,9})\s*=\s*)?(\d{1,9})")


def playback_text(text: str) -> str:
    """Return ABC text rewritten the way it sounds: rolls written out, a first ending with no
    second given one (see the module docstring). Lines stay where they are."""
    tune = T.tokenize_tune(_edited(T.tokenize_tune(text), _broken_edits))
    return _edited(tune, lambda tune: _ornament_edits(tune) + ending_edits(tune.body))


def played_repeats(text: str) -> str:
    """Return ABC text with only its endings rewritten as `playback_text` plays them, the notes
    as written: for a view that keeps time with the player (the piano roll's cursor)."""
    return _edited(T.tokenize_tune(text), lambda tune: ending_edits(tune.body))


def _edited(tune: T.TuneTokens, edits_of) -> str:
    """Return the tune's text with the (line, column, length, new text) edits made."""
    lines = list(tune.lines)
    for line, column, length, new in sorted(edits_of(tune), reverse=True):
        old = lines[line - 1]
        lines[line - 1] = old[:column - 1] + new + old[column - 1 + length:]
    return "\n".join(lines)


def _broken_edits(tune: T.TuneTokens) -> list[tuple[int, int, int, str]]:
    """Edits writing broken rhythm between notes out (`A>B` as `A3/2B/`), so that an ornament
    on either note can take its time."""
    body = tune.body
    lengths = broken_rhythm_findings(body)[2]
    notes: dict[int, Fraction] = {}
    edits = []
    for b, tok in enumerate(body):
        if tok.kind != T.BROKEN:
            continue
        before = next((i for i in range(b - 1, -1, -1)
                       if body[i].kind not in (T.SPACE, T.SLUR_CLOSE)), None)
        after = next((i for i in range(b + 1, len(body))
                      if body[i].kind not in (T.SPACE, T.SLUR_OPEN, T.SLUR_CLOSE,
                                              T.DECORATION)), None)
        if before in lengths and after in lengths and body[before].kind == body[after].kind \
                == T.NOTE:
            notes[before], notes[after] = lengths[before], lengths[after]
            edits.append((tok.line, tok.column, len(tok.text), ""))
    for i, length in notes.items():
        head = _NOTE.match(body[i].text).group()
        edits.append((body[i].line, body[i].column, len(body[i].text), head + _length(length)))
    return edits


def _ornament_edits(tune: T.TuneTokens) -> list[tuple[int, int, int, str]]:
    """Return (line, column, length, new text) edits writing out the grace notes, rolls and
    trills of notes outside chords and tuplets (see the module docstring)."""
    edits, done, body = [], set(), tune.body
    depth = tuplet = 0          # inside chords and grace notes; notes left in a tuplet
    unit, trill = Fraction(1, 8), _trill_note("")
    for i, tok in enumerate(tune.header + body):
        if tok.kind in (T.FIELD, T.INLINE_FIELD) and tok.value[0] in "LQ":
            unit = parse_unit_length(tok.value[1]) or unit if tok.value[0] == "L" else unit
            trill = _trill_note(tok.value[1]) if tok.value[0] == "Q" else trill
        if i < len(tune.header):
            continue
        i -= len(tune.header)
        if tok.kind == T.GRACE_OPEN and not depth and not tuplet:
            edits += _grace_edits(body, i, done)
        depth += (tok.kind in (T.CHORD_OPEN, T.GRACE_OPEN)) - \
            (tok.kind in (T.CHORD_CLOSE, T.GRACE_CLOSE))
        if tok.kind == T.TUPLET:
            tuplet = tok.value[2] or tok.value[0]
        elif not depth and tok.kind in (T.NOTE, T.REST, T.CHORD_CLOSE):
            tuplet = max(0, tuplet - 1)
        if tok.kind != T.DECORATION or tok.text not in _ORNAMENTS or depth or tuplet:
            continue
        note = _host(body, i, i + 1, (T.DECORATION,))
        figure = _ORNAMENTS[tok.text](body[note], body, trill / unit) \
            if note is not None and note not in done else None
        if figure is not None:
            done.add(note)
            edits.append((tok.line, tok.column, len(tok.text), ""))
            edits.append((body[note].line, body[note].column, len(body[note].text), figure))
    return edits


def _host(body: list, origin: int, start: int, skipped: tuple) -> int | None:
    """Return the index of the plain note the ornament at `origin` falls on, looking from
    `start`, or None (not a note, or a broken rhythm around it: that would fall on the
    ornament's first or last note)."""
    i = start
    while i < len(body) and body[i].kind in skipped:
        i += 1
    if i >= len(body) or body[i].kind != T.NOTE:
        return None
    around = {body[j].kind for j in (origin - 1, i + 1) if 0 <= j < len(body)}
    return None if T.BROKEN in around else i


def _grace_edits(body: list, start: int, done: set) -> list[tuple[int, int, int, str]]:
    close = next(j for j in range(start, len(body)) if body[j].kind in (T.GRACE_CLOSE,
                                                                         T.NEWLINE))
    graces = body[start + 1:close]
    note = _host(body, start, close + 1, (T.DECORATION, T.SLUR_OPEN, T.SLUR_CLOSE,
                                            T.QUOTE)) \
        if body[close].kind == T.GRACE_CLOSE else None
    total = _ROLL_UNIT * len(graces)
    if note is None or note in done or not graces or body[note].value <= total or \
            any(g.kind != T.NOTE or g.value != 1 for g in graces):
        return []
    done.add(note)
    host = body[note]
    written = "".join(_NOTE.match(g.text).group() + _length(_ROLL_UNIT) for g in graces)
    first, last = body[start], body[close]
    return [(first.line, first.column, last.column + 1 - first.column, written),
            (host.line, host.column, len(host.text),
             _NOTE.match(host.text).group() + _length(host.value - total))]


def _neighbours(note) -> tuple[str, str, str]:
    """Return the note's head (accidental, letter, octave) and its upper and lower neighbours
    in the key."""
    m = _NOTE.match(note.text)
    step = _LETTERS.index(m.group(2).upper()) + 7 * (m.group(2).islower() +
                                                     m.group(3).count("'") - m.group(3).count(","))
    return m.group(), _spell(step + 1), _spell(step - 1)


def _roll_figure(note, body: list, trill: Fraction) -> str | None:
    """Return the notes abc2midi plays for a roll on `note` (a token), None if it plays none."""
    if note.value <= _ROLL_UNIT:
        return None
    head, upper, lower = _neighbours(note)
    quarter, rest = _length(_ROLL_UNIT), _length(1 - _ROLL_UNIT)
    if note.value == 3:
        return f"{head}{upper}{quarter}{head}{rest}{lower}{quarter}{head}{rest}"
    return f"{upper}{quarter}{head}{_length(note.value - _ROLL_UNIT)}"


def _trill_figure(note, body: list, piece: Fraction) -> str | None:
    """Return the notes abc2midi plays for a trill: upper neighbour and note by turns, each
    `piece` units long; None where the note is not a whole number of those (or a tie would
    join the upper neighbour to the note)."""
    pieces = note.value / piece
    if pieces < 2 or pieces.denominator != 1 or pieces % 2 and \
            any(tok.kind == T.TIE and tok.line == note.line and tok.column == note.column +
                len(note.text) for tok in body):
        return None
    head, upper, _ = _neighbours(note)
    return "".join((upper if k % 2 == 0 else head) + _length(piece) for k in range(int(pieces)))


def _trill_note(tempo: str) -> Fraction:
    """Return the length of abc2midi's trill notes at the tempo `Q:tempo` (no Q: is 120 quarter
    notes a minute): the shortest quarter, eighth, 16th ... note that lasts over 50 ms
    (measured: 32nd notes at 120, 16ths at 60 to 72, eighths at 150 to 240)."""
    m = _TEMPO.search(re.sub(r'"[^"]*"', "", tempo))
    qpm = 120
    if m and (not m[1] or int(m[2])):
        qpm = int(m[3]) * (Fraction(int(m[1]), int(m[2])) if m[1] else Fraction(1, 4)) * 4
    piece = Fraction(1, 4)
    while qpm and piece * 120_000 / qpm > 50:     # piece/2 lasts over 50 ms
        piece /= 2
    return piece


_ORNAMENTS = {"~": _roll_figure, "T": _trill_figure, "!trill!": _trill_figure}


def _spell(step: int) -> str:
    octave, letter = divmod(step, 7)
    if octave >= 1:
        return _LETTERS[letter].lower() + "'" * (octave - 1)
    return _LETTERS[letter] + "," * -octave


def _length(value: Fraction) -> str:
    return "" if value == 1 else str(value)
