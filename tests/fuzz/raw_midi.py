"""Hand-built MIDI bytes for tests: events, tracks and files byte by byte, lies included."""

from __future__ import annotations

import struct


def vlq(n: int) -> bytes:
    """Return `n` as a MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def track(*events: tuple[int, bytes], end: bool = True, length: int | None = None) -> bytes:
    """Return an MTrk chunk of (delta ticks, event bytes); `length` makes its length field lie."""
    body = b"".join(vlq(delta) + event for delta, event in events)
    if end:
        body += b"\x00\xff\x2f\x00"
    return b"MTrk" + struct.pack(">I", len(body) if length is None else length) + body


def smf(*tracks: bytes, fmt: int = 1, tpb: int = 96, count: int | None = None) -> bytes:
    """Return a whole file; `count` makes the header's track count lie."""
    n = len(tracks) if count is None else count
    return b"MThd" + struct.pack(">IHHH", 6, fmt, n, tpb) + b"".join(tracks)


def on(pitch: int, velocity: int = 80, channel: int = 0) -> bytes:
    return bytes([0x90 | channel, pitch, velocity])


def off(pitch: int, channel: int = 0) -> bytes:
    return bytes([0x80 | channel, pitch, 0])


def meta(kind: int, data: bytes) -> bytes:
    return bytes([0xFF, kind]) + vlq(len(data)) + data


def scale(n: int = 4, start: int = 60, step: int = 96, channel: int = 0) -> bytes:
    """A track of `n` rising quarter notes (at 96 ticks a beat)."""
    events = []
    for i in range(n):
        events += [(0, on(start + i, channel=channel)), (step, off(start + i, channel=channel))]
    return track(*events)
