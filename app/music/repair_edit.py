"""Edits on a tokenised tune, written back as text: the tool every repair pass works with.

A pass tokenises the tune once (`Edit(text)`), replaces, drops or inserts after tokens by their
index in the body, and writes the result back with `Edit.text()`, which keeps the header lines
as they were and drops lines left blank. `error_count` is how every pass and the repair's
guard judge a result: the checker's errors in the text.
"""

from __future__ import annotations

from app.music import abc_tokens as T
from app.music.checker import ERROR, analyse_tune

QUIET = frozenset({T.SPACE, T.NEWLINE, T.COMMENT})


class Edit:
    """Replacements and insertions on a tokenised tune, written back as text."""

    def __init__(self, text: str) -> None:
        self.tune = T.tokenize_tune(text)
        self.body = self.tune.body
        self.header_end = self.tune.header[-1].line if self.tune.header else 0
        self.replace: dict[int, str] = {}
        self.after: dict[int, str] = {}

    def copy(self) -> Edit:
        """Return an edit of the same tokens whose changes do not reach this one."""
        twin = Edit.__new__(Edit)
        twin.__dict__.update(self.__dict__, replace=dict(self.replace), after=dict(self.after))
        return twin

    def drop(self, index: int) -> None:
        """Remove the token at `index`."""
        self.replace[index] = ""

    def insert_after(self, index: int, text: str) -> None:
        """Insert text after the token at `index` (after earlier insertions there)."""
        self.after[index] = self.after.get(index, "") + text

    def text(self) -> str:
        """Return the tune with the edits made; lines left blank are dropped."""
        head = self.tune.lines[:self.header_end]
        parts = []
        for i, tok in enumerate(self.body):
            parts.append(self.replace.get(i, "\n" if tok.kind == T.NEWLINE else tok.text))
            if i in self.after:
                parts.append(self.after[i])
        body = "".join(parts)
        lines = [line for line in body.split("\n") if line.strip()]
        return "\n".join(head + lines) + "\n"


def error_count(text: str) -> int:
    """Return how many errors (not warnings) the checker finds in a tune."""
    return sum(p.severity == ERROR for p in analyse_tune(text).problems)


def where(tok: T.Token) -> str:
    """Say where a token is, for a repair note: "line 3, column 7"."""
    return f"line {tok.line}, column {tok.column}"


def last_music_index(body: list[T.Token]) -> int | None:
    """Return the index of the last body token that is music (not space, comment or field)."""
    for i in range(len(body) - 1, -1, -1):
        if body[i].kind not in QUIET and body[i].kind != T.FIELD:
            return i
    return None
