"""Exporting one tune from the window: the format by the file's extension, in a worker process.

`export_tune_file(abc, path, provenance, options)` writes `.abc`, `.mid`, `.wav`, `.musicxml`,
`.svg` or `.png` through `app.music.export.export_tune` (the code `python main.py convert` also
ends in). The music21 formats run in the shared "music21" worker process with a time limit, so
a stuck or crashing conversion costs that process and not the window; SVG and PNG go through
the engraver, which has a worker process of its own. GUI-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:   # numpy and the synthesiser load with the first export, not with the window
    from app.music.audio import RenderOptions

EXPORT_TIMEOUT_S = 300.0   # a long tune's WAV takes seconds; a stuck conversion is stopped
ENGRAVED_SUFFIXES = (".svg", ".png")


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
