"""A strict-where-it-matters, lenient-where-it-doesn't reader of Standard MIDI Files.

`midi_file.read_midi` and the WAV renderer read MIDI through here instead of through mido's
parser, because files from the web break mido in ways that have nothing to do with the music:
a key signature with 9 sharps raises `KeySignatureError`, a time signature or sequence number
one byte short raises `IndexError` ("list index out of range"), a tempo of 0 divides by zero.
Here the bytes are walked once, with running status, and every event becomes a plain tuple
`(tick, status, data)`: channel messages keep their status byte (0x80-0xEF) and data bytes,
meta events get their type (0x00-0x7F) as `status` and their payload as `data`; system
exclusive and real-time bytes are skipped. What the music needs (a damaged track, a data byte
where a status byte must be) raises MusicError naming the file; meta data is left for the
caller to judge. Alien chunks are skipped as the standard says; a track's declared length may
lie as long as its End of Track event is where the next chunk starts. At most MAX_MIDI_EVENTS
events are read, so memory stays bounded whatever the file claims.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from app.music.errors import MusicError

MAX_MIDI_EVENTS = 2_000_000   # channel and meta events in all tracks together
META_END_OF_TRACK = 0x2F
DATA_LENGTH = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
# System common and real-time bytes inside a file: how many data bytes follow them.
SYSTEM_LENGTH = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF4: 0, 0xF5: 0, 0xF6: 0, 0xF8: 0, 0xF9: 0,
                 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFD: 0, 0xFE: 0}

Event = tuple[int, int, bytes]   # (tick, status or meta type, data)


@dataclass
class Smf:
    """The events of a Standard MIDI File, per track, with absolute ticks."""

    type: int
    ticks_per_beat: int
    tracks: list[list[Event]]
    warnings: list[str] = field(default_factory=list)


class _Truncated(Exception):
    pass


class _Corrupt(Exception):
    pass


class _TooMany(Exception):
    pass


def parse_smf(data: bytes, path: str | None = None) -> Smf:
    """Parse the bytes of a MIDI file; MusicError naming `path` when they are not one.

    Raises for a missing or short header, SMPTE time division, a track cut short by the end of
    the file, a malformed event, or more than MAX_MIDI_EVENTS events.
    """
    if len(data) < 14 or not data.startswith(b"MThd"):
        raise MusicError("not a MIDI file (no MThd header)", path=path)
    size = struct.unpack(">I", data[4:8])[0]
    if size < 6:
        raise MusicError(f"corrupt MIDI file: header of {size} bytes", path=path)
    kind, declared, division = struct.unpack(">HHH", data[8:14])
    if kind > 2:
        raise MusicError(f"corrupt MIDI file: unknown format {kind}", path=path)
    if division & 0x8000:
        raise MusicError("MIDI file uses SMPTE time, which is not supported", path=path)
    if division == 0:
        raise MusicError("corrupt MIDI file: 0 ticks per beat", path=path)
    smf = Smf(kind, division, [])
    pos = 8 + size
    budget = [MAX_MIDI_EVENTS]
    try:
        while pos < len(data):
            name, length = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "big")
            if pos + 8 > len(data) or not name.isalnum():
                smf.warnings.append(f"ignored {len(data) - pos} bytes of junk after the tracks")
                break
            if name == b"MTrk":
                events, pos = _read_track(data, pos + 8, length, budget, smf, len(smf.tracks) + 1)
                smf.tracks.append(events)
            else:
                pos += 8 + length   # an alien chunk: skipped, as the standard asks
    except _Truncated as exc:
        raise MusicError(f"truncated MIDI file: {exc}", path=path) from None
    except _Corrupt as exc:
        raise MusicError(f"corrupt MIDI file: {exc}", path=path) from None
    except _TooMany:
        raise MusicError(f"the MIDI file has more than {MAX_MIDI_EVENTS:,} events, the most "
                         f"Ceol reads (MAX_MIDI_EVENTS)", path=path) from None
    if not smf.tracks:
        raise MusicError("truncated MIDI file: no tracks", path=path)
    if len(smf.tracks) != declared:
        smf.warnings.append(f"the header announces {declared} tracks, the file holds "
                            f"{len(smf.tracks)}")
    return smf


def _read_track(data: bytes, start: int, length: int, budget: list[int], smf: Smf,
                number: int) -> tuple[list[Event], int]:
    """Read one MTrk chunk's events from `start`; return them and where the next chunk starts."""
    end = start + length
    limit = min(end, len(data))
    events: list[Event] = []
    pos, tick, running = start, 0, 0
    try:
        while pos < limit:
            delta, pos = _varlen(data, pos)
            tick += delta
            status = data[pos]
            if status < 0x80:
                if not running:
                    raise _Corrupt(f"track {number}: data byte {status:#04x} where an event "
                                   f"should start (byte {pos})")
                status = running
            else:
                pos += 1
            if status == 0xFF:
                meta, payload, pos = _meta_event(data, pos)
                if meta == META_END_OF_TRACK:
                    break
                if meta < 0x80:
                    events.append((tick, meta, payload))
            elif status in (0xF0, 0xF7):
                size, pos = _varlen(data, pos)
                pos += size
                if pos > len(data):
                    raise IndexError
            elif status >= 0xF0:
                pos += SYSTEM_LENGTH[status]
            else:
                running = status
                count = DATA_LENGTH[status & 0xF0]
                payload = data[pos:pos + count]
                if len(payload) < count:
                    raise IndexError
                if max(payload) > 0x7F:
                    raise _Corrupt(f"track {number}: status byte {max(payload):#04x} inside a "
                                   f"channel message (byte {pos})")
                pos += count
                events.append((tick, status, payload))
            budget[0] -= 1
            if budget[0] < 0:
                raise _TooMany
        else:
            if end > len(data):
                raise _Truncated(f"track {number} ends after {len(data) - start} of its "
                                 f"{length} bytes")
    except IndexError:
        raise _Truncated(f"track {number} is cut short at byte {len(data)}") from None
    return events, _next_chunk(data, end, pos, smf, number)


