"""The character vocabulary that travels with a model: index <-> character, plus an unknown.

Index 0 is the unknown symbol (U+FFFD): characters a model never saw map to it on purpose
instead of crashing, and the sampler never emits it. Fine-tuning grows a vocabulary by
appending new characters, so every existing index keeps its meaning (and its weights).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from model.errors import ModelError

UNKNOWN = "\ufffd"


class Vocab:
    """An ordered set of single characters with UNKNOWN at index 0."""

    def __init__(self, chars: Sequence[str]) -> None:
        chars = list(chars)
        if not chars or chars[0] != UNKNOWN:
            chars = [UNKNOWN] + [c for c in chars if c != UNKNOWN]
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ModelError("a vocabulary holds single characters only")
        if len(set(chars)) != len(chars):
            raise ModelError("a vocabulary must not repeat a character")
        self.chars: list[str] = chars
        self.index: dict[str, int] = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        """Build the sorted vocabulary of `text` (plus UNKNOWN)."""
        return cls([UNKNOWN] + sorted(set(text) - {UNKNOWN}))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: str) -> bool:
        return char in self.index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and other.chars == self.chars

    def encode(self, text: str) -> list[int]:
        """Return the indices of `text`; unseen characters become 0 (UNKNOWN)."""
        get = self.index.get
        return [get(c, 0) for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        """Return the characters of `ids`."""
        chars = self.chars
        return "".join(chars[i] for i in ids)

    def unknown_chars(self, text: str) -> set[str]:
        """Return the characters of `text` missing from this vocabulary."""
        return set(text) - set(self.index)

    def grown(self, text: str) -> "Vocab":
        """Return this vocabulary with the characters of `text` it lacks appended (sorted)."""
        return Vocab(self.chars + sorted(self.unknown_chars(text)))
