"""ScoreView: a tune's sheet music (verovio SVG drawn by Qt), following playback and edits.

Public API (all the main window needs):
- `set_abc(text)` (slot): show a tune; repeated calls within `DEBOUNCE_MS` engrave only once,
  so it can be connected straight to an editor's textChanged. `show_abc_now(text)` skips the wait.
- `set_position(seconds)` (slot): highlight the note sounding at this playback time, using the
  tune's tempo (its Q: field or the meter's default) or the one given to `set_tempo(qpm)`;
  the view scrolls to keep the note visible. `set_quarter_position(q)` takes quarter notes.
- Signals: `engraved(int note_heads)` after each successful engraving, `failed(str message)`
  when the ABC cannot be engraved. A failure shows "Could not engrave this tune: ..." (and the
  offending line with a caret at the column, when known) above the last good score, never a
  blank page; the rest of the app is untouched, since verovio runs in its own process.
- Read-only: `note_count()`, `error_text()`, `current_note()` (verovio id or None).
- `shutdown()`: drop waiting requests and wait briefly for a running one (on closing).
Long tunes are one tall page inside the scroll area; the page is re-engraved to the viewport's
width when the view is resized. Engraving (verovio in the engraver process, then drawing the
pages into images) runs on a worker thread, one request at a time: a newer request supersedes
those still waiting, and the result of a superseded one is dropped, so the GUI thread never
waits for verovio.
"""

from __future__ import annotations

import atexit
import logging
import time
import weakref
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from app.music.errors import MusicError
from app.ui.widgets.follow import DEBOUNCE_MS, FollowsPlayback  # noqa: F401 (DEBOUNCE_MS: API)
from app.workers import Job, JobContext, start_job, wait_for

log = logging.getLogger(__name__)
HIGHLIGHT = QColor(255, 140, 0, 110)
SUPERSEDE_AFTER_S = 1.0   # an engraving running this long is stopped when a newer tune waits
# Engraving jobs still alive, waited for at exit. Weak: app.workers holds each job until its
# thread ends. (A set emptied from the job's own `finished` by a lambda holding the job made a
# cycle through C++ that gc cannot see: every engraving's Job and QThread stayed for good.)
_running: weakref.WeakSet[Job] = weakref.WeakSet()


@dataclass
class _Drawn:
    """What a worker thread hands the view: the engraving, its page images and note boxes."""

    engraving: object
    images: list[QImage]
    boxes: dict[str, tuple[int, QRectF]]
    tempo: float | None


def _engrave_and_draw(context: JobContext, text: str, width: int,
                      tag: object = None) -> _Drawn | MusicError:
    """Engrave a tune (verovio in the engraver process) and draw its pages; a worker thread.

    A tune that cannot be engraved gives its MusicError back as the result (its line and
    column show where), rather than raising it.
    """
    from app.music.audio import tune_tempo_qpm
    from app.music.notation import engrave, note_boxes

    try:
        engraving = engrave(text, width_px=width, tag=tag)
    except MusicError as err:
        return err
    images = [render_page(svg) for svg in engraving.pages]
    boxes = {}
    for index, svg in enumerate(engraving.pages):
        for note_id, (x, y, w, h) in note_boxes(svg).items():
            boxes[note_id] = (index, QRectF(x, y, w, h))
    try:
        tempo = tune_tempo_qpm(text)
    except MusicError:
        tempo = None
    return _Drawn(engraving, images, boxes, tempo)


