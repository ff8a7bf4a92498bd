"""Training text: the normalised form of a tune that the model learns from and generates.

`training_text(tune)` writes one tune as:

- header lines in the canonical order X, O, T, R, M, L, Q, K, each once, as `X:value` with single
  spaces inside the value. `X:` is `X:1` (reference numbers carry no music, so a model
  never spends anything on them) unless `keep_number` writes the tune's own number (for one
  tune in eight, `numbered`: a model that is to score tune books as written then learns that
  numbers vary, while `X:1`, with which generation starts every tune, still stands for any
  tune); with `keep_header` (`TextOptions.headers`) the header after `X:` and `O:` is instead
  the tune's own as its book writes it (fields in order, values as written, every title;
  bibliographic fields dropped), for a model meant to read tune books as written; `O:` is the
  tune's style (`app.music.styles`: irish, german,
  ...) only when a `style` is given; `T:` (the first title) only with `keep_title=True`; `R:`
  is the tune's rhythm, written in lower case when it is a known dance or tune type (`R: REEL` -> `R:reel`, `slipjig` -> `slip jig`,
  `double jig` -> `jig`), kept as written otherwise, and filled in when the tune has none but
  its title ("Lanigan's Ball -- Jig") or its book's section heading names one rhythm that fits
  its meter; M, L and Q are written when the tune has them; K always, with the tonic and mode
  in their short spelling (`K: E Minor` -> `K:Em`, `ADor` -> `Ador`, `Amaj` -> `A`).
- Dropped header fields: notes, sources, books, discography, transcription, history, origin
  as written (the style replaces it), area, composer, parts order, instructions, voices and
  words (N, S, B, D, Z, H, O, A, C, P, I, V, W, G, F, U, ...). They do not change the notes
  music21 plays, except that `P:` part orders and `V:` voice definitions are ignored by
  music21 anyway.
- The body keeps every music line and the inline field lines that change the music
  (K, L, M, Q, P, V; inline `[K:...]` fields stay inside their lines). It drops `%` comments
  (trailing ones too, `\\%` is kept), `%%` directives (including `%%MIDI`, which only steer
  abc2midi's playback), lyrics (`w:`, `W:`), body titles and notes (`T:`, `N:` ...), `+:`
  continuations, trailing white space and lines left empty, so that no blank line (which ends
  a tune in ABC) appears inside a tune. Performer annotations (fingering digits, bowing
  marks, free text in quotes: `app.music.annotations`) leave the body lines unless
  `keep_annotations`; the split hash keeps them (`app.music.corpus.is_validation_tune`).
- Line endings are `\\n` and the text ends with one `\\n`.

`TextOptions` holds what training uses by default (titles and styles kept, annotations
dropped) and `tune_text(tune, options)` applies it; `training_text` alone keeps no title or
style, so the prime of a continued tune does not depend on them. `corpus_text(tunes)` joins tunes with one blank line
between them, as the model sees them; generated text is split back into tunes at blank lines.
No music21 is imported here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

from app.music.annotations import strip_performer_annotations
from app.music.styles import style_of
from app.music.tunebook import Tune, strip_comment

# Field lines ABC 2.1 allows in a tune body, and those of them that change the music.
_BODY_FIELD_LETTERS = frozenset("IKLMmNPQRrsTUVWw+")
_BODY_FIELDS = frozenset("KLMPQV")

# Canonical rhythm names and the meters they fit (an empty set: any meter).
_COMMON_TIME = {"C", "C|", "4/4", "2/2"}
RHYTHM_METERS: dict[str, set[str]] = {
    "reel": _COMMON_TIME | {"2/4"},
    "jig": {"6/8", "12/8"},
    "slip jig": {"9/8", "9/4"},
    "hornpipe": _COMMON_TIME | {"2/4"},
    "polka": {"2/4", "4/4"},
    "waltz": {"3/4", "3/8"},
    "march": _COMMON_TIME | {"2/4", "6/8", "12/8", "3/4"},
    "strathspey": _COMMON_TIME,
    "slide": {"12/8", "6/8"},
    "mazurka": {"3/4"},
    "air": set(),
    "highland fling": _COMMON_TIME,
    "clog": _COMMON_TIME | {"2/4"},
    "schottische": _COMMON_TIME | {"2/4"},
    "barndance": _COMMON_TIME,
    "set dance": set(),
    "minuet": {"3/4", "3/8"},
    "gavotte": _COMMON_TIME,
}
_RHYTHM_SPELLINGS = {
    "reels": "reel", "jigs": "jig", "jigg": "jig", "double jig": "jig", "single jig": "jig",
    "slipjig": "slip jig", "slip-jig": "slip jig", "hop jig": "slip jig", "hornpipes": "hornpipe",
    "polkas": "polka", "waltzes": "waltz", "valse": "waltz", "marches": "march",
    "quickstep": "march", "quick step": "march", "quick march": "march",
    "strathspeys": "strathspey", "slides": "slide", "mazurkas": "mazurka", "airs": "air",
    "fling": "highland fling", "barn dance": "barndance", "minuets": "minuet",
}
_TITLE_RHYTHM = re.compile(
    r"\b(slip[\s-]?jigg?|hop jig|double jigg?|single jigg?|jigg?|reels?|hornpipes?|polkas?|"
    r"waltz|valse|quick[\s-]?step|quick march|march|strathspeys?|slide|mazurkas?|air|"
    r"highland fling|fling|clog|schottische|barn dance|set dance|minuet|gavotte)\b",
    re.IGNORECASE)


def canonical_rhythm(value: str) -> str:
    """Return the canonical lower-case name of a rhythm, or the value tidied when unknown."""
    tidy = " ".join(value.split())
    name = re.sub(r"[\s-]+", " ", tidy.lower().strip(" .,;"))
    name = _RHYTHM_SPELLINGS.get(name, name)
    return name if name in RHYTHM_METERS else tidy


def _fits_meter(rhythm: str, meter: str) -> bool:
    meters = RHYTHM_METERS.get(rhythm, set())
    return not meters or not meter or meter.replace(" ", "") in meters


def rhythm_of(tune: Tune) -> str:
    """Return the tune's rhythm: its `R:`, else one named by its titles or book section.

    A rhythm taken from a title or section is used only when it is the only one named and it
    fits the tune's meter (a "jig" in 3/4 is not clear); "" when nothing is clear.
    """
    if tune.rhythm:
        return canonical_rhythm(tune.rhythm)
    titles = " ".join(value for name, value in tune.fields if name == "T")
    named = {canonical_rhythm(m.group(1)) for m in _TITLE_RHYTHM.finditer(titles)}
    if not named and tune.section:
        named = {canonical_rhythm(tune.section)}
    if len(named) == 1:
        rhythm = named.pop()
        if _fits_meter(rhythm, tune.meter):
            return rhythm
    return ""


_MODES = {"maj": "", "ion": "", "min": "m", "m": "m", "aeo": "m", "mix": "mix", "dor": "dor",
          "phr": "phr", "lyd": "lyd", "loc": "loc"}
_TONIC = re.compile(r"^([A-G][#b]?)([A-Za-z]*)$")


def canonical_key(value: str) -> str:
    """Return a key in its short ABC spelling: "E Minor" -> "Em", "ADor" -> "Ador", "G" -> "G".

    Only the tonic and mode are rewritten (ABC reads just the first three letters of a mode);
    explicit accidentals and clefs after them, and keys like "none" or "HP", are kept as written.
    """
    tokens = value.split()
    if not tokens:
        return ""
    match = _TONIC.match(tokens[0])
    if not match:
        return " ".join(tokens)
    tonic, mode, rest = match.group(1), match.group(2), tokens[1:]
    if not mode and rest and rest[0].isalpha():
        mode, rest = rest[0], rest[1:]
    short = _MODES.get(mode.lower()[:3] if len(mode) > 1 else mode)
    if short is None:
        return " ".join(tokens)
    return " ".join([tonic + short] + rest)


def _field_line(letter: str, value: str) -> str:
    if letter == "K":
        return f"K:{canonical_key(value)}"
    return f"{letter}:{' '.join(value.split())}"


def _body_lines(body: str, keep_annotations: bool) -> Iterable[str]:
    for line in body.split("\n"):
        if line.startswith("%"):
            continue
        if len(line) > 1 and line[1] == ":" and line[0] in _BODY_FIELD_LETTERS:
            if line[0] in _BODY_FIELDS:
                yield _field_line(line[0], strip_comment(line[2:]))
            continue
        if "%" in line:
            line = strip_comment(line)
        line = line.rstrip()
        if line and not keep_annotations:
            line = strip_performer_annotations(line)
        if line:
            yield line


@dataclass(frozen=True)
class TextOptions:
    """How tunes become the text a model trains on; the defaults are what training uses."""

    titles: bool = True         # keep the first T: title (the model learns to name its tunes)
    styles: bool = True         # write O:<style> when the tune's style is known
    annotations: bool = False   # keep performer annotations (fingerings, bowings, text quotes)
    numbers: bool = False       # keep the X: number of one tune in 8 (`numbered`; else X:1)
    headers: bool = False       # keep the header fields as the file writes them (see below)

    def to_dict(self) -> dict[str, bool]:
        """The options as a model file's summary keeps them."""
        return asdict(self)

    @classmethod
    def from_dict(cls, text: dict) -> "TextOptions":
        """The options a model file's summary names (an option it does not name: off)."""
        return cls(**{f.name: bool(text.get(f.name)) for f in fields(cls)})


