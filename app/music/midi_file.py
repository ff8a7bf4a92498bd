"""Standard MIDI files through mido: write a tune's notes, read the notes and meta data back.

Times here are quarter lengths held as exact `Fraction`s (MIDI ticks / ticks per beat), the
unit music21 uses, so ABC -> MIDI -> notes comparisons are exact. `write_midi` makes a type 1
file: a conductor track (track name = tune title, tempo, time signature, key signature and an
optional provenance text event) and one melody track with its program change. `read_midi`
accepts type 0 and type 1 files from a path, a binary file object or bytes (parsed by
`app.music.smf`, which survives the damaged meta data of files from the web) and returns a
`MidiTune`; its `melody()` picks the track with the most notes and keeps the highest note where
several sound at once. Corrupt or truncated files raise MusicError naming the file; a damaged
key signature, time signature or tempo is skipped with a warning. The note and tune types and
key signature names live in `app.music.midi_tune`.
"""

from __future__ import annotations

import io
import json
import logging
import os
from fractions import Fraction
from typing import BinaryIO, Sequence, Union

from app.music.atomic import atomic_write
from app.music.errors import MusicError
from app.music.midi_tune import (MidiTrackNotes, MidiTune, NoteEvent, key_signature_name,
                                 key_signature_sharps, skyline)
from app.music.smf import Smf, note_count, parse_smf

__all__ = ["MAX_QPM", "MIN_QPM", "MidiSource", "MidiTrackNotes", "MidiTune", "NoteEvent",
           "key_signature_name", "key_signature_sharps", "read_midi", "save_bytes", "skyline",
           "write_midi"]

logger = logging.getLogger(__name__)

MidiSource = Union[str, os.PathLike, bytes, bytearray, BinaryIO]

PROVENANCE_PREFIX = "ceol-provenance: "
DEFAULT_TICKS_PER_BEAT = 480
# Tempo range a MIDI file can hold: set_tempo stores microseconds per quarter note in 24 bits
# (at most 16,777,215, so at least 3.58 quarter notes a minute).
MIN_QPM, MAX_QPM = 4.0, 1000.0
META_TEXT = 0x01
META_TRACK_NAME = 0x03
META_TEMPO = 0x51
META_TIME_SIGNATURE = 0x58
META_KEY_SIGNATURE = 0x59


def _pickup_signature(pickup: Fraction | None,
                      meter: tuple[int, int]) -> tuple[int, int] | None:
    """Return the time signature of a pickup bar, or None when there is none or it can't be."""
    if not pickup or pickup <= 0 or pickup >= Fraction(4 * meter[0], meter[1]):
        return None
    whole = Fraction(pickup) / 4
    den = max(whole.denominator, meter[1])
    if den & (den - 1) or den > 64:
        return None
    return int(whole * den), den


def _latin1(text: str) -> str:
    # MIDI text events are bytes; mido writes Latin-1, so characters outside it become '?'.
    return text.encode("latin-1", "replace").decode("latin-1")


def write_midi(notes: Sequence[NoteEvent], out: str | os.PathLike | BinaryIO | None = None, *,
               title: str = "", tempo_qpm: float = 120.0,
               time_signature: tuple[int, int] | None = (4, 4), key_signature: str | None = None,
               program: int = 0, channel: int = 0, velocity: int = 80,
               ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT,
               tempos: Sequence[tuple[Fraction, float]] | None = None,
               provenance: dict[str, str] | None = None, track_name: str = "Melody",
               pickup: Fraction | None = None) -> bytes:
    """Write notes as a type 1 MIDI file; return its bytes and also save them to `out`.

    Times are quarter lengths (rounded to ticks). `tempos` (onset, qpm) overrides `tempo_qpm`
    when given. `provenance` becomes one JSON text event in the conductor track. A `pickup`
    (anacrusis, in quarter lengths) is written the way notation programs do: a time signature
    as long as the pickup at 0, then the meter at the first bar line. A path is written
    atomically; a file object is written to as is.
    """
    import mido

    if not 0 <= program <= 127 or not 0 <= channel <= 15 or not 1 <= velocity <= 127:
        raise MusicError(f"bad MIDI settings: program {program}, channel {channel}, "
                         f"velocity {velocity}")
    conductor = _conductor(title, time_signature, pickup, key_signature,
                           tempos or [(Fraction(0), tempo_qpm)], provenance, ticks_per_beat)
    melody = _melody(notes, channel, velocity, ticks_per_beat)
    head = [(0, -2, mido.MetaMessage("track_name", name=_latin1(track_name))),
            (0, -1, mido.Message("program_change", program=program, channel=channel))]
    data = _smf_bytes([conductor, head + melody], ticks_per_beat)
    if out is not None:
        save_bytes(data, out)
    return data


