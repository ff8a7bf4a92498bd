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


def _riff_chunks(data: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    """[(id, body)] of the RIFF chunks in data[start:end]; a LIST's body keeps its 4-byte type."""
    chunks, pos = [], start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        chunks.append((data[pos:pos + 4], data[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return chunks


def _chunk(cid: bytes, body: bytes) -> bytes:
    return cid + len(body).to_bytes(4, "little") + body + b"\0" * (len(body) & 1)


def sf2_to_sf3(sf2: bytes, corrupt_sample: int | None = None) -> bytes:
    """Convert an SF2 to SF3 the way sftools does: every sample becomes an Ogg Vorbis stream in
    smpl, its shdr start/end become byte offsets and its loop points frames from its own start."""
    import io

    import soundfile

    top = _riff_chunks(sf2, 12, len(sf2))
    lists = {body[:4]: body for cid, body in top if cid == b"LIST"}
    sdta = dict(_riff_chunks(lists[b"sdta"], 4, len(lists[b"sdta"])))
    pdta = _riff_chunks(lists[b"pdta"], 4, len(lists[b"pdta"]))
    words = np.frombuffer(sdta[b"smpl"], "<i2")
    shdr = np.frombuffer(dict(pdta)[b"shdr"], SHDR).copy()
    ogg = bytearray()
    for i in range(len(shdr) - 1):
        start, end = int(shdr["start"][i]), int(shdr["end"][i])
        buffer = io.BytesIO()
        soundfile.write(buffer, words[start:end], int(shdr["rate"][i]), format="OGG",
                        subtype="VORBIS")
        stream = bytearray(buffer.getvalue())
        if i == corrupt_sample:
            stream[:64] = b"\x5a" * 64  # no Ogg page header any more
        shdr["start"][i], shdr["end"][i] = len(ogg), len(ogg) + len(stream)
        shdr["loop_start"][i] -= start
        shdr["loop_end"][i] -= start
        shdr["type"][i] |= 0x10
        ogg += stream
    pdta_body = b"pdta" + b"".join(_chunk(cid, shdr.tobytes() if cid == b"shdr" else body)
                                   for cid, body in pdta)
    out = b"sfbk"
    for cid, body in top:
        if cid == b"LIST" and body[:4] == b"sdta":
            body = b"sdta" + _chunk(b"smpl", bytes(ogg))
        elif cid == b"LIST" and body[:4] == b"pdta":
            body = pdta_body
        out += _chunk(cid, body)
    return b"RIFF" + len(out).to_bytes(4, "little") + out


SHDR = np.dtype([("name", "S20"), ("start", "<u4"), ("end", "<u4"), ("loop_start", "<u4"),
                 ("loop_end", "<u4"), ("rate", "<u4"), ("pitch", "u1"), ("correction", "i1"),
                 ("link", "<u2"), ("type", "<u2")])


@pytest.fixture(scope="module")
def sf3_path(tmp_path_factory):
    pytest.importorskip("soundfile")
    path = tmp_path_factory.mktemp("sf3") / "TimGM6mb.sf3"
    path.write_bytes(sf2_to_sf3(default_soundfont_path().read_bytes()))
    return path


@pytest.mark.parametrize("program", [40, 73])  # fiddle, flute
def test_sf3_a4_sounds_at_440_hz(sf3_path, program):
    sf3 = SoundFont.load(sf3_path)
    pcm = Renderer([SynthNote(0.0, 2.0, 69, 100, program)], sf3).render()
    freqs, magnitude = spectrum(pcm)
    assert abs(freqs[magnitude.argmax()] - 440.0) / 440.0 < 0.01
    # Looped samples keep sounding to the end of a note longer than the recording.
    assert np.sqrt(np.mean(pcm[int(1.5 * RATE):int(1.9 * RATE)] ** 2)) > 0.01
    reference = Renderer([SynthNote(0.0, 2.0, 69, 100, program)], cached_soundfont()).render()
    assert np.corrcoef(pcm, reference)[0, 1] > 0.9  # the same sound, give or take Vorbis


def test_sf3_zones_match_the_sf2(sf3_path):
    sf2, sf3 = cached_soundfont(), SoundFont.load(sf3_path)
    assert sf3.preset_names() == sf2.preset_names()
    for program in (40, 73, 21):
        for a, b in zip(sf2.regions(program), sf3.regions(program), strict=True):
            assert (b.loop_start - b.start, b.loop_end - b.start, b.looped, b.root_key) == \
                   (a.loop_start - a.start, a.loop_end - a.start, a.looped, a.root_key)
            assert abs((b.end - b.start) - (a.end - a.start)) <= 1


def test_sf3_with_a_corrupt_ogg_stream_fails_clearly(tmp_path):
    pytest.importorskip("soundfile")
    bad = tmp_path / "broken.sf3"
    bad.write_bytes(sf2_to_sf3(default_soundfont_path().read_bytes(), corrupt_sample=3))
    with pytest.raises(MusicError, match="Ogg Vorbis") as err:
        SoundFont.load(bad)
    assert "broken.sf3" in str(err.value)
