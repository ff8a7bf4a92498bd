"""The size limits of the ABC side and of MIDI files read, in one place, and their checks.

Bad input may never hang Ceol. Reading and splitting a tune book is linear and fast, so only a
very large file is refused (the three built-in Celtic books together are 1.6 MB, whole web
collections a few tens of MB). music21 is the slow part: even with Ceol's lean parse (no beams,
no re-barring, see `abc_midi`) it needs about 2.5 seconds per 1,000 bars for MIDI, and its
MusicXML export, which needs the beams, grows with the square of the length (1,600 bars took
a minute). The converters therefore refuse a tune that is longer than a long set of tunes or an
air with many variations; the message gives the tune's size and the limit.
"""

from __future__ import annotations

import re
from fractions import Fraction

from app.music import abc_tokens as T
from app.music.errors import MusicError

# Largest ABC file read as a tune book (bytes); 100 MB of ABC is about a million tunes.
MAX_BOOK_BYTES = 64_000_000
# Largest MIDI file read (bytes); a whole symphony is a few hundred kB.
MAX_MIDI_BYTES = 8 * 1024 * 1024
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
# Numbers music21 cannot take in any size: a meter of 99999999/1 makes it build a beat list of
# that length (gigabytes), a note A99999999999999999999 hangs its MusicXML export.
MAX_METER_BEATS = 64          # M: numerator (summed for 2+3+2/8)
MAX_METER_UNIT = 128          # M: denominator
MAX_NOTE_UNITS = 1024         # a note's or rest's length in unit note lengths (A1024)
MAX_UNIT_LENGTH = Fraction(4)  # L: at most four whole notes
MAX_MULTI_REST = MAX_TUNE_BARS  # Z99 rests for 99 bars


def check_book_size(size: int, path: str | None = None) -> None:
    """Raise MusicError when a tune book of `size` bytes is over MAX_BOOK_BYTES."""
    if size > MAX_BOOK_BYTES:
        raise MusicError(f"the file has {_mb(size)}; Ceol reads ABC files of at most "
                         f"{_mb(MAX_BOOK_BYTES)}", path=path)


def check_midi_size(size: int, path: str | None = None) -> None:
    """Raise MusicError when a MIDI file of `size` bytes is over MAX_MIDI_BYTES."""
    if size > MAX_MIDI_BYTES:
        raise MusicError(f"the MIDI file has {_mb(size)}; Ceol reads MIDI files of at most "
                         f"{_mb(MAX_MIDI_BYTES)}", path=path)


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


def check_tune_values(abc: str) -> None:
    """Raise MusicError (with the line in `abc`) for a meter, unit length, note length or
    multi-bar rest too large for music21 (see the MAX_ constants above)."""
    tokens = T.tokenize_tune(abc)
    for tok in tokens.header + tokens.body:
        if tok.kind in (T.FIELD, T.INLINE_FIELD):
            letter, value = tok.value
            problem = _meter_problem(value) if letter == "M" else \
                _unit_problem(value) if letter == "L" else None
        elif tok.kind in (T.NOTE, T.REST, T.CHORD_CLOSE) and tok.value > MAX_NOTE_UNITS:
            problem = (f"the length of {tok.text[:40]} is over {MAX_NOTE_UNITS:,} unit note "
                       "lengths, the most Ceol converts")
        elif tok.kind == T.ERROR and tok.value[0] == "huge-length":
            problem = f"{tok.value[1]}; Ceol converts notes of at most {MAX_NOTE_UNITS:,} units"
        elif tok.kind == T.MULTI_REST and tok.value > MAX_MULTI_REST:
            problem = f"a rest of {tok.value:,} bars is longer than a tune Ceol converts"
        else:
            continue
        if problem:
            raise MusicError(problem, line=tok.line, column=tok.column)


def _meter_problem(value: str) -> str | None:
    match = re.match(r"\s*(\d[\d+\s]*)/\s*(\d+)", value)
    if match:
        beats = sum(_number(x) for x in re.findall(r"\d+", match.group(1)))
        unit = _number(match.group(2))
    else:
        # Not a meter ABC knows, but music21 still reads the digits before the "/" as the
        # beats: "3>[Bxb5!5/4" is 355/4 (2.4 s to parse one bar), and a longer one of the kind
        # ran for minutes (found by fuzzing ABC -> MusicXML). Judge what music21 would read.
        head, slash, tail = value.rpartition("/")
        digits, unit_digits = re.sub(r"\D", "", head), re.match(r"\s*(\d+)", tail)
        if not slash or not digits or not unit_digits:
            return None
        beats, unit = _number(digits), _number(unit_digits.group(1))
    if 0 < beats <= MAX_METER_BEATS and 0 < unit <= MAX_METER_UNIT:
        return None
    return (f"the meter M:{value.strip()[:40]} is out of range; Ceol converts meters of 1 to "
            f"{MAX_METER_BEATS} beats of 1/1 to 1/{MAX_METER_UNIT}")


def _unit_problem(value: str) -> str | None:
    match = re.match(r"\s*(\d+)\s*/\s*(\d+)", value)
    if not match or _number(match.group(2)) == 0:
        return None     # music21 reports these itself
    if Fraction(_number(match.group(1)), _number(match.group(2))) <= MAX_UNIT_LENGTH:
        return None
    return (f"the unit note length L:{value.strip()[:40]} is over {MAX_UNIT_LENGTH} whole "
            "notes, the most Ceol converts")


def _number(digits: str) -> int:
    """Return the value of a run of digits, capped at 10**9 (int() refuses 4,300 digits)."""
    return int(digits) if len(digits) <= 9 else 10 ** 9


def count_bars(abc: str) -> int:
    """Return the number of bars with music in a tune (a bar line closes a bar only when notes
    or rests came before it; a last bar without a closing bar line counts)."""
    bars, music = 0, False
    for tok in T.tokenize_tune(abc).body:
        if tok.kind in (T.NOTE, T.REST, T.MULTI_REST, T.CHORD_CLOSE):
            music = True
        elif tok.kind == T.BAR and music:
            bars, music = bars + 1, False
    return bars + music


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"
