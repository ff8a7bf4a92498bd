"""Corpora: the tunes of any mix of files, folders and built-in collections, and their split.

A source is an `.abc` file, a MIDI file (`.mid`, `.midi`, transcribed to ABC through
`app.music.midi_to_abc`), a folder (searched recursively with `os.scandir`, looking only at
those extensions, without following symbolic links to folders, so a folder of a million
unrelated files is passed over in seconds), or the name of a built-in corpus: `celtic` (O'Neill's
Music of Ireland 1850, Ryan's Mammoth Collection and Aird's Airs), `essen` (the Essen folk-song
collection), `miscfolk` (Northumbrian Minstrelsy and an American fife book), `nottingham` (the
Nottingham Music Database file music21 ships) or `all` (every folk ABC collection music21 ships:
all of the above; its Josquin masses are polyphonic art music and left out). The built-in corpora are the ABC files that ship inside the installed music21
package; they are found through its package folder without importing music21 and are never
copied. Every file is read by `read_book_file`, which the window's Open (`app.tune_files`) uses
too, so both refuse the same files with the same messages. The train/validation split hashes
each tune's training text (BLAKE2b), so a tune stays on its side when files are added or
reordered, and equal tunes in two books land on the same side.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.music.errors import MusicError
from app.music.limits import check_midi_size
from app.music.normalize import training_text
from app.music.tunebook import Tune, TuneBook, parse_tune_book, read_tune_book

log = logging.getLogger(__name__)

BUILTIN_CORPORA: dict[str, tuple[str, ...]] = {
    "celtic": ("oneills1850", "ryansMammoth", "airdsAirs"),
    "essen": ("essenFolksong",),
    "miscfolk": ("miscFolk",),
    "nottingham": ("nottingham-dataset",),
    "all": ("oneills1850", "ryansMammoth", "airdsAirs", "essenFolksong", "miscFolk",
            "nottingham-dataset"),
}
ABC_EXTENSIONS = (".abc",)
MIDI_EXTENSIONS = (".mid", ".midi")
TUNE_EXTENSIONS = ABC_EXTENSIONS + MIDI_EXTENSIONS


@dataclass
class Corpus:
    """The tunes loaded from some sources, and the problems met on the way."""

    tunes: list[Tune] = field(default_factory=list)
    problems: list[MusicError] = field(default_factory=list)
    name: str = ""

    def split(self, valid_fraction: float = 0.1) -> tuple[list[Tune], list[Tune]]:
        """Return (train, valid) tunes; a tune's side depends only on its own content."""
        if not 0.0 <= valid_fraction < 1.0:
            raise MusicError(f"the validation fraction must be at least 0 and below 1, "
                             f"not {valid_fraction}")
        train: list[Tune] = []
        valid: list[Tune] = []
        for tune in self.tunes:
            (valid if is_validation_tune(tune, valid_fraction) else train).append(tune)
        return train, valid


def is_validation_tune(tune: Tune, valid_fraction: float = 0.1) -> bool:
    """Tell whether the tune belongs to the validation side (by a hash of its training text)."""
    text = training_text(tune, keep_title=False, keep_annotations=True)   # the music only
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") < valid_fraction * 2 ** 64


def builtin_corpus_files(name: str) -> list[Path]:
    """Return the sorted ABC files of a built-in corpus inside the installed music21 package.

    Raises MusicError for an unknown name or when music21 or its corpus folder is missing.
    """
    if name not in BUILTIN_CORPORA:
        known = ", ".join(sorted(BUILTIN_CORPORA))
        raise MusicError(f"unknown built-in corpus {name!r} (known: {known})")
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise MusicError(f"the built-in corpus {name!r} needs the music21 package")
    root = Path(next(iter(spec.submodule_search_locations))) / "corpus"
    files: list[Path] = []
    for folder in BUILTIN_CORPORA[name]:
        if not (root / folder).is_dir():
            raise MusicError(f"music21's corpus folder {folder} is missing", path=str(root))
        files += scan_folder(root / folder, ABC_EXTENSIONS)
    return files