# With TextOptions.numbers, one tune in NUMBERED_ONE_IN keeps its X: number (see `numbered`).
NUMBERED_ONE_IN = 8


def numbered(tune: Tune) -> bool:
    """Tell whether the tune is one of those (one in NUMBERED_ONE_IN, by a hash of its music)
    whose X: number the training text keeps when asked to: enough for a model to learn that
    numbers vary, while `X:1`, with which generation starts every tune, keeps standing for any
    tune (kept for all, it would mean "the first of its book": in music21's corpus 987 of the
    990 tunes numbered 1 are American, one per file)."""
    digest = hashlib.blake2b(tune.body.encode("utf-8"), digest_size=4).digest()
    return digest[0] % NUMBERED_ONE_IN == 0


# Header fields that name where a transcription came from, not the tune (dropped as written too).
BIBLIOGRAPHIC = frozenset("BDFHNSZ")


def training_text(tune: Tune, keep_title: bool = False, keep_annotations: bool = False,
                  style: str = "", keep_number: bool = False, keep_header: bool = False) -> str:
    """Return the tune as normalised training text (see the module docstring); ends with "\\n".

    `style` is written as the `O:` line when not empty (see `tune_text` for the defaults).
    With `keep_header` the header is the tune's own as written (`written_header`).
    """
    number = " ".join(tune.number.split()) if keep_number and numbered(tune) else ""
    lines = [f"X:{number or 1}"]
    if style:
        lines.append(f"O:{style}")
    if keep_header:
        lines += written_header(tune, keep_title)
        lines.extend(_body_lines(tune.body, keep_annotations))
        return "\n".join(lines) + "\n"
    if keep_title and tune.title:
        lines.append(_field_line("T", tune.title))
    rhythm = rhythm_of(tune)
    if rhythm:
        lines.append(_field_line("R", rhythm))
    for letter in "MLQ":
        value = tune.field(letter)
        if value:
            lines.append(_field_line(letter, value))
    lines.append(_field_line("K", tune.key))
    lines.extend(_body_lines(tune.body, keep_annotations))
    return "\n".join(lines) + "\n"


