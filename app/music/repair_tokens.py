"""Repair passes on single tokens: text the grammar rejects, and an unfinished end.

`fix_tokens` writes what the tokenizer flags in a form music21 reads (the invisible rest `x` as
`z`, `H` as `!fermata!`, `+trill+` as `!trill!`, an old `+CEG+` chord as `[CEG]`, a zero or
huge length without its number, an ending after `||` as `||[2`) and drops stray characters;
`drop_dangling_tail` removes what a generator that stopped mid-note leaves at the very end.
Each pass takes the tune's text and a list to note its changes in, and returns the new text
(`repair` decides whether to keep it).
"""

from __future__ import annotations

import re

from app.music import abc_tokens as T
from app.music.repair_edit import QUIET, Edit, where

_DANGLING = frozenset({T.TIE, T.BROKEN, T.DECORATION, T.GRACE_OPEN, T.CHORD_OPEN,
                       T.SLUR_OPEN, T.TUPLET, T.QUOTE, T.ENDING, T.ERROR, T.INLINE_FIELD})


def fix_tokens(text: str, repairs: list[str]) -> str:
    """Rewrite or drop the tokens the grammar rejects: stray characters, `+trill+`, `H`, `x`."""
    edit = Edit(text)
    body = edit.body
    for i, tok in enumerate(body):
        if tok.kind == T.REST and tok.text.startswith("x"):
            edit.replace[i] = "z" + tok.text[1:]
            repairs.append(f"{where(tok)}: invisible rest {tok.text} written as z")
        if tok.kind == T.ENDING and not tok.text.startswith("[") and i \
                and body[i - 1].kind == T.BAR and body[i - 1].text not in ("|", ":|"):
            edit.replace[i] = "[" + tok.text
            repairs.append(f"{where(tok)}: ending {body[i - 1].text}{tok.text} written as "
                           f"{body[i - 1].text}[{tok.text}")
        if tok.kind != T.ERROR:
            continue
        code = tok.value[0]
        if code == "unsupported-decoration":
            edit.replace[i] = "!fermata!"
            repairs.append(f"{where(tok)}: fermata H written as !fermata!")
        elif tok.text.startswith("+") and len(tok.text) > 2:
            inner = tok.text[1:-1]
            # "+E3A3+" is an old (ABC 1.6) chord; "+trill+" a decoration.
            new = f"[{inner}]" if re.fullmatch(r"(?:[_^=]*[A-Ga-g][,']*[\d/]*)+", inner) \
                else f"!{inner}!"
            edit.replace[i] = new
            repairs.append(f"{where(tok)}: {tok.text} written as {new}")
        elif code == "zero-length" or code == "huge-length" and tok.text[:1] != "Z":
            edit.replace[i] = re.sub(r"\d*/*\d*$", "", tok.text) if code == "huge-length" \
                else re.sub(r"/[\d/]*$", "", tok.text)
            repairs.append(f"{where(tok)}: length {tok.text} written as {edit.replace[i]}")
        elif code in ("bad-token", "dangling-accidental") and len(tok.text) <= 1:
            edit.drop(i)
            repairs.append(f"{where(tok)}: removed stray {tok.text!r}")
    return edit.text()


def drop_dangling_tail(text: str, repairs: list[str]) -> str:
    """Drop what a tune cut short leaves open at its end: a tie, a `>`, an opening bracket."""
    edit = Edit(text)
    body = edit.body
    i = len(body) - 1
    while i >= 0:
        tok = body[i]
        if tok.kind in QUIET:
            i -= 1
            continue
        if tok.kind not in _DANGLING:
            break
        edit.drop(i)
        what = tok.text.strip() or tok.kind
        repairs.append(f"{where(tok)}: dropped the unfinished {what!r} at the end")
        i -= 1
    return edit.text()
