"""Performer annotations leave a body line; notes, chord symbols, fields and other marks stay."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.music import abc_tokens as T
from app.music.annotations import is_chord_symbol, strip_performer_annotations


@pytest.mark.parametrize("line, expected", [
    ('"4"a2 "0"e', "a2 e"),                       # O'Neill's fingering digits
    ("u(GF) vAB", "(GF) AB"),                     # bowing marks
    ("|:u(A>.B):|", "|:(A>.B):|"),                # the staccato dot stays
    ('"Segno" ABc "G"d', 'ABc "G"d'),             # a word that is not a chord
    ('"^Fine" ABc |', "ABc |"),
    ('ABc "_f" de', "ABc de"),
    ('"<(2)"A ">x"B "@1,2 text"c', "A B c"),
    ('"A" "^x" B', '"A" B'),                      # one blank kept between the two that stay
    ("A>\"4\"B", "A>B"),
    ("[K:Ador] uA", "[K:Ador] A"),                # the u of a field stays, the bowing goes
    ("!upbow!A !downbow!B !trill!c", "A B !trill!c"),
    ('"^Fine"', ""),                              # nothing left
])
def test_strips_annotations(line, expected):
    assert strip_performer_annotations(line) == expected


@pytest.mark.parametrize("line", [
    '"D/F#"A "Bb"B "Am7"c "(Em)"d "G"e',          # real chord symbols stay
    "K:G", "w: you and v and u", "T:Fingers 4 u", "e:|", "M:6/8",
    "|:GAG GAB|ABA ABd:|", "~A2 .B TC !fermata!d ", '"C" uncl"osed',
    "[V:1] abc", "{g}A (3Bcd z2 |]",
])
def test_leaves_music_alone(line):
    assert strip_performer_annotations(line) == line


@pytest.mark.parametrize("text", ["G", "Am7", "D/F#", "Bb", "F#m", "Gmaj7", "Dsus4", "Edim",
                                  "C+", "(G)", "Em/B", "A7sus4", "Bbm7b5", "D7(b9)", " G "])
def test_chord_symbols(text):
    assert is_chord_symbol(text)


@pytest.mark.parametrize("text", ["", "0", "4", "Segno", "Fine", "^G", "_f", "<x", ">x", "@G",
                                  "Hello", "D.C.", "N.C.", "G(D", "3", "g"])
def test_not_chord_symbols(text):
    assert not is_chord_symbol(text)


# Lines built from music tokens, with performer annotations sprinkled between them.
_MUSIC = st.sampled_from(["A", "B2", "c/", "^f", "=g'", "z", "|", "|:", ":|", "[CEG]", "(3",
                          "(", ")", ">", "-", "~", ".", "!trill!", "{g}", '"G"', '"Am7"',
                          '"D/F#"', "[K:D]", "[M:3/4]", " ", "  ", "T", "[1", "y"])
_ANNOTATION = st.sampled_from(['"4"', '"0"', "u", "v", '"^Fine"', '"_f"', '"Segno"',
                               "!upbow!", "!downbow!", '"<(1)"', '"@x"', '"D.C."'])


def _music_tokens(line):
    return [(t.kind, t.text) for t in T.tokenize_line(line, 1) if t.kind != T.SPACE]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), _MUSIC, _ANNOTATION), max_size=25))
def test_only_annotations_go(parts):
    # The leading bar line keeps "T:|..." from reading as a field line.
    music_only = "|" + "".join(m for _, m, _ in parts)
    line = "|" + "".join(a + m if annotate else m for annotate, m, a in parts)
    stripped = strip_performer_annotations(line)
    assert _music_tokens(stripped) == _music_tokens(music_only)
    assert strip_performer_annotations(stripped) == stripped


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ABCabcuvxyz"^_!|:[]()<>0123456789 /#', max_size=40))
@example("u^uA")        # removing the inner u put the outer one right before the note
def test_never_raises_and_is_idempotent(line):
    once = strip_performer_annotations(line)
    assert strip_performer_annotations(once) == once
    assert len(once) <= len(line)
