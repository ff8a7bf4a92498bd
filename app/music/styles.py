"""Styles: the tradition a tune comes from, written as `O:<style>` in the training text.

A style is one short lower-case word from `STYLES`. It is read from the tune's own `O:`
(origin) field when that names a known place or people ("O: Irland" -> irish, "O: Europa,
Mitteleuropa, Deutschland, Hessen" -> german, "O: China, Shaanxi" -> chinese), else from the
collection its file belongs to (`COLLECTION_STYLES`: O'Neill's -> irish, Aird's -> scottish,
Ryan's Mammoth and the American fife book -> american, Northumbrian Minstrelsy and the
Nottingham tunes -> english), else it is unknown (""). A model trained with these lines is
steered by writing the line into the prime, as the rhythm control does with `R:`. No music21.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from app.music.tunebook import Tune

# The styles, with what each stands for in the built-in corpora.
STYLES: dict[str, str] = {
    "irish": "Irish dance tunes and airs (O'Neill's 1850, Essen's Irish songs)",
    "scottish": "Scottish tunes and airs (Aird's Airs)",
    "american": "American fiddle and fife tunes (Ryan's Mammoth, the American fife book)",
    "english": "English and Northumbrian tunes and songs (Northumbrian Minstrelsy, Nottingham)",
    "german": "German-language folk songs (Essen: Germany, Lorraine, Luxembourg, Switzerland)",
    "chinese": "Chinese Han folk songs (Essen)",
}

# Collections (folder or file stem in music21's corpus) and their style.
COLLECTION_STYLES: dict[str, str] = {
    "oneills1850": "irish", "airdsairs": "scottish", "ryansmammoth": "american",
    "americanfifeopus": "american", "northumbrianminstrelsyopus": "english",
    "nottingham-dataset": "english",
}

# Words of an O: field and the style they name (the first match in the field wins).
_ORIGIN_WORDS: list[tuple[str, str]] = [
    (r"irland|ireland|irish|eire", "irish"),
    (r"schottland|scotland|scottish|scots", "scottish"),
    (r"china|chinese", "chinese"),
    (r"amerika|america|american|usa|united states", "american"),
    (r"england|english|northumbria", "english"),
    (r"deutschland|germany|german|lothringen|luxemburg|schweiz|oesterreich|österreich",
     "german"),
]
_ORIGIN = [(re.compile(rf"\b(?:{words})\b", re.IGNORECASE), style)
           for words, style in _ORIGIN_WORDS]


def origin_style(origin: str) -> str:
    """Return the style an `O:` value names ("" when none): the earliest known word wins.

    Each style's own name names it, so training text written out and read again keeps its
    styles.
    """
    best, where = "", len(origin) + 1
    for pattern, style in _ORIGIN:
        match = pattern.search(origin)
        if match and match.start() < where:
            best, where = style, match.start()
    return best


def collection_style(path: str | None) -> str:
    """Return the style of the built-in collection a file belongs to ("" when none)."""
    if not path:
        return ""
    parts = PurePath(path).parts
    for part in (PurePath(path).stem, *reversed(parts[:-1])):
        style = COLLECTION_STYLES.get(part.lower())
        if style:
            return style
    return ""


def style_of(tune: Tune) -> str:
    """Return the tune's style: from its own O: field, else from its collection, else ""."""
    origin = tune.field("O")
    style = origin_style(origin) if origin else ""
    return style or collection_style(tune.path)


def check_style(value: str) -> str:
    """Return a style in its canonical spelling; ValueError naming the known ones if unknown."""
    name = value.strip().lower()
    if name not in STYLES:
        raise ValueError(f"unknown style {value!r} (known: {', '.join(STYLES)})")
    return name
