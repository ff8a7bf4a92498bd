"""The size limits of the ABC side, in one place, and the checks that enforce them.

Bad input may never hang Ceol. Reading and splitting a tune book is linear and fast, so only a
very large file is refused (the three built-in Celtic books together are 1.6 MB, whole web
collections a few tens of MB). music21 is the slow part: even with Ceol's lean parse (no beams,
no re-barring, see `abc_midi`) it needs about 2.5 seconds per 1,000 bars for MIDI, and its
MusicXML export, which needs the beams, grows with the square of the length (1,600 bars took
a minute). The converters therefore refuse a tune that is longer than a long set of tunes or an
air with many variations; the message gives the tune's size and the limit.
"""

from __future__ import annotations

import os

from app.music.errors import MusicError

# Largest ABC file read as a tune book (bytes); 100 MB of ABC is about a million tunes.
MAX_BOOK_BYTES = 64_000_000
# Longest tune music21 converts to notes, MIDI or WAV, in bars with music ...
MAX_TUNE_BARS = 2_000
# ... and to MusicXML (beamed, so slower: 500 bars take about 12 seconds) ...
MAX_MUSICXML_BARS = 500
# ... and in characters of ABC text (a tune without bar lines is still bounded).
MAX_TUNE_CHARS = 60_000
# Longest tune the repair works on (each of its passes re-checks the whole tune; generated tunes
# are usually under 2,000 characters, and a 22,000-character one with bad bars takes 8 s).
MAX_REPAIR_CHARS = 20_000
# Seconds music21 may spend on one tune for `convert` (it runs in a worker process, killed after
# that; a 2,000-bar tune takes about 4 s to MIDI and a 500-bar one 12 s to MusicXML).
MAX_CONVERT_SECONDS = 120.0


def check_book_size(size: int, path: str | None = None) -> None:
    """Raise MusicError when a tune book of `size` bytes is over MAX_BOOK_BYTES."""
    if size > MAX_BOOK_BYTES:
        raise MusicError(f"the file has {_mb(size)}; Ceol reads ABC files of at most "
                         f"{_mb(MAX_BOOK_BYTES)}", path=path)


def check_file_size(path: str | os.PathLike) -> None:
    """Raise MusicError when the ABC file at `path` is over MAX_BOOK_BYTES (before reading it)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return  # the read that follows names the real problem
    check_book_size(size, str(path))


def check_tune_size(abc: str, label: str | None = None, line: int | None = None, *,
                    max_bars: int = MAX_TUNE_BARS) -> None:
    """Raise MusicError when one tune's ABC text is too long for music21 to convert.

    The message names the tune (`label`, its X: `line`) and says how long it is and what the
    limit is (`max_bars`, MAX_TUNE_CHARS).
    """
    # Bars are counted (the clearer message) up to where the tokenizer takes about a second.
    quick = len(abc) > MAX_TUNE_CHARS or abc.count("|") > max_bars
    if quick and len(abc) <= 4 * MAX_TUNE_CHARS:
        bars = count_bars(abc)
        if bars > max_bars:
            raise MusicError(f"the tune has {bars:,} bars; Ceol converts tunes of at most "
                             f"{max_bars:,} bars" + ("" if max_bars == MAX_TUNE_BARS else
                                                     " to this format"), path=label, line=line)
    if len(abc) > MAX_TUNE_CHARS:
        raise MusicError(f"the tune has {len(abc):,} characters; Ceol converts tunes of at most "
                         f"{MAX_TUNE_CHARS:,} characters", path=label, line=line)


def count_bars(abc: str) -> int:
    """Return the number of bars with music in a tune (a bar line closes a bar only when notes
    or rests came before it; a last bar without a closing bar line counts)."""
    from app.music import abc_tokens as T

    bars, music = 0, False
    for tok in T.tokenize_tune(abc).body:
        if tok.kind in (T.NOTE, T.REST, T.MULTI_REST, T.CHORD_CLOSE):
            music = True
        elif tok.kind == T.BAR and music:
            bars, music = bars + 1, False
    return bars + music


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"
