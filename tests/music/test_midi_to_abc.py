"""MIDI -> ABC: melody, quantising, meter, key, pickup, bars, ties, accidentals, round trips."""

from fractions import Fraction as F

import pytest

from app.music.abc_midi import abc_note_events, abc_to_midi
from app.music.errors import MusicError
from app.music.midi_file import NoteEvent as N, read_midi, write_midi
from app.music.midi_to_abc import midi_to_abc
from app.music.midi_to_abc_spelling import length_text, split_length
from app.music.midi_to_abc_timing import Sound, choose_grid, estimate_meter, melody_line, quantise

SMALL = [N(67, F(0), F(1, 2)), N(69, F(1, 2), F(1, 2)), N(71, F(1), F(1)),
         N(77, F(2), F(1, 2)), N(77, F(5, 2), F(1, 2)), N(79, F(3), F(2)),   # tie over the bar
         N(48, F(6), F(1)),                                                 # a rest before it
         N(84, F(7), F(1, 3)), N(83, F(22, 3), F(1, 3)), N(81, F(23, 3), F(1, 3)),  # triplet
         N(65, F(8), F(1, 2)), N(77, F(17, 2), F(1, 2)), N(65, F(9), F(1, 2)),
         N(66, F(19, 2), F(1, 2)),
         N(60, F(10), F(1)), N(64, F(10), F(1)), N(67, F(10), F(1))]          # a block chord


def test_writes_bars_ties_rests_tuplets_chords_octaves_and_carried_accidentals():
    abc = midi_to_abc(write_midi(SMALL, title="Small", time_signature=(4, 4), key_signature="G",
                                 tempo_qpm=100))
    assert abc == ("X:1\nT:Small\nM:4/4\nL:1/8\nQ:1/4=100\nK:G\n"
                   "GA B2 =ff g2- | g2 z2 C,2 (3c'ba | =F=f F^F [CEG]2 z2 |]\n")


def test_round_trip_of_the_written_abc_gives_the_same_notes():
    data = write_midi(SMALL, time_signature=(4, 4), key_signature="G")
    assert abc_note_events(midi_to_abc(data)) == sorted(SMALL, key=lambda n: (n.onset, n.pitch))


TUNES = {
    "jig with pickup and endings": "X:1\nT:J\nM:6/8\nL:1/8\nK:D\nA|:dfa agf|g2e fdB|"
                                   "[1 AFA d2A:|[2 AFA d2||\n",
    "reel with triplets and ties": "X:2\nT:R\nM:C|\nL:1/8\nK:Ador\n"
                                   "EA (3AAA BAGB|A2 eA c2 Bc-|c2 dB GABG|1 EAAG A4:|2 EAAG A2||\n",
    "air with accidentals": "X:3\nT:A\nM:3/4\nL:1/8\nK:Bb\nF2|B3 c d2|^c2 d4|=B,2 _E2 G>A|B6|\n",
    "hornpipe in 2/4 with sixteenths": "X:4\nT:H\nM:2/4\nL:1/16\nK:F\nc3A F2A2|Bcd=e f4|\n",
}


@pytest.mark.parametrize("name", sorted(TUNES))
def test_abc_midi_abc_midi_round_trip_is_exact(name):
    first = abc_to_midi(TUNES[name])
    text = midi_to_abc(first)
    second = abc_to_midi(text)
    assert read_midi(second).melody() == read_midi(first).melody()


def test_pickup_declared_in_the_midi_file_starts_the_first_bar():
    text = midi_to_abc(abc_to_midi(TUNES["jig with pickup and endings"]))
    body = text.split("K:D\n")[1]
    assert body.startswith("A | dfa agf | g2e fdB |")


def test_melody_is_the_busiest_track_and_the_highest_note():
    notes = [N(60, F(0), F(2)), N(72, F(0), F(1)), N(71, F(1), F(1)), N(64, F(3), F(1)),
             N(67, F(3), F(1))]
    assert melody_line(notes) == [Sound((72,), F(0), F(1)), Sound((71,), F(1), F(1)),
                                  Sound((64, 67), F(3), F(1))]
    assert melody_line(notes, chords=False)[-1] == Sound((67,), F(3), F(1))
    abc = midi_to_abc(write_midi(notes, time_signature=(4, 4), key_signature="C"), chords=False)
    assert abc.endswith("K:C\nc2 B2 z2 G2 |]\n")


