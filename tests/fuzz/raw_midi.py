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


# ---------------------------------------------------------------- mutations for fuzzing
#
# Each mutation takes the bytes and `pick(lo, hi)`, a source of integers lo..hi inclusive:
# hypothesis's `draw(st.integers(lo, hi))` in the tests, `random.Random.randint` in the long
# runner (benchmarks/fuzz_long_midi_model.py), so both explore the same space.

SNIPPETS = (
    b"\x8f\xff\xff\x7f",               # the largest delta time
    b"\xff\xff\xff\xff\x7f",           # a delta time too long
    meta(0x59, bytes([9, 0])), meta(0x59, bytes([0, 2])), meta(0x59, b"\x03"),
    meta(0x58, bytes([4, 2])), meta(0x58, bytes([0, 9, 24, 8])), meta(0x58, bytes([255, 6, 1, 1])),
    meta(0x51, bytes([0, 0, 0])), meta(0x51, bytes([0xFF, 0xFF, 0xFF])), meta(0x51, b"\x01"),
    meta(0x00, b"\x01"), meta(0x20, b""), meta(0x54, bytes([0xE0, 0, 0, 0, 0])),
    b"\xff\x2f\x00", b"\xff\x03\x8f\xff\xff\x7fname", b"\xf0\x05\x7e\x7f\x09\x01\xf7",
    b"\xf7\x8f\xff\xff\x7f", b"\xf1\x00", b"\xf8", b"\xf4",
    b"\x3c\x50", b"\x3c", b"\x90\x3c", b"\x90\x3c\x00", b"\xc9\x7f", b"\x99\x24\x7f",
    b"MTrk", b"MTrk\x00\x00\x00\x00", b"MTrk\xff\xff\xff\xff", b"MThd",
)


def _chunk_starts(data: bytes) -> list[int]:
    """Positions of chunk length fields, found by walking the chunks as declared."""
    found, pos = [], 0
    while pos + 8 <= len(data) and len(found) < 64:
        found.append(pos + 4)
        pos += 8 + int.from_bytes(data[pos + 4:pos + 8], "big")
    return found


def flip(data: bytearray, pick) -> bytearray:
    if data:
        data[pick(0, len(data) - 1)] ^= 1 << pick(0, 7)
    return data


def set_byte(data: bytearray, pick) -> bytearray:
    if data:
        data[pick(0, len(data) - 1)] = pick(0, 255)
    return data


def truncate(data: bytearray, pick) -> bytearray:
    return data[:pick(0, len(data))]


def insert_snippet(data: bytearray, pick) -> bytearray:
    at = pick(14, len(data)) if len(data) > 14 else len(data)
    return data[:at] + SNIPPETS[pick(0, len(SNIPPETS) - 1)] + data[at:]


def insert_garbage(data: bytearray, pick) -> bytearray:
    """Running status garbage: data bytes (or any bytes) where events should start."""
    at = pick(0, len(data))
    top = 0x7F if pick(0, 1) else 0xFF
    return data[:at] + bytes(pick(0, top) for _ in range(pick(1, 8))) + data[at:]


def lie_about_length(data: bytearray, pick) -> bytearray:
    starts = _chunk_starts(bytes(data))
    if starts:
        at = starts[pick(0, len(starts) - 1)]
        old = int.from_bytes(data[at:at + 4], "big")
        new = (0, 1, 5, 6, max(old - 1, 0), old + 1, old + 100, 0xFFFFFFFF,
               pick(0, 0xFFFFFFFF))[pick(0, 8)]
        data[at:at + 4] = min(new, 0xFFFFFFFF).to_bytes(4, "big")
    return data


def lie_about_header(data: bytearray, pick) -> bytearray:
    """Change the format, track count or division of the MThd chunk."""
    if len(data) >= 14:
        at = (8, 10, 12)[pick(0, 2)]
        value = (0, 1, 2, 3, 0x7FFF, 0x8000, 0xE728, 0xFFFF, pick(0, 0xFFFF))[pick(0, 8)]
        data[at:at + 2] = value.to_bytes(2, "big")
    return data


def duplicate(data: bytearray, pick) -> bytearray:
    """Copy a stretch of the file elsewhere (a track twice, events repeated)."""
    if not data:
        return data
    a = pick(0, len(data) - 1)
    b = pick(a, min(len(data), a + 256))
    at = pick(0, len(data))
    return data[:at] + data[a:b] + data[at:]


MUTATIONS = (flip, set_byte, truncate, insert_snippet, insert_garbage, lie_about_length,
             lie_about_header, duplicate)


def mutate(data: bytes, pick, rounds: int | None = None) -> bytes:
    """Apply 1-4 (or `rounds`) random mutations to `data`."""
    out = bytearray(data)
    for _ in range(pick(1, 4) if rounds is None else rounds):
        out = bytearray(MUTATIONS[pick(0, len(MUTATIONS) - 1)](out, pick))
    return bytes(out)


def hand_built_seeds() -> list[bytes]:
    """Small files that reach the corners: type 0 and 1, many channels, drums, running status."""
    conductor = track((0, meta(0x03, b"Seed")), (0, meta(0x51, bytes([0x07, 0xA1, 0x20]))),
                      (0, meta(0x58, bytes([3, 2, 24, 8]))), (0, meta(0x59, bytes([1, 0]))))
    channels = track((0, b"\xc1\x28"), (0, on(72, channel=1)), (0, on(48, channel=2)),
                     (48, on(72, 0, channel=1)), (0, b"\x91\x4a\x50"), (48, b"\x4a\x00"),
                     (0, off(48, channel=2)), (0, b"\xf0\x03\x7e\x7f\xf7"))
    drums = track(*[(0 if i % 2 == 0 else 10, on(42, 90 if i % 2 == 0 else 0, channel=9))
                    for i in range(8)])
    return [smf(conductor, scale(8)), smf(conductor, track(), channels, drums),
            smf(track((0, meta(0x58, bytes([6, 3, 24, 8]))), (0, on(60)), (10, on(64)),
                      (0, b"\x43\x50"), (86, off(60)), (0, off(64)), (0, off(67))), fmt=0),
            smf(scale(3), scale(3, 50), fmt=2)]


def fuzz_examples(short: int) -> int:
    """Examples per fuzz target: `short` in the suite, $CEOL_FUZZ_EXAMPLES in the long mode."""
    import os

    return int(os.environ.get("CEOL_FUZZ_EXAMPLES") or short)


def fuzz_settings(short: int):
    """Hypothesis settings: deterministic and quick in the suite, random in the long mode."""
    import os

    from hypothesis import HealthCheck, settings

    return settings(max_examples=fuzz_examples(short), deadline=None, database=None,
                    derandomize=not os.environ.get("CEOL_FUZZ_EXAMPLES"),
                    suppress_health_check=list(HealthCheck))
