"""A small live plot of training and validation loss, painted with QPainter.

`add_point(step, train_loss, val_loss=None)` appends and repaints; `point_count()` tells what
the user sees. No chart library needed, and it stays cheap with thousands of points.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

TRAIN_COLOUR = QColor("#1f77b4")
VALID_COLOUR = QColor("#d62728")


class LossPlot(QWidget):
    """Train loss (blue) and validation loss (red) against the training step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train: list[tuple[float, float]] = []
        self.valid: list[tuple[float, float]] = []
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Loss (lower is better): blue = training, red = validation")

    def clear(self) -> None:
        self.train.clear()
        self.valid.clear()
        self.update()

    def add_point(self, step: float, train_loss: float | None,
                  val_loss: float | None = None) -> None:
        if train_loss is not None and math.isfinite(train_loss):
            self.train.append((step, train_loss))
        if val_loss is not None and math.isfinite(val_loss):
            self.valid.append((step, val_loss))
        self.update()

    def point_count(self) -> int:
        return len(self.train) + len(self.valid)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        area = QRectF(self.rect()).adjusted(44, 10, -10, -24)
        painter.setPen(self.palette().text().color())
        painter.drawRect(area)
        points = self.train + self.valid
        if not points:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "Loss curves appear here")
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

        for i in range(5):
            y = y0 + (y1 - y0) * i / 4
            pos = to_screen(x0, y)
            painter.drawText(QRectF(0, pos.y() - 8, 40, 16),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{y:.2f}")
        painter.drawText(QRectF(area.left(), area.bottom() + 4, area.width(), 16),
                         Qt.AlignmentFlag.AlignCenter, f"step {int(x0)} … {int(x1)}")
        for series, colour in ((self.train, TRAIN_COLOUR), (self.valid, VALID_COLOUR)):
            if not series:
                continue
            path = QPainterPath(to_screen(*series[0]))
            for x, y in series[1:]:
                path.lineTo(to_screen(x, y))
            painter.setPen(QPen(colour, 2))
            painter.drawPath(path)
            if len(series) == 1 or colour == VALID_COLOUR:
                for x, y in series:
                    painter.drawEllipse(to_screen(x, y), 2.5, 2.5)
