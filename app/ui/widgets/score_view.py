"""ScoreView: a tune's sheet music (verovio SVG drawn by Qt), following playback and edits.

Public API (all the main window needs):
- `set_abc(text)` (slot): show a tune; repeated calls within `DEBOUNCE_MS` engrave only once,
  so it can be connected straight to an editor's textChanged. `show_abc_now(text)` skips the wait.
- `set_position(seconds)` (slot): highlight the note sounding at this playback time, using the
  tune's tempo (its Q: field or the meter's default) or the one given to `set_tempo(qpm)`;
  the view scrolls to keep the note visible. `set_quarter_position(q)` takes quarter notes.
- Signals: `engraved(int note_heads)` after each successful engraving, `failed(str message)`
  when the ABC cannot be engraved. A failure shows the message and the offending line with a
  caret at the column above the last good score, never a blank page.
- Read-only: `note_count()`, `error_text()`, `current_note()` (verovio id or None).
Long tunes are one tall page inside the scroll area; the page is re-engraved to the viewport's
width when the view is resized.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from app.music.errors import MusicError
from app.ui.widgets.follow import DEBOUNCE_MS, FollowsPlayback  # noqa: F401 (DEBOUNCE_MS: API)

log = logging.getLogger(__name__)
HIGHLIGHT = QColor(255, 140, 0, 110)


class _Page(QWidget):
    """Paints the engraved pages from cached images and the highlight rectangle."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[QImage] = []
        self.offsets: list[int] = []
        self.boxes: dict[str, tuple[int, QRectF]] = {}  # note id -> (page, rect in page px)
        self.highlight: str | None = None
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QColor("white"))
        self.setPalette(pal)

    def sizeHint(self) -> QSize:
        width = max((img.width() for img in self.images), default=400)
        return QSize(width, (self.offsets[-1] + self.images[-1].height()) if self.images else 200)

    def highlight_rect(self) -> QRectF | None:
        if self.highlight not in self.boxes:
            return None
        page, rect = self.boxes[self.highlight]
        return rect.translated(0, self.offsets[page])

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        for image, top in zip(self.images, self.offsets):
            painter.drawImage(0, top, image)
        rect = self.highlight_rect()
        if rect is not None:
            painter.fillRect(rect, HIGHLIGHT)
        painter.end()


def render_page(svg: str) -> QImage:
    """Draw one verovio SVG page (flattened for Qt) into a white image of its size."""
    from app.music.notation import flatten_svg

    renderer = QSvgRenderer(QByteArray(flatten_svg(svg).encode("utf-8")))
    size = renderer.defaultSize()
    image = QImage(max(1, size.width()), max(1, size.height()), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, size.width(), size.height()))
    painter.end()
    return image


class ScoreView(FollowsPlayback, QScrollArea):
    """Sheet music of one ABC tune; see the module docstring for the API."""

    engraved = Signal(int)
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engraving = None
        self._init_follow(self._engrave)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(0, 0, 0, 0)
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._message.setTextFormat(Qt.TextFormat.RichText)
        self._message.setStyleSheet("QLabel { background: #fde8e8; color: #8a1010; padding: 6px; }")
        self._message.hide()
        self._page = _Page()
        layout.addWidget(self._message)
        layout.addWidget(self._page)
        layout.addStretch(1)
        self.setWidget(inner)
        self.setWidgetResizable(True)
        self._width = 0

    # -- public API -----------------------------------------------------------------------
    @Slot(float)
    def set_quarter_position(self, quarters: float) -> None:
        """Highlight the note sounding at a time in quarter notes from the start."""
        engraving = self._engraving
        note = None
        if engraving is not None and engraving.timeline:
            length = engraving.timeline[-1][1]
            note = engraving.note_at(quarters % length if length > 0 else quarters)
        if note != self._page.highlight:
            self._page.highlight = note
            rect = self._page.highlight_rect()
            if rect is not None:
                centre = rect.center()
                self.ensureVisible(int(centre.x()), int(centre.y() + self._page.y()), 60, 80)
            self._page.update()

    def note_count(self) -> int:
        """Number of note heads in the shown score (0 when none is shown)."""
        return self._engraving.note_count if self._engraving is not None else 0

    def current_note(self) -> str | None:
        """The verovio id of the highlighted note, or None."""
        return self._page.highlight

    # -- internals ------------------------------------------------------------------------
    def _engrave(self) -> None:
        from app.music.audio import tune_tempo_qpm
        from app.music.notation import engrave, note_boxes

        text = self._abc
        if not text.strip():
            self._show_pages(None, [])
            self._show_error("", "")
            return
        width = max(400, self.viewport().width() - 4)
        self._width = width
        try:
            engraving = engrave(text, width_px=width)
            images = [render_page(svg) for svg in engraving.pages]
        except MusicError as err:
            self._show_error(self._describe(err, text), str(err))
            self.failed.emit(str(err))
            return
        boxes = {}
        for index, svg in enumerate(engraving.pages):
            for note_id, (x, y, w, h) in note_boxes(svg).items():
                boxes[note_id] = (index, QRectF(x, y, w, h))
        self._engraving = engraving
        try:
            self._tempo = tune_tempo_qpm(text)
        except MusicError:
            self._tempo = None
        self._page.boxes = boxes
        self._show_pages(engraving, images)
        self._show_error("", "")
        self.engraved.emit(engraving.note_count)

    def _show_pages(self, engraving, images: list[QImage]) -> None:
        self._page.images = images
        self._page.offsets = []
        top = 0
        for image in images:
            self._page.offsets.append(top)
            top += image.height() + 8
        self._page.highlight = None
        if engraving is None:
            self._engraving = None
            self._page.boxes = {}
        self._page.setMinimumSize(self._page.sizeHint())
        self._page.updateGeometry()
        self._page.update()

    def _show_error(self, html: str, plain: str) -> None:
        self._error = plain
        self._message.setText(html)
        self._message.setVisible(bool(html))

    @staticmethod
    def _describe(err: MusicError, text: str) -> str:
        from html import escape

        head = f"<b>Cannot show this tune:</b> {escape(str(err))}"
        if err.line is None:
            return head
        lines = text.split("\n")
        if not 1 <= err.line <= len(lines):
            return head
        source = lines[err.line - 1]
        caret = " " * max(0, (err.column or 1) - 1) + "^"
        return (f"{head}<pre style='margin:4px 0 0 0'>{escape(source)}\n{caret}</pre>")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        width = max(400, self.viewport().width() - 4)
        if self._engraving is not None and abs(width - self._width) > 40:
            self._timer.start()
