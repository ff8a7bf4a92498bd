"""Export one tune as MIDI, WAV, ABC, MusicXML, SVG or PNG, written atomically, with provenance.

`export_tune(abc, path, options=..., provenance=...)` picks the format by the file's extension.
Provenance (model, sampling settings, seed, date: whatever the caller passes) goes into an
exported ABC as `% key: value` comment lines after the X: line and into an exported MIDI file as
one text event (see midi_file.write_midi), so a user can reproduce a tune they like. Every file
is written to a temporary file in the target folder and renamed over the target only when
complete: a full disk or an unwritable folder raises MusicError naming the file and leaves any
earlier file of that name as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Mapping

from app.music.atomic import atomic_write
from app.music.audio import RenderOptions
from app.music.errors import MusicError

PROVENANCE_ORDER = ("model", "temperature", "top_k", "top_p", "seed", "prime", "date")


def provenance_lines(provenance: Mapping[str, object] | None) -> list[str]:
    """Return ABC comment lines "% key: value", the usual keys first, one line each."""
    if not provenance:
        return []
    keys = [k for k in PROVENANCE_ORDER if k in provenance]
    keys += sorted(k for k in provenance if k not in PROVENANCE_ORDER)
    return [f"% {k}: {' '.join(str(provenance[k]).split())}" for k in keys]


def abc_with_provenance(abc: str, provenance: Mapping[str, object] | None) -> str:
    """Return the tune's ABC text with provenance comment lines after its X: line (or first)."""
    lines = abc.rstrip("\n").split("\n")
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("X:")), 0)
    return "\n".join(lines[:at] + provenance_lines(provenance) + lines[at:]) + "\n"


def _program(options: RenderOptions) -> int:
    from app.music.instruments import program_for

    return program_for(options.instrument)


def _abc(abc: str, options: RenderOptions, provenance, label) -> bytes:
    return abc_with_provenance(abc, provenance).encode("utf-8")


def _midi(abc: str, options: RenderOptions, provenance, label) -> bytes:
    from app.music.abc_midi import abc_to_midi

    return abc_to_midi(abc, program=_program(options), tempo_qpm=options.tempo_qpm,
                       transpose=options.transpose, label=label,
                       provenance={str(k): str(v) for k, v in (provenance or {}).items()})


def _wav(abc: str, options: RenderOptions, provenance, label) -> bytes:
    from app.music.audio import render_abc, wav_bytes

    return wav_bytes(render_abc(abc, options, label))


def _musicxml(abc: str, options: RenderOptions, provenance, label) -> bytes:
    from app.music.abc_midi import abc_to_musicxml

    return abc_to_musicxml(abc, label=label, transpose=options.transpose)


def _svg(abc: str, options: RenderOptions, provenance, label) -> bytes:
    from app.music.notation import engrave

    return engrave(abc, transpose=options.transpose, label=label).pages[0].encode("utf-8")


def _png(abc: str, options: RenderOptions, provenance, label) -> bytes:
    from app.music.notation import engrave, svg_to_png

    return svg_to_png(engrave(abc, transpose=options.transpose, label=label).pages[0])


EXPORTERS: dict[str, Callable[..., bytes]] = {
    ".abc": _abc, ".mid": _midi, ".midi": _midi, ".wav": _wav, ".musicxml": _musicxml,
    ".xml": _musicxml, ".svg": _svg, ".png": _png,
}


def export_bytes(abc: str, suffix: str, options: RenderOptions = RenderOptions(),
                 provenance: Mapping[str, object] | None = None, label: str | None = None) -> bytes:
    """Return the bytes of one tune exported in the format of `suffix` (".wav", ".mid", ...)."""
    exporter = EXPORTERS.get(suffix.lower())
    if exporter is None:
        raise MusicError(f"cannot export to {suffix or 'a file without an extension'}; "
                         f"use one of {', '.join(sorted(EXPORTERS))}", path=label)
    if exporter is not _abc:
        from app.music.notation import check_abc

        check_abc(abc, label)
    return exporter(abc, options.checked(), provenance, label)


def export_tune(abc: str, path: str | os.PathLike, options: RenderOptions = RenderOptions(),
                provenance: Mapping[str, object] | None = None, label: str | None = None) -> Path:
    """Export one ABC tune to path (format by extension), atomically; return the path.

    Raises MusicError: unknown extension, ABC that does not parse, unwritable folder, full disk.
    """
    path = Path(path)
    data = export_bytes(abc, path.suffix, options, provenance, label or str(path))
    atomic_write(path, data)
    return path


def convert_tune(tune, out: Path, options) -> None:
    """Converter for app/music/convert.py: one Tune to .wav, .svg or .png (or any export format).

    `options` is a convert.ConvertOptions: program, tempo_qpm and transpose apply, and its
    `extra` may carry `swing`, `repeats` and `soundfont`.
    """
    extra = options.extra or {}
    render = RenderOptions(instrument=options.program, tempo_qpm=options.tempo_qpm,
                           transpose=options.transpose, swing=float(extra.get("swing") or 0.5),
                           repeats=int(extra.get("repeats") or 1),
                           soundfont=extra.get("soundfont") or None)
    export_tune(tune.abc(), out, render, label=getattr(tune, "label", None))


def convert_midi_to_wav(path: Path, out: Path, options) -> None:
    """Converter for app/music/convert.py: render a MIDI file to WAV.

    The file's own programs play unless an instrument other than piano (program 0) was chosen.
    """
    from app.music.audio import render_midi, wav_bytes

    extra = options.extra or {}
    render = RenderOptions(instrument=options.program or None, transpose=options.transpose,
                           repeats=int(extra.get("repeats") or 1),
                           soundfont=extra.get("soundfont") or None)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise MusicError(f"cannot read: {err.strerror or err}", path=str(path)) from None
    atomic_write(out, wav_bytes(render_midi(data, render, label=str(path))))
