"""Every setting of the desktop app in one place: typed keys with defaults, and the app's paths.

Components never call `QSettings()` themselves: they get a `Settings` object and implement
`save_state(settings)` / `restore_state(settings)`. Tests pass a `Settings` on a temporary
INI file and `AppPaths` under a temporary folder, so they never touch the user's real files.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from app.kernels import KERNELS_FILE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Key:
    """One setting: its QSettings name, default value and type."""

    name: str
    default: Any
    type: type = str
    choices: tuple = ()   # the values allowed, when only some are


SOUNDFONT = Key("audio/soundfont", "")                 # empty: the bundled General MIDI font
AUDIO_DEVICE = Key("audio/device", "")                 # empty: the system's default output
MIDI_PORT = Key("audio/midi_port", "")                 # empty: no live MIDI out
DEFAULT_MODEL = Key("model/default", "")               # empty: the bundled model
TRAIN_THREADS = Key("train/threads", 0, int)           # 0: all cores
THEME = Key("ui/theme", "system", str, ("system", "light", "dark"))
RECENT_FILES = Key("files/recent", [], list)
LAST_FOLDER = Key("files/last_folder", "")
WINDOW_GEOMETRY = Key("window/geometry", QByteArray(), QByteArray)
WINDOW_STATE = Key("window/state", QByteArray(), QByteArray)
SELECTED_TUNE = Key("library/selected", 0, int)
HEATMAP = Key("view/heatmap", False, bool)
MAX_RECENT = 10


@dataclass(frozen=True)
class AppPaths:
    """Where the app keeps its library, user models, checkpoints and log."""

    data_dir: Path
    log_dir: Path

    @classmethod
    def default(cls) -> "AppPaths":
        """The user's real folders (platformdirs), or $CEOL_DATA_DIR for a sandbox."""
        override = os.environ.get("CEOL_DATA_DIR")
        if override:
            return cls(Path(override), Path(override) / "logs")
        import platformdirs

        return cls(Path(platformdirs.user_data_dir("ceol")), Path(platformdirs.user_log_dir("ceol")))

    @property
    def library(self) -> Path:
        return self.data_dir / "library.db"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def checkpoints_dir(self) -> Path:
        return self.data_dir / "checkpoints"

    @property
    def kernels_file(self) -> Path:
        """The kernels measured on this machine (app/kernels.py, model/kernel_choice.py)."""
        return self.data_dir / KERNELS_FILE


class Settings:
    """Typed access to QSettings; pass `path` for an INI file (tests), else the user's store."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self._store = QSettings("Ceol", "Ceol")
        else:
            self._store = QSettings(str(path), QSettings.Format.IniFormat)
        if self._store.status() != QSettings.Status.NoError:
            logger.warning("%s: the settings file cannot be read (%s); using the defaults",
                           self._store.fileName(), self._store.status().name)

    def get(self, key: Key) -> Any:
        """Return the stored value converted to the key's type, or its default."""
        value = self._store.value(key.name, None)
        if value is None:
            return self._default(key)
        try:
            if key.type is bool and isinstance(value, str):
                return value.lower() in ("true", "1", "yes")
            if key.type is list:
                items = [value] if isinstance(value, str) else list(value)
                if all(isinstance(item, str) for item in items):
                    return items
            elif key.type is QByteArray:
                return QByteArray(value)
            elif key.type is str:
                if isinstance(value, str) and (not key.choices or value in key.choices):
                    return value
            else:
                return key.type(value)
        except (TypeError, ValueError, OverflowError):
            pass
        logger.warning("%s: setting %s has an unusable value %.80r; using %r",
                       self._store.fileName(), key.name, value, key.default)
        return self._default(key)

    @staticmethod
    def _default(key: Key) -> Any:
        return key.default.copy() if isinstance(key.default, (list, dict)) else key.default

    def set(self, key: Key, value: Any) -> None:
        self._store.setValue(key.name, value)

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self._store.sync()

    def state(self, component: str) -> dict:
        """Return the state a component saved (a dict; empty when none or unreadable)."""
        import json

        try:
            value = json.loads(self._store.value(f"state/{component}", "{}") or "{}")
        except (TypeError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def set_state(self, component: str, state: dict) -> None:
        import json

        self._store.setValue(f"state/{component}", json.dumps(state))

    def add_recent(self, path: str) -> list[str]:
        """Put a file at the top of the recent files; return the new list."""
        recent = [p for p in self.get(RECENT_FILES) if p != path]
        recent.insert(0, path)
        del recent[MAX_RECENT:]
        self.set(RECENT_FILES, recent)
        return recent
