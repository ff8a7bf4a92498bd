"""A small log-scale plot of gradient norms, painted with QPainter (no chart library).

Two uses in the Demos panel: the gradient flow through time (||dL/dh_t|| at each word of a long
input, relative to the last word) and the gradient norm at each training step (with the clip
threshold drawn as a dashed line). `set_series(values, labels, ...)` replaces what is shown;
`point_count()` tells what the user sees. Values are drawn on a log10 axis, since vanishing and
exploding gradients span many orders of magnitude; zeros and infinities are clamped to the
plot's edges.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

LINE_COLOUR = QColor("#1f77b4")
LIMIT_COLOUR = QColor("#d62728")
FLOOR = 1e-12


class GradientPlot(QWidget):
    """Values against their index on a log axis, with optional x labels and a reference line."""

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = empty_text
        self.values: list[float] = []
        self.labels: list[str] = []
        self.x_title = ""
        self.limit: float | None = None
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_series(self, values: list[float], labels: list[str] | None = None,
                   x_title: str = "", limit: float | None = None) -> None:
        """Show `values` (labels under some points, a dashed line at `limit`); repaint."""
        self.values = list(values)
        self.labels = list(labels or [])
        self.x_title = x_title
        self.limit = limit
        self.update()

    def clear(self) -> None:
        self.set_series([])

    def point_count(self) -> int:
        return len(self.values)

    def _range(self) -> tuple[float, float]:
        logs = [math.log10(max(v, FLOOR)) for v in self.values if math.isfinite(v)]
        if self.limit:
            logs.append(math.log10(self.limit))
        low, high = (min(logs), max(logs)) if logs else (0.0, 1.0)
        low, high = math.floor(low), math.ceil(high)
        return (low, high) if high > low else (low - 1, high + 1)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        bottom_margin = 44 if self.labels else 24
        area = QRectF(self.rect()).adjusted(52, 10, -10, -bottom_margin)
        text_pen = QPen(self.palette().text().color())
        painter.setPen(text_pen)
        painter.drawRect(area)
        if not self.values:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.empty_text)
            return
        low, high = self._range()
        count = max(1, len(self.values) - 1)

        def to_screen(index: float, value: float) -> QPointF:
            if not math.isfinite(value):
                y = high
            else:
                y = min(max(math.log10(max(value, FLOOR)), low), high)
            return QPointF(area.left() + index / count * area.width(),
                           area.bottom() - (y - low) / (high - low) * area.height())

        step = max(1, math.ceil((high - low) / 6))
        for exponent in range(int(low), int(high) + 1, step):
            pos = to_screen(0, 10.0 ** exponent)
            painter.drawText(QRectF(0, pos.y() - 8, 48, 16),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"1e{exponent}")
        self._draw_labels(painter, area, to_screen)
        if self.limit:
            painter.setPen(QPen(LIMIT_COLOUR, 1, Qt.PenStyle.DashLine))
            y = to_screen(0, self.limit).y()
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
        path = QPainterPath(to_screen(0, self.values[0]))
        for i, value in enumerate(self.values[1:], start=1):
            path.lineTo(to_screen(i, value))
        painter.setPen(QPen(LINE_COLOUR, 2))
        painter.drawPath(path)
        if len(self.values) <= 80:
            for i, value in enumerate(self.values):
                painter.drawEllipse(to_screen(i, value), 2.5, 2.5)

    def _draw_labels(self, painter: QPainter, area: QRectF, to_screen) -> None:
        if self.x_title:
            painter.drawText(QRectF(area.left(), area.bottom() + (22 if self.labels else 4),
                                    area.width(), 16), Qt.AlignmentFlag.AlignCenter, self.x_title)
        if not self.labels:
            return
        every = max(1, math.ceil(len(self.labels) * 46 / max(1.0, area.width())))
        metrics = painter.fontMetrics()
        for i in range(0, len(self.labels), every):
            x = to_screen(i, 1.0).x()
            label = metrics.elidedText(self.labels[i], Qt.TextElideMode.ElideRight, 58)
            painter.drawText(QRectF(x - 30, area.bottom() + 3, 60, 16),
                             Qt.AlignmentFlag.AlignCenter, label)