def _conductor(title: str, time_signature: tuple[int, int] | None, pickup: Fraction | None,
               key_signature: str | None, tempos: Sequence[tuple[Fraction, float]],
               provenance: dict[str, str] | None, ticks_per_beat: int) -> list[tuple]:
    """Return the conductor track's (tick, order, message) events: title, meter, key, tempos."""
    import mido

    conductor: list[tuple[int, int, mido.MetaMessage]] = []
    conductor.append((0, 0, mido.MetaMessage("track_name", name=_latin1(title))))
    if time_signature:
        conductor += _meter(time_signature, pickup, ticks_per_beat)
    if key_signature:
        key_signature_sharps(key_signature)
        conductor.append((0, 2, mido.MetaMessage("key_signature", key=key_signature)))
    for onset, qpm in tempos:
        if not MIN_QPM <= qpm <= MAX_QPM:
            raise MusicError(f"tempo {qpm:g} quarter notes per minute is outside "
                             f"{MIN_QPM:g}-{MAX_QPM:g} (what a MIDI file can hold)")
        conductor.append((round(onset * ticks_per_beat), 3,
                          mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm))))
    if provenance:
        text = PROVENANCE_PREFIX + json.dumps({str(k): str(v) for k, v in provenance.items()},
                                              sort_keys=True)
        conductor.append((0, 4, mido.MetaMessage("text", text=text)))
    return conductor


def _meter(time_signature: tuple[int, int], pickup: Fraction | None,
           ticks_per_beat: int) -> list[tuple]:
    """Return the time signature events: the pickup's own at 0, if it has one, then the meter."""
    import mido

    num, den = time_signature
    events = []
    start = 0
    short = _pickup_signature(pickup, time_signature)
    if short:
        events.append((0, 1, mido.MetaMessage("time_signature", numerator=short[0],
                                              denominator=short[1])))
        start = round(pickup * ticks_per_beat)
    events.append((start, 1, mido.MetaMessage("time_signature", numerator=num,
                                              denominator=den)))
    return events


def _melody(notes: Sequence[NoteEvent], channel: int, velocity: int,
            ticks_per_beat: int) -> list[tuple]:
    """Return the note-on and note-off (tick, order, message) events of the melody track."""
    import mido

    melody: list[tuple[int, int, mido.Message]] = []
    for note in notes:
        start = round(note.onset * ticks_per_beat)
        end = max(start + 1, round((note.onset + note.duration) * ticks_per_beat))
        if not 0 <= note.pitch <= 127 or start < 0:
            raise MusicError(f"note {note} cannot be written to MIDI")
        # Order at equal ticks: note-offs (0) before note-ons (1) so repeated pitches sound.
        melody.append((start, 1, mido.Message("note_on", note=note.pitch, velocity=velocity,
                                              channel=channel)))
        melody.append((end, 0, mido.Message("note_off", note=note.pitch, velocity=0,
                                            channel=channel)))
    return melody


