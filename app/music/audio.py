"""Render tunes to audio: options (instrument, tempo, transpose, swing, repeats) and WAV files.

A tune's notes come as `NoteEvent`s in quarter lengths (from `abc_midi.abc_note_events` or a MIDI
file); `synth_notes` applies the render options and the tempo to turn them into timed
`SynthNote`s, and `synth.Renderer` makes the PCM. `render_abc`, `render_midi` and `write_wav`
are the one-call paths that export and the CLI use; the player uses `prepare_abc` to get a
`Renderer` whose first buffer is ready in milliseconds.
"""

from __future__ import annotations

import io
import os
import wave
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np

from app.music.errors import MusicError
from app.music.synth import (DEFAULT_SAMPLE_RATE, MAX_RELEASE_S, Renderer, SynthNote,
                             cached_soundfont)

DEFAULT_TEMPO_QPM = 120.0
# Render limits for MIDI files: a render peaks near 35 MB per minute of audio (float32 PCM, its
# 16-bit copy, the WAV bytes and the note sounds), so 20 minutes, far past any set of tunes,
# stays under 700 MB; the distinct note sounds kept (release tails included) take 10 MB a minute.
MAX_RENDER_SECONDS = 20 * 60
MAX_RENDER_NOTES = 200_000
MAX_VOICE_SECONDS = 20 * 60
HORNPIPE_SWING = 2 / 3


@dataclass(frozen=True)
class RenderOptions:
    """How to play a tune. Every field has a default, so `RenderOptions()` plays it plainly."""

    instrument: str | int | None = "piano"  # a name from instruments.py or a GM program 0-127
    tempo_qpm: float | None = None  # quarter notes per minute, 20-400; None: Q: field or rhythm
    transpose: int = 0              # semitones, -24..24
    swing: float = 0.5              # share of each beat the first of two eighths gets, 0.5-0.75
    repeats: int = 1                # times the whole tune is played, 1-16
    velocity: int = 90              # MIDI velocity 1-127
    sample_rate: int = DEFAULT_SAMPLE_RATE
    soundfont: str | None = None    # a .sf2 path; None: the bundled General MIDI SoundFont

    def checked(self) -> "RenderOptions":
        """Return self after checking every value; raises MusicError naming a bad one."""
        from app.music.instruments import program_for

        program_for(self.instrument)
        if self.tempo_qpm is not None and not 20 <= self.tempo_qpm <= 400:
            raise MusicError(f"tempo {self.tempo_qpm:g} is outside 20-400 quarter notes a minute")
        if not -24 <= self.transpose <= 24:
            raise MusicError(f"transpose {self.transpose} is outside -24..24 semitones")
        if not 0.5 <= self.swing <= 0.75:
            raise MusicError(f"swing {self.swing:g} is outside 0.5 (straight)..0.75 (dotted)")
        if not 1 <= self.repeats <= 16:
            raise MusicError(f"repeats {self.repeats} is outside 1-16")
        if not 1 <= self.velocity <= 127 or not 8000 <= self.sample_rate <= 96000:
            raise MusicError("velocity must be 1-127 and the sample rate 8000-96000 Hz")
        return self


@dataclass(frozen=True)
class Pcm:
    """Mono audio: float32 samples in -1..1 and their rate in Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def int16_bytes(self) -> bytes:
        """Return the samples as little-endian signed 16-bit PCM."""
        return (np.clip(self.samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def tune_tempo_qpm(abc: str) -> float:
    """Return an ABC tune's tempo in quarter notes a minute, without music21.

    The Q: field ("1/4=120", "3/8=100", "C=120", "120") when it has one, else abc_midi's default
    for the meter (what playback and MIDI export use).
    """
    import re

    from app.music.abc_midi import default_tempo_qpm

    q = re.search(r"^Q:\s*(?:\"[^\"]*\"\s*)?(.*?)\s*(?:\"[^\"]*\")?\s*$", abc, re.M)
    if q:
        beat = re.match(r"((?:\d+/\d+\s*)+)=\s*(\d+(?:\.\d+)?)", q.group(1))
        bare = re.match(r"(?:C\s*=\s*)?(\d+(?:\.\d+)?)$", q.group(1))
        if beat:
            quarters = sum(Fraction(part) for part in beat.group(1).split()) * 4
            return float(quarters) * float(beat.group(2))
        if bare:
            return float(bare.group(1))
    m = re.search(r"^M:\s*(\d+)/(\d+)", abc, re.M)
    return default_tempo_qpm((int(m.group(1)), int(m.group(2))) if m else None)


def swing_time(offset: float, swing: float) -> float:
    """Move a time (quarter lengths) so that each beat's first eighth lasts `swing` of the beat."""
    beat = np.floor(offset)
    within = offset - beat
    if within <= 0.5:
        return float(beat + within * 2 * swing)
    return float(beat + swing + (within - 0.5) * 2 * (1 - swing))


