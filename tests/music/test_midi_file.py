"""MIDI files through mido: type 1 writing, type 0/1 reading, sources, bad files."""

import io
from fractions import Fraction as F

import mido
import pytest

from app.music.errors import MusicError
from app.music.midi_file import (NoteEvent, key_signature_name, key_signature_sharps, read_midi,
                                 skyline, write_midi)

NOTES = [NoteEvent(62, F(0), F(1, 2)), NoteEvent(67, F(1, 2), F(1)),
         NoteEvent(69, F(3, 2), F(1, 3)), NoteEvent(71, F(11, 6), F(2, 3))]


def test_type_1_file_has_a_conductor_and_a_melody_track():
    data = write_midi(NOTES, title="The Kesh", tempo_qpm=110, time_signature=(6, 8),
                      key_signature="G", program=40, pickup=F(1, 2))
    midi = mido.MidiFile(file=io.BytesIO(data))
    assert midi.type == 1 and len(midi.tracks) == 2
    conductor = [m.type for m in midi.tracks[0]]
    assert conductor[:2] == ["track_name", "time_signature"]
    assert {"set_tempo", "key_signature"} <= set(conductor)
    assert not any(m.type == "note_on" for m in midi.tracks[0])
    assert [m.program for m in midi.tracks[1] if m.type == "program_change"] == [40]


def test_write_then_read_keeps_notes_and_header():
    data = write_midi(NOTES, title="The Kesh", tempo_qpm=110, time_signature=(6, 8),
                      key_signature="Em", program=73, pickup=F(1, 2),
                      provenance={"model": "celtic-small", "seed": "7"})
    tune = read_midi(data)
    assert tune.melody() == NOTES
    assert tune.title == "The Kesh"
    assert tune.tempo_qpm == pytest.approx(110)
    assert tune.time_signature == (6, 8) and tune.pickup == F(1, 2)
    assert tune.key_signature == "Em"
    assert tune.program == 73
    assert tune.provenance == {"model": "celtic-small", "seed": "7"}
    assert tune.texts == []


def test_title_outside_latin1_is_written_with_replacements():
    tune = read_midi(write_midi(NOTES, title="Ceol 音楽 é"))
    assert tune.title == "Ceol ?? é"


def test_reads_path_file_object_and_bytes(tmp_path):
    path = tmp_path / "t.mid"
    data = write_midi(NOTES, path)
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["t.mid"]   # no temp file left behind
    with open(path, "rb") as handle:
        assert read_midi(handle).melody() == NOTES
    assert read_midi(str(path)).path == str(path)
    assert read_midi(bytearray(data)).melody() == NOTES


def test_reads_type_0_with_channels_as_tracks():
    midi = mido.MidiFile(type=0, ticks_per_beat=96)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4))
    track.append(mido.Message("program_change", program=21, channel=1))
    for pitch in (60, 62, 64):   # melody on channel 1, one bass note on channel 2
        track.append(mido.Message("note_on", note=pitch, velocity=90, channel=1))
        if pitch == 60:
            track.append(mido.Message("note_on", note=36, velocity=90, channel=2))
        track.append(mido.Message("note_on", note=pitch, velocity=0, channel=1, time=96))
    for _ in range(5):   # drums have the most notes but are never the melody
        track.append(mido.Message("note_on", note=42, velocity=90, channel=9))
        track.append(mido.Message("note_off", note=42, channel=9, time=10))
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    tune = read_midi(buffer.getvalue())
    assert tune.type == 0 and tune.time_signature == (3, 4)
    assert [n.pitch for n in tune.melody()] == [60, 62, 64]
    assert tune.program == 21
    bass = [t for t in tune.tracks if t.channel == 2][0]
    assert bass.notes == [NoteEvent(36, F(0), F(3 * 96 + 50, 96))]   # never off: ends with track


def test_skyline_keeps_the_highest_note_and_cuts_overlaps():
    notes = [NoteEvent(60, F(0), F(2)), NoteEvent(64, F(0), F(1)), NoteEvent(67, F(1), F(2)),
             NoteEvent(55, F(2), F(1 / 2)), NoteEvent(62, F(3), F(1))]
    assert skyline(notes) == [NoteEvent(64, F(0), F(1)), NoteEvent(67, F(1), F(2)),
                              NoteEvent(62, F(3), F(1))]


def test_key_signature_names():
    assert key_signature_name(2) == "D" and key_signature_name(-3, minor=True) == "Cm"
    assert key_signature_sharps("F#m") == (3, True)
    with pytest.raises(MusicError):
        key_signature_name(9)


def test_bad_settings_are_refused():
    with pytest.raises(MusicError, match="program"):
        write_midi(NOTES, program=200)
    with pytest.raises(MusicError, match="tempo"):
        write_midi(NOTES, tempo_qpm=0)


def test_unwritable_target_names_the_file(tmp_path):
    target = tmp_path / "missing" / "t.mid"
    with pytest.raises(MusicError, match="cannot write") as info:
        write_midi(NOTES, target)
    assert str(target) in str(info.value)


@pytest.mark.parametrize("content, problem", [
    (b"", "empty file"),
    (b"X:1\nK:C\nABC\n", "not a MIDI file"),
    ("truncated", "truncated MIDI file"),
    ("corrupt", "MIDI file"),
])
def test_bad_files_raise_music_error_naming_the_file(tmp_path, content, problem):
    good = write_midi(NOTES, title="x")
    if content == "truncated":
        content = good[:len(good) - 20]
    elif content == "corrupt":
        content = good[:14] + b"MTrk\xff\xff\xff\xff" + b"\x90\x99" * 8
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(MusicError, match=problem) as info:
        read_midi(path)
    assert str(info.value).startswith(str(path))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(MusicError, match="no such file"):
        read_midi(tmp_path / "nope.mid")
    with pytest.raises(MusicError, match="folder"):
        read_midi(tmp_path)
