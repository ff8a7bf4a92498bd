"""Titles for generated tunes: the model's own, and whether a training tune has it already.

A model trained with titles (`T:` in its training text, `training["titles"]`) writes one after
`X:1` (and the style line `O:`), before any other header field. When the controls put header
fields into the prime (a key, a meter, a rhythm, a continued tune), the model never reaches that
point, so `sample_titles` first samples one title per variation from "X:1\\n[O:style\\n]T:" as a
small batch of its own, and `with_title` writes it into the finished tune. In the training text
the title follows only X: and O:, so this is the same distribution the model learned; the body
is then sampled under the controls' header, not under the title. `title_note` says whether
the title is the model's own or one of its training tunes' (by the digests the model file
keeps, `app.music.normalize.title_digest`). Models trained without titles (the old bundled one)
get none here, and the library names their tunes as before. GUI-free; torch only when sampling.
"""

from __future__ import annotations

import re

from app.music.normalize import title_digest
from model.hooks import END_KEEP, KEEP, SampleHook

MAX_TITLE_CHARS = 80
_ONLY_START = re.compile(r"^X:1\n(O:[^\n]*\n)?$")


class _TitleLine(SampleHook):
    """Ends each variation at the end of its title line."""

    def feed(self, row: int, ch: str) -> int:
        return END_KEEP if ch == "\n" else KEEP


def needs_sampled_titles(loaded, prime: str, asked_title: bool) -> bool:
    """Tell whether titles must be sampled apart: the model knows titles, none was asked
    for, and the prime goes past the point where the model would write one."""
    return bool(loaded.training.get("titles")) and not asked_title \
        and _ONLY_START.match(prime) is None


def sample_titles(loaded, count: int, style: str | None, temperature: float, seed: int,
                  stop=None) -> list[str]:
    """Sample `count` titles (one batch); "" where the model wrote none or only blanks."""
    from model.config import SampleConfig
    from model.sample import sample_rows

    prime = "X:1\n" + (f"O:{style}\n" if style else "") + "T:"
    config = SampleConfig(count=count, temperature=temperature, seed=(seed + 1) % 2 ** 31,
                          max_chars=MAX_TITLE_CHARS)
    rows, _ = sample_rows(loaded.model, loaded.vocab, config, prime, _TitleLine(), stop)
    titles = []
    for row in rows:
        text = loaded.vocab.decode(row.ids).split("\n", 1)[0]
        titles.append(" ".join(text.split()) if row.finished else "")
    return titles


def with_title(text: str, title: str) -> str:
    """Write `title` into a tune's header after its X: (and O:) line, unless it has a T:."""
    if not title:
        return text
    lines = text.split("\n")
    end = next((i for i, line in enumerate(lines) if line.startswith("K:")), len(lines))
    if any(line.startswith("T:") for line in lines[:end]):
        return text
    at = 1
    while at < end and lines[at].startswith("O:"):
        at += 1
    return "\n".join(lines[:at] + [f"T:{title}"] + lines[at:])


def header_title(text: str) -> str:
    """Return the first T: of a tune's header ("" when none)."""
    for line in text.split("\n"):
        if line.startswith("K:"):
            break
        if line.startswith("T:"):
            return line[2:].strip()
    return ""


def title_note(title: str, digests: str) -> str:
    """Say where a title the model wrote comes from, for its provenance ("" when none);
    `digests` are the model file's `title_digests`."""
    if not title:
        return ""
    digest = title_digest(title)
    known = any(digests[i:i + 8] == digest for i in _starts(digests, digest))
    return "the model's own, and a training tune's title too" if known \
        else "the model's own"


def _starts(digests: str, digest: str):
    """Positions of `digest` in the joined digests that fall on an 8-character boundary."""
    at = digests.find(digest)
    while at >= 0:
        if at % 8 == 0:
            yield at
        at = digests.find(digest, at + 1)