def synth_notes(events: Sequence, options: RenderOptions, tempo_qpm: float) -> list[SynthNote]:
    """Turn NoteEvents (pitch, onset, duration in quarter lengths) into timed SynthNotes.

    Applies transpose, swing and repeats; one repeat follows the previous one's last note end.
    """
    from app.music.instruments import program_for

    program = program_for(options.instrument)
    seconds_per_quarter = 60.0 / tempo_qpm
    length = max((float(e.onset + e.duration) for e in events), default=0.0)
    length = float(np.ceil(length * 2 - 1e-9) / 2)  # whole eighths, so repeats keep the pulse
    notes = []
    for repeat in range(options.repeats):
        for e in events:
            on, off = float(e.onset), float(e.onset + e.duration)
            if options.swing != 0.5:
                on, off = swing_time(on, options.swing), swing_time(off, options.swing)
            pitch = int(e.pitch) + options.transpose
            if 0 <= pitch <= 127:
                start = (repeat * length + on) * seconds_per_quarter
                notes.append(SynthNote(start, (off - on) * seconds_per_quarter, pitch,
                                       options.velocity, program))
    return notes


def prepare_events(events: Sequence, options: RenderOptions = RenderOptions(),
                   tempo_qpm: float | None = None) -> Renderer:
    """Return a Renderer for NoteEvents; the tempo is options.tempo_qpm, else tempo_qpm, else 120."""
    options.checked()
    tempo = options.tempo_qpm or tempo_qpm or DEFAULT_TEMPO_QPM
    soundfont = cached_soundfont(options.soundfont)
    return Renderer(synth_notes(events, options, tempo), soundfont, options.sample_rate)


def load_music21() -> None:
    """Import music21 now (a worker process warms up with this: the first tune would wait)."""
    import music21  # noqa: F401


def abc_events(abc, label: str | None = None) -> tuple[list, float]:
    """Return one ABC tune's sounding notes (repeats expanded) and its tempo in quarter notes
    a minute (its Q:, else abc_midi's default for the meter, so WAV and MIDI exports agree).

    This is the music21 part of playing a tune: the window runs it in a worker process
    (app.music.isolate), so music21's objects never fill the window's own heap. Raises
    MusicError when the ABC does not parse or has no notes.
    """
    from app.music.abc_midi import abc_to_score, default_tempo_qpm, score_context, \
        score_note_events

    from app.music.notation import check_abc

    check_abc(abc if isinstance(abc, str) else abc.abc(), label)
    score = abc_to_score(abc, label)
    events = score_note_events(score)
    if not events:
        raise MusicError("cannot play this tune: it has no notes", path=label)
    context = score_context(score)
    tempos = context["tempos"]
    tempo = tempos[0][1] if tempos and tempos[0][0] == 0 else \
        default_tempo_qpm(context["time_signature"])
    return events, tempo


def prepare_abc(abc, options: RenderOptions = RenderOptions(),
                label: str | None = None) -> Renderer:
    """Return a Renderer for one ABC tune (text or Tune), repeats expanded.

    The tempo is options.tempo_qpm, else the tune's Q:, else abc_midi's default for the meter
    (so WAV and MIDI exports agree). Raises MusicError when the ABC does not parse.
    """
    events, tempo = abc_events(abc, label)
    return prepare_events(events, options, tempo)


