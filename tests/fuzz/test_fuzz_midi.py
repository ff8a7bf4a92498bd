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
