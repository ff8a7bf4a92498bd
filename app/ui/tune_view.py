"""The centre of the window: the open tune as sheet music, ABC source and piano roll (tabs).

The ABC tab is an editor with syntax colouring; a short pause after typing re-engraves the
score and piano roll and runs the checker, whose problems are underlined with a tooltip.
Edits are reported by `abc_edited(tune_id, text)` so the window can keep them.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTabWidget, QToolTip, QWidget

from app.ui.abc_highlighter import AbcHighlighter
from app.ui.optional import call_first, missing_reason, optional

log = logging.getLogger(__name__)
SCORE_MODULE = "app.ui.widgets.score_view"
ROLL_MODULE = "app.ui.widgets.piano_roll"
CHECKER_MODULE = "app.music.checker"


def check_problems(abc: str) -> list[tuple[int, int, str]]:
    """Return the checker's problems as (line, column, message); [] when no checker exists."""
    checker = optional(CHECKER_MODULE)
    if checker is None:
        return []
    problems = call_first(checker, ("check_tune", "check_abc", "check"), abc)
    problems = getattr(problems, "problems", problems)
    out = []
    for p in problems or []:
        line = getattr(p, "line", None) or 1
        column = getattr(p, "column", None) or 0
        message = getattr(p, "message", None) or str(p)
        out.append((int(line), int(column), str(message)))
    return out


def _placeholder(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setToolTip(text)
    return label


class TuneView(QTabWidget):
    abc_edited = Signal(int, str)
    problems_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tune_id = 0
        self.score = self._widget(SCORE_MODULE, ("ScoreView",), "Sheet music")
        self.editor = QPlainTextEdit()
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 11))
        self.editor.setFont(font)
        self.editor.setToolTip("The tune's ABC text: edit it and the score follows")
        self.editor.setPlaceholderText("Open a tune (Ctrl+O) or choose one in the library")
        self.highlighter = AbcHighlighter(self.editor.document())
        self.roll = self._widget(ROLL_MODULE, ("PianoRoll", "PianoRollView"), "Piano roll")
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

    def _widget(self, module: str, classes: tuple[str, ...], what: str) -> QWidget:
        mod = optional(module)
        for name in classes:
            cls = getattr(mod, name, None) if mod else None
            if cls is not None:
                try:
                    return cls()
                except Exception:  # a broken widget must not take the window with it
                    log.exception("cannot create %s.%s", module, name)
        return _placeholder(f"{what} is not available yet.\n{missing_reason(module)}")

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
            if isinstance(widget, QLabel):
                continue
            try:
                call_first(widget, ("set_abc", "setAbc", "show_abc", "load_abc"), abc)
            except Exception as exc:  # the widget shows its own parse errors; log the rest
                log.warning("cannot show the tune in %s: %s", type(widget).__name__, exc)
        try:
            problems = check_problems(abc)
        except Exception as exc:
            log.warning("checker failed: %s", exc)
            problems = []
        self._loading = True
        self.highlighter.set_problems(problems)
        self._loading = False
        self.problems_changed.emit(len(problems))

    def set_position(self, seconds: float) -> None:
        """Follow the playback position in the score and piano roll, when they can."""
        for widget in (self.score, self.roll):
            for name in ("set_position", "setPosition", "set_playback_position"):
                if hasattr(widget, name):
                    getattr(widget, name)(seconds)
                    break

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
        """Keep a pending edit now rather than after the library has closed."""
        if self._debounce.isActive():
            self._debounce.stop()
            self._text_settled()

    def save_state(self) -> dict:
        return {"tab": self.currentIndex()}

    def restore_state(self, state: dict) -> None:
        self.setCurrentIndex(int(state.get("tab", 0)))
