"""Performer annotations: what a tune book writes for the player that is not music.

O'Neill's and Ryan's print fingering digits (`"4"a`, `"0"e`), bowing marks (`u`, `v`,
`!upbow!`, `!downbow!`) and free text in chord-symbol quotes (`"^Fine"`, `"_f"`, `"<(2)"`,
`"Segno"`). None of it changes a note, a network trained on it copies it into tunes where it
makes no sense, and abc2midi rejects a quote that is neither a chord symbol nor marked as text.
`strip_performer_annotations` removes these from one body line and keeps everything else:
notes, real chord symbols (`"G"`, `"Am7"`, `"D/F#"`, `"Bb"`, `"(Em)"`), other decorations,
fields and inline fields exactly as written. `is_chord_symbol` says which quotes are chords.

The training text (`app.training_data`) applies it by default; pure text work on `abc_tokens`,
no music21.
"""

from __future__ import annotations

import re

from app.music import abc_tokens as T

# ABC 2.1 chord symbols: root, accidental, type, optional bass; "(G)" marks an alternative.
# The type list is wider than abc2midi's (the checker judges what abc2midi can play).
_CHORD = re.compile(r"""
    \(?
    [A-G][#b]?
    (?:m|min|maj|M|dim|aug|sus|mM|\+|o)?
    (?:\d{1,2}|sus\d?|add\d{1,2}|[#b]\d{1,2}|\(\s*[#b]?\d{1,2}\s*\))*
    (?:/[A-Ga-g][#b]?)?
    \)?
    """, re.VERBOSE)

# Decorations that only tell a fiddler which way to bow or which finger to use.
_PERFORMER_DECORATIONS = frozenset({"u", "v", "!upbow!", "!downbow!", "!0!", "!1!", "!2!", "!3!",
                                    "!4!", "!5!", "!fingering!"})

# A whole line that is a field ("K:G", "w:words"): left alone ("e:|" is a note and a repeat).
_FIELD_LINE = re.compile(r"[A-Ga-gxzXZ]:(?!\|)|[H-WYh-wy]:")


def is_chord_symbol(text: str) -> bool:
    """Tell whether the inside of a quote ("Am7", not '"Am7"') is a chord symbol.

    Text annotations (starting with ^ _ < > @), fingering digits and words such as "Segno" or
    "Fine" are not; "(G)", an alternative chord, is. Surrounding blanks are ignored.
    """
    text = text.strip()
    if not text or text[0] in "^_<>@":
        return False
    return _CHORD.fullmatch(text) is not None and text.count("(") == text.count(")")


def is_performer_annotation(tok: T.Token, next_tok: T.Token | None = None) -> bool:
    """Tell whether one body token is a performer annotation: a quote that is not a chord
    symbol, or a bowing or fingering decoration (one right before text that is not music,
    `next_tok`, is likely part of a word and is left to the checker)."""
    if tok.kind == T.QUOTE:
        return not is_chord_symbol(tok.text[1:-1])
    return tok.kind == T.DECORATION and tok.text in _PERFORMER_DECORATIONS \
        and (next_tok is None or next_tok.kind != T.ERROR)


def strip_performer_annotations(body_line: str) -> str:
    """Return one body line without its performer annotations (see the module docstring).

    `body_line` is one line of a tune's body, without its line break. Field lines ("K:D",
    "w:...") and lines with nothing to remove come back unchanged; a blank left where an
    annotation stood between two blanks is dropped, as are blanks left at the line's ends; a
    line that held only annotations comes back "" (the caller drops it). Never raises (text the
    tokenizer rejects is kept as it is).
    """
    # until nothing more goes: removing one annotation can put another right before a note
    # (`u^uA` -> `u^A`), and the text must read the same when stripped again
    line = body_line
    while True:
        stripped = _strip_once(line)
        if stripped == line:
            return line
        line = stripped


def _strip_once(body_line: str) -> str:
    if _FIELD_LINE.match(body_line) or not ('"' in body_line or _may_have_decoration(body_line)):
        return body_line
    tokens = T.tokenize_line(body_line, 1)
    keep: list[str] = []
    dropped = just_dropped = False
    previous_blank = True   # the line's start counts as a blank
    for i, tok in enumerate(tokens):
        if is_performer_annotation(tok, tokens[i + 1] if i + 1 < len(tokens) else None):
            dropped = just_dropped = True
            continue
        blank = tok.kind == T.SPACE and not tok.text.strip()
        if blank and just_dropped and previous_blank:
            continue
        keep.append(tok.text)
        previous_blank, just_dropped = blank, False
    if not dropped:
        return body_line
    return "".join(keep).strip(" \t")


def _may_have_decoration(line: str) -> bool:
    return "u" in line or "v" in line or "!" in line
