"""A small SoundFont sample player in numpy: turn notes into mono PCM.

`Renderer` picks each note's zones (`soundfont.Region`) by preset, key and velocity, resamples
the zone's sample by the pitch ratio with linear interpolation, follows its loop points and
applies the SF2 volume envelope (delay, attack, hold, decay, sustain, release), initial
attenuation and a velocity curve, then mixes the notes. It ignores filters, the modulation
envelope, LFOs, modulators, chorus, reverb and pan (output is mono). Rendered note waveforms
are cached by (zone, key, velocity, length), so a tune that repeats its notes renders in a few
tens of milliseconds. Reading the SoundFont file is `soundfont`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.music.errors import MusicError
from app.music.soundfont import (MAX_RELEASE_S, Region, SoundFont, cached_soundfont,
                                 default_soundfont_path)

__all__ = ["DEFAULT_SAMPLE_RATE", "MAX_RELEASE_S", "Renderer", "SoundFont", "SynthNote",
           "cached_soundfont", "default_soundfont_path", "midi_to_synth_notes"]

DEFAULT_SAMPLE_RATE = 44100
MASTER_GAIN = 1.5
ENVELOPE_STEP = 32  # frames between envelope values (0.7 ms at 44.1 kHz)


@dataclass(frozen=True)
class SynthNote:
    """One note to sound: times in seconds, MIDI key 0..127, velocity 1..127, GM program 0..127."""

    start: float
    duration: float
    pitch: int
    velocity: int = 90
    program: int = 0
    drum: bool = False


class Renderer:
    """Turn a list of SynthNotes into mono float32 PCM, whole or a window at a time.

    `render(start_s, end_s)` renders only the notes that sound in the window, so a player can
    hand its first buffer to the audio sink long before the whole tune would be rendered.
    """

    def __init__(self, notes: list[SynthNote], soundfont: SoundFont,
                 sample_rate: int = DEFAULT_SAMPLE_RATE) -> None:
        self.soundfont = soundfont
        self.sample_rate = sample_rate
        self.notes = sorted(notes, key=lambda n: n.start)
        self._cache: dict[tuple, np.ndarray] = {}
        self._raw: dict[tuple, tuple[np.ndarray, bool]] = {}
        self._starts = np.array([round(n.start * sample_rate) for n in self.notes], dtype=np.int64)
        self._waves: list[list[np.ndarray] | None] = [None] * len(self.notes)
        tail = max((n.start + n.duration for n in self.notes), default=0.0)
        self.duration = tail  # seconds until the last note ends (release tails not counted)
        self.frames = int(round((tail + 0.5) * sample_rate)) if self.notes else 0

    def render(self, start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
        """Return PCM (float32, shape (frames,), range about -1..1) from start_s to end_s."""
        a = max(0, int(round(start_s * self.sample_rate)))
        b = self.frames if end_s is None else min(self.frames, int(round(end_s * self.sample_rate)))
        out = np.zeros(max(0, b - a), dtype=np.float32)
        if b <= a:
            return out
        longest = int((max((n.duration for n in self.notes), default=0) + MAX_RELEASE_S)
                      * self.sample_rate) + 1
        first = int(np.searchsorted(self._starts, a - longest))
        last = int(np.searchsorted(self._starts, b))
        for i in range(first, last):
            s0 = int(self._starts[i])
            for wave in self._note_waves(i):
                lo, hi = max(a, s0), min(b, s0 + len(wave))
                if lo < hi:
                    out[lo - a:hi - a] += wave[lo - s0:hi - s0]
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def _note_waves(self, i: int) -> list[np.ndarray]:
        waves = self._waves[i]
        if waves is None:
            note = self.notes[i]
            n_on = max(1, int(round(note.duration * self.sample_rate)))
            waves = []
            for region in self.soundfont.regions(note.program, note.drum):
                if region.key_lo <= note.pitch <= region.key_hi and \
                        region.vel_lo <= note.velocity <= region.vel_hi:
                    key = (id(region), note.pitch, note.velocity, n_on)
                    if key not in self._cache:
                        self._cache[key] = self._voice(region, note.pitch, note.velocity, n_on)
                    waves.append(self._cache[key])
            self._waves[i] = waves
        return waves

    def _voice(self, r: Region, pitch: int, velocity: int, n_on: int) -> np.ndarray:
        """Render one zone for one key: resampled sample times envelope, shape (frames,)."""
        n = n_on + int(r.release * self.sample_rate)
        wave = self._resampled(r, pitch, n)
        n = len(wave)
        gain = MASTER_GAIN * 10.0 ** (-r.attenuation_cb / 200.0) * (velocity / 127.0) ** 2
        env = self._envelope(r, n, n_on)
        env *= np.float32(gain)
        return wave * env

    def _resampled(self, r: Region, pitch: int, n: int) -> np.ndarray:
        """The zone's sample played at this key for n frames (fewer when an unlooped sample ends).

        Cached per (zone, key) and shared by notes of any length: only the envelope differs.
        """
        key = (id(r), pitch)
        cached = self._raw.get(key)
        if cached is not None and (len(cached[0]) >= n or cached[1]):
            return cached[0][:n]
        n = max(n, 2 * len(cached[0]) if cached is not None else n)
        cents = (pitch - r.root_key) * r.scale_tuning + r.tune_cents
        step = 2.0 ** (cents / 1200.0) * r.sample_rate / self.sample_rate
        pos = np.arange(n, dtype=np.float64) * step
        complete = False
        if r.looped:
            loop_from = r.loop_start - r.start
            loop_len = r.loop_end - r.loop_start
            over = pos >= loop_from + loop_len
            pos[over] = loop_from + np.mod(pos[over] - loop_from, loop_len)
        else:
            last = int((r.end - r.start - 1) / step)
            complete = n >= last
            pos = pos[:min(n, last)]
        idx = pos.astype(np.int64)
        frac = (pos - idx).astype(np.float32)
        data = self.soundfont.samples[r.start:r.end + 1]
        left = data[idx]
        wave = left + (data[np.minimum(idx + 1, len(data) - 1)] - left) * frac
        self._raw[key] = (wave, complete)
        return wave[:n]

    def _envelope(self, r: Region, n: int, n_on: int) -> np.ndarray:
        """SF2 volume envelope: linear attack, then decay/release linear in decibels.

        Computed every ENVELOPE_STEP frames and held in between (steps of well under 1 dB),
        except the attack ramp, which is per frame so note starts do not click.
        """
        rate = self.sample_rate
        blocks = -(-n // ENVELOPE_STEP)
        t = np.arange(blocks, dtype=np.float32) * (ENVELOPE_STEP / rate)
        t_on = n_on / rate
        peak = r.delay + r.attack + r.hold
        knots = [0.0, peak, peak + r.decay * (r.sustain_cb / 1000.0)]
        sustain_db = -r.sustain_cb / 10.0
        db = np.interp(t, knots, [0.0, 0.0, sustain_db]).astype(np.float32)
        released = t > t_on
        if np.any(released):
            db_off = float(np.interp(t_on, knots, [0.0, 0.0, sustain_db]))
            db[released] = db_off - 100.0 * (t[released] - t_on) / max(r.release, 1e-3)
        env = np.repeat(np.power(np.float32(10.0), db / 20.0), ENVELOPE_STEP)[:n]
        ramp = int((r.delay + r.attack) * rate) + 1
        if r.attack > 1e-3 or r.delay > 1e-3:
            ta = np.arange(min(n, ramp), dtype=np.float32) / rate
            env[:len(ta)] *= np.clip((ta - r.delay) / max(r.attack, 1e-3), 0.0, 1.0)
        return env


def midi_to_synth_notes(midi: bytes, *, transpose: int = 0,
                        program: int | None = None, label: str | None = None) -> list[SynthNote]:
    """Read MIDI bytes (type 0 or 1) into SynthNotes with times in seconds (tempo map honoured).

    program overrides every non-drum channel's program. Raises MusicError for unreadable MIDI.
    """
    import io

    import mido

    try:
        midi_file = mido.MidiFile(file=io.BytesIO(midi))
        messages = list(midi_file)
    except (OSError, ValueError, EOFError, KeyError, IndexError) as err:
        raise MusicError(f"cannot read the MIDI data: {err}", path=label) from None
    now = 0.0
    programs = [0] * 16
    sounding: dict[tuple[int, int], tuple[float, int]] = {}
    notes = []
    for msg in messages:
        now += msg.time
        if msg.type == "program_change":
            programs[msg.channel] = msg.program
        elif msg.type in ("note_on", "note_off"):
            key = (msg.channel, msg.note)
            if key in sounding:
                start, velocity = sounding.pop(key)
                ch = msg.channel
                drum = ch == 9
                pitch = msg.note if drum else min(127, max(0, msg.note + transpose))
                prog = programs[ch] if (program is None or drum) else program
                notes.append(SynthNote(start, max(0.0, now - start), pitch, velocity, prog, drum))
            if msg.type == "note_on" and msg.velocity > 0:
                sounding[key] = (now, msg.velocity)
    return notes

