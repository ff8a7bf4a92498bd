"""A small, fast tokeniser for one ABC tune: header fields, then the body's musical tokens.

The checker (`checker.py`) and the repair (`repair.py`) work on these tokens; both must run
on every generated tune, so this is pure Python with one compiled regular expression and no
music21. Every token keeps its 1-based line and column in the tune's text, so problems can be
shown where they are. Anything the grammar below does not know becomes an `ERROR` token with
a message instead of an exception: the tokeniser never fails.

The grammar is deliberately the subset of ABC 2.1 that music21 reads the same way (for
instance `+trill+` decorations and `&` voice overlays are reported, not guessed at).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

# Token kinds.
FIELD = "field"              # a header or body field line "M:6/8"; value (letter, text)
INLINE_FIELD = "inline"      # "[M:3/4]"; value (letter, text)
COMMENT = "comment"
SPACE = "space"              # blanks, backquotes, "y" spacers, line continuations
NEWLINE = "newline"
BAR = "bar"                  # "|", "||", "|]", "[|", "[|]", "|:", ":|", "::", ":|:", ":||:"
ENDING = "ending"            # "[1", "[2", "1" right after a bar line; value: the numbers
NOTE = "note"                # value: length multiplier (Fraction)
REST = "rest"                # "z"; value: length multiplier
MULTI_REST = "multi_rest"    # "Z", "Z4"; value: number of bars (int)
CHORD_OPEN = "chord_open"    # "["
CHORD_CLOSE = "chord_close"  # "]" with an optional length; value: multiplier
GRACE_OPEN = "grace_open"    # "{" or "{/"
GRACE_CLOSE = "grace_close"
SLUR_OPEN = "slur_open"
SLUR_CLOSE = "slur_close"
TUPLET = "tuplet"            # "(3", "(3:2:3"; value (p, q or None, r or None)
BROKEN = "broken"            # ">", "<<"; value: the multiplier of the note before it
TIE = "tie"
QUOTE = "quote"              # a chord symbol or annotation "Am"
DECORATION = "decoration"    # "!trill!", "~", "T", "."
ERROR = "error"              # value: (problem code, message)

DECORATION_LETTERS = ".~HLMOPSTuvk"
BAR_TEXTS = frozenset({"|", "||", "|]", "[|", "|:", ":|", "::", ":|:", ":||:", "[|:", ":|]"})

_BODY = re.compile(r"""
  (?P<comment>%.*)
