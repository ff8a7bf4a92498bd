"""ABC tune books: read a `.abc` file and split it into tunes the way ABC 2.1 defines them.

A tune starts at an `X:` line and ends at a blank line or the end of the file; free text between
tunes is skipped; fields before the first `X:` (the file header, e.g. `M:`, `L:`, `R:`) apply to
every tune. Text is UTF-8 (a BOM is allowed) and falls back to Latin-1; `\\r\\n` and `\\r` line
endings are accepted. A tune whose header never reaches `K:` (or that has no music) is reported in
`TuneBook.problems` as a `MusicError` naming the file, tune and line, while the good tunes load.
A free-text line between tunes that names a rhythm ("REELS", "% Double Jigs") opens a section of
the book; tunes after it carry that rhythm in `Tune.section`, which the training text uses when a
tune has no `R:` field. A book in which at least half of the tunes state one and the same `R:`
(a file that holds one section of a collection) lends that rhythm to the rest the same way. No music21 here: this is the fast path the corpus loader runs on.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from dataclasses import dataclass, field as dataclass_field, replace
from pathlib import Path
from typing import BinaryIO

from app.music.errors import MusicError
from app.music import limits
from app.music.limits import check_book_size

# Fields the file header may not set for every tune (X and T name one tune; K ends a header).
_NOT_FILE_HEADER = frozenset("XTKWw")
# A free-text section heading: optional %, a rhythm word in the plural, nothing else.
_SECTION_RE = re.compile(
    r"^\s*%*\s*(?:double\s+|single\s+)?(slip\s*jigs?|jigs|reels|hornpipes|polkas|waltz(?:es)?|"
    r"marches|strathspeys|slides|mazurkas|airs|set\s+dances|flings|clogs|schottisches)\s*[.:]?\s*$",
    re.IGNORECASE)


_SINGULAR = {"jigs": "jig", "slip jigs": "slip jig", "slip jig": "slip jig", "reels": "reel",
             "hornpipes": "hornpipe", "polkas": "polka", "waltz": "waltz", "waltzes": "waltz",
             "marches": "march", "strathspeys": "strathspey", "slides": "slide",
             "mazurkas": "mazurka", "airs": "air", "set dances": "set dance",
             "flings": "highland fling", "clogs": "clog", "schottisches": "schottische"}


def _section_name(heading: str) -> str:
    words = re.sub(r"\s+", " ", heading.lower()).replace("slipjig", "slip jig")
    return _SINGULAR.get(words, words)


def strip_comment(text: str) -> str:
    """Return `text` without a trailing `%` comment (an escaped `\\%` is kept)."""
    pos = text.find("%")
    while pos > 0 and text[pos - 1] == "\\":
        pos = text.find("%", pos + 1)
    return text if pos < 0 else text[:pos]


@dataclass(frozen=True)
class Tune:
    """One tune of a book: its header fields in order (file-header fields first) and its body."""

    fields: tuple[tuple[str, str], ...]
    body: str
    path: str | None = None
    index: int = 0          # 0-based position among the X: blocks of its book
    line: int = 1           # 1-based line of its X: field
    book_fields: int = 0    # how many leading entries of `fields` came from the file header
    section: str = ""       # rhythm named by the book's section heading, "" when none

    def field(self, letter: str) -> str | None:
        """Return the tune's own first value of a header field, else the file header's, else None."""
        for name, value in self.fields[self.book_fields:]:
            if name == letter:
                return value
        for name, value in self.fields[:self.book_fields]:
            if name == letter:
                return value
        return None

    @property
    def number(self) -> str:
        return self.field("X") or ""

    @property
    def title(self) -> str:
        return self.field("T") or ""

    @property
    def meter(self) -> str:
        return self.field("M") or ""

    @property
    def unit_length(self) -> str:
        return self.field("L") or ""

    @property
    def key(self) -> str:
        return self.field("K") or ""

    @property
    def rhythm(self) -> str:
        return self.field("R") or ""

    @property
    def tempo(self) -> str:
        return self.field("Q") or ""

    @property
    def label(self) -> str:
        """Name the tune for messages: "file.abc tune 3 (X:12 Title)"."""
        name = os.path.basename(self.path) if self.path else "tune book"
        title = f" {self.title}" if self.title else ""
        return f"{name} tune {self.index + 1} (X:{self.number}{title})"

    def written_fields(self) -> list[tuple[str, str]]:
        """The header fields as the tune is read: the file-header fields it does not set
        itself, then its own, in order."""
        own = {name for name, _ in self.fields[self.book_fields:]}
        book = [(n, v) for n, v in self.fields[:self.book_fields] if n not in own]
        return book + list(self.fields[self.book_fields:])

    def abc(self) -> str:
        """Return a self-contained ABC text of the tune (X first, then the file-header fields the
        tune does not set itself, then its own fields and body)."""
        lines = [f"X:{self.number}"]
        lines += [f"{n}:{v}" for n, v in self.written_fields() if n != "X"]
        if self.body:
            lines.append(self.body)
        return "\n".join(lines) + "\n"


@dataclass
class TuneBook:
    """The tunes of one ABC file, and the problems of the tunes that could not be read."""

    tunes: list[Tune] = dataclass_field(default_factory=list)
    problems: list[MusicError] = dataclass_field(default_factory=list)
    path: str | None = None


class _TuneBuilder:
    """Collects one tune's lines while the book is scanned."""

    def __init__(self, book_fields: list[tuple[str, str]], line: int, index: int,
                 section: str) -> None:
        self.fields = list(book_fields)
        self.book_count = len(book_fields)
        self.body: list[str] = []
        self.line = line
        self.index = index
        self.section = section
        self.in_body = False
        self.continued = False  # the last header line ended with a backslash
        self.error: tuple[int, str] | None = None

    def add(self, text: str, number: int) -> None:
        if self.in_body:
            self.body.append(text)
            return
        continued, self.continued = self.continued, text.endswith("\\")
        if text.startswith("%") or continued:
            return
        colon = text.find(":")
        if colon > 0 and (text[0].isalpha() or text[0] == "+") and not text[1:colon].strip():
            value = strip_comment(text[colon + 1:]).strip()
            if text[0] == "+" and len(self.fields) > self.book_count:
                name, old = self.fields[-1]
                self.fields[-1] = (name, f"{old} {value}")
            elif text[0] != "+":
                self.fields.append((text[0], value))
                self.in_body = text[0] == "K"
            return
        if self.error is None:
            self.error = (number, "music before the K: field (a tune header must end with K:)")

    def build(self, path: str | None) -> Tune:
        number = self.fields[self.book_count][1] if len(self.fields) > self.book_count else ""
        tune_name = f"{self.index + 1} (X:{number})"
        if self.error is not None:
            raise MusicError(self.error[1], path=path, tune=tune_name, line=self.error[0])
        if not self.in_body:
            raise MusicError("no K: field (a tune header must end with K:)", path=path,
                             tune=tune_name, line=self.line)
        body = "\n".join(self.body)
        if not body.strip():
            raise MusicError("no music after the K: field", path=path, tune=tune_name,
                             line=self.line)
        return Tune(fields=tuple(self.fields), body=body, path=path, index=self.index,
                    line=self.line, book_fields=self.book_count, section=self.section)


