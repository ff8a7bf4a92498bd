"""MIDI limits: each named limit fires on a small synthetic file, with its number in the message."""

import pytest

from app.music import audio
from app.music.audio import RenderOptions, render_midi
from app.music.errors import MusicError
from tests.fuzz import raw_midi as raw

FAST = RenderOptions(sample_rate=8000)


def test_midi_with_an_invalid_key_signature_renders():
    data = raw.smf(raw.track((0, raw.meta(0x59, bytes([9, 0])))), raw.scale(2))
    assert render_midi(data, FAST).duration > 1.0


def test_ten_hour_file_is_refused_before_rendering():
    ten_hours = raw.smf(raw.track((0, raw.on(60)), (96 * 2 * 60 * 60 * 10, raw.off(60))))
    with pytest.raises(MusicError, match=r"^big.mid: .*plays for 10:00:00.*at most 20:00 "
                                         r"of audio \(MAX_RENDER_SECONDS\)"):
        render_midi(ten_hours, FAST, label="big.mid")


def test_repeats_count_towards_the_render_length(monkeypatch):
    monkeypatch.setattr(audio, "MAX_RENDER_SECONDS", 5)
    render_midi(raw.smf(raw.scale(4)), FAST)     # 2 seconds
    with pytest.raises(MusicError, match="MAX_RENDER_SECONDS"):
        render_midi(raw.smf(raw.scale(4)), RenderOptions(sample_rate=8000, repeats=3))


def test_note_limit(monkeypatch):
    monkeypatch.setattr(audio, "MAX_RENDER_NOTES", 3)
    with pytest.raises(MusicError, match=r"4 notes.*at most 3 \(MAX_RENDER_NOTES\)"):
        render_midi(raw.smf(raw.scale(4)), FAST)


def test_distinct_sound_limit(monkeypatch):
    monkeypatch.setattr(audio, "MAX_VOICE_SECONDS", 5)
    with pytest.raises(MusicError, match=r"^x.mid: .*MAX_VOICE_SECONDS"):
        render_midi(raw.smf(raw.scale(3, step=96 * 4)), FAST, label="x.mid")


def test_type_2_is_refused_for_rendering():
    with pytest.raises(MusicError, match="type 2"):
        render_midi(raw.smf(raw.scale(2), fmt=2), FAST)
