"""PianoRoll: a tune's notes as bars on a pitch/time grid, with bar lines, a playback cursor, zoom.

Public API (all the main window needs):
- `set_abc(text)` (slot, debounced like ScoreView) and `show_abc_now(text)`: show a tune
  (repeats expanded: the roll shows what is heard).
- `set_position(seconds)` (slot): move the playback cursor (tempo: the tune's Q: or the meter's
  default, or `set_tempo(qpm)`); the sounding note is lit and the view scrolls to follow.
  `set_quarter_position(q)` takes quarter notes.
- `set_zoom(pixels_per_quarter)`, `zoom_in()`, `zoom_out()`; Ctrl + mouse wheel zooms too.
- `select_note(index)` or a click on a bar selects a note: the label under the roll shows its
  pitch and ABC position, and `noteSelected(str text, int line, int column)` is emitted
  (line and column are 0 when the place in the ABC is not known).
- Signals: `laidOut(int note_count)`, `failed(str message)`; the layout is made on a worker
  thread (music21 takes seconds on a long tune), so wait on these. Read-only: `roll_layout()` (a
  `pianoroll.RollLayout` or None), `selected_text()`, `error_text()`.
"""

from __future__ import annotations

import atexit
import time

from PySide6.QtCore import QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from app.music.errors import MusicError
from app.ui.widgets.follow import DEBOUNCE_MS, FollowsPlayback  # noqa: F401 (DEBOUNCE_MS: API)
from app.workers import Job, start_job, wait_for

MUSIC21_WORKER = "music21"   # the app.music.isolate worker that parses tunes with music21
LAYOUT_TIMEOUT_S = 60.0      # the longest tunes take seconds; a stuck one is stopped
SUPERSEDE_AFTER_S = 1.0      # a layout running this long is stopped when a newer tune waits
_running: set[Job] = set()   # layouts alive until their thread ends, whatever becomes of the view


@atexit.register
def _wait_for_layouts() -> None:
    for job in list(_running):
        wait_for(job, 30000)


def _layout_tune(context, text: str, tag: object = None):
    """Lay a tune out on a worker thread; return (RollLayout, tempo in quarter notes a minute
    or None), or the MusicError that says why it cannot be shown.

    music21 parses the tune and expands its repeats (seconds and millions of objects for a long
    tune) in the "music21" worker process, so a crash or a huge tune costs that process, and
    its objects never fill the window's heap (where every garbage collection would walk them).
    """
    from app.music.audio import tune_tempo_qpm
    from app.music.isolate import shared
    from app.music.pianoroll import layout_abc

    try:
        lay = shared(MUSIC21_WORKER).call(layout_abc, text, timeout=LAYOUT_TIMEOUT_S, tag=tag)
    except MusicError as err:
        return err
    try:
        tempo = tune_tempo_qpm(text)
    except MusicError:
        tempo = None
    return lay, tempo

KEYS_WIDTH = 44     # the pitch labels at the left
ROW_HEIGHT = 12
MIN_ZOOM, MAX_ZOOM = 8.0, 400.0
BLACK_KEYS = {1, 3, 6, 8, 10}


