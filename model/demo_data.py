"""The demos' data: the bundled sets, the user's .txt and .csv files, and the held-out split.

Next-word data is a list of sentences; sentiment data a list of (text, label) with label 1 for
positive and 0 for negative. Which examples are held out is decided by the text alone (a CRC of
its sorted words), so the split is the same on every machine and run, and the two texts of an
order-swapped sentiment pair (same words, opposite meaning) always land on the same side.
User files are checked at the edge: size, encoding, empty content, CSV columns and labels,
each problem a ModelError naming the file and line. Torch-free.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from model.errors import ModelError
from model.words import tokenize

DEMO_DATA_DIR = Path(__file__).resolve().parent.parent / "resources" / "demos"
HELD_OUT_PERCENT = 20
MAX_FILE_BYTES = 5_000_000      # larger training files are refused before reading
MAX_SENTENCE_WORDS = 60         # longer lines are cut into pieces of this many tokens
MAX_EXAMPLES = 20_000           # training examples kept (the first ones): seconds, not minutes
MIN_EXAMPLES = 4
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
POSITIVE = {"1", "pos", "positive", "true", "yes"}
NEGATIVE = {"0", "neg", "negative", "false", "no"}


@dataclass
class DemoData:
    """Examples of one demo split into training and held-out parts, plus what reading found."""

    task: str                                   # nextword or sentiment
    train: list                                 # sentences, or (text, label) pairs
    held_out: list
    source: str = "bundled demo set"
    notes: list[str] = field(default_factory=list)   # warnings to show, one line each


def is_held_out(text: str) -> bool:
    """Tell whether `text` belongs to the held-out part (HELD_OUT_PERCENT of texts)."""
    key = " ".join(sorted(tokenize(text))).encode("utf-8")
    return zlib.crc32(key) % 100 < HELD_OUT_PERCENT


def split(task: str, examples: list, source: str, notes: list[str] | None = None) -> DemoData:
    """Split examples by `is_held_out` of their text."""
    def text(e) -> str:
        return e if isinstance(e, str) else e[0]
    train = [e for e in examples if not is_held_out(text(e))]
    held = [e for e in examples if is_held_out(text(e))]
    return DemoData(task, train, held, source, list(notes or []))


def bundled(task: str) -> DemoData:
    """Return the bundled demo set of `task` (nextword or sentiment), split."""
    if task == "nextword":
        lines = []
        for name in ("nextword-longrange.txt", "nextword-everyday.txt"):
            lines += read_lines(DEMO_DATA_DIR / name)
        return split(task, lines, "bundled demo set")
    if task == "sentiment":
        rows, notes = parse_csv((DEMO_DATA_DIR / "sentiment.csv").read_text("utf-8"),
                                "sentiment.csv")
        return split(task, rows, "bundled demo set", notes)
    raise ModelError(f"unknown demo {task!r}; choose nextword or sentiment")


def long_range_sentences() -> list[str]:
    """Return the bundled sentences whose last word follows from a fact far back in them."""
    return read_lines(DEMO_DATA_DIR / "nextword-longrange.txt")


def read_lines(path: Path) -> list[str]:
    """Return the non-empty lines of a bundled UTF-8 file."""
    return [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]


def read_user_file(task: str, path: str | os.PathLike) -> DemoData:
    """Read the user's training file: sentences from a .txt (next word), rows of a CSV (sentiment).

    Raises ModelError naming the file for a missing, huge, binary or empty file, and for a CSV
    without usable text,label rows.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ModelError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ModelError(f"{name}: too large ({path.stat().st_size / 1e6:.1f} MB); the demos "
                         f"train on files up to {MAX_FILE_BYTES // 1_000_000} MB")
    text, notes = decode(path.read_bytes(), name)
    if task == "nextword":
        sentences = sentences_of(text)
        if len(sentences) < MIN_EXAMPLES:
            raise ModelError(f"{name}: too little text to learn from ({len(sentences)} "
                             f"sentences; at least {MIN_EXAMPLES})")
        if len(sentences) > MAX_EXAMPLES:
            notes.append(f"only the first {MAX_EXAMPLES:,} of {len(sentences):,} sentences used")
        return split(task, sentences[:MAX_EXAMPLES], name, notes)
    rows, more = parse_csv(text, name)
    notes += more
    if len(rows) > MAX_EXAMPLES:
        notes.append(f"only the first {MAX_EXAMPLES:,} of {len(rows):,} rows used")
    return split(task, rows[:MAX_EXAMPLES], name, notes)


def decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252.

    Returns the text and notes (the fallback is named, so odd letters have an explanation);
    ModelError for a file with NUL bytes and no UTF-16 BOM (a binary file).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise ModelError(f"{name}: damaged UTF-16 text") from None
    if b"\x00" in data:
        raise ModelError(f"{name}: not a text file (it holds NUL bytes)")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        note = (f"{name} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "read it as Windows-1252")
        return data.decode("cp1252", errors="replace"), [note]


def sentences_of(text: str) -> list[str]:
    """Split text into training sequences: one a line, so a fact in one sentence can decide a
    word in the next; a line over MAX_SENTENCE_WORDS words (a paragraph) is cut at sentence
    ends into pieces of at most that many words (a longer sentence is cut where it must be)."""
    pieces = []
    for line in text.splitlines():
        words = line.split()
        if len(words) <= MAX_SENTENCE_WORDS:
            pieces.append(" ".join(words))
            continue
        piece: list[str] = []
        for sentence in _SENTENCE_END.split(line.strip()):
            more = sentence.split()
            if piece and len(piece) + len(more) > MAX_SENTENCE_WORDS:
                pieces.append(" ".join(piece))
                piece = []
            piece += more
            while len(piece) > MAX_SENTENCE_WORDS:
                pieces.append(" ".join(piece[:MAX_SENTENCE_WORDS]))
                piece = piece[MAX_SENTENCE_WORDS:]
        if piece:
            pieces.append(" ".join(piece))
    return [p for p in pieces if tokenize(p)]


def parse_csv(text: str, name: str) -> tuple[list[tuple[str, int]], list[str]]:
    """Read `text,label` rows (a header row is optional); labels 1/0, pos/neg, positive/negative.

    Rows with an empty text or a missing or unknown label are skipped and counted in a note;
    ModelError when no usable row is left or both labels are not present.
    """
    rows: list[tuple[str, int]] = []
    bad: list[str] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for number, record in enumerate(reader, start=1):
            if not record or not any(cell.strip() for cell in record):
                continue
            if number == 1 and [c.strip().lower() for c in record[:2]] == ["text", "label"]:
                continue
            label = record[1].strip().lower() if len(record) > 1 else ""
            if not record[0].strip() or not tokenize(record[0]):
                bad.append(f"line {number}: no text")
            elif label in POSITIVE or label in NEGATIVE:
                rows.append((record[0].strip(), int(label in POSITIVE)))
            else:
                bad.append(f"line {number}: label {label!r} is not 1/0 or positive/negative"
                           if label else f"line {number}: no label")
    except csv.Error as exc:
        raise ModelError(f"{name}: not a readable CSV file ({exc})") from None
    notes = [f"{name}: skipped {len(bad)} row(s): " + "; ".join(bad[:3])
             + (" ..." if len(bad) > 3 else "")] if bad else []
    if not rows:
        raise ModelError(f"{name}: no usable rows; expected `text,label` with label 1 or 0"
                         + (f" ({bad[0]})" if bad else ""))
    if len({label for _, label in rows}) < 2:
        raise ModelError(f"{name}: every row has the same label; the classifier needs both "
                         "positive (1) and negative (0) examples")
    return rows, notes
