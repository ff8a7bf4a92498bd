"""Syntax colouring for ABC text, checker problems underlined, and an optional probability map.

Header fields, bar lines, chords, decorations and comments get their own colours. Problems
(line, column, message) from the checker are underlined with a red wave; `problem_at()`
gives the message for a tooltip. With a heat map set, each generated character's background
shows how likely the model thought it was (red: surprising, none: confident).
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

_RULES = [
    (re.compile(r"^[A-Za-z]:.*$"), "#1f5fa8", True),        # header or inline field line
    (re.compile(r"\[[A-Za-z]:[^\]]*\]"), "#1f5fa8", False),  # inline field
    (re.compile(r":?\|[\]|:]?|\[\||::|\|\d?"), "#8a4b00", True),  # bar lines and repeats
    (re.compile(r'"[^"]*"'), "#2f7d32", False),              # chord symbols and annotations
    (re.compile(r"![^!]*!|[~.HLMOPSTuv](?=[A-Ga-gz])"), "#7b3fa0", False),  # decorations
    (re.compile(r"%.*$"), "#808080", False),                 # comments
]


def _format(colour: str, bold: bool) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(colour))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    return fmt


class AbcHighlighter(QSyntaxHighlighter):
    """Colours an ABC document; holds checker problems and per-character probabilities."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._formats = [(rx, _format(c, b)) for rx, c, b in _RULES]
        self._problems: dict[int, list[tuple[int, int, str]]] = {}
        self._probabilities: list[float] | None = None
        self.heatmap = False

    def set_problems(self, problems: list[tuple[int, int, str]]) -> None:
        """Underline problems given as (1-based line, 1-based column or 0, message)."""
        self._problems = {}
        for line, column, message in problems:
            self._problems.setdefault(max(line, 1) - 1, []).append((column, 0, message))
        self.rehighlight()

    def problem_count(self) -> int:
        return sum(len(p) for p in self._problems.values())

    def problem_at(self, block: int, column: int) -> str | None:
        """Return the message of a problem at this 0-based line and column, if any."""
        for start, _, message in self._problems.get(block, []):
            if start <= 0 or abs(column - (start - 1)) <= 2:
                return message
        return None

    def set_probabilities(self, probabilities: list[float] | None) -> None:
        """Give one probability per character of the document (None removes the map)."""
        self._probabilities = probabilities
        self.rehighlight()

    def has_probabilities(self) -> bool:
        return self._probabilities is not None

    def set_heatmap(self, on: bool) -> None:
        self.heatmap = on
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        for rx, fmt in self._formats:
            for match in rx.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)
        block = self.currentBlock()
        if self.heatmap and self._probabilities:
            self._paint_heat(text, block.position())
        for column, _, message in self._problems.get(block.blockNumber(), []):
            start = column - 1 if column > 0 else 0
            length = 1 if column > 0 else len(text)
            if start >= len(text):
                start, length = max(len(text) - 1, 0), 1
            fmt = self.format(start) if text else QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(Qt.GlobalColor.red)
            fmt.setToolTip(message)
            self.setFormat(start, max(length, 1), fmt)

    def _paint_heat(self, text: str, offset: int) -> None:
        probs = self._probabilities
        for i in range(len(text)):
            if offset + i >= len(probs):
                break
            p = probs[offset + i]
            if p >= 0.9:
                continue
            fmt = self.format(i)
            alpha = int(200 * (1.0 - max(p, 0.0)))
            fmt.setBackground(QColor(230, 60, 40, alpha))
            self.setFormat(i, 1, fmt)