class _RollCanvas(QWidget):
    """Draws the grid, bars, cursor and selection; maps clicks to notes."""

    def __init__(self, owner: "PianoRoll") -> None:
        super().__init__()
        self.owner = owner
        self.layout_data = None
        self.zoom = 40.0            # pixels per quarter note
        self.cursor = None          # quarter notes, or None when not playing
        self.selected = -1
        self.setMouseTracking(False)

    def sizeHint(self) -> QSize:
        lay = self.layout_data
        if lay is None:
            return QSize(400, 200)
        return QSize(int(KEYS_WIDTH + lay.length * self.zoom + 20),
                     int((lay.high - lay.low + 1) * ROW_HEIGHT))

    def note_rect(self, note) -> QRectF:
        lay = self.layout_data
        return QRectF(KEYS_WIDTH + note.start * self.zoom, (lay.high - note.pitch) * ROW_HEIGHT,
                      max(2.0, note.length * self.zoom - 1), ROW_HEIGHT - 1)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        lay = self.layout_data
        if lay is None:
            painter.end()
            return
        width = self.width()
        font = QFont(self.font())
        font.setPointSizeF(7.5)
        painter.setFont(font)
        for pitch in range(lay.low, lay.high + 1):
            y = (lay.high - pitch) * ROW_HEIGHT
            if pitch % 12 in BLACK_KEYS:
                painter.fillRect(QRectF(0, y, width, ROW_HEIGHT), QColor(238, 240, 244))
            if pitch % 12 == 0:
                painter.setPen(QColor(150, 150, 160))
                painter.drawLine(0, y + ROW_HEIGHT, width, y + ROW_HEIGHT)
                painter.setPen(QColor(60, 60, 70))
                painter.drawText(QRectF(2, y, KEYS_WIDTH - 4, ROW_HEIGHT),
                                 Qt.AlignmentFlag.AlignVCenter, f"C{pitch // 12 - 1}")
        height = (lay.high - lay.low + 1) * ROW_HEIGHT
        painter.setPen(QPen(QColor(120, 120, 130), 1))
        for bar in [0.0] + lay.bar_lines + [lay.length]:
            x = KEYS_WIDTH + bar * self.zoom
            painter.drawLine(int(x), 0, int(x), height)
        sounding = lay.note_at(self.cursor) if self.cursor is not None else None
        for index, note in enumerate(lay.notes):
            colour = QColor(40, 110, 200)
            if note is sounding:
                colour = QColor(255, 140, 0)
            if index == self.selected:
                colour = QColor(200, 30, 60)
            rect = self.note_rect(note)
            painter.fillRect(rect, colour)
            painter.setPen(colour.darker(140))
            painter.drawRect(rect)
        if self.cursor is not None:
            x = KEYS_WIDTH + self.cursor * self.zoom
            painter.setPen(QPen(QColor(220, 20, 20), 2))
            painter.drawLine(int(x), 0, int(x), height)
        painter.end()

    def mousePressEvent(self, event) -> None:
        lay = self.layout_data
        if lay is None:
            return
        point = event.position()
        for index, note in enumerate(lay.notes):
            if self.note_rect(note).adjusted(-1, -1, 1, 1).contains(point):
                self.owner.select_note(index)
                return