def parse_tune_book(text: str, path: str | None = None) -> TuneBook:
    """Split ABC text into tunes; broken tunes go to `problems`.

    Raises MusicError (naming `path`) when the text holds no `X:` line at all.
    """
    path = None if path is None else str(path)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    book = TuneBook(path=path)
    book_fields: list[tuple[str, str]] = []
    section = ""
    builder: _TuneBuilder | None = None
    index = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if builder is not None:
            if line.strip():
                builder.add(line.rstrip(), number)
                continue
            _finish(builder, book)
            builder = None
            continue
        if line.lstrip().startswith("X:"):
            builder = _TuneBuilder(book_fields, number, index, section)
            builder.add(line.lstrip(), number)
            index += 1
            continue
        heading = _SECTION_RE.match(line)
        if heading:
            section = _section_name(heading.group(1))
        elif (index == 0 and len(line) > 1 and line[1] == ":" and line[0].isalpha()
              and line[0] not in _NOT_FILE_HEADER):
            book_fields.append((line[0], strip_comment(line[2:]).strip()))
    if builder is not None:
        _finish(builder, book)
    if index == 0:
        raise MusicError("no tune found (no line starts with X:)", path=path)
    _fill_book_section(book)
    return book


def _fill_book_section(book: TuneBook) -> None:
    """Give tunes without a section the book's rhythm when at least half of its tunes state
    one and the same rhythm in `R:` (a file that holds one section of a collection)."""
    stated = [" ".join(t.rhythm.lower().split()) for t in book.tunes if t.rhythm]
    if not stated or len(stated) == len(book.tunes) or 2 * len(stated) < len(book.tunes):
        return
    if len(set(stated)) == 1:
        book.tunes = [t if t.section or t.rhythm else replace(t, section=stated[0])
                      for t in book.tunes]


def _finish(builder: _TuneBuilder, book: TuneBook) -> None:
    try:
        book.tunes.append(builder.build(book.path))
    except MusicError as exc:
        book.problems.append(exc)


def decode_abc(data: bytes, path: str | None = None) -> str:
    """Decode the bytes of an ABC file: UTF-8 (or UTF-16 with a BOM), else Latin-1.

    Raises MusicError for empty and binary data (NUL bytes or many control characters).
    """
    if not data.strip():
        raise MusicError("empty file" if not data else "file holds only white space", path=path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise MusicError("binary file, not ABC text", path=path) from None
    head = data[:4096]
    # Tabs, line ends, form feeds and a DOS end-of-file mark are text; other controls are not.
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13, 26))
    if b"\0" in data or controls > max(2, len(head) // 100):
        raise MusicError("binary file, not ABC text", path=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_tune_book(source: str | os.PathLike | bytes | BinaryIO) -> TuneBook:
    """Read a tune book from a path, bytes or a binary file object.

    Raises MusicError (one line, naming the file) for a missing, unreadable, empty or binary
    file, for one over `limits.MAX_BOOK_BYTES` (refused before it is read) and for text that
    holds no tune.
    """
    path: str | None = None
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = str(source)
        data = _read_bytes(Path(path))
    elif isinstance(source, io.IOBase) or hasattr(source, "read"):
        path = getattr(source, "name", None)
        path = path if isinstance(path, str) else None
        data = source.read(limits.MAX_BOOK_BYTES + 1)
        check_book_size(len(data) if isinstance(data, bytes) else len(data.encode()), path)
        if isinstance(data, str):
            return parse_tune_book(data, path)
    else:
        raise TypeError(f"cannot read a tune book from {type(source).__name__}")
    check_book_size(len(data), path)
    return parse_tune_book(decode_abc(data, path), path)


def _read_bytes(path: Path) -> bytes:
    try:
        check_book_size(path.stat().st_size, str(path))
        return path.read_bytes()
    except FileNotFoundError:
        raise MusicError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise MusicError("is a folder, not an ABC file", path=str(path)) from None
    except PermissionError:
        raise MusicError("permission denied", path=str(path)) from None
    except OSError as exc:
        raise MusicError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