def test_quantises_human_timing_to_sixteenths():
    played = [N(60 + i, F(i, 2) + F((-1) ** i * 7, 480), F(9, 20)) for i in range(8)]
    assert choose_grid(played, 480) == 4
    quantised = quantise([Sound((n.pitch,), n.onset, n.duration) for n in played], 480)
    assert [s.onset for s in quantised] == [F(i, 2) for i in range(8)]
    assert all(s.duration == F(1, 2) for s in quantised)


def test_played_triplets_get_a_triplet_grid_and_a_low_resolution_file_is_still_quantised():
    triplets = [N(60 + i % 5, F(i * 32 + (-1) ** i * 3 + 96, 96), F(30, 96)) for i in range(24)]
    assert choose_grid(triplets, 96) == 12
    shifted = [N(60, F(i * 48 + (-1) ** i * 4 + 10, 96), F(44, 96)) for i in range(24)]
    assert choose_grid(shifted, 96) == 4   # 96 ticks fit every tick: that is no evidence


def test_exact_files_keep_their_grid():
    assert choose_grid([N(60, F(0), F(1, 3)), N(62, F(1, 3), F(1, 8))], 480) == 24
    assert choose_grid([N(60, F(0), F(1, 2))], 480) == 2


def test_meter_is_estimated_without_a_time_signature():
    def bars(pattern, count=8):
        notes, now = [], F(0)
        for bar in range(count):
            for step, (pitch, length) in enumerate(pattern):
                notes.append(Sound((pitch + bar % 3,), now, length))
                now += length
        return notes

    assert estimate_meter(bars([(69, F(2)), (72, F(1))])) == (3, 4)
    assert estimate_meter(bars([(67, F(1)), (71, F(1, 2)), (74, F(1)), (72, F(1, 2))])) == (6, 8)
    text = midi_to_abc(write_midi([N(69, F(i), F(2 if i % 3 == 0 else 1)) for i in range(0, 24)
                                   if i % 3 != 1], time_signature=None))
    assert "\nM:3/4\n" in text


def test_key_comes_from_music21_analysis_without_a_key_signature():
    a_minor = [69, 72, 76, 69, 71, 72, 74, 76, 77, 76, 74, 72, 71, 68, 69, 69]
    notes = [N(p, F(i, 2), F(1, 2)) for i, p in enumerate(a_minor)]
    text = midi_to_abc(write_midi(notes, time_signature=(2, 4)))
    assert "\nK:Am\n" in text and "B2^G2 A2A2 |]" in text


def test_lengths():
    assert [length_text(F(x)) for x in ("1", "2", "1/2", "1/4", "3/2", "3/4")] == \
        ["", "2", "/", "/4", "3/2", "3/4"]
    assert split_length(F(5)) == [F(4), F(1)] and split_length(F(7, 2)) == [F(3), F(1, 2)]


def test_title_and_transpose_options():
    data = write_midi([N(62, F(0), F(1))], title="From File", time_signature=(4, 4),
                      key_signature="D")
    assert "T:Given\n" in midi_to_abc(data, title="Given")
    assert "T:From File\n" in midi_to_abc(data)
    assert midi_to_abc(data, transpose=12).rstrip().endswith("d2 |]")


def test_a_file_without_notes_is_refused(tmp_path):
    path = tmp_path / "silent.mid"
    write_midi([], path)
    with pytest.raises(MusicError, match="no notes") as info:
        midi_to_abc(path)
    assert str(path) in str(info.value)


@pytest.mark.slow
def test_round_trip_rate_on_a_fixed_sample_of_celtic_tunes():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from bench_roundtrip import celtic_tunes, round_trip, sample

    tunes = sample(celtic_tunes(), 20)
    failures = [(tune.label, result) for tune in tunes
                if (result := round_trip(tune)) is not None]
    assert len(failures) <= 1, failures   # at least 95%


# ---------------------------------------------------------------- files from the web, limits

