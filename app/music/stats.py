"""Corpus statistics: how many tunes and characters, which characters, keys, meters, unit note
lengths and rhythms a set of tunes holds, measured on the training text the model would see.

Used by `python main.py info` and by the GUI's corpus panel; no music21, so it runs on the fast
path (a fraction of a second for the built-in corpora).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from app.music.normalize import TextOptions, canonical_key, rhythm_of, tune_text
from app.music.tunebook import Tune

NONE = "(none)"  # the count label of tunes that lack a field


@dataclass
class CorpusStats:
    """Counts over a set of tunes; the dicts are ordered by count, most common first."""

    tunes: int = 0
    characters: int = 0        # length of the training text (tunes joined by blank lines)
    charset: str = ""          # every distinct character of the training text, sorted
    keys: dict[str, int] = field(default_factory=dict)
    meters: dict[str, int] = field(default_factory=dict)
    unit_lengths: dict[str, int] = field(default_factory=dict)
    rhythms: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return the statistics as plain JSON-ready data."""
        return asdict(self)


def _ordered(counter: Counter) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _tidy(value: str) -> str:
    return " ".join(value.split()) or NONE


def corpus_stats(tunes: Iterable[Tune], options: TextOptions = TextOptions()) -> CorpusStats:
    """Count the tunes, training-text characters, keys, meters, unit lengths and rhythms; the
    characters are those of the training text as `options` write it (training's defaults)."""
    keys: Counter = Counter()
    meters: Counter = Counter()
    units: Counter = Counter()
    rhythms: Counter = Counter()
    chars: set[str] = set()
    count = characters = 0
    for tune in tunes:
        text = tune_text(tune, options)
        count += 1
        characters += len(text)
        chars.update(text)
        keys[canonical_key(tune.key) or NONE] += 1
        meters[_tidy(tune.meter)] += 1
        units[_tidy(tune.unit_length)] += 1
        rhythms[rhythm_of(tune) or NONE] += 1
    if count:
        characters += count - 1  # the blank lines between tunes
        chars.add("\n")
    return CorpusStats(tunes=count, characters=characters, charset="".join(sorted(chars)),
                       keys=_ordered(keys), meters=_ordered(meters), unit_lengths=_ordered(units),
                       rhythms=_ordered(rhythms))
