"""Live MIDI out: send a tune to a system MIDI port (mido with python-rtmidi), for a DAW or synth.

`output_ports()` lists the ports and returns [] when there is no MIDI backend or no MIDI system
(headless Linux has no ALSA sequencer): nothing here raises for that. `open_port(name)` raises
MusicError naming the ports there are. `send_midi(midi_bytes, port)` plays MIDI bytes in real
time with an injectable clock and sleep, and stops early when `stop.is_set()`; on any stop it
silences every channel (all notes off), so no note hangs. Run it in a worker thread.
"""

from __future__ import annotations

import io
import logging
import time
from typing import Callable

from app.music.errors import MusicError

log = logging.getLogger(__name__)


def output_ports() -> list[str]:
    """Return the names of the MIDI output ports; [] when there are none or no backend."""
    try:
        import mido

        return list(mido.get_output_names())
    except Exception as exc:  # ImportError, or rtmidi's SystemError when no MIDI system exists
        log.info("no MIDI output: %s", exc)
        return []


def open_port(name: str | None = None):
    """Open an output port by name (None: the first one); MusicError when it is not there."""
    ports = output_ports()
    if not ports:
        raise MusicError("no MIDI output ports: connect a synthesizer or start a DAW "
                         "(python-rtmidi and a MIDI system are needed)")
    if name is None:
        name = ports[0]
    if name not in ports:
        raise MusicError(f"no MIDI output port named {name!r}; there are: {', '.join(ports)}")
    import mido

    try:
        return mido.open_output(name)
    except Exception as exc:
        raise MusicError(f"cannot open MIDI port {name!r}: {exc}") from None


def timed_messages(midi: bytes, label: str | None = None) -> list[tuple[float, object]]:
    """Return (seconds from start, message) for every channel message of MIDI bytes."""
    import mido

    try:
        midi_file = mido.MidiFile(file=io.BytesIO(midi))
        messages = list(midi_file)
    except (OSError, ValueError, EOFError, KeyError, IndexError) as err:
        raise MusicError(f"cannot read the MIDI data: {err}", path=label) from None
    now, out = 0.0, []
    for msg in messages:
        now += msg.time
        if not msg.is_meta:
            out.append((now, msg))
    return out


def all_notes_off(port) -> None:
    """Silence every channel of a port."""
    import mido

    for channel in range(16):
        port.send(mido.Message("control_change", channel=channel, control=123, value=0))


def send_midi(midi: bytes, port, *, stop=None, clock: Callable[[], float] = time.monotonic,
              sleep: Callable[[float], None] = time.sleep) -> int:
    """Play MIDI bytes on an open port in real time; return how many messages were sent.

    `stop` is a threading.Event-like object; when set, sending ends and all notes go off.
    """
    events = timed_messages(midi)
    start = clock()
    sent = 0
    try:
        for at, msg in events:
            while True:
                if stop is not None and stop.is_set():
                    return sent
                wait = start + at - clock()
                if wait <= 0:
                    break
                sleep(min(wait, 0.05))
            port.send(msg)
            sent += 1
    finally:
        all_notes_off(port)
    return sent


def send_abc(abc: str, port_name: str | None = None, *, program: int = 0,
             tempo_qpm: float | None = None, transpose: int = 0, stop=None) -> int:
    """Convert one ABC tune to MIDI and play it on the named port (None: the first port)."""
    from app.music.abc_midi import abc_to_midi

    midi = abc_to_midi(abc, program=program, tempo_qpm=tempo_qpm, transpose=transpose)
    port = open_port(port_name)
    try:
        return send_midi(midi, port, stop=stop)
    finally:
        port.close()
