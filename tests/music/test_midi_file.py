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


# ---------------------------------------------------------------- files from the web

from tests.fuzz.raw_midi import meta, off, on, scale, smf, track  # noqa: E402


@pytest.mark.parametrize("data, warning", [
    (bytes([9, 0]), "key signature"),          # 9 sharps: mido raised KeySignatureError
    (bytes([0, 2]), "key signature"),          # mode 2
    (bytes([0xF7, 0]), "key signature"),       # 9 flats
    (bytes([3]), "key signature"),             # one byte short
])
def test_invalid_key_signature_is_skipped_with_a_warning(data, warning, caplog):
    tune = read_midi(smf(track((0, meta(0x59, data))), scale()))
    assert tune.key_signature is None
    assert [n.pitch for n in tune.melody()] == [60, 61, 62, 63]
    assert any(warning in w for w in tune.warnings)
    assert warning in caplog.text


def test_first_valid_key_signature_counts_after_an_invalid_one():
    tune = read_midi(smf(track((0, meta(0x59, bytes([9, 0]))), (0, meta(0x59, bytes([1, 1])))),
                         scale()))
    assert tune.key_signature == "Em" and len(tune.warnings) == 1


@pytest.mark.parametrize("event", [
    meta(0x58, bytes([4, 2])),                 # a two-byte time signature: IndexError in mido
    meta(0x00, bytes([1])),                    # a one-byte sequence number: IndexError
    meta(0x20, b""),                           # an empty channel prefix: IndexError
    meta(0x54, bytes([0xE0, 0, 0, 0, 0])),     # SMPTE offset with frame rate code 7: KeyError
    meta(0x51, bytes([0, 0, 0])),              # tempo 0: ZeroDivisionError
    meta(0x51, bytes([7])),                    # a short tempo
    meta(0x58, bytes([0, 2, 24, 8])),          # a meter of 0/4
    meta(0x7F, b"\x00\x00\x41"),               # sequencer specific
])
def test_damaged_meta_events_in_a_multi_track_file_do_not_lose_the_notes(event):
    """The user's "list index out of range" file: valid music, a short meta event."""
    tune = read_midi(smf(track((0, meta(0x03, b"Reel")), (0, event)), scale(), scale(2, 40)))
    assert tune.title == "Reel"
    assert [n.pitch for n in tune.melody()] == [60, 61, 62, 63]


def test_multi_track_file_with_everything_at_once():
    conductor = track((0, meta(0x03, b"Set")), (0, meta(0x51, bytes([0x07, 0xA1, 0x20]))),
                      (0, meta(0x58, bytes([6, 3, 24, 8]))), (192, meta(0x51, bytes([0x06, 0x1A, 0x80]))))
    empty = track()
    names_only = track((0, meta(0x03, b"Lyrics")), (0, meta(0x05, b"la la")))
    channels = track((0, b"\xc1\x28"), (0, on(72, channel=1)), (0, on(48, channel=2)),
                     (48, on(72, 0, channel=1)),     # velocity 0 ends a note
                     (0, b"\x91\x4a\x50"), (48, b"\x4a\x00"),   # running status note-off
                     (0, b"\x4c\x50"), (48, off(76, channel=1)),
                     (0, off(48, channel=2)))
    drums = track(*[(0 if i % 2 == 0 else 10, on(42, 90 if i % 2 == 0 else 0, channel=9))
                    for i in range(40)])
    overlapping = track((0, on(60)), (10, on(60)), (10, off(60)), (10, off(60)))
    data = smf(conductor, empty, names_only, channels, drums, overlapping)
    tune = read_midi(data)
    assert tune.title == "Set" and tune.time_signature == (6, 8)
    assert [t for _, t in tune.tempos] == [120.0, 150.0]
    assert [n.pitch for n in tune.melody()] == [72, 74, 76]
    assert tune.program == 40 and tune.warnings == []
    reference = mido.MidiFile(file=io.BytesIO(data))
    ours = sum(len(t.notes) for t in tune.tracks)
    assert ours == sum(1 for m in reference if m.type == "note_on" and m.velocity > 0)


def test_format_2_is_refused_by_name():
    with pytest.raises(MusicError, match="type 2"):
        read_midi(smf(scale(), scale(), fmt=2))


@pytest.mark.parametrize("data, problem", [
    (smf(track((0, b"\x3c\x50"))), "data byte"),                 # running status with no status
    (smf(track((0, b"\x90\x3c\xd0"))), "status byte"),           # a status byte as data
    (smf(b"MTrk\x00\x00\x00\x08\xff\xff\xff\xff\x7f\x90\x3c\x50"), "variable-length"),
    (smf(scale())[:-5], "truncated"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x80\x18" + scale(), "SMPTE"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x00" + scale(), "0 ticks per beat"),
    (b"MThd\x00\x00\x00\x06\x00\x07\x00\x01\x00\x60" + scale(), "format 7"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x60", "no tracks"),
])
def test_damaged_music_is_refused_naming_the_problem(tmp_path, data, problem):
    path = tmp_path / "bad.mid"
    path.write_bytes(data)
    with pytest.raises(MusicError, match=problem) as info:
        read_midi(path)
    assert str(info.value).startswith(str(path))


def test_lying_lengths_and_counts_are_read_with_warnings():
    long_first = track((0, on(60)), (96, off(60)), length=500)     # End of Track says where
    data = smf(long_first, scale(), count=5) + b"\x00\x00junk"
    tune = read_midi(data)
    assert len([t for t in tune.tracks if t.notes]) == 2
    text = " ".join(tune.warnings)
    assert "shorter than its declared length" in text and "announces 5 tracks" in text
    assert "junk" in text


def test_alien_chunks_are_skipped():
    alien = b"XFIH" + (4).to_bytes(4, "big") + b"\x01\x02\x03\x04"
    tune = read_midi(smf(alien, scale()))
    assert [n.pitch for n in tune.melody()] == [60, 61, 62, 63]


def test_event_limit_fires(monkeypatch):
    from app.music import smf as smf_module

    monkeypatch.setattr(smf_module, "MAX_MIDI_EVENTS", 7)
    assert len(read_midi(smf(scale(3))).melody()) == 3          # 6 events
    with pytest.raises(MusicError, match="more than 7 events"):
        read_midi(smf(scale(4)))