def render_abc(abc: str, options: RenderOptions = RenderOptions(), label: str | None = None) -> Pcm:
    """Render one ABC tune to PCM with the given options."""
    renderer = prepare_abc(abc, options, label)
    return Pcm(renderer.render(), renderer.sample_rate)


def render_midi(midi: bytes, options: RenderOptions = RenderOptions(),
                label: str | None = None) -> Pcm:
    """Render MIDI bytes to PCM; instrument (unless None) and transpose apply, tempo does not.

    Raises MusicError naming `label` for unreadable MIDI, a type 2 file, or a file past the
    render limits (MAX_RENDER_SECONDS of audio, MAX_RENDER_NOTES notes, MAX_VOICE_SECONDS of
    distinct note sounds), which keep memory bounded whatever the file asks for.
    """
    from app.music.instruments import program_for
    from app.music.smf import clean_midi, duration_seconds, note_count, parse_smf
    from app.music.synth import midi_to_synth_notes

    options.checked()
    program = None if options.instrument is None else program_for(options.instrument)
    smf = parse_smf(bytes(midi), label)
    if smf.type == 2:
        raise MusicError("type 2 MIDI files (independent patterns) are not supported", path=label)
    seconds = duration_seconds(smf) * options.repeats
    if seconds > MAX_RENDER_SECONDS:
        raise MusicError(f"the MIDI file plays for {_clock(seconds)}; Ceol renders at most "
                         f"{_clock(MAX_RENDER_SECONDS)} of audio (MAX_RENDER_SECONDS)", path=label)
    if note_count(smf) > MAX_RENDER_NOTES:
        raise MusicError(f"the MIDI file has {note_count(smf):,} notes; Ceol renders at most "
                         f"{MAX_RENDER_NOTES:,} (MAX_RENDER_NOTES)", path=label)
    notes = midi_to_synth_notes(clean_midi(smf), transpose=options.transpose, program=program,
                                label=label)
    _check_voices(notes, options.sample_rate, label)
    if options.repeats > 1 and notes:
        length = max(n.start + n.duration for n in notes)
        notes = [replace(n, start=n.start + r * length) for r in range(options.repeats) for n in notes]
    renderer = Renderer(notes, cached_soundfont(options.soundfont), options.sample_rate)
    return Pcm(renderer.render(), renderer.sample_rate)


def _check_voices(notes: Sequence[SynthNote], sample_rate: int, label: str | None) -> None:
    """Refuse notes whose distinct sounds (the renderer caches one per pitch, velocity,
    program and length, release tail included) would take more than MAX_VOICE_SECONDS."""
    sounds = {(n.program, n.drum, n.pitch, n.velocity, round(n.duration * sample_rate))
              for n in notes}
    seconds = sum(frames / sample_rate + MAX_RELEASE_S for *_, frames in sounds)
    if seconds > MAX_VOICE_SECONDS:
        raise MusicError(f"the MIDI file's notes need {_clock(seconds)} of distinct sound; Ceol "
                         f"renders at most {_clock(MAX_VOICE_SECONDS)} (MAX_VOICE_SECONDS)",
                         path=label)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def wav_bytes(pcm: Pcm) -> bytes:
    """Return a complete mono 16-bit WAV file for the PCM."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(pcm.sample_rate)
        out.writeframes(pcm.int16_bytes())
    return buffer.getvalue()


def write_wav(pcm: Pcm, out: str | os.PathLike | BinaryIO) -> None:
    """Write PCM as a WAV file: a path atomically (temp file + rename), or to a file object."""
    from app.music.atomic import atomic_write

    data = wav_bytes(pcm)
    if hasattr(out, "write"):
        out.write(data)  # type: ignore[union-attr]
    else:
        atomic_write(Path(out), data)


def read_wav(source: str | os.PathLike | bytes) -> Pcm:
    """Read a mono or stereo 16-bit WAV (as written here) back to PCM; stereo is averaged."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as err:
        raise MusicError(f"not a WAV file: {err}") from None
    if width != 2:
        raise MusicError(f"only 16-bit WAV files are read, not {8 * width}-bit")
    samples = np.frombuffer(frames, "<i2").astype(np.float32) / 32768.0
    return Pcm(samples.reshape(-1, channels).mean(axis=1), rate)
