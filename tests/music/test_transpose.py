"""Transposition as text: keys, notes, accidentals, inline keys and chord symbols, checked
against music21 (the intervals between notes must not change)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.music.transpose import (Key, TransposeError, interval_between, parse_key,
                                 transpose_abc, transposition_targets)

TUNE = ('X:1\nT:Test\nM:6/8\nL:1/8\nK:D\n"D"dcB AFD|"G"G^GA "A7"=cBA|\n'
        'M:2/4\n[K:Em]e,2 ^f\'2|__B,2 [DFA]2|\n')


def _midi(text: str) -> list[int]:
    """The notes music21 plays, then the roots of the chord symbols (voiced in any octave)."""
    import music21

    score = music21.converter.parse(text, format="abc")
    symbols = [n for n in score.flatten().notes if isinstance(n, music21.harmony.ChordSymbol)]
    notes = [p.midi for n in score.flatten().notes if n not in symbols for p in n.pitches]
    return notes + [n.root().pitchClass for n in symbols]


def test_key_field_notes_chords_and_inline_keys_move_together():
    moved = transpose_abc(TUNE, "E")
    assert moved == ('X:1\nT:Test\nM:6/8\nL:1/8\nK:E\n"E"edc BGE|"A"A^AB "B7"=dcB|\n'
                     'M:2/4\n[K:F#m]F2 ^g\'2|_C2 [EGB]2|\n')


def test_down_a_fourth_carries_the_octave_and_spells_flats():
    moved = transpose_abc("X:1\nK:G\nGAB cde|g'a'|\n", "D")
    assert moved == "X:1\nK:D\nDEF GAB|d'e'|\n"
    assert transpose_abc("X:1\nK:Dmix\n=f^c|\n", "Bb").endswith("K:Bbmix\n_d=A|\n")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["A", "Bb", "C", "F#", "Eb", "G"])
def test_music21_hears_the_same_intervals(target):
    before, after = _midi(TUNE), _midi(transpose_abc(TUNE, target))
    assert len(before) == len(after) > 10
    shift = after[0] - before[0]
    notes = len(before) - 3                  # three chord symbols at the end: pitch classes
    assert [b - a for a, b in zip(before, after)][:notes] == [shift] * notes
    assert [(b - a) % 12 for a, b in zip(before, after)][notes:] == [shift % 12] * 3


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "^", "_", "=", "^^", "__"]),
                          st.sampled_from("CDEFGABcdefgab"), st.sampled_from(["", ",", "'"])),
                min_size=2, max_size=24),
       st.sampled_from(["D", "Gm", "Ador", "Emix", "Bb", "F#m", "C"]),
       st.integers(0, 5))
def test_random_tunes_keep_their_intervals_in_music21(notes, key, which):
    body = "".join(a + n + o + ("|" if i % 4 == 3 else "") for i, (a, n, o) in enumerate(notes))
    text = f"X:1\nM:4/4\nL:1/8\nK:{key}\n{body}|\n"
    target = transposition_targets(key, 6)[which]
    try:
        moved = transpose_abc(text, target)
    except TransposeError:       # a double sharp moved up by a sharp: refused, not miswritten
        assert "^^" in body or "__" in body
        return
    assert parse_key(moved.split("K:")[1].split("\n")[0]).mode == parse_key(key).mode
    before, after = _midi(text), _midi(moved)
    assert len(before) == len(after)
    assert len({b - a for a, b in zip(before, after)}) == 1


def test_targets_are_the_plainest_keys_of_the_same_mode():
    assert [str(k) for k in transposition_targets("D", 4)] == ["C", "F", "G", "Bb"]
    assert [str(k) for k in transposition_targets("Em", 3)] == ["Am", "Dm", "Gm"]
    assert all(abs(k.fifths) <= 6 for k in transposition_targets("F#dor", 11))
    assert len(transposition_targets("Ador", 11)) == 11


def test_intervals_are_spelled_and_at_most_a_tritone():
    assert interval_between(Key("C", "", ""), Key("G", "", "")).semitones == -5
    assert interval_between(Key("C", "", ""), Key("F", "#", "")).steps == -4
    assert interval_between(Key("E", "", ""), Key("B", "b", "")).steps == -3


@pytest.mark.parametrize("text", ["X:1\nK:none\nABc|\n", "X:1\nK:HP\nABc|\n",
                                  "X:1\nK:D exp ^f\nABc|\n", "X:1\nT:no key\n"])
def test_keys_that_cannot_move_raise_a_clear_error(text):
    with pytest.raises(TransposeError, match="transpose"):
        transpose_abc(text, "G")


def test_a_note_needing_a_triple_sharp_is_refused_with_its_line():
    with pytest.raises(TransposeError, match="line 3"):
        transpose_abc("X:1\nK:C\nAB|^^E|\n", "D")
