"""What Ceol takes from a MIDI file: notes in quarter lengths, tracks, the tune and its meta data.

`NoteEvent` is the note every converter passes around (ABC -> MIDI, MIDI -> ABC, audio);
`MidiTune` is what `midi_file.read_midi` returns, with the melody picked out by `skyline`.
Key signatures are named as mido names them ("G", "F#m", "Bb"); `key_signature_name` and
`key_signature_sharps` convert between those names and a count of sharps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple, Sequence

from app.music.errors import MusicError

MAJOR_KEYS = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
MINOR_KEYS = ("Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm", "Am", "Em", "Bm", "F#m", "C#m", "G#m",
              "D#m", "A#m")


class NoteEvent(NamedTuple):
    """One sounding note: MIDI pitch, onset and duration in quarter lengths."""

    pitch: int
    onset: Fraction
    duration: Fraction


@dataclass
class MidiTrackNotes:
    """The notes one track (and channel) of a MIDI file plays."""

    name: str
    program: int | None
    channel: int | None
    notes: list[NoteEvent]


@dataclass
class MidiTune:
    """What `read_midi` found in a MIDI file; times in quarter lengths from the start."""

    tracks: list[MidiTrackNotes]
    ticks_per_beat: int
    type: int
    title: str = ""
    tempos: list[tuple[Fraction, float]] = field(default_factory=list)  # (onset, qpm)
    time_signature: tuple[int, int] | None = None  # the meter, (numerator, denominator)
    pickup: Fraction | None = None  # where the first bar line falls; None without a meter
    key_signature: str | None = None  # the first one, mido spelling: "G", "Em", "Bb"
    texts: list[str] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    warnings: list[str] = field(default_factory=list)  # damaged meta data that was skipped

    @property
    def tempo_qpm(self) -> float | None:
        """Return the first tempo in quarter notes per minute, or None when the file has none."""
        return self.tempos[0][1] if self.tempos else None

    @property
    def program(self) -> int | None:
        """Return the program of the melody track, or None when it sets none."""
        track = self.melody_track()
        return track.program if track else None

    def melody_track(self) -> MidiTrackNotes | None:
        """Return the track (and channel) with the most notes, drums aside; None if silent."""
        tracks = [t for t in self.tracks if t.notes and t.channel != 9]
        return max(tracks, key=lambda t: len(t.notes)) if tracks else None

    def melody(self) -> list[NoteEvent]:
        """Return the melody: the busiest non-drum track, highest note where notes overlap."""
        track = self.melody_track()
        return skyline(track.notes) if track else []


def skyline(notes: Sequence[NoteEvent]) -> list[NoteEvent]:
    """Reduce notes to one line: the highest of notes starting together, earlier ones cut short.

    A note that starts while a higher one still sounds, and ends before it, is dropped.
    """
    by_onset: dict[Fraction, NoteEvent] = {}
    for note in notes:
        if note.duration <= 0:
            continue
        best = by_onset.get(note.onset)
        if best is None or note.pitch > best.pitch:
            by_onset[note.onset] = note
    line: list[NoteEvent] = []
    for note in sorted(by_onset.values(), key=lambda n: n.onset):
        if line:
            last = line[-1]
            end = last.onset + last.duration
            if end > note.onset:
                if last.pitch > note.pitch and end >= note.onset + note.duration:
                    continue
                line[-1] = last._replace(duration=note.onset - last.onset)
        line.append(note)
    return line


def key_signature_name(sharps: int, minor: bool = False) -> str:
    """Return mido's key name for a signature of `sharps` (-7..7, flats negative)."""
    if not -7 <= sharps <= 7:
        raise MusicError(f"key signature with {sharps} sharps is outside -7..7")
    return (MINOR_KEYS if minor else MAJOR_KEYS)[sharps + 7]


def key_signature_sharps(name: str) -> tuple[int, bool]:
    """Return (sharps, minor) for a mido key name such as "Bb" or "F#m"."""
    if name in MINOR_KEYS:
        return MINOR_KEYS.index(name) - 7, True
    if name in MAJOR_KEYS:
        return MAJOR_KEYS.index(name) - 7, False
    raise MusicError(f"unknown key signature {name!r}")