def _smf_bytes(tracks: list[list[tuple]], ticks_per_beat: int) -> bytes:
    """Return a type 1 file of tracks of (tick, order, message) events, sorted and timed."""
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for events in tracks:
        track = mido.MidiTrack()
        now = 0
        for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(message.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=0))
        midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def save_bytes(data: bytes, out: str | os.PathLike | BinaryIO) -> None:
    """Save bytes to a path atomically (temp file, fsync, os.replace) or to a binary file object.

    Raises MusicError naming the path when it cannot be written (a full disk says "No space
    left on device"); the temp file is removed and an older file stays intact. Temp files that
    killed writers left are removed by the next write (app.music.atomic).
    """
    if hasattr(out, "write"):
        out.write(data)  # type: ignore[union-attr]
        return
    atomic_write(out, data)


def _read_source(source: MidiSource) -> tuple[bytes, str | None]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), None
    if hasattr(source, "read"):
        return source.read(), getattr(source, "name", None)  # type: ignore[union-attr]
    path = os.fspath(source)
    try:
        with open(path, "rb") as handle:
            return handle.read(), path
    except IsADirectoryError:
        raise MusicError("is a folder, not a MIDI file", path=path) from None
    except FileNotFoundError:
        raise MusicError("no such file", path=path) from None
    except OSError as exc:
        raise MusicError(f"cannot read: {exc.strerror or exc}", path=path) from None


def read_midi(source: MidiSource, *, max_notes: int | None = None,
              limit_name: str = "") -> MidiTune:
    """Read a type 0 or type 1 MIDI file from a path, binary file object or bytes.

    Raises MusicError (naming the file) for an empty, truncated or corrupt file, a type 2 or
    SMPTE-timed file, one with more than MAX_MIDI_EVENTS events, or more than `max_notes`
    notes when given (counted before any note is built; `limit_name` names that limit in the
    message). Damaged meta data (a key signature with 9 sharps, a two-byte time signature, a
    tempo of 0) is skipped, listed in `MidiTune.warnings` and logged. Notes never switched off
    end at the end of their track.
    """
    data, path = _read_source(source)
    if not data:
        raise MusicError("empty file, not a MIDI file", path=path)
    if not data.startswith(b"MThd"):
        raise MusicError("not a MIDI file (no MThd header)", path=path)
    smf = parse_smf(data, path)
    if smf.type == 2:
        raise MusicError("type 2 MIDI files (independent patterns) are not supported", path=path)
    if max_notes is not None and note_count(smf) > max_notes:
        raise MusicError(f"the MIDI file has {note_count(smf):,} notes; Ceol reads at most "
                         f"{max_notes:,} here" + (f" ({limit_name})" if limit_name else ""),
                         path=path)
    tune = _collect(smf, path)
    for warning in tune.warnings:
        logger.warning("%s: %s", path or "MIDI data", warning)
    return tune


def _collect(smf: Smf, path: str | None) -> MidiTune:
    tpb = smf.ticks_per_beat
    tune = MidiTune(tracks=[], ticks_per_beat=tpb, type=smf.type, path=path,
                    warnings=list(smf.warnings))
    meters: list[tuple[int, tuple[int, int]]] = []
    for index, track in enumerate(smf.tracks):
        name = ""
        programs: dict[int, int] = {}
        sounding: dict[tuple[int, int], list[int]] = {}
        notes: dict[int, list[NoteEvent]] = {}
        tick = 0
        for tick, status, data in track:
            kind = status & 0xF0
            if kind == 0x90 and data[1] > 0:
                sounding.setdefault((status & 0x0F, data[0]), []).append(tick)
            elif kind in (0x80, 0x90):
                channel = status & 0x0F
                starts = sounding.get((channel, data[0]))
                if starts:
                    start = starts.pop(0)
                    notes.setdefault(channel, []).append(NoteEvent(
                        data[0], Fraction(start, tpb), Fraction(tick - start, tpb)))
            elif kind == 0xC0:
                programs.setdefault(status & 0x0F, data[0])
            elif status < 0x80:   # a meta event: `status` is its type
                name = _meta(tune, meters, tick, status, data, name)
        for (channel, pitch), starts in sounding.items():
            for start in starts:
                notes.setdefault(channel, []).append(
                    NoteEvent(pitch, Fraction(start, tpb), Fraction(tick - start, tpb)))
        if index == 0 and name:
            tune.title = name
        for channel, found in sorted(notes.items()):
            found.sort(key=lambda n: (n.onset, n.pitch))
            tune.tracks.append(MidiTrackNotes(name, programs.get(channel), channel, found))
    tune.tempos.sort()
    _set_meter(tune, sorted(meters))
    return tune