def scan_folder(folder: Path, extensions: tuple[str, ...]) -> list[Path]:
    """Return the files under `folder` whose names end with `extensions`, sorted; fast."""
    found: list[str] = []
    pending = [str(folder)]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    name = entry.name
                    if name.lower().endswith(extensions) and entry.is_file():
                        found.append(entry.path)
                    elif entry.is_dir(follow_symlinks=False) and not name.startswith("."):
                        pending.append(entry.path)
        except OSError as exc:
            log.warning("cannot read folder %s: %s", current, exc.strerror or exc)
    return [Path(p) for p in sorted(found)]


def read_book_file(path: str | os.PathLike) -> TuneBook:
    """Read one ABC file (by its extension, else as ABC) or MIDI file as a tune book.

    The one reading code of the window, the CLI and training: an ABC file over
    `limits.MAX_BOOK_BYTES` or a MIDI file over `limits.MAX_MIDI_BYTES` is refused before it is
    read, a MIDI file is transcribed through `app.music.midi_to_abc`. Raises MusicError (one
    line, naming the file) for a missing, binary, empty or broken file and for one without a
    tune; a failure of the transcription itself (a bug) becomes "cannot read: <kind>: ...".
    """
    path = Path(path)
    try:
        if not path.name.lower().endswith(MIDI_EXTENSIONS):
            return read_tune_book(path)
        check_midi_size(path.stat().st_size, str(path))
        from app.music.midi_to_abc import midi_to_abc

        return parse_tune_book(midi_to_abc(path, title=path.stem), str(path))
    except MusicError:
        raise
    except FileNotFoundError:
        raise MusicError("no such file", path=str(path)) from None
    except Exception as exc:  # a transcription bug must not stop a whole corpus
        log.debug("cannot load %s", path, exc_info=True)
        raise MusicError(f"cannot read: {type(exc).__name__}: {exc}", path=str(path)) from None


def _load_file(path: Path, corpus: Corpus, strict: bool) -> None:
    """Add the tunes of one file; when not `strict`, its failure becomes a problem entry."""
    try:
        book = read_book_file(path)
    except MusicError as error:
        if strict:
            raise
        corpus.problems.append(error)
        return
    corpus.tunes.extend(book.tunes)
    corpus.problems.extend(book.problems)


def _source_files(source: str | os.PathLike) -> list[Path]:
    """Return the files of one source; raise MusicError when the source itself is bad."""
    text = os.fspath(source)
    path = Path(text)
    if not path.exists():
        if text.lower() in BUILTIN_CORPORA:
            return builtin_corpus_files(text.lower())
        raise MusicError("no such file or folder", path=text)
    if path.is_dir():
        files = scan_folder(path, TUNE_EXTENSIONS)
        if not files:
            raise MusicError(f"no tunes found in {text} (no .abc, .mid or .midi files)")
        return files
    if not path.name.lower().endswith(TUNE_EXTENSIONS):
        raise MusicError(f"unknown file type {path.suffix or '(no extension)'!r} "
                         f"(expected .abc, .mid or .midi)", path=text)
    return [path]


def load_corpus(sources: Sequence[str | os.PathLike]) -> Corpus:
    """Load the tunes of files, folders and built-in corpora (`BUILTIN_CORPORA`: `celtic`, `all`...).

    A path that exists wins over a built-in name. Raises MusicError (one line) for a missing
    path, an unknown extension, a bad file named directly, a folder without tune files, or when
    no tune loads at all; broken tunes and bad files found inside folders go to `problems`.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if not sources:
        raise MusicError(f"no sources given (name files, folders or a built-in corpus: "
                         f"{', '.join(BUILTIN_CORPORA)})")
    names = [Path(os.fspath(s)).name or os.fspath(s) for s in sources]
    corpus = Corpus(name="+".join(names))
    for source in sources:
        files = _source_files(source)
        named_directly = len(files) == 1 and os.fspath(files[0]) == os.fspath(source)
        for path in files:
            _load_file(path, corpus, strict=named_directly)
    if not corpus.tunes:
        where = ", ".join(os.fspath(s) for s in sources)
        detail = f" ({len(corpus.problems)} problems, the first: {corpus.problems[0]})" \
            if corpus.problems else ""
        raise MusicError(f"no tunes found in {where}{detail}")
    return corpus
