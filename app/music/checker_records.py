"""What the checker records while it walks a tune: problems, bars and the fields in force.

A `Problem` is one finding with its 1-based position (a `Finding` is one of the abc2midi
rules' findings, by token index, before it becomes a `Problem`); a `Bar` holds a bar's length, what
bounds it (a section or repeat boundary on either side) and the `Span` of every note, rest or
chord in it, by token index, so that the repair can cut or extend bars at the right token.
`State` carries the meter and unit length in force and collects the problems. The walker
(`checker_walker`) fills these in, the bar-length rules (`bar_lengths`) judge the bars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

from app.music import abc_tokens as T

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One fault in a tune: a short code, a message, where it is (1-based) and how bad."""

    code: str
    message: str
    line: int
    column: int
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.severity}: {self.message} [{self.code}]"


class Span(NamedTuple):
    """Where one note, rest or chord is in the body tokens, and how long it lasts."""

    start: int                # index of its first token (a chord's "[")
    end: int                  # index of its last token
    duration: Fraction        # in whole notes
    plain: bool               # its written length alone sets it (no tuplet, no broken rhythm)
    tuplet: int | None        # index of the tuplet token it belongs to


@dataclass
class Bar:
    """One bar with notes or rests: where it starts, how long it is and should be."""

    line: int
    column: int
    expected: Fraction | None   # the meter's bar length; None in free meter
    meter_text: str = ""
    duration: Fraction = Fraction(0)
    events: int = 0
    multi_rest: int = 0
    start_boundary: bool = False
    end_boundary: bool = False
    section_first: int = 0      # index of the first bar of its section
    spans: list[Span] = field(default_factory=list)
    bar_line: int | None = None  # index of the bar-line token that closes it


@dataclass(frozen=True)
class Finding:
    """One abc2midi error: its code, the token it is about, and a message."""

    code: str
    index: int          # a body token's index, or -1 - i for the header's token i
    message: str


@dataclass
class State:
    """The meter and unit length in force, and the problems found so far."""

    meter: Fraction | None = None
    meter_text: str = ""
    compound: bool = False
    unit: Fraction = Fraction(1, 8)
    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, tok: T.Token, severity: str = ERROR) -> None:
        """Record a problem at a token's position."""
        self.problems.append(Problem(code, message, tok.line, tok.column, severity))