def _meta(tune: MidiTune, meters: list, tick: int, kind: int, data: bytes, name: str) -> str:
    """Take what a meta event says into the tune; return the track name so far.

    Damaged meta events are metadata only: each is skipped with a warning, never fatal.
    """
    when = f"at quarter {float(Fraction(tick, tune.ticks_per_beat)):g}"
    if kind == META_TRACK_NAME:
        return name or data.decode("latin-1")
    if kind == META_TEXT:
        _add_text(tune, data.decode("latin-1"))
    elif kind == META_TEMPO:
        tempo = int.from_bytes(data[:3], "big") if len(data) >= 3 else 0
        if tempo:
            tune.tempos.append((Fraction(tick, tune.ticks_per_beat),
                                round(mido_tempo2bpm(tempo), 2)))
        else:
            tune.warnings.append(f"skipped an invalid tempo {when} ({data.hex() or 'no data'})")
    elif kind == META_TIME_SIGNATURE:
        if len(data) >= 2 and data[0] > 0 and data[1] <= 6:
            meters.append((tick, (data[0], 2 ** data[1])))
        else:
            tune.warnings.append(f"skipped an invalid time signature {when} "
                                 f"({data.hex() or 'no data'})")
    elif kind == META_KEY_SIGNATURE:
        sharps = data[0] - 256 if data and data[0] > 127 else (data[0] if data else 99)
        if len(data) >= 2 and -7 <= sharps <= 7 and data[1] in (0, 1):
            if tune.key_signature is None:
                tune.key_signature = key_signature_name(sharps, bool(data[1]))
        else:
            mode = data[1] if len(data) >= 2 else "none"
            tune.warnings.append(f"skipped an invalid key signature {when} "
                                 f"({sharps if data else 'no'} sharps, mode {mode})")
    return name


def _set_meter(tune: MidiTune, meters: list[tuple[int, tuple[int, int]]]) -> None:
    """Take the meter and where bars start: at the first time signature, as MIDI defines bars,
    except that a first signature lasting exactly one short bar marks a pickup."""
    if not meters:
        return
    tpb = tune.ticks_per_beat
    first_tick, tune.time_signature = meters[0]
    bar = Fraction(4 * tune.time_signature[0], tune.time_signature[1])
    tune.pickup = Fraction(first_tick, tpb) % bar
    if len(meters) > 1 and first_tick == 0:
        tick, meter = meters[1]
        if Fraction(tick, tpb) == bar and bar < Fraction(4 * meter[0], meter[1]):
            tune.time_signature, tune.pickup = meter, bar


def _add_text(tune: MidiTune, text: str) -> None:
    if text.startswith(PROVENANCE_PREFIX):
        try:
            data = json.loads(text[len(PROVENANCE_PREFIX):])
        except ValueError:
            data = None
        if isinstance(data, dict):
            tune.provenance.update({str(k): str(v) for k, v in data.items()})
            return
    tune.texts.append(text)


def mido_tempo2bpm(tempo: int) -> float:
    """Return quarter notes per minute for a MIDI tempo in microseconds per quarter."""
    return 60_000_000 / tempo
