"""Convert tunes between file formats, chosen by the files' extensions.

`convert(in_path, out_path, tune=None, all_tunes=False, **options)` reads the input (an ABC tune
book or a MIDI file), picks the tune(s) and writes each through the function registered in
`CONVERTERS` for (input kind, output extension). Later formats plug in with
`register_converter("abc", ".wav", func)`; a converter is `func(source, out_path, options)`
where `source` is a `Tune` (ABC input) or the MIDI file's path, and it writes `out_path`
atomically. Options: `program` (GM program or instrument name), `tempo_qpm`, `transpose`.

With `all_tunes`, OUT is a name pattern: `{n}` (the tune's X: number), `{index}` (its place in
the book, from 1) and `{title}` (a file-safe title) are filled in per tune; a pattern with none of
them gets `-{index}` before the extension (`tunes.mid` -> `tunes-1.mid`, `tunes-2.mid`, ...).
Broken tunes are collected in `ConvertResult.problems` while the good ones are written.

ABC -> MIDI and MusicXML run music21 in a worker process (`app.music.isolate`) that is stopped
after `limits.MAX_CONVERT_SECONDS` per tune, so no input can hang a conversion; tunes over the
size limits of `app.music.limits` are refused before music21 sees them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from app.music.errors import EngineError, MusicError
from app.music.limits import MAX_CONVERT_SECONDS
from app.music.midi_file import MAX_QPM, MIN_QPM

Converter = Callable[[Any, Path, "ConvertOptions"], None]


@dataclass(frozen=True)
class ConvertOptions:
    """Settings every converter may use; each ignores what does not apply to its format."""

    program: int = 0               # General MIDI program 0-127 for MIDI output
    tempo_qpm: float | None = None  # quarter notes a minute; None: the tune's Q: or a default
    transpose: int = 0             # semitones, applied to every note
    extra: dict = field(default_factory=dict)  # options for converters added later


# Input kinds by extension; register more with INPUT_KINDS[".ext"] = "kind".
INPUT_KINDS: dict[str, str] = {".abc": "abc", ".mid": "midi", ".midi": "midi"}


_worker = None   # the music21 worker process, started by the first ABC conversion


def _isolated(func: Converter, tune, out: Path, options: ConvertOptions) -> None:
    """Run a music21 converter in the worker process; a crash or time-out names the tune."""
    global _worker
    from app.music.isolate import Worker

    if _worker is None:
        _worker = Worker("music21 converter")
    try:
        _worker.call(func, tune, out, options, timeout=MAX_CONVERT_SECONDS)
    except EngineError as exc:
        raise MusicError(exc.message, path=tune.label, line=tune.line) from None


def _abc_to_midi(tune, out: Path, options: ConvertOptions) -> None:
    _isolated(_abc_to_midi_here, tune, out, options)


def _abc_to_midi_here(tune, out: Path, options: ConvertOptions) -> None:
    from app.music.abc_midi import abc_to_midi

    abc_to_midi(tune, out, program=options.program, tempo_qpm=options.tempo_qpm,
                transpose=options.transpose)


def _abc_to_musicxml(tune, out: Path, options: ConvertOptions) -> None:
    _isolated(_abc_to_musicxml_here, tune, out, options)


def _abc_to_musicxml_here(tune, out: Path, options: ConvertOptions) -> None:
    from app.music.abc_midi import abc_to_musicxml

    abc_to_musicxml(tune, out, transpose=options.transpose)


def _midi_to_abc(path: Path, out: Path, options: ConvertOptions) -> None:
    from app.music.midi_file import save_bytes
    from app.music.midi_to_abc import midi_to_abc

    text = midi_to_abc(path, transpose=options.transpose)
    if options.tempo_qpm is not None:
        text = re.sub(r"^Q:.*$", f"Q:1/4={round(options.tempo_qpm)}", text, count=1, flags=re.M)
        if "\nQ:" not in text:
            text = re.sub(r"^K:", f"Q:1/4={round(options.tempo_qpm)}\nK:", text, count=1,
                          flags=re.M)
    save_bytes(text.encode("utf-8"), out)


def _midi_to_midi(path: Path, out: Path, options: ConvertOptions) -> None:
    from app.music.midi_file import read_midi, write_midi

    tune = read_midi(path)
    notes = tune.melody()
    if not notes:
        raise MusicError("the MIDI file has no notes", path=str(path))
    notes = [n._replace(pitch=n.pitch + options.transpose) for n in notes]
    if any(not 0 <= n.pitch <= 127 for n in notes):
        raise MusicError(f"transposing by {options.transpose} leaves the MIDI range",
                         path=str(path))
    write_midi(notes, out, title=tune.title, tempo_qpm=options.tempo_qpm or tune.tempo_qpm or 120,
               time_signature=tune.time_signature, program=options.program,
               key_signature=None if options.transpose else tune.key_signature)


def _abc_to_sound_or_picture(tune, out: Path, options: ConvertOptions) -> None:
    from app.music.export import convert_tune

    convert_tune(tune, out, options)


def _midi_to_wav(path: Path, out: Path, options: ConvertOptions) -> None:
    from app.music.export import convert_midi_to_wav

    convert_midi_to_wav(path, out, options)


# (input kind, output extension) -> converter. Extend with register_converter.
CONVERTERS: dict[tuple[str, str], Converter] = {
    ("abc", ".mid"): _abc_to_midi,
    ("abc", ".midi"): _abc_to_midi,
    ("abc", ".musicxml"): _abc_to_musicxml,
    ("abc", ".xml"): _abc_to_musicxml,
    ("midi", ".abc"): _midi_to_abc,
    ("midi", ".mid"): _midi_to_midi,
    ("midi", ".midi"): _midi_to_midi,
    ("abc", ".wav"): _abc_to_sound_or_picture,
    ("abc", ".svg"): _abc_to_sound_or_picture,
    ("abc", ".png"): _abc_to_sound_or_picture,
    ("midi", ".wav"): _midi_to_wav,
}


def register_converter(kind: str, extension: str, converter: Converter) -> None:
    """Add or replace the converter for (input kind, output extension such as ".wav")."""
    CONVERTERS[(kind, extension.lower())] = converter


def supported() -> str:
    """Describe the supported conversions, e.g. "abc -> .mid, .musicxml; midi -> .abc"."""
    by_kind: dict[str, list[str]] = {}
    for kind, ext in CONVERTERS:
        by_kind.setdefault(kind, []).append(ext)
    return "; ".join(f"{kind} -> {', '.join(exts)}" for kind, exts in by_kind.items())


@dataclass
class ConvertResult:
    """What a conversion wrote and which tunes it could not convert."""

    written: list[Path] = field(default_factory=list)
    problems: list[MusicError] = field(default_factory=list)


def _plan(in_path: Path, out_path: Path) -> tuple[str, Converter]:
    kind = INPUT_KINDS.get(in_path.suffix.lower())
    if kind is None:
        raise MusicError(f"unknown input type {in_path.suffix or '(no extension)'!r}; "
                         f"use {', '.join(sorted(INPUT_KINDS))}", path=str(in_path))
    converter = CONVERTERS.get((kind, out_path.suffix.lower()))
    if converter is None:
        raise MusicError(f"cannot convert {kind} to {out_path.suffix or '(no extension)'!r}; "
                         f"supported: {supported()}", path=str(out_path))
    if not in_path.exists():
        raise MusicError("no such file", path=str(in_path))
    if in_path.is_dir():
        raise MusicError("is a folder, not a file", path=str(in_path))
    return kind, converter


def pick_tune(book, number: int):
    """Return the tune with X: `number`, else the `number`-th tune (from 1) of the book."""
    for tune in book.tunes:
        if tune.number.strip() == str(number):
            return tune
    if 1 <= number <= len(book.tunes) + len(book.problems):
        for tune in book.tunes:
            if tune.index == number - 1:
                return tune
        for problem in book.problems:
            if str(problem.tune or "").startswith(f"{number} "):
                raise problem
    raise MusicError(f"no tune {number} (no X:{number} and the book holds "
                     f"{len(book.tunes) + len(book.problems)} tunes)", path=book.path)


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-")
    return slug[:60] or "untitled"


def output_name(pattern: Path, tune, used: set[Path]) -> Path:
    """Return the file name for one tune under an --all pattern (see module docstring)."""
    text = str(pattern)
    if not any(key in text for key in ("{n}", "{index}", "{title}")):
        text = str(pattern.with_name(f"{pattern.stem}-{{index}}{pattern.suffix}"))
    name = Path(text.replace("{n}", _slug(tune.number) if tune.number else str(tune.index + 1))
                .replace("{index}", str(tune.index + 1)).replace("{title}", _slug(tune.title)))
    if name in used:
        name = name.with_name(f"{name.stem}-{tune.index + 1}{name.suffix}")
    used.add(name)
    return name


def convert(in_path: str | os.PathLike, out_path: str | os.PathLike, *, tune: int | None = None,
            all_tunes: bool = False, program: int | str | None = None,
            tempo_qpm: float | None = None, transpose: int = 0, **extra) -> ConvertResult:
    """Convert IN to OUT by extension; see the module docstring for --tune/--all naming.

    Without `tune` or `all_tunes` a book must hold exactly one tune. Raises MusicError for bad
    input (missing, empty, binary or corrupt files, unknown extensions, unreadable tunes); with
    `all_tunes`, broken tunes are returned in `problems` unless none converted.
    """
    from app.music.instruments import program_for

    in_path, out_path = Path(in_path), Path(out_path)
    if tempo_qpm is not None and not MIN_QPM <= tempo_qpm <= MAX_QPM:
        raise MusicError(f"tempo {tempo_qpm:g} is outside {MIN_QPM:g}-{MAX_QPM:g} quarter notes "
                         "a minute")
    options = ConvertOptions(program_for(program), tempo_qpm, int(transpose), dict(extra))
    kind, converter = _plan(in_path, out_path)
    result = ConvertResult()
    if kind != "abc":
        if tune not in (None, 1):
            raise MusicError(f"a {kind} file holds one tune; --tune {tune} does not apply",
                             path=str(in_path))
        target = output_name(out_path, _SingleTune(in_path), set()) if all_tunes else out_path
        _ensure_folder(target)
        converter(in_path, target, options)
        result.written.append(target)
        return result
    from app.music.tunebook import read_tune_book

    book = read_tune_book(in_path)
    if all_tunes:
        result.problems.extend(book.problems)
        used: set[Path] = set()
        for item in book.tunes:
            target = output_name(out_path, item, used)
            try:
                _ensure_folder(target)
                converter(item, target, options)
            except MusicError as exc:
                result.problems.append(exc)
                continue
            result.written.append(target)
        if not result.written and result.problems:
            raise result.problems[0]
        return result
    if tune is not None:
        chosen = pick_tune(book, tune)
    elif len(book.tunes) == 1 and not book.problems:
        chosen = book.tunes[0]
    elif not book.tunes:
        raise book.problems[0]
    else:
        count = len(book.tunes) + len(book.problems)
        raise MusicError(f"the book holds {count} tunes: choose one with --tune N or convert "
                         "each with --all", path=str(in_path))
    _ensure_folder(out_path)
    converter(chosen, out_path, options)
    result.written.append(out_path)
    return result


@dataclass
class _SingleTune:
    """Stands in for a Tune when naming the one output of a MIDI input under --all."""

    path: Path
    number: str = "1"
    index: int = 0

    @property
    def title(self) -> str:
        return self.path.stem


def _ensure_folder(target: Path) -> None:
    folder = target.parent
    if str(folder) and not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MusicError(f"cannot create the folder: {exc.strerror or exc}",
                             path=str(folder)) from None