| (?P<space>[ \t`]+|\\[ \t]*$|y)
| (?P<quote>"[^"]*")
| (?P<quote_open>".*)
| (?P<deco>![^!\s]{1,18}!)
| (?P<deco_plus>\+[^+\s]*\+)
| (?P<bang>!)
| (?P<inline>\[[A-Za-z]:[^\]]*\])
| (?P<inline_open>\[[A-Za-z]:.*)
| (?P<bar_all>(?P<bar>\[\|\]|\[\|:*|:*\|[|\]]?:*|::+)(?P<bar_ending>\d+(?:[,-]\d+)*)?)
| (?P<ending>\[\d+(?:[,-]\d+)*)
| (?P<chord_open>\[)
| (?P<chord_close>\](?P<chord_len>\d*/*\d*))
| (?P<grace_open>\{/?)
| (?P<grace_close>\})
| (?P<tuplet>\((?P<tp>[2-9])(?::(?P<tq>\d?)(?::(?P<tr>\d?))?)?)
| (?P<slur_open>\()
| (?P<slur_close>\))
| (?P<broken>>{1,3}|<{1,3})
| (?P<tie>-)
| (?P<note>(?P<acc>\^\^|\^|__|_|=)?[A-Ga-g][,']*(?P<note_len>\d*/*\d*))
| (?P<accidental>\^\^|\^|__|_|=)
| (?P<rest>z(?P<rest_len>\d*/*\d*))
| (?P<invisible_rest>x\d*/*\d*)
| (?P<multi_rest>[ZX](?P<bars>\d*))
| (?P<fermata_note>H(?=[.~LOPSTuvk]*[\^=_A-Ga-gzx]))
| (?P<deco_letter>[.~HLMOPSTuvk])
| (?P<other>.)
""", re.VERBOSE)

# A line "X:..." is a field, except where the letter can start music and ":|" follows
# ("e:|", "z:|" are a note or rest then a repeat); "I:|| ::" (Aird's and O'Neill's
# instruction lines) is a field.
_FIELD_LINE = re.compile(r"([A-Ga-gxzXZ]):(?!\|)(.*)|([H-WYh-wy]):(.*)")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its exact text, where it starts (1-based) and a parsed value."""

    kind: str
    text: str
    line: int
    column: int
    value: object = None


@lru_cache(maxsize=512)
def length_multiplier(text: str) -> Fraction:
    """Return the multiplier of the unit note length that "2", "3/2", "/", "//", "/4" mean.

    An empty text means 1. "3//" is 3/4: each bare slash halves, "/n" divides by n.
    """
    if not text:
        return Fraction(1)
    digits, _, rest = text.partition("/")
    numerator = int(digits) if digits else 1
    if not _ and not rest:
        return Fraction(numerator)
    slashes = 1 + len(rest) - len(rest.lstrip("/"))
    tail = rest.lstrip("/")
    denominator = int(tail) * 2 ** (slashes - 1) if tail else 2 ** slashes
    return Fraction(numerator, denominator)


_BROKEN = {">": Fraction(3, 2), ">>": Fraction(7, 4), ">>>": Fraction(15, 8),
           "<": Fraction(1, 2), "<<": Fraction(1, 4), "<<<": Fraction(1, 8)}


def tokenize_line(text: str, line: int, column: int = 1) -> list[Token]:
    """Split one body line (no line break) into tokens; never raises."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        m = _BODY.match(text, pos)
        kind = m.lastgroup
        tok = m.group()
        col = column + pos
        value: object = None
        if kind == "space" or kind == "comment":
            kind = SPACE if kind == "space" else COMMENT
        elif kind in _LENGTH_GROUPS and _length_problem(m.group(_LENGTH_GROUPS[kind])):
            kind, value = ERROR, _length_problem(m.group(_LENGTH_GROUPS[kind]))
        elif kind == "note":
            kind, value = NOTE, length_multiplier(m.group("note_len"))
        elif kind == "bar_all":
            tokens.append(Token(BAR, m.group("bar"), line, col))
            ending = m.group("bar_ending")
            if ending:
                tokens.append(Token(ENDING, ending, line, col + len(m.group("bar")), ending))
            pos = m.end()
            continue
        elif kind == "invisible_rest":
            tokens.append(Token(ERROR, "", line, col, _error_message(kind, tok)))
            kind, value = REST, length_multiplier(tok[1:])
        elif kind == "rest":
            kind, value = REST, length_multiplier(m.group("rest_len"))
        elif kind == "chord_close":
            kind, value = CHORD_CLOSE, length_multiplier(m.group("chord_len"))
        elif kind == "tuplet":
            q, r = m.group("tq"), m.group("tr")
            value = (int(m.group("tp")), int(q) if q else None, int(r) if r else None)
            kind = TUPLET
        elif kind == "broken":
            kind, value = BROKEN, _BROKEN[tok]
        elif kind == "multi_rest":
            kind, value = MULTI_REST, int(m.group("bars") or 1)
        elif kind == "inline":
            kind, value = INLINE_FIELD, (tok[1], tok[3:-1].strip())
        elif kind == "ending":
            kind, value = ENDING, tok[1:]
        elif kind in ("deco", "deco_letter"):
            kind = DECORATION
        elif kind in _SIMPLE:
            kind = _SIMPLE[kind]
        else:
            kind, value = ERROR, _error_message(kind, tok)
        tokens.append(Token(kind, tok, line, col, value))
        pos = m.end()
    return tokens


# Groups of _BODY whose text ends in a note length (or a bar count), and the sub-group holding it.
_LENGTH_GROUPS = {"note": "note_len", "rest": "rest_len", "chord_close": "chord_len",
                  "invisible_rest": "invisible_rest", "multi_rest": "bars"}
_MAX_DIGITS = 9   # longer numbers are not music (and Python refuses int() past 4,300 digits)


def _length_problem(length: str) -> tuple[str, str] | None:
    """Return (code, message) for a length like "/0" or "99999999999", else None."""
    digits = re.findall(r"\d+", length)
    if any(len(run) > _MAX_DIGITS for run in digits):
        return "huge-length", f"the number in {_short(length)} is too large"
    _, slash, tail = length.partition("/")
    tail = tail.lstrip("/")
    if slash and tail and int(tail) == 0:
        return "zero-length", f"the length {length} divides by zero"
    return None


def _short(text: str) -> str:
    return text if len(text) <= 20 else text[:17] + "..."


_SIMPLE = {"chord_open": CHORD_OPEN, "grace_open": GRACE_OPEN, "grace_close": GRACE_CLOSE,
           "slur_open": SLUR_OPEN, "slur_close": SLUR_CLOSE, "tie": TIE, "quote": QUOTE}


def _error_message(kind: str, tok: str) -> tuple[str, str]:
    """Return (problem code, message) for text the grammar does not accept."""
    if kind == "quote_open":
        return "unclosed-quote", "unclosed quote (chord symbol or annotation)"
    if kind == "deco_plus":
        return "bad-token", f"decoration {tok} is not supported; write it as !{tok[1:-1]}!"
    if kind == "bang":
        return "bad-token", "unclosed !decoration!"
    if kind == "inline_open":
        return "unfinished-field", f"unfinished inline field {tok.strip()}"
    if kind == "fermata_note":
        return "unsupported-decoration", "music21 drops a note marked H; write !fermata!"
    if kind == "invisible_rest":
        return "unsupported-rest", f"music21 drops the invisible rest {tok}; write z"
    if kind == "accidental":
        return "dangling-accidental", f"accidental {tok} without a note"
    return "bad-token", f"character {tok!r} is not ABC music"


@dataclass(frozen=True, slots=True)
class TuneTokens:
    """A tokenised tune: header fields (up to and including K:), then the body tokens."""

    header: list[Token]
    body: list[Token]
    lines: list[str]
    has_key: bool


def tokenize_tune(abc: str) -> TuneTokens:
    """Tokenise one tune's ABC text (header and body); never raises.

    The header is the run of field lines (and comments) at the top, ending with the first K:
    line; if there is no K:, it ends at the first line that is not a field.
    """
    lines = abc.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header: list[Token] = []
    body: list[Token] = []
    in_header, has_key = True, False
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if not stripped:
            continue
        if stripped.startswith("%"):
            if not in_header:
                body.append(Token(COMMENT, text, number, 1))
                body.append(Token(NEWLINE, "", number, len(text) + 1))
            continue
        m = _FIELD_LINE.match(text)
        field = (m.group(1) or m.group(3), (m.group(2) or m.group(4) or "").strip()) if m else None
        if in_header:
            if field:
                header.append(Token(FIELD, text, number, 1, field))
                if field[0] == "K":
                    in_header, has_key = False, True
                continue
            in_header = False
        if field:
            body.append(Token(FIELD, text, number, 1, field))
            body.append(Token(NEWLINE, "", number, len(text) + 1))
            continue
        body.extend(tokenize_line(text, number))
        body.append(Token(NEWLINE, "", number, len(text) + 1))
    return TuneTokens(header, body, lines, has_key)


def render_body(body: list[Token]) -> str:
    """Write body tokens back as text (the inverse of the body part of `tokenize_tune`)."""
    return "".join("\n" if tok.kind == NEWLINE else tok.text for tok in body)
