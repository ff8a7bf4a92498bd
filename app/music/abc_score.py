"""ABC text -> music21 Score: the text prepared, the parse lean where it can be, errors located.

`parse_abc` takes ABC text or a `Tune` from a tune book; errors become MusicError naming the
tune (its label) and, where the parse fails on one line, that line (found by parsing ever
longer beginnings, `_locate`). Before music21 sees the text (`prepare_abc`):
- a missing `L:` is filled in as ABC 2.1 defines it (1/16 when the meter is below 3/4, else 1/8);
- accidentals are carried through the bar as ABC 2.1 says (`^F F` is two F sharps in the same
  octave), which music21's ABC reader does not do by itself (see `carry_accidentals`).

Size: a tune longer than `limits.MAX_TUNE_BARS` bars (MusicXML: `MAX_MUSICXML_BARS`) or
`MAX_TUNE_CHARS` characters, or with a meter, unit length, note or rest music21 cannot take in
that size (M:99999999/1 made it build a list of a hundred million beats), is refused before
music21 sees it. For notes and MIDI the parse is lean: music21's ABC reader beams every bar and
re-bars overlong bars, both in time that grows with the square of the tune's length (a
1,600-bar tune took a minute) and neither changes a note's pitch, onset or length, so
`parse_abc(lean=True)` switches them off for the calling thread. MusicXML, which
shows the beams, parses in full. music21 is imported inside the functions (it takes a
fraction of a second to load); `abc_midi` turns the Score into notes, MIDI and MusicXML.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Union

from app.music import abc_tokens as T
from app.music.errors import MusicError
from app.music.limits import MAX_TUNE_BARS, check_tune_size, check_tune_values
from app.music.verovio_abc import open_repeat_sections

if TYPE_CHECKING:
    from app.music.tunebook import Tune

log = logging.getLogger(__name__)

AbcSource = Union[str, "Tune"]

_NOTE_RE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)")
# Chord symbols and annotations ("Am"), decorations (!trill!, +trill+; a lone ! is a line break).
_SKIP_RE = re.compile(r'"[^"]*"?|![^!\s|]{1,30}!|\+[^+\s|]{1,30}\+')


def carry_accidentals(body_line: str, state: dict | None = None) -> str:
    """Write out the accidentals ABC carries to later notes of the same pitch in a bar.

    `state` (pitch -> accidental) is kept between lines of a tune since a bar may span lines.
    Text in quotes, decorations (!..!, +..+), inline fields ([K:..]) and comments is left alone.
    """
    state = {} if state is None else state
    out: list[str] = []
    i, n = 0, len(body_line)
    while i < n:
        ch = body_line[i]
        if ch == "%":
            out.append(body_line[i:])
            break
        skip = _SKIP_RE.match(body_line, i) if ch in "\"!+" else None
        if skip:
            out.append(skip.group(0))
            i = skip.end()
            continue
        if ch == "[" and i + 2 < n and body_line[i + 1].isalpha() and body_line[i + 2] == ":":
            end = body_line.find("]", i)
            end = n - 1 if end < 0 else end
            if body_line[i + 1] == "K":
                state.clear()
            out.append(body_line[i:end + 1])
            i = end + 1
            continue
        if ch == "|":
            state.clear()
        match = _NOTE_RE.match(body_line, i) if ch in "^_=ABCDEFGabcdefg" else None
        if match:
            accidental, letter, octave = match.groups()
            pitch = (letter, octave)
            if accidental:
                state[pitch] = accidental
            elif pitch in state:
                out.append(state[pitch])
            out.append(match.group(0))
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _meter_of(text: str) -> tuple[int, int] | None:
    text = text.strip()
    if text in ("C", "C|"):
        return (4, 4) if text == "C" else (2, 2)
    match = re.match(r"(\d{1,9})(?:\+\d{1,9})*\s*/\s*(\d{1,9})(?!\d)", text)
    if not match:
        return None
    num = sum(int(x) for x in re.findall(r"\d+", match.group(0).split("/")[0]))
    return num, int(match.group(2))


def prepare_abc(abc: str) -> tuple[str, list[int]]:
    """Return the ABC text music21 should read, and each of its lines' index in `abc`.

    Keeps only the first tune, fills in a missing L: and carries accidentals through bars.
    """
    lines = abc.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    origin: list[int] = []
    in_body = seen_x = False
    has_length = False
    meter = None
    state: dict = {}
    for index, line in enumerate(lines):
        field = len(line) > 1 and line[1] == ":" and line[0].isalpha()
        if field and line[0] == "X":
            if seen_x:
                break
            seen_x = True
        if not in_body:
            if field and line[0] == "L":
                has_length = True
            if field and line[0] == "M":
                meter = _meter_of(line[2:])
            if field and line[0] == "K":
                if not has_length:
                    small = meter is not None and meter[1] > 0 and meter[0] / meter[1] < 0.75
                    out.append("L:1/16" if small else "L:1/8")
                    origin.append(index)
                in_body = True
            out.append(line)
        else:
            out.append(line if field else carry_accidentals(line, state))
        origin.append(index)
    return "\n".join(out) + "\n", origin


def describe_source(source: AbcSource, label: str | None) -> tuple[str, str | None, object]:
    """Return (abc text, label, tune) for a string or a Tune."""
    if isinstance(source, str):
        return source, label, None
    return source.abc(), label or source.label, source


_lean = threading.local()
_hooks_lock = threading.Lock()
_hooks_installed = False


def _install_lean_hooks() -> None:
    """Wrap music21's beaming and re-barring so that a lean parse can skip them (this thread)."""
    global _hooks_installed
    with _hooks_lock:
        if _hooks_installed:
            return
        from music21 import stream
        from music21.abcFormat import translate

        make_beams, re_bar = stream.Stream.makeBeams, translate.reBar

        def lean_make_beams(self, *args, **kwargs):
            if getattr(_lean, "active", False):
                return None if kwargs.get("inPlace") else self
            return make_beams(self, *args, **kwargs)

        def lean_re_bar(part, *args, **kwargs):
            if getattr(_lean, "active", False):
                return None if kwargs.get("inPlace") else part
            return re_bar(part, *args, **kwargs)

        stream.Stream.makeBeams = lean_make_beams
        translate.reBar = lean_re_bar
        _hooks_installed = True


