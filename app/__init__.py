"""Ceol: a desktop app for loading, training on, generating, playing and exporting folk tunes.

`app.music` is the GUI-free, torch-free music core; `app.cli` the headless commands; `app.ui` the
PySide6 window. The neural code lives in the sibling package `model`, which never imports Qt.
"""

__version__ = "0.1.0"
