"""The window's colour scheme: follow the system's light/dark setting or force one."""

from __future__ import annotations


def apply_theme(theme: str) -> None:
    """Follow the system's light/dark scheme, or force one ("light", "dark")."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    hints = QGuiApplication.styleHints()
    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(
        theme, Qt.ColorScheme.Unknown)
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(scheme)