@contextmanager
def _lean_parse(lean: bool):
    if not lean:
        yield
        return
    _install_lean_hooks()
    before = getattr(_lean, "active", False)
    _lean.active = True
    try:
        yield
    finally:
        _lean.active = before


def _music21_parse(text: str, lean: bool = False):
    from music21 import converter, stream

    with _lean_parse(lean):
        result = converter.parse(text, format="abc", forceSource=True)
    if isinstance(result, stream.Opus):
        scores = list(result.scores)
        if not scores:
            raise MusicError("no tune in the text")
        result = scores[0]
    return result


def _error(message: str, label: str | None, line: int | None) -> MusicError:
    return MusicError(message, path=label, line=line)


def _file_line(tune, abc: str, index: int) -> int:
    """Map a 0-based line of `tune.abc()` to the 1-based line of the tune's file."""
    abc_lines = abc.split("\n")
    body_start = len(abc_lines) - 1 - len(tune.body.split("\n"))  # abc() ends with "\n"
    if index < body_start:
        return tune.line
    if tune.path and os.path.isfile(tune.path):
        try:
            with open(tune.path, encoding="utf-8", errors="replace") as handle:
                file_lines = handle.read().split("\n")
            for number in range(tune.line - 1, len(file_lines)):
                if file_lines[number].lstrip().startswith("K:"):
                    return number + 2 + (index - body_start)
        except OSError:
            pass
    own_fields = len(tune.fields) - tune.book_fields
    return tune.line + own_fields + (index - body_start)


def _locate(text: str) -> int | None:
    """Return the 0-based line of `text` where music21 first fails to parse, or None.

    Parses lean: music21 catches its own beaming and re-barring errors, so they never fail a
    parse, and a dozen full parses of a long tune would take minutes.
    """
    lines = text.split("\n")
    body = next((i for i, line in enumerate(lines) if line.startswith("K:")), None)
    if body is None:
        return None

    def fails(count: int) -> bool:
        try:
            _music21_parse("\n".join(lines[:body + 1 + count]) + "\n", lean=True)
        except Exception:  # noqa: BLE001 - any music21 failure counts
            return True
        return False

    low, high = 0, len(lines) - body - 1   # fails(high) is assumed; find the least failing
    if fails(0):
        return body
    if not fails(high):
        return None
    while high - low > 1:
        mid = (low + high) // 2
        if fails(mid):
            high = mid
        else:
            low = mid
    return body + high


def parse_abc(source: AbcSource, label: str | None = None, *, expand_repeats: bool = True,
              lean: bool = False, max_bars: int = MAX_TUNE_BARS,
              playback: Callable[[str], str] | None = None):
    """Parse one ABC tune into a music21 Score; repeats expanded unless told otherwise.

    `lean` skips beams and re-barring, which only notation needs (see the module docstring).
    Raises MusicError naming the tune (`label`, or the Tune's label) and the failing line, and
    for a tune over the size limits of `app.music.limits`.
    Badly formed repeats are logged and left unexpanded. `playback` rewrites the prepared text
    the way it sounds (`abc_midi.playback_text`); where music21 cannot read its result, the
    text is read as written.
    """
    abc, label, tune = describe_source(source, label)
    if not abc.strip():
        raise _error("empty ABC text", label, None)
    check_tune_size(abc, label, None if tune is None else tune.line, max_bars=max_bars)
    try:
        check_tune_values(abc)
    except MusicError as exc:
        line = exc.line if tune is None else _file_line(tune, abc, exc.line - 1)
        raise MusicError(exc.message, path=label, line=line, column=exc.column) from None
    text, origin = prepare_abc(abc)
    played = _played_parse(playback, text, lean)
    # always, not only when expanding here: MIDI and the piano roll parse with repeats kept
    # and expand them afterwards (a fuzzed tune of eleven `[1 ..:|[2 ..||` sections: 79 s)
    text = _sections_opened(text)
    try:
        score = played or _music21_parse(text, lean)
    except MusicError as exc:
        raise _error(exc.message, label, None) from None
    except Exception as exc:  # noqa: BLE001 - music21 raises many kinds for bad ABC
        index = _locate(text)
        line = None
        if index is not None and index < len(origin):
            line = origin[index] + 1 if tune is None else _file_line(tune, abc, origin[index])
        problem = str(exc).split(". tPrev")[0].split("\n")[0][:200] or type(exc).__name__
        if isinstance(exc, ZeroDivisionError):
            problem = "a note length divides by zero (like A/0)"
        raise _error(f"music21 cannot read this ABC: {problem}", label, line) from None
    if not score.recurse().notes.first():
        raise _error("the tune has no notes", label, None)
    if expand_repeats:
        score = expand_score_repeats(score, label)
    return score



