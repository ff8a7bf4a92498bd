"""Export: each format round-trips the tune's notes, carries provenance, and never half-writes."""

import errno
import io
from fractions import Fraction

import pytest

from app.music import atomic, export
from app.music.audio import RenderOptions
from app.music.errors import MusicError
from app.music.export import export_tune

TUNE = "X:3\nT:Little Tune\nM:3/4\nL:1/8\nQ:1/4=120\nK:G\nG2 B>c d2|e/f/g d2 B2|]\n"
# (MIDI pitch, onset, duration) in quarter notes, worked out by hand from TUNE.
EXPECTED = [(67, 0, 1), (71, 1, Fraction(3, 4)), (72, Fraction(7, 4), Fraction(1, 4)),
            (74, 2, 1), (76, 3, Fraction(1, 4)), (78, Fraction(13, 4), Fraction(1, 4)),
            (79, Fraction(7, 2), Fraction(1, 2)), (74, 4, 1), (71, 5, 1)]
PROVENANCE = {"model": "celtic-lstm", "temperature": 0.8, "seed": 42, "date": "2026-11-27"}


def mido_events(data: bytes):
    import mido

    midi = mido.MidiFile(file=io.BytesIO(data))
    events, sounding = [], {}
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity:
                sounding[msg.note] = tick
            elif msg.type in ("note_on", "note_off") and msg.note in sounding:
                start = sounding.pop(msg.note)
                tpb = midi.ticks_per_beat
                events.append((msg.note, Fraction(start, tpb), Fraction(tick - start, tpb)))
    return sorted(events, key=lambda e: (e[1], e[0]))


def music21_events(path):
    from music21 import converter

    score = converter.parse(str(path))
    return sorted(((p.midi, Fraction(n.offset).limit_denominator(64),
                    Fraction(n.quarterLength).limit_denominator(64))
                   for n in score.flatten().notes for p in n.pitches), key=lambda e: (e[1], e[0]))


def test_midi_round_trips_through_mido_and_music21(tmp_path):
    path = export_tune(TUNE, tmp_path / "t.mid", provenance=PROVENANCE)
    assert mido_events(path.read_bytes()) == EXPECTED
    assert music21_events(path) == EXPECTED


def test_midi_carries_provenance(tmp_path):
    from app.music.midi_file import read_midi

    path = export_tune(TUNE, tmp_path / "t.mid", RenderOptions(instrument="flute"), PROVENANCE)
    tune = read_midi(path)
    assert tune.provenance["seed"] == "42" and tune.provenance["model"] == "celtic-lstm"
    assert tune.program == 73


def test_musicxml_round_trips_through_music21(tmp_path):
    path = export_tune(TUNE, tmp_path / "t.musicxml")
    assert music21_events(path) == EXPECTED


def test_abc_carries_provenance_as_comments(tmp_path):
    text = export_tune(TUNE, tmp_path / "t.abc", provenance=PROVENANCE).read_text()
    lines = text.splitlines()
    assert lines[0] == "X:3"
    assert lines[1:5] == ["% model: celtic-lstm", "% temperature: 0.8", "% seed: 42",
                          "% date: 2026-11-27"]
    assert text.endswith("G2 B>c d2|e/f/g d2 B2|]\n")


def test_svg_and_png(tmp_path):
    svg = export_tune(TUNE, tmp_path / "t.svg").read_text()
    assert svg.count('class="notehead"') == len(EXPECTED)
    png = export_tune(TUNE, tmp_path / "t.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from PySide6.QtGui import QImage

    image = QImage.fromData(png)
    assert image.width() > 100
    dark = sum(1 for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)
               if image.pixelColor(x, y).lightness() < 100)
    assert dark > 50  # notes and staff lines were drawn


def test_wav_export(tmp_path):
    from app.music.audio import read_wav

    pcm = read_wav(export_tune(TUNE, tmp_path / "t.wav", RenderOptions(instrument="harp")))
    assert pcm.duration == pytest.approx(6 * 0.5 + 0.5, abs=0.05)  # 6 quarters at 120, + tail


def test_unknown_format(tmp_path):
    with pytest.raises(MusicError, match="cannot export to .doc"):
        export_tune(TUNE, tmp_path / "t.doc")


def test_tune_that_does_not_parse_says_where(tmp_path):
    with pytest.raises(MusicError, match="line 5") as err:
        export_tune("X:1\nT:Bad\nM:4/4\nK:D\nDFA# dF|\n", tmp_path / "bad.mid")
    assert "bad.mid" in str(err.value)
    assert not (tmp_path / "bad.mid").exists()


@pytest.mark.parametrize("where", ["missing/t.mid", "afile/t.mid"])
def test_unwritable_export_folder(tmp_path, where):
    (tmp_path / "afile").write_text("I am a file, not a folder")
    with pytest.raises(MusicError, match="cannot write") as err:
        export_tune(TUNE, tmp_path / where)
    assert "t.mid" in str(err.value)


def test_full_disk_keeps_the_earlier_file(tmp_path, monkeypatch):
    target = tmp_path / "t.wav"
    target.write_bytes(b"the earlier export")

    def fill_disk(handle, chunks):
        for i, chunk in enumerate(chunks):
            if i == 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            handle.write(chunk)

    monkeypatch.setattr(atomic, "CHUNK_BYTES", 64 * 1024)
    monkeypatch.setattr(atomic, "_write_chunks", fill_disk)
    with pytest.raises(MusicError, match="No space left") as err:
        export_tune(TUNE, target)
    assert "t.wav" in str(err.value)
    assert target.read_bytes() == b"the earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["t.wav"]  # no temp file left behind


def test_convert_command_writes_wav_svg_png_with_options(tmp_path):
    from app.music.audio import read_wav
    from app.music.convert import convert

    book = tmp_path / "book.abc"
    book.write_text(TUNE)
    convert(book, tmp_path / "t.wav", program="flute", tempo_qpm=60, transpose=2)
    assert read_wav(tmp_path / "t.wav").duration == pytest.approx(6 + 0.5, abs=0.05)
    convert(book, tmp_path / "t.svg", transpose=2)
    svg = (tmp_path / "t.svg").read_text()
    assert svg.count('class="keyAccid"') == 3  # G major up a tone: A major
    convert(book, tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    export_tune(TUNE, tmp_path / "t.mid")
    convert(tmp_path / "t.mid", tmp_path / "from-midi.wav", program="harp")
    assert read_wav(tmp_path / "from-midi.wav").duration == pytest.approx(3 + 0.5, abs=0.05)
