"""A small live plot of training and validation loss in bits per character, painted with
QPainter: both axes titled and ticked, a legend, validations marked with dots.

`add_point(step, train_bits, val_bits=None)` appends and repaints; `point_count()` and
`captions()` tell what the user sees. No chart library needed, and it stays cheap with
thousands of points.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

TRAIN_COLOUR = QColor("#1f77b4")
VALID_COLOUR = QColor("#d62728")
X_TITLE = "step"
Y_TITLE = "bits per character"
TRAIN_NAME = "training (batch)"
VALID_NAME = "validation (held out)"


class LossPlot(QWidget):
    """Training loss (blue line) and validation loss (red line with dots), in bits per
    character, against the training step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train: list[tuple[float, float]] = []
        self.valid: list[tuple[float, float]] = []
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Loss in bits per character (lower is better): blue = the training "
                        "batches, red = the held-out validation tunes")

    def clear(self) -> None:
        self.train.clear()
        self.valid.clear()
        self.update()

    def add_point(self, step: float, train_bits: float | None,
                  val_bits: float | None = None) -> None:
        """Add a step's training loss and, when it was measured there, its validation loss
        (both in bits per character); values that are not finite are left out."""
        if train_bits is not None and math.isfinite(train_bits):
            self.train.append((step, train_bits))
        if val_bits is not None and math.isfinite(val_bits):
            self.valid.append((step, val_bits))
        self.update()

    def point_count(self) -> int:
        return len(self.train) + len(self.valid)

    def captions(self) -> dict[str, str]:
        """The words painted: the axes' titles and the legend's entries."""
        return {"x": X_TITLE, "y": Y_TITLE, "train": TRAIN_NAME, "valid": VALID_NAME}

    # -- painting -------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        text_colour = self.palette().text().color()
        line = QFontMetrics(self.font()).height()
        area = QRectF(self.rect()).adjusted(line + 44, 8, -10, -(2 * line + 8))
        painter.setPen(text_colour)
        painter.drawRect(area)
        self._draw_titles(painter, area, line)
        points = self.train + self.valid
        if not points:
            painter.drawText(area.adjusted(8, 0, -8, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "The loss curves appear here as the model learns")
            return
        x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
        y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
        if x1 == x0:
            x1 = x0 + 1
        if y1 - y0 < 1e-6:
            y0, y1 = y0 - 0.5, y1 + 0.5

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(area.left() + (x - x0) / (x1 - x0) * area.width(),
                           area.bottom() - (y - y0) / (y1 - y0) * area.height())

        self._draw_ticks(painter, area, line, to_screen, (x0, x1), (y0, y1))
        for series, colour in ((self.train, TRAIN_COLOUR), (self.valid, VALID_COLOUR)):
            if not series:
                continue
            path = QPainterPath(to_screen(*series[0]))
            for x, y in series[1:]:
                path.lineTo(to_screen(x, y))
            painter.setPen(QPen(colour, 2))
            painter.drawPath(path)
            if len(series) == 1 or colour == VALID_COLOUR:
                painter.setBrush(colour)
                for x, y in series:
                    painter.drawEllipse(to_screen(x, y), 3, 3)
                painter.setBrush(Qt.BrushStyle.NoBrush)
        self._draw_legend(painter, area, line, text_colour)

    def _draw_titles(self, painter: QPainter, area: QRectF, line: int) -> None:
        """The x title under the axis, the y title turned along the left edge."""
        painter.drawText(QRectF(area.left(), area.bottom() + line + 4, area.width(), line),
                         Qt.AlignmentFlag.AlignCenter, X_TITLE)
        painter.save()
        painter.translate(2, area.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-area.height() / 2, 0, area.height(), line),
                         Qt.AlignmentFlag.AlignCenter, Y_TITLE)
        painter.restore()

    def _draw_ticks(self, painter: QPainter, area: QRectF, line: int, to_screen,
                    xs: tuple[float, float], ys: tuple[float, float]) -> None:
        """Five loss values up the y axis, first, middle and last step along the x axis."""
        (x0, x1), (y0, y1) = xs, ys
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for i in range(5):
            y = y0 + (y1 - y0) * i / 4
            pos = to_screen(x0, y)
            painter.drawText(QRectF(area.left() - 44, pos.y() - line / 2, 40, line), right,
                             f"{y:.2f}")
        for x, align in ((x0, Qt.AlignmentFlag.AlignLeft), ((x0 + x1) / 2,
                                                             Qt.AlignmentFlag.AlignHCenter),
                         (x1, Qt.AlignmentFlag.AlignRight)):
            pos = to_screen(x, y0)
            box = QRectF(pos.x() - 60, area.bottom() + 2, 120, line)
            if align == Qt.AlignmentFlag.AlignLeft:
                box.moveLeft(pos.x())
            elif align == Qt.AlignmentFlag.AlignRight:
                box.moveRight(pos.x())
            painter.drawText(box, align | Qt.AlignmentFlag.AlignTop, f"{int(round(x)):,}")

    def _draw_legend(self, painter: QPainter, area: QRectF, line: int, text_colour) -> None:
        """Which colour is which, in the top right corner of the plot."""
        metrics = QFontMetrics(self.font())
        width = 28 + max(metrics.horizontalAdvance(TRAIN_NAME),
                         metrics.horizontalAdvance(VALID_NAME))
        box = QRectF(area.right() - width - 8, area.top() + 4, width + 4, 2 * line + 6)
        background = QColor(self.palette().base().color())
        background.setAlpha(220)
        painter.fillRect(box, background)
        for row, (name, colour) in enumerate(((TRAIN_NAME, TRAIN_COLOUR),
                                              (VALID_NAME, VALID_COLOUR))):
            y = box.top() + 3 + row * line + line / 2
            painter.setPen(QPen(colour, 2))
            painter.drawLine(QPointF(box.left() + 4, y), QPointF(box.left() + 20, y))
            if colour == VALID_COLOUR:
                painter.setBrush(colour)
                painter.drawEllipse(QPointF(box.left() + 12, y), 3, 3)
                painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(text_colour)
            painter.drawText(QRectF(box.left() + 24, y - line / 2, width, line),
                             Qt.AlignmentFlag.AlignVCenter, name)