class PianoRoll(FollowsPlayback, QWidget):
    """A piano roll of one ABC tune; see the module docstring for the API."""

    laidOut = Signal(int)
    failed = Signal(str)
    noteSelected = Signal(str, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._init_follow(self._lay_out)
        self._serial = 0                  # the latest request; older layouts are dropped
        self._tag = object()              # marks this roll's calls, to cancel only them
        self._job_started = 0.0
        self._pending: tuple[int, str] | None = None
        self._job: Job | None = None
        self._job_serial = 0
        self._job_text = ""
        self._laid_text = ""              # the tune the shown layout is of
        self._canvas = _RollCanvas(self)
        self._scroll = QScrollArea()
        self._scroll.setWidget(self._canvas)
        self._scroll.setWidgetResizable(False)
        self._scroll.setBackgroundRole(self.backgroundRole())
        self._info = QLabel("Click a note to see its pitch and where it is in the ABC.")
        self._info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll, 1)
        layout.addWidget(self._info)

    # -- public API -----------------------------------------------------------------------
    @Slot(float)
    def set_quarter_position(self, quarters: float) -> None:
        """Move the playback cursor to a time in quarter notes; the view follows it."""
        lay = self._canvas.layout_data
        if lay is not None and lay.length > 0:
            quarters = quarters % lay.length if quarters >= lay.length else quarters
        self._canvas.cursor = quarters
        x = int(KEYS_WIDTH + quarters * self._canvas.zoom)
        self._scroll.ensureVisible(x, self._scroll.verticalScrollBar().value() + 10, 80, 0)
        self._canvas.update()

    def set_zoom(self, pixels_per_quarter: float) -> None:
        """Set the horizontal zoom in pixels per quarter note (8-400)."""
        self._canvas.zoom = min(MAX_ZOOM, max(MIN_ZOOM, float(pixels_per_quarter)))
        self._canvas.resize(self._canvas.sizeHint())
        self._canvas.update()

    def zoom(self) -> float:
        """The horizontal zoom in pixels per quarter note."""
        return self._canvas.zoom

    @Slot()
    def zoom_in(self) -> None:
        self.set_zoom(self._canvas.zoom * 1.25)

    @Slot()
    def zoom_out(self) -> None:
        self.set_zoom(self._canvas.zoom / 1.25)

    def select_note(self, index: int) -> None:
        """Select the index-th note (in time order): show and emit its pitch and ABC place."""
        lay = self._canvas.layout_data
        if lay is None or not 0 <= index < len(lay.notes):
            return
        note = lay.notes[index]
        self._canvas.selected = index
        self._info.setText(note.describe())
        self._canvas.update()
        self.noteSelected.emit(note.describe(), note.line or 0, note.column or 0)

    def roll_layout(self):
        """The shown tune's `pianoroll.RollLayout`, or None."""
        return self._canvas.layout_data

    def laid_out_text(self) -> str:
        """The ABC text of the tune `roll_layout()` shows."""
        return self._laid_text

    def selected_text(self) -> str:
        return self._info.text() if self._canvas.selected >= 0 else ""

    # -- internals ------------------------------------------------------------------------
    def _lay_out(self) -> None:
        """Lay the tune out on a worker thread; the latest request wins."""
        self._serial += 1
        if not self._abc.strip():
            self._pending = None
            self._canvas.layout_data = None
            self._canvas.update()
            return
        self._pending = (self._serial, self._abc)
        if self._job is None:
            self._start_next()
        elif time.monotonic() - self._job_started > SUPERSEDE_AFTER_S:
            from app.music.isolate import shared

            shared(MUSIC21_WORKER).cancel(self._tag)   # a newer tune waits: stop the old one

    def _start_next(self) -> None:
        global _running
        serial, text = self._pending
        self._pending = None
        _running = {j for j in _running if not j.thread.isFinished()}
        job = Job(_layout_tune, text, self._tag, name="piano roll")
        self._job_started = time.monotonic()
        job.done.connect(self._laid_out)
        job.failed.connect(self._layout_failed)
        job.finished.connect(self._job_finished)
        self._job, self._job_serial, self._job_text = job, serial, text
        _running.add(job)
        start_job(job)

    @Slot()
    def _job_finished(self) -> None:
        job, self._job = self._job, None
        if job is not None and job.thread is not None:
            job.thread.wait(2000)     # it is quitting; let it end before it can be dropped
        if self._pending is not None:
            self._start_next()

    @Slot(object)
    def _laid_out(self, result) -> None:
        if self._job_serial != self._serial:
            return                    # a newer tune is on its way
        if isinstance(result, MusicError):
            self._layout_failed(str(result))
            return
        lay, self._tempo = result
        self._laid_text = self._job_text
        self._error = ""
        canvas = self._canvas
        canvas.layout_data, canvas.selected, canvas.cursor = lay, -1, None
        canvas.resize(canvas.sizeHint())
        self._info.setText(f"{len(lay.notes)} notes. Click a note to see its pitch and where "
                           "it is in the ABC.")
        canvas.update()
        self.laidOut.emit(len(lay.notes))

    @Slot(str)
    def _layout_failed(self, message: str) -> None:
        if self._job_serial != self._serial:
            return
        self._error = message
        self._info.setText(f"Cannot show this tune: {message}")
        self.failed.emit(message)

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_in() if event.angleDelta().y() > 0 else self.zoom_out()
            event.accept()
        else:
            super().wheelEvent(event)
