"""What the tune views share: take a tune (at once, or once typing pauses) and follow playback.

`FollowsPlayback` is mixed into a QWidget subclass (the score view, the piano roll). The
subclass calls `_init_follow(refresh)` in its constructor, where `refresh()` draws `self._abc`
now and sets `self._tempo` (the tune's own tempo, quarter notes a minute, or None), and it
implements `set_quarter_position(quarters)`.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer

DEBOUNCE_MS = 300


class FollowsPlayback:
    """set_abc / show_abc_now / set_tempo / set_position, written once for every tune view."""

    def _init_follow(self, refresh) -> None:
        self._abc = ""
        self._tempo: float | None = None
        self._user_tempo: float | None = None
        self._error = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(refresh)
        self._refresh = refresh

    def set_abc(self, text: str) -> None:
        """Show this tune after a short pause (typing calls this on every key)."""
        self._abc = text
        self._timer.start()

    def show_abc_now(self, text: str) -> None:
        """Show this tune at once."""
        self._abc = text
        self._timer.stop()
        self._refresh()

    def set_tempo(self, qpm: float | None) -> None:
        """Use this tempo (quarter notes a minute) to follow playback; None: the tune's own."""
        self._user_tempo = qpm

    def set_position(self, seconds: float) -> None:
        """Follow playback at a time in seconds (at the chosen or the tune's tempo)."""
        tempo = self._user_tempo or self._tempo or 120.0
        self.set_quarter_position(seconds * tempo / 60.0)

    def error_text(self) -> str:
        """The message shown for ABC that cannot be drawn, or ""."""
        return self._error
