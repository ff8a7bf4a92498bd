"""Read the values of the ABC fields that set how a tune is counted and played: M:, L:, K:.

The checker judges header and inline fields with these, the repair uses them to choose
replacement values, and generation to validate its settings. Each parser returns None for a
value music21 would not read, rather than raising: a bad value is a finding, not an accident.
"""

from __future__ import annotations

import re
from fractions import Fraction

_METER = re.compile(r"(?:C\|?|none|[1-9]\d{0,3}(?:\+[1-9]\d{0,3})*/(?:1|2|4|8|16|32|64))$")
_UNIT = re.compile(r"([1-9]\d{0,3})/(1|2|4|8|16|32|64)$")
_MODES = ("", "m", "maj", "major", "min", "minor", "ion", "ionian", "dor", "dorian", "phr",
          "phrygian", "lyd", "lydian", "mix", "mixolydian", "aeo", "aeolian", "loc", "locrian")
_KEY = re.compile(r"(?:(?P<tonic>[A-G][#b]?)[ \t]*(?P<mode>(?i:%s)(?![A-Za-z=])|)|HP|Hp|none)"
                  r"(?P<rest>.*)$" % "|".join(sorted(_MODES[1:], key=len, reverse=True)))
_KEY_EXTRA = re.compile(
    r"(?:[_^=][a-gA-G]|(?:clef|middle|transpose|octave|stafflines|staffscale|m)=\S+"
    r"|(?:treble|bass|alto|tenor|baritone|perc|none)(?:[+-]8)?\d?)$")


def shorten(value: str) -> str:
    """Cut a field value for a message (a generated header can hold thousands of digits)."""
    return value if len(value) <= 40 else value[:37] + "..."


def parse_meter(value: str) -> tuple[Fraction | None, bool] | None:
    """Return (bar length in whole notes or None for free meter, compound?) or None if bad."""
    value = value.strip()
    if not _METER.match(value):
        return None
    if value == "none":
        return None, False
    if value.startswith("C"):
        return Fraction(1), False
    top, bottom = value.split("/")
    beats = sum(int(part) for part in top.split("+"))
    return Fraction(beats, int(bottom)), beats % 3 == 0 and beats > 3


def parse_unit_length(value: str) -> Fraction | None:
    """Return the unit note length of an L: value ("1/8") or None if malformed."""
    m = _UNIT.match(value.strip())
    return Fraction(int(m.group(1)), int(m.group(2))) if m else None


def is_valid_key(value: str) -> bool:
    """Tell whether a K: value is a key music21 reads: "D", "Ador", "F#m", "A dorian", "HP"."""
    m = _KEY.match(value.strip())
    if not m:
        return False
    return all(_KEY_EXTRA.match(part) for part in m.group("rest").split())


def default_unit_length(meter: Fraction | None) -> Fraction:
    """Return ABC's default L: for a meter: 1/16 below 3/4, else 1/8."""
    return Fraction(1, 16) if meter is not None and meter < Fraction(3, 4) else Fraction(1, 8)
