"""Cleaning a generated tune of performer annotations before it is repaired.

A model trained on tunes as written (`--keep-annotations`) copies the fingering digits
(`"4"a`), bowing marks (`u`, `v`, `!upbow!`) and free text in quotes (`"^Fine"`, `"Segno"`)
of O'Neill's and Ryan's into tunes where they make no sense, and even a model trained without
them can write a `u`. `strip_annotations` removes them from the body lines of a generated tune
with `app.music.annotations.strip_performer_annotations` (real chord symbols stay) and says how
many went; `app.generation` calls it on every tune unless the controls keep annotations.
"""

from __future__ import annotations

import re

from app.music import abc_tokens as T
from app.music.annotations import is_performer_annotation, strip_performer_annotations
from app.music.bars import split_header

# A body line that holds only inline fields ("[K:D]", "[M:3/4] [L:1/4]"): left as written.
_INLINE_FIELDS_ONLY = re.compile(r"(?:\[[A-Za-z]:[^\]\n]*\]\s*)+")


def strip_annotations(text: str) -> tuple[str, int]:
    """Return the tune without performer annotations in its body, and how many were removed.

    Header lines, comment lines and lines of inline fields only are kept as written; a body
    line that held only annotations is dropped (no blank line is left, so the tune does not
    end there). A tune with nothing to remove comes back unchanged.
    """
    head, body = split_header(text)
    lines: list[str] = []
    removed = 0
    for line in body.split("\n"):
        if not line.strip() or line.startswith("%") or _INLINE_FIELDS_ONLY.fullmatch(line):
            lines.append(line)
            continue
        stripped = strip_performer_annotations(line)
        if stripped == line:
            lines.append(line)
            continue
        removed += max(_annotations_in(line) - _annotations_in(stripped), 1)
        if stripped:
            lines.append(stripped)
    if not removed:
        return text, 0
    return head + "\n".join(lines), removed


def _annotations_in(line: str) -> int:
    """Count the performer annotations in one body line (a bowing letter before text that is
    not music too: removing one annotation can turn such text into music)."""
    return sum(is_performer_annotation(tok) for tok in T.tokenize_line(line, 1))