def _played_parse(playback: Callable[[str], str] | None, text: str, lean: bool):
    """Return the score of `playback(text)`, or None where it is the same or does not parse."""
    if playback is None:
        return None
    try:
        played = playback(text)
        return _music21_parse(_sections_opened(played), lean) if played != text else None
    except Exception:  # noqa: BLE001 - then the text is read as written
        log.debug("the playback reading does not parse; reading the text as written",
                  exc_info=True)
        return None


def _sections_opened(text: str) -> str:
    """The text with every section that ends `:|` after an earlier `:|` opened by its `|:`.

    music21 expands such a `:|` from the very start of the tune, earlier repeats included:
    `C|D:|E|F:|` played C D C D E F C D C D E F, where abc2midi (and a player) plays
    C D C D E F E F, and each further section doubles the notes (a fuzzed tune of 900
    characters, 20 such sections, took 93 s and would have made millions of notes). The lines
    stay as they are, so error lines still point at the file.
    """
    key = re.search(r"^K:.*$", text, re.M)
    if key is None or ":|" not in text:
        return text
    return text[:key.end()] + open_repeat_sections(text[key.end():])


def expand_score_repeats(score, label: str | None):
    """Return the score with its repeats written out; as it is when music21 cannot expand them
    (logged as a warning naming the tune)."""
    from music21 import bar, spanner

    if (not score.recurse().getElementsByClass(bar.Repeat).first()
            and not score.recurse().getElementsByClass(spanner.RepeatBracket).first()):
        return score
    try:
        return score.expandRepeats()
    except Exception as exc:  # noqa: BLE001 - music21's ExpanderException and StreamException
        log.warning("%s: repeats not expanded: %s", label or "tune", exc)
        return score


def ending_edits(body: list) -> list[tuple[int, int, int, str]]:
    """Return (line, column, length, new text) edits that give each first ending with no second
    ending one, for playback (`abc_midi.playback_text`, where the cases are described)."""
    edits = []
    for i, tok in enumerate(body):
        if tok.kind != T.ENDING or tok.value != "1":
            continue
        close = next((j for j in range(i + 1, len(body)) if body[j].kind in (T.BAR, T.ENDING)
                      and (body[j].kind == T.ENDING or body[j].text != "|")), None)
        if close is None or body[close].kind != T.BAR:
            continue
        if body[close].text == ":|":
            edits += _second_ending(body, close, "")
        elif body[close].text == "||":
            edits += _copied_ending(body, close)
    return edits


def _second_ending(body: list, close: int, copy: str) -> list[tuple[int, int, int, str]]:
    """Edits writing `2` and `copy` after the `:|` at `close`, when music follows it and no
    ending does."""
    after = next((j for j in range(close + 1, len(body)) if body[j].kind not in
                  (T.SPACE, T.NEWLINE, T.COMMENT)), None)
    if after is None and not copy or after is not None and body[after].kind == T.ENDING:
        return []
    bar = body[close]
    return [(bar.line, bar.column + len(bar.text), 0, f"2{copy}|" if copy else "2")]


def _copied_ending(body: list, double: int) -> list[tuple[int, int, int, str]]:
    """Edits for `|1 .. || A :|`: the `||` becomes `|` and `A` the second ending too."""
    close = next((j for j in range(double + 1, len(body)) if body[j].kind in
                  (T.BAR, T.ENDING, T.FIELD, T.INLINE_FIELD, T.COMMENT)
                  and not (body[j].kind == T.BAR and body[j].text == "|")), None)
    if close is None or body[close].kind != T.BAR or body[close].text != ":|":
        return []
    copy = "".join(" " if tok.kind == T.NEWLINE else tok.text
                   for tok in body[double + 1:close]).strip()
    edits = _second_ending(body, close, " " + copy)
    if not edits or not copy:
        return []
    bar = body[double]
    return edits + [(bar.line, bar.column, len(bar.text), "|")]
