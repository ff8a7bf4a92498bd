"""Shared test set-up: Qt runs offscreen, one QApplication for the whole session (pytest-qt)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
