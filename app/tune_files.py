"""Opening tune files: the service behind the window's Open, drag and drop and built-in corpora.

A file is read by `app.music.corpus.read_book_file`, the same code that loads corpora for the
CLI and for training (one size limit for ABC, one for MIDI, the same one-line messages naming
the file); this module adds what opening files in the window needs on top: which extensions
it opens (`.abc`, `.txt`, `.mid`, `.midi`; corpora take no `.txt`), folders searched for them,
and one `LoadedFile` (the tunes as ABC texts, or the error) per file, handed over as each file
is read so the library fills while a large folder is still loading. GUI-free.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from app.music.corpus import MIDI_EXTENSIONS, load_corpus, read_book_file, scan_folder
from app.music.errors import MusicError

ABC_SUFFIXES = (".abc", ".txt")
MIDI_SUFFIXES = MIDI_EXTENSIONS
OPENED_SUFFIXES = ABC_SUFFIXES + MIDI_SUFFIXES


@dataclass
class LoadedFile:
    """The tunes read from one file (as ABC texts) and the problems met."""

    path: str
    abcs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def files_to_open(paths: Iterable[str | Path]) -> list[Path]:
    """Return the files the paths name: a file as given, a folder's tune files (sorted)."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += scan_folder(path, OPENED_SUFFIXES) if path.is_dir() else [path]
    return files


def read_tune_file(path: str | Path) -> LoadedFile:
    """Read one ABC or MIDI file as ABC tunes.

    Raises MusicError (one line, naming the file) for a missing file, one of another kind, one
    over the size limits, a binary or unreadable file, and one without a tune.
    """
    path = Path(path)
    if not path.exists():
        raise MusicError("no such file", path=str(path))
    if not path.name.lower().endswith(OPENED_SUFFIXES):
        raise MusicError("not an ABC or MIDI file; Ceol opens .abc, .txt, .mid, .midi files "
                         "and folders", path=str(path))
    book = read_book_file(path)
    loaded = LoadedFile(str(path), [t.abc() for t in book.tunes],
                        [str(p) for p in book.problems])
    if not loaded.abcs:
        raise MusicError("no tunes found (an ABC tune starts with an X: line)", path=str(path))
    return loaded


def load_paths(paths: Iterable[str | Path], on_file: Callable[[LoadedFile | MusicError], None],
               on_progress: Callable[[tuple[int, int, str]], None] | None = None,
               stop: threading.Event | None = None) -> int:
    """Read files and folders; hand each file's LoadedFile (or its MusicError) to `on_file`.

    `on_progress((done, total, path))` comes before each file; `stop.is_set()` ends the loop
    between files. Returns the number of files found.
    """
    files = files_to_open(paths)
    for i, path in enumerate(files):
        if stop is not None and stop.is_set():
            break
        if on_progress is not None:
            on_progress((i, len(files), str(path)))
        try:
            on_file(read_tune_file(path))
        except MusicError as exc:
            on_file(exc)
    return len(files)


def load_builtin(name: str) -> LoadedFile:
    """Load a built-in corpus (celtic or essen) as ABC texts; MusicError when unavailable."""
    corpus = load_corpus([name])
    return LoadedFile(name, [t.abc() for t in corpus.tunes], [str(p) for p in corpus.problems])
