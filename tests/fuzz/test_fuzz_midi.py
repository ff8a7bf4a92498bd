"""Fuzzing MIDI input: reading, MIDI -> ABC and MIDI -> WAV on mutated real files.

Seeds are MIDI files Ceol made from Celtic corpus tunes (tests/fuzz/seeds_midi) and hand-built
corner cases (tests/fuzz/raw_midi.py); mutations flip bytes, truncate, make chunk lengths,
track counts and divisions lie, insert huge delta times, running status garbage and damaged
meta events. The only outcomes allowed are a result or MusicError. The suite runs a few
seconds per target; CEOL_FUZZ_EXAMPLES=100000 runs the long mode (see also
benchmarks/fuzz_long_midi_model.py, which counts crashes instead of stopping at the first).
"""

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from app.music import audio
from app.music.audio import RenderOptions, render_midi
from app.music.errors import MusicError
from app.music.midi_file import read_midi
from app.music.midi_to_abc import midi_to_abc
from tests.fuzz.raw_midi import fuzz_settings, hand_built_seeds, mutate

SEED_DIR = Path(__file__).parent / "seeds_midi"
SEEDS = [p.read_bytes() for p in sorted(SEED_DIR.glob("*.mid"))] + hand_built_seeds()
FAST = RenderOptions(sample_rate=8000)


@st.composite
def mutated_midi(draw) -> bytes:
    seed = draw(st.sampled_from(SEEDS))
    return mutate(seed, lambda lo, hi: draw(st.integers(lo, hi)))


def test_seeds_are_read():
    assert len(SEEDS) >= 8
    for seed in SEEDS[:-1]:     # the last is type 2, refused by name
        assert read_midi(seed).melody()


@pytest.mark.parametrize("index", range(len(SEEDS)))
def test_every_truncation_is_a_result_or_music_error(index):
    seed = SEEDS[index]
    for end in range(len(seed)):
        try:
            read_midi(seed[:end])
        except MusicError:
            pass


@fuzz_settings(400)
@given(mutated_midi())
def test_fuzz_read_midi(data):
    try:
        read_midi(data)
    except MusicError:
        pass


@fuzz_settings(60)
@given(mutated_midi())
def test_fuzz_midi_to_abc(data):
    try:
        assert midi_to_abc(data).startswith("X:1\n")
    except MusicError:
        pass


@fuzz_settings(60)
@given(mutated_midi())
def test_fuzz_render_midi(data):
    limit = audio.MAX_RENDER_SECONDS
    audio.MAX_RENDER_SECONDS = 60   # the limit path is fuzzed too, and each case stays quick
    try:
        render_midi(data, FAST, label="fuzz.mid")
    except MusicError:
        pass
    finally:
        audio.MAX_RENDER_SECONDS = limit


@st.composite
def structured_midi(draw) -> bytes:
    """A well-formed file with odd but legal content: any resolution, meter, key, tempo, and
    notes anywhere (overlapping, zero-length, far apart, on any channel)."""
    from tests.fuzz.raw_midi import meta, off, on, smf, track

    tpb = draw(st.sampled_from([1, 3, 24, 96, 480, 960, 32767]))
    head = []
    if draw(st.booleans()):
        head.append((0, meta(0x58, bytes([draw(st.integers(1, 32)), draw(st.integers(0, 6)), 24, 8]))))
    if draw(st.booleans()):
        head.append((0, meta(0x59, bytes([draw(st.integers(-7, 7)) & 0xFF, draw(st.integers(0, 1))]))))
    if draw(st.booleans()):
        head.append((0, meta(0x51, draw(st.integers(1, 0xFFFFFF)).to_bytes(3, "big"))))
    notes = draw(st.lists(st.tuples(st.integers(0, tpb * 64), st.integers(0, tpb * 8),
                                    st.integers(0, 127), st.sampled_from([0, 0, 0, 1, 9])),
                          min_size=1, max_size=60))
    events = []
    for start, length, pitch, channel in notes:
        events += [(start, 1, on(pitch, channel=channel)), (start + length, 0, off(pitch, channel))]
    events.sort(key=lambda e: (e[0], e[1]))
    body, now = [], 0
    for tick, _, event in events:
        body.append((tick - now, event))
        now = tick
    return smf(track(*head), track(*body), tpb=tpb)


@fuzz_settings(60)
@given(structured_midi(), st.booleans())
def test_fuzz_structured_midi_to_abc(data, chords):
    try:
        abc = midi_to_abc(data, chords=chords)
    except MusicError:
        return
    assert abc.startswith("X:1\n") and "\nK:" in abc
