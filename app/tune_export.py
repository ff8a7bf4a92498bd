"""Exporting one tune from the window: the format by the file's extension, in a worker process.

`export_tune_file(abc, path, provenance, options)` writes `.abc`, `.mid`, `.wav`, `.musicxml`,
`.svg` or `.png` through `app.music.export.export_tune` (the code `python main.py convert` also
ends in). The music21 formats run in the shared "music21" worker process with a time limit, so
a stuck or crashing conversion costs that process and not the window; SVG and PNG go through
the engraver, which has a worker process of its own. `export_file_name(title, suffix)` turns a
tune's title into a file name any common file system accepts (the window's Export and
`python main.py generate --out` name files with it). GUI-free.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:   # numpy and the synthesiser load with the first export, not with the window
    from app.music.audio import RenderOptions

EXPORT_TIMEOUT_S = 300.0   # a long tune's WAV takes seconds; a stuck conversion is stopped
ENGRAVED_SUFFIXES = (".svg", ".png")
MAX_NAME_BYTES = 120       # well under the 255 bytes most file systems allow, suffix apart
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]+')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def export_file_name(title: str, suffix: str, fallback: str = "tune") -> str:
    """Return "<title>.<suffix>" made safe for Windows, macOS and Linux file systems.

    Path separators become "-", characters Windows refuses and control characters blanks, blanks
    are tidied, leading and trailing dots and blanks go, a name Windows reserves (CON, NUL,
    COM1...) gets "_" added, and the name is cut to MAX_NAME_BYTES of UTF-8; an empty result
    becomes `fallback`. `suffix` is given without its dot ("abc", "mid").
    """
    name = unicodedata.normalize("NFC", title or "")
    name = _UNSAFE.sub(" ", name.replace("/", "-").replace("\\", "-"))
    name = " ".join(name.split()).strip(" .-")
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-1]
    name = name.rstrip(" .-") or fallback
    if _RESERVED.match(name):
        name += "_"
    return f"{name}.{suffix.lstrip('.')}"


def render_options(options: Mapping[str, Any]) -> RenderOptions:
    """Return the RenderOptions of the window's playback options (instrument, tempo,
    transpose, soundfont; empty values mean the defaults)."""
    from app.music.audio import RenderOptions

    return RenderOptions(instrument=options.get("instrument") or "piano",
                         tempo_qpm=options.get("tempo") or None,
                         transpose=int(options.get("transpose") or 0),
                         soundfont=options.get("soundfont") or None)


def export_tune_file(abc: str, path: str, provenance: Mapping[str, object] | None,
                     options: Mapping[str, Any]) -> str:
    """Write a tune to `path` in the format of its extension; return the path written.

    Raises MusicError naming the file (unknown extension, a tune that does not convert, a
    folder that cannot be written), EngineCrashed or EngineTimeout (both MusicError) when the
    worker process dies or runs past EXPORT_TIMEOUT_S.
    """
    from app.music.export import export_tune
    from app.music.isolate import shared

    render = render_options(options)
    if Path(path).suffix.lower() in ENGRAVED_SUFFIXES:
        return str(export_tune(abc, path, render, provenance))
    return str(shared("music21").call(export_tune, abc, path, render, provenance,
                                      timeout=EXPORT_TIMEOUT_S))