def _meta_event(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """Read a meta event from just after its 0xFF; return its type, its data and where the
    next event starts. IndexError when the file ends inside it."""
    meta = data[pos]
    size, pos = _varlen(data, pos + 1)
    payload = data[pos:pos + size]
    if len(payload) < size:
        raise IndexError
    return meta, payload, pos + size


def _next_chunk(data: bytes, end: int, pos: int, smf: Smf, number: int) -> int:
    """Return where the chunk after a track starts: where its events ended (with a warning)
    when they ran past its declared end or stopped clearly short of it, else at that end."""
    if pos > end:
        smf.warnings.append(f"track {number} runs {pos - end} bytes past its declared length")
        return pos
    if pos < end and (pos == len(data) or data[pos:pos + 4] == b"MTrk"):
        # The length field is too big, but the End of Track event shows where the track ends.
        smf.warnings.append(f"track {number} is shorter than its declared length")
        return pos
    return end


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    """Read a variable-length quantity (at most 4 bytes); return it and the next position."""
    value = 0
    for i in range(4):
        byte = data[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    raise _Corrupt(f"a variable-length number longer than 4 bytes at byte {pos}")


def clean_midi(smf: Smf) -> bytes:
    """Return the file again with only its channel messages and valid tempo changes.

    For readers less forgiving than this one (mido raises on a 9-sharp key signature): what
    they get is plain, well-formed MIDI that plays the same.
    """
    out = [b"MThd", struct.pack(">IHHH", 6, smf.type, len(smf.tracks), smf.ticks_per_beat)]
    for events in smf.tracks:
        body = bytearray()
        now = 0
        for tick, status, data in events:
            if status < 0x80 and (status != 0x51 or not _tempo(data)):
                continue
            body += _vlq(tick - now)
            body += bytes([status]) + data if status >= 0x80 else b"\xff\x51\x03" + data[:3]
            now = tick
        body += b"\x00\xff\x2f\x00"
        out += [b"MTrk", struct.pack(">I", len(body)), bytes(body)]
    return b"".join(out)


def duration_seconds(smf: Smf) -> float:
    """Return when the last event of the file happens, in seconds (tempo changes honoured)."""
    tempos = sorted((tick, _tempo(data)) for events in smf.tracks for tick, status, data in events
                    if status == 0x51 and _tempo(data))
    last = max((events[-1][0] for events in smf.tracks if events), default=0)
    seconds, tick, tempo = 0.0, 0, 500_000
    for at, new in tempos:
        if at >= last:
            break
        seconds += (at - tick) * tempo / 1e6 / smf.ticks_per_beat
        tick, tempo = at, new
    return seconds + (last - tick) * tempo / 1e6 / smf.ticks_per_beat


def note_count(smf: Smf) -> int:
    """Return how many notes start in the file (note-ons with a velocity)."""
    return sum(1 for events in smf.tracks for _, status, data in events
               if status & 0xF0 == 0x90 and data[1])


def _tempo(data: bytes) -> int:
    return int.from_bytes(data[:3], "big") if len(data) >= 3 else 0


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))
