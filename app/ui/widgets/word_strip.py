"""The sentiment demo's strip: each word of the text with the model's P(positive) after it.

A row of boxes painted with QPainter, red for negative through white to green for positive,
the word above and the percentage below, so the reader sees the model change its mind as it
reads ("good" ... "not" ... "bad"). `set_words([(word, p), ...])` replaces the row;
`word_count()` tells what the user sees. Long texts scroll horizontally in the panel.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QWidget

PAD = 6


def colour_for(p: float) -> QColor:
    """Red (0) through white (0.5) to green (1)."""
    p = min(max(p, 0.0), 1.0)
    if p < 0.5:
        t = p / 0.5
        return QColor(int(214 + 41 * t), int(39 + 216 * t), int(40 + 215 * t))
    t = (p - 0.5) / 0.5
    return QColor(int(255 - 211 * t), int(255 - 95 * t), int(255 - 211 * t))


class WordStrip(QWidget):
    """Words in coloured boxes, left to right, each with the probability after reading it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.words: list[tuple[str, float]] = []
        self.setToolTip("P(positive) after each word: red negative, green positive")
        self.setMinimumHeight(56)

    def set_words(self, words: list[tuple[str, float]]) -> None:
        self.words = list(words)
        self.updateGeometry()
        self.adjustSize()
        self.update()

    def word_count(self) -> int:
        return len(self.words)

    def _widths(self) -> list[int]:
        metrics = QFontMetrics(self.font())
        return [max(metrics.horizontalAdvance(w), metrics.horizontalAdvance("100%")) + 2 * PAD
                for w, _ in self.words]

    def sizeHint(self) -> QSize:
        return QSize(sum(self._widths()) + PAD * (len(self.words) + 1), 56)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        height = self.height() - 2 * PAD
        if not self.words:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "The model's view after each word appears here")
            return
        x = PAD
        for (word, p), width in zip(self.words, self._widths()):
            box = QRectF(x, PAD, width, height)
            painter.setPen(QColor("#888888"))
            painter.setBrush(colour_for(p))
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(QColor("#000000"))
            painter.drawText(box.adjusted(0, 2, 0, -height / 2), Qt.AlignmentFlag.AlignCenter,
                             word)
            painter.drawText(box.adjusted(0, height / 2, 0, -2), Qt.AlignmentFlag.AlignCenter,
                             f"{p:.0%}")
            x += width + PAD