from tests.fuzz.raw_midi import meta, off, on, scale, smf, track  # noqa: E402


def test_invalid_key_signature_is_skipped_and_the_key_analysed(caplog):
    """The user's report: mido's KeySignatureError stopped `convert x.mid x.abc`."""
    data = smf(track((0, meta(0x59, bytes([9, 0]))), (0, meta(0x58, bytes([4, 2, 24, 8])))),
               scale(8))
    abc = midi_to_abc(data, "Web")
    assert "K:" in abc and "T:Web" in abc
    assert "key signature" in caplog.text


def test_convert_cli_reads_a_file_with_an_invalid_key_signature(tmp_path):
    from app.music.convert import convert

    source, target = tmp_path / "x.mid", tmp_path / "x.abc"
    source.write_bytes(smf(track((0, meta(0x59, bytes([0, 2])))), scale(8)))
    convert(source, target)
    assert target.read_text().startswith("X:1")


def test_note_limit_names_the_number(monkeypatch):
    from app.music import midi_to_abc as module

    monkeypatch.setattr(module, "MAX_TRANSCRIBE_NOTES", 5)
    assert "X:1" in midi_to_abc(smf(scale(5)))
    with pytest.raises(MusicError, match=r"6 notes.*at most 5 \(MAX_TRANSCRIBE_NOTES\)"):
        midi_to_abc(smf(scale(6)))


def test_bar_limit_refuses_a_long_gap_before_writing_bars(monkeypatch):
    from app.music import midi_to_abc as module

    monkeypatch.setattr(module, "MAX_TRANSCRIBE_BARS", 50)
    meter = track((0, meta(0x58, bytes([4, 2, 24, 8]))))
    ten_hours = track((0, on(60)), (96, off(60)), (96 * 4 * 100, on(62)), (96, off(62)))
    with pytest.raises(MusicError, match=r"101 bars of 4/4.*at most 50 \(MAX_TRANSCRIBE_BARS\)"):
        midi_to_abc(smf(meter, ten_hours))
    with pytest.raises(MusicError, match="MAX_TRANSCRIBE_BARS"):   # meter guessed
        midi_to_abc(smf(ten_hours))


def test_file_note_limit_fires_before_notes_are_built(monkeypatch):
    from app.music import midi_to_abc as module

    monkeypatch.setattr(module, "MAX_TRANSCRIBE_FILE_NOTES", 7)
    with pytest.raises(MusicError, match=r"8 notes; Ceol reads at most 7 here "
                                         r"\(MAX_TRANSCRIBE_FILE_NOTES\)"):
        midi_to_abc(smf(scale(4), scale(4, 40)))


def test_tuplet_counts_the_tied_pieces_it_covers():
    """Fuzz find: a tuplet over a note split into tied pieces said (3:2:2 for three written
    notes (now plain (3), so the checker found the bar too long."""
    from app.music.checker import check_tune

    data = smf(track(), track((0, on(36)), (1, off(36)), (0, on(36)), (5, off(36))), tpb=3)
    abc = midi_to_abc(data)
    assert "(3C,,2C,,8-C,,2" in abc
    assert not [p for p in check_tune(abc) if "too-long" in str(p)]


def test_a_short_last_bar_is_padded_to_complete_the_pickup_or_the_bar():
    """Fuzz find: a last bar that neither completes the pickup nor fills the bar was flagged
    by the checker (bar-too-short)."""
    from app.music.checker import check_tune

    meter = track((0, meta(0x58, bytes([3, 2, 24, 8]))))
    no_pickup = midi_to_abc(smf(meter, scale(4)))          # 3/4: one bar and one beat
    assert no_pickup.rstrip().endswith("| E2 z4 |]")
    pickup = track((0, meta(0x58, bytes([1, 2, 24, 8]))), (96, meta(0x58, bytes([3, 2, 24, 8]))))
    with_pickup = midi_to_abc(smf(pickup, scale(5)))       # a one-beat pickup, one beat at the end
    assert with_pickup.rstrip().endswith("| E2 z2 |]")
    for abc in (no_pickup, with_pickup):
        assert not [p for p in check_tune(abc) if "bar-too" in str(p)], abc
