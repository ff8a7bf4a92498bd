"""Words for the demos: a simple tokenizer and the word vocabulary that travels with a demo model.

The next-word and sentiment demos read English a word at a time. `tokenize` lowercases and
splits text into words (letters and digits, with inner apostrophes: "don't") and single
punctuation marks, so "Boston. I" is three tokens. `WordVocab` maps tokens to indices with
three reserved entries: padding (0, never predicted), unknown (1, for words the model never
saw) and sentence start (2, the step every sequence begins with, so even empty text has a
prediction). Torch-free, so the CLI's --help and the GUI's first paint stay fast.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from model.errors import ModelError

PAD, UNK, START = "<pad>", "<unk>", "<s>"
RESERVED = (PAD, UNK, START)
PAD_ID, UNK_ID, START_ID = 0, 1, 2
MAX_WORD_CHARS = 40    # longer "words" (a pasted hash, a URL) are cut to this length

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Split `text` into lowercase words and punctuation marks ("I'm here." -> i'm here .)."""
    return [t[:MAX_WORD_CHARS] for t in _TOKEN.findall(text.lower())]


class WordVocab:
    """An ordered list of distinct tokens, the three reserved ones first."""

    def __init__(self, words: Sequence[str]) -> None:
        words = list(words)
        if tuple(words[:3]) != RESERVED:
            words = list(RESERVED) + [w for w in words if w not in RESERVED]
        if any(not isinstance(w, str) or not w for w in words):
            raise ModelError("a word vocabulary holds non-empty strings only")
        if len(set(words)) != len(words):
            raise ModelError("a word vocabulary must not repeat a word")
        self.words: list[str] = words
        self.index: dict[str, int] = {w: i for i, w in enumerate(words)}

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 1,
                   max_size: int = 5000) -> "WordVocab":
        """Build the vocabulary of `texts`: words seen `min_count` times, the commonest first.

        At most `max_size` entries (reserved ones included); ties are broken alphabetically so
        the same texts always give the same vocabulary.
        """
        counts = Counter(w for text in texts for w in tokenize(text))
        ranked = sorted((w for w, n in counts.items() if n >= min_count and w not in RESERVED),
                        key=lambda w: (-counts[w], w))
        return cls(list(RESERVED) + ranked[:max(0, max_size - len(RESERVED))])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WordVocab) and other.words == self.words

    def encode(self, tokens: Iterable[str], start: bool = True) -> list[int]:
        """Return the indices of `tokens`, led by the sentence start; unseen words become UNK."""
        get = self.index.get
        ids = [get(t, UNK_ID) for t in tokens]
        return [START_ID] + ids if start else ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Return the tokens of `ids`."""
        return [self.words[i] for i in ids]

    def unknown(self, tokens: Iterable[str]) -> list[str]:
        """Return the tokens this vocabulary lacks, in order of first appearance."""
        return list(dict.fromkeys(t for t in tokens if t not in self.index))