@atexit.register
def _wait_for_engravings() -> None:
    for job in list(_running):
        wait_for(job, 30000)


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
        self._engraved_text = ""
        self._played: tuple[str, object] | None = None   # (text, the piano roll's layout)
        self._timeline: list = []         # what the highlight follows (app.music.score_follow)
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
        self._serial = 0                  # the latest request; older results are dropped
        self._tag = object()              # marks this view's engravings, to cancel only them
        self._job_started = 0.0
        self._pending: tuple[int, str, int] | None = None   # (serial, text, width) to run next
        self._job: Job | None = None      # the engraving running now, its request and text
        self._job_serial = 0
        self._job_text = ""

    # -- public API -----------------------------------------------------------------------
    @Slot(float)
    def set_quarter_position(self, quarters: float) -> None:
        """Highlight the note sounding at a time in quarter notes from the start."""
        from app.music.score_follow import note_at

        timeline = self._timeline if self._engraving is not None else []
        note = None
        if timeline:
            length = timeline[-1][1]
            note = note_at(timeline, quarters % length if length > 0 else quarters)
        if note != self._page.highlight:
            self._page.highlight = note
            rect = self._page.highlight_rect()
            if rect is not None:
                centre = rect.center()
                self.ensureVisible(int(centre.x()), int(centre.y() + self._page.y()), 60, 80)
            self._page.update()

    def set_played_layout(self, text: str, layout) -> None:
        """Time the highlight by the player's notes: `layout` is the piano roll's
        (app.music.pianoroll.RollLayout) for the tune `text`; verovio's own timing reads some
        repeats otherwise (app.music.score_follow)."""
        self._played = (text, layout)
        self._follow_played()

    def follows_player(self) -> bool:
        """True when the highlight is timed by the player's notes, not verovio's."""
        return self._engraving is not None and self._timeline is not self._engraving.timeline

    def _follow_played(self) -> None:
        from app.music.score_follow import played_timeline

        engraving, timeline = self._engraving, None
        if engraving is None:
            self._timeline = []
            return
        if self._played is not None and self._played[0] == self._engraved_text:
            timeline = played_timeline(engraving.timeline, engraving.graces, self._played[1])
        self._timeline = timeline or engraving.timeline

    def note_count(self) -> int:
        """Number of note heads in the shown score (0 when none is shown)."""
        return self._engraving.note_count if self._engraving is not None else 0

    def current_note(self) -> str | None:
        """The verovio id of the highlighted note, or None."""
        return self._page.highlight

    def shutdown(self) -> None:
        """Drop waiting requests and wait (a few seconds at most) for a running engraving."""
        self._pending = None
        if self._job is not None:
            wait_for(self._job, 5000)

    # -- internals ------------------------------------------------------------------------
    def _engrave(self) -> None:
        text = self._abc
        self._serial += 1
        if not text.strip():
            self._pending = None
            self._show_pages(None, [])
            self._show_error("", "")
            return
        width = max(400, self.viewport().width() - 4)
        self._width = width
        self._pending = (self._serial, text, width)
        if self._job is None:
            self._start_next()
        elif time.monotonic() - self._job_started > SUPERSEDE_AFTER_S:
            # A tune that takes this long is on the slow route (music21) or stuck: the newer
            # request should not wait up to a minute behind it.
            from app.music.notation import cancel_engraving

            cancel_engraving(self._tag)

    def _start_next(self) -> None:
        serial, text, width = self._pending
        self._pending = None
        job = Job(_engrave_and_draw, text, width, self._tag, name="engrave")
        self._job_started = time.monotonic()
        job.done.connect(self._engraving_done)
        job.failed.connect(self._engraving_failed)
        job.finished.connect(self._job_finished)
        self._job, self._job_serial, self._job_text = job, serial, text
        _running.add(job)
        start_job(job)

    @Slot()
    def _job_finished(self) -> None:
        self._job = None
        if self._pending is not None:
            self._start_next()

    def _is_current(self) -> bool:
        return self._job is not None and self._job_serial == self._serial

    @Slot(object)
    def _engraving_done(self, drawn: _Drawn | MusicError) -> None:
        if not self._is_current():
            return
        if isinstance(drawn, MusicError):
            self._engraving_failed(str(drawn), drawn)
            return
        self._engraving, self._engraved_text = drawn.engraving, self._job_text
        self._follow_played()
        self._tempo = drawn.tempo
        self._page.boxes = drawn.boxes
        self._show_pages(drawn.engraving, drawn.images)
        self._show_error("", "")
        self.engraved.emit(drawn.engraving.note_count)

    @Slot(str)
    def _engraving_failed(self, message: str, error: MusicError | None = None) -> None:
        if not self._is_current():
            return
        self._show_error(self._describe(message, error, self._job_text), message)
        self.failed.emit(message)

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
    def _describe(message: str, err: MusicError | None, text: str) -> str:
        from html import escape

        head = f"<b>Could not engrave this tune:</b> {escape(message)}"
        if err is None or err.line is None:
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