def written_header(tune: Tune, keep_titles: bool = True) -> list[str]:
    """The tune's header lines after X: as its book writes them: the file-header fields it does
    not set itself, then its own, in order, values as written; less the bibliographic fields,
    `O:` (the style line stands for it) and, unless `keep_titles`, every `T:`."""
    return [f"{n}:{v.strip()}" for n, v in tune.written_fields()
            if n not in BIBLIOGRAPHIC and n not in ("X", "O") and (keep_titles or n != "T")]


def tune_text(tune: Tune, options: TextOptions = TextOptions()) -> str:
    """Return the tune's training text as `options` ask (the training defaults unless given)."""
    return training_text(tune, options.titles, options.annotations,
                         style_of(tune) if options.styles else "", options.numbers,
                         options.headers)


def corpus_text(tunes: Iterable[Tune], keep_title: bool = False,
                options: TextOptions | None = None) -> str:
    """Return the training texts of `tunes` joined by one blank line, as the model sees them.

    With `options` they are written by `tune_text`; without, by `training_text(tune,
    keep_title)` (no style, annotations dropped).
    """
    if options is not None:
        return "\n".join(tune_text(tune, options) for tune in tunes)
    return "\n".join(training_text(tune, keep_title) for tune in tunes)


def split_generated_text(text: str) -> list[str]:
    """Split text in the training format back into tunes at blank lines (empty pieces dropped)."""
    pieces = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [piece.strip("\n") + "\n" for piece in pieces if piece.strip()]


def title_digest(title: str) -> str:
    """Return 8 hex digits naming a title whatever its case, punctuation or leading "The"
    ("The Kesh", "KESH." and "kesh" give the same): how a model file stores its training
    titles, so generation can tell a title it copied without keeping the titles themselves."""
    words = re.findall(r"[^\W_]+", title.casefold())
    if words and words[0] == "the":
        words = words[1:]
    return hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=4).hexdigest()
