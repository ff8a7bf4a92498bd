"""The centre of the window: the open tune as sheet music, ABC source and piano roll (tabs).

The ABC tab is an editor with syntax colouring; a short pause after typing re-engraves the
score and piano roll and runs the checker, whose problems are underlined with a tooltip.
Edits are reported by `abc_edited(tune_id, text)` so the window can keep them.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QTabWidget, QToolTip, QWidget

from app.music.checker import check_tune
from app.ui.abc_highlighter import AbcHighlighter
from app.ui.widgets.piano_roll import PianoRoll
from app.ui.widgets.score_view import ScoreView

log = logging.getLogger(__name__)


def check_problems(abc: str) -> list[tuple[int, int, str]]:
    """Return the checker's problems as (line, column, message)."""
    return [(p.line or 1, p.column or 0, p.message) for p in check_tune(abc)]


class TuneView(QTabWidget):
    abc_edited = Signal(int, str)
    problems_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tune_id = 0
        self.score = ScoreView()
        self.editor = QPlainTextEdit()
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 11))
        self.editor.setFont(font)
        self.editor.setToolTip("The tune's ABC text: edit it and the score follows")
        self.editor.setPlaceholderText("Open a tune (Ctrl+O) or choose one in the library")
        self.highlighter = AbcHighlighter(self.editor.document())
        self.roll = PianoRoll()
        self.roll.laidOut.connect(self._roll_laid_out)
        self.addTab(self.score, "Sheet music")
        self.addTab(self.editor, "ABC")
        self.addTab(self.roll, "Piano roll")
        self.setTabToolTip(0, "The tune engraved as notation")
        self.setTabToolTip(1, "The tune's ABC source, coloured; problems are underlined")
        self.setTabToolTip(2, "The notes on a pitch/time grid")
        self._debounce = QTimer(self, singleShot=True, interval=400)
        self._debounce.timeout.connect(self._text_settled)
        self.editor.textChanged.connect(self._text_changed)
        self.editor.viewport().installEventFilter(self)
        self._loading = False
        self._edited = False

    @property
    def abc(self) -> str:
        return self.editor.toPlainText()

    def show_tune(self, tune_id: int, abc: str, probabilities: list[float] | None = None) -> None:
        """Show a tune in all three tabs; probabilities (one per character) feed the heat map."""
        self.tune_id = tune_id
        self._loading = True
        self.editor.setPlainText(abc)
        self.highlighter.set_probabilities(probabilities)
        self._loading = False
        self._render(abc)

    def set_heatmap(self, on: bool) -> None:
        self._loading = True
        self.highlighter.set_heatmap(on)
        self._loading = False

    @Slot()
    def _text_changed(self) -> None:
        # Re-colouring also emits textChanged; only the user's typing counts as an edit.
        if self._loading:
            return
        self._edited = True
        if self.highlighter.has_probabilities():
            self._loading = True
            self.highlighter.set_probabilities(None)
            self._loading = False
        self._debounce.start()

    @Slot()
    def _text_settled(self) -> None:
        abc = self.abc
        self._render(abc)
        if self.tune_id and self._edited:
            self._edited = False
            self.abc_edited.emit(self.tune_id, abc)

    def _render(self, abc: str) -> None:
        for widget in (self.score, self.roll):
            widget.set_abc(abc)     # each view shows its own message for a tune it cannot draw
        try:
            problems = check_problems(abc)
        except Exception as exc:
            log.warning("checker failed: %s", exc)
            problems = []
        self._loading = True
        self.highlighter.set_problems(problems)
        self._loading = False
        self.problems_changed.emit(len(problems))

    @Slot(int)
    def _roll_laid_out(self, _count: int) -> None:
        # the score's highlight keeps time with the player's notes, which the roll lays out
        self.score.set_played_layout(self.roll.laid_out_text(), self.roll.roll_layout())

    def set_position(self, seconds: float) -> None:
        """Follow the playback position in the score and piano roll."""
        self.score.set_position(seconds)
        self.roll.set_position(seconds)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            cursor = self.editor.cursorForPosition(event.pos())
            message = self.highlighter.problem_at(cursor.blockNumber(), cursor.positionInBlock())
            if message:
                QToolTip.showText(event.globalPos(), message, self.editor)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(obj, event)

    def shutdown(self) -> None:
        """Keep a pending edit now rather than after the library has closed, and let the
        score view's engraving end."""
        if self._debounce.isActive():
            self._debounce.stop()
            self._text_settled()
        self.score.shutdown()

    def save_state(self) -> dict:
        return {"tab": self.currentIndex()}

    def restore_state(self, state: dict) -> None:
        self.setCurrentIndex(int(state.get("tab", 0)))
