"""The SoundFont player: the bundled GM SoundFont loads, notes sound at the right pitch, bad files fail clearly."""

import numpy as np
import pytest

from app.music.errors import MusicError
from app.music.synth import (Renderer, SoundFont, SynthNote, cached_soundfont,
                             default_soundfont_path, midi_to_synth_notes)

RATE = 44100


def spectrum(pcm: np.ndarray, rate: int = RATE) -> tuple[np.ndarray, np.ndarray]:
    magnitude = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return np.fft.rfftfreq(len(pcm), 1 / rate), magnitude


def test_bundled_soundfont_is_general_midi():
    names = cached_soundfont().preset_names()
    assert default_soundfont_path().suffix == ".sf2"
    assert len(names) >= 128  # the 128 GM melodic programs plus drum kits
    assert (0, 40) in names and (0, 73) in names


@pytest.mark.parametrize("program", [40, 73, 21, 46])  # fiddle, flute, accordion, harp
def test_a4_sounds_at_440_hz(program):
    pcm = Renderer([SynthNote(0.0, 1.0, 69, 100, program)], cached_soundfont()).render()
    freqs, magnitude = spectrum(pcm)
    assert abs(freqs[magnitude.argmax()] - 440.0) / 440.0 < 0.01
    assert 0.01 < np.abs(pcm).max() <= 1.0


@pytest.mark.parametrize("key", [55, 62, 76, 81])
def test_pitch_follows_the_key(key):
    pcm = Renderer([SynthNote(0.0, 1.0, key, 100, 40)], cached_soundfont()).render()  # fiddle
    freqs, magnitude = spectrum(pcm)
    expected = 440.0 * 2 ** ((key - 69) / 12)
    assert abs(freqs[magnitude.argmax()] - expected) / expected < 0.01


def test_window_render_equals_the_whole():
    notes = [SynthNote(i * 0.25, 0.2, 60 + i % 7, 90, 40) for i in range(16)]
    renderer = Renderer(notes, cached_soundfont())
    whole = renderer.render()
    parts = np.concatenate([renderer.render(t, t + 0.5) for t in np.arange(0, 5.0, 0.5)])
    assert np.allclose(whole, parts[:len(whole)], atol=1e-6)


def test_midi_notes_keep_time_and_program():
    import io

    import mido

    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track += [mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)),
              mido.Message("program_change", program=73),
              mido.Message("note_on", note=69, velocity=80, time=480),
              mido.Message("note_off", note=69, time=240)]
    buffer = io.BytesIO()
    midi.save(file=buffer)
    [note] = midi_to_synth_notes(buffer.getvalue(), transpose=2)
    assert (note.start, note.duration, note.pitch, note.program) == (0.5, 0.25, 71, 73)


def test_missing_soundfont(tmp_path):
    with pytest.raises(MusicError, match="SoundFont not found") as err:
        SoundFont.load(tmp_path / "nowhere.sf2")
    assert "nowhere.sf2" in str(err.value)


def test_file_that_is_not_a_soundfont(tmp_path):
    bad = tmp_path / "tune.sf2"
    bad.write_bytes(b"X:1\nK:D\nDFAF|\n" * 10)
    with pytest.raises(MusicError, match="not a SoundFont") as err:
        SoundFont.load(bad)
    assert "tune.sf2" in str(err.value)


def test_truncated_soundfont(tmp_path):
    cut = tmp_path / "cut.sf2"
    cut.write_bytes(default_soundfont_path().read_bytes()[:4000])
    with pytest.raises(MusicError, match="truncated|not a usable"):
        SoundFont.load(cut)


def test_sf3_is_refused_clearly(tmp_path):
    data = bytearray(default_soundfont_path().read_bytes())
    sf = SoundFont(bytes(data))
    # Mark the first sample header as Ogg Vorbis-compressed, as an .sf3 file does.
    offset = data.find(b"shdr") + 8 + 44
    data[offset:offset + 2] = (int(sf._shdr[0]["type"]) | 0x10).to_bytes(2, "little")
    with pytest.raises(MusicError, match="SF3"):
        SoundFont(bytes(data), "x.sf3")
