"""ABC as verovio 6.4's ABC reader can take it: the notation that crashes it rewritten.

verovio's ABC reader aborts or segfaults on common notation, so `notation.engrave` hands it
`prepare_abc(abc)`: one tune, with an X: line, where a `:|` closing a section that has no `|:`
gets one (`|:A:|B:|` -> `|:A:||:B:|`), `:|:` becomes `:||:`, `||:` becomes `|| |:`, a `:|` after
the last ending (which repeats nothing) becomes `||`, and an ending followed at once by a chord
symbol or decoration (`[2"G"`) gets a space. Pure text work, no verovio here.
"""

from __future__ import annotations

import re
from typing import Iterator

_FIELD_LINE_RE = re.compile(r"^\s*(?:[A-Za-z+]:(?![|:])|%)")
_BAR_RE = re.compile(r":*(?:\[\||\|\]|\|\||\|)?:*")
_ENDING_DIGIT_RE = re.compile(r"\s*\d")
_ENDING_THEN_TEXT_RE = re.compile(r"(\[\d[\d,\-]*)(?=[\"!+])")


def prepare_abc(abc: str) -> str:
    """Return the tune as verovio's ABC reader can take it: one tune, with an X: line, and the
    notation that crashes verovio 6.4 rewritten to what it means (see the module docstring)."""
    if not re.search(r"^X:", abc, re.M):
        abc = "X:1\n" + abc
    # One tune only: verovio crashes (segfault in renderToTimemap) on some texts holding a
    # second X: line, e.g. "X:1\nK:D\nABcd|\nX:2\nK:D\nABcd|" at some page widths.
    first = abc.index("X:") + 2 if abc.startswith("X:") else re.search(r"^X:", abc, re.M).end()
    second = re.search(r"^X:", abc[first:], re.M)
    if second is not None:
        abc = abc[:first + second.start()]
    key = re.search(r"^K:.*$", abc, re.M)
    if key is None:
        return abc
    head, body = abc[:key.end()], abc[key.end():]
    return head + _ENDING_THEN_TEXT_RE.sub(r"\1 ", open_repeat_sections(body))


def open_repeat_sections(body: str) -> str:
    """Give every `:|` that closes a section without `|:` its `|:`; write `:|:` as `:||:`.

    What the marks mean, written out: a section that ends `:|` after an earlier `:|` repeats
    from that earlier end, as abc2midi and players read it. verovio crashes on the short form,
    and music21 expands it from the very start (see `app.music.abc_score`), so both get this."""
    edits: list[tuple[int, int, str]] = []   # (start, end, replacement)
    is_open = False          # a |: is waiting for its :|
    ends = 0                 # :| seen so far
    boundary: int | None = 0  # where the current section began, if known
    after_ending = False     # inside an ending ([2 ...) until its first bar line
    for kind, at, token, ending in _repeat_marks(body):
        if kind == "line":
            if boundary is not None and not body[boundary:at].strip(" \t\n|"):
                boundary = at   # a section that starts on the next line starts there
            continue
        if kind == "ending":
            if token[1] != "1":   # a first ending belongs to the section it ends
                after_ending, boundary = True, None
            continue
        ends_repeat, starts_repeat = token.startswith(":"), token.endswith(":")
        if ends_repeat and not is_open and ends and boundary is not None:
            edits.append(_repeat_start(body, boundary))
        if ends_repeat and after_ending and not starts_repeat and not ending:
            # ":|" after the last ending (O'Neill's "|1 ..:|2 ..:|") crashes verovio and
            # repeats nothing: a double bar says the same
            edits.append((at, at + len(token), "||" if token == ":|" else token[1:]))
        elif ends_repeat and starts_repeat and token != ":||:":
            edits.append((at, at + len(token), ":||:"))
        elif token == "||:":
            edits.append((at, at + len(token), "|| |:"))
        if ends_repeat:
            ends += 1
        if ends_repeat or starts_repeat:
            is_open = starts_repeat
        if ending:
            if ends_repeat or ending.strip() != "1":
                after_ending, boundary = True, None
        elif starts_repeat:
            boundary = None
        elif ends_repeat or token in ("||", "|]", "[|") or after_ending:
            after_ending, boundary = False, at + len(token)
    for start, end, text in sorted(edits, reverse=True):
        body = body[:start] + text + body[end:]
    return body


def _repeat_marks(body: str) -> Iterator[tuple[str, int, str, str | None]]:
    """Yield, in order, where music lines start ("line", start, "", None), ending brackets
    ("ending", at, "[2", None) and bar lines ("bar", at, ":|", the ending number right after
    it or None); quotes, decorations, comments and field lines are passed over."""
    pos = 0
    for line in body.split("\n"):
        line_start, pos = pos, pos + len(line) + 1
        if _FIELD_LINE_RE.match(line):
            continue
        yield "line", line_start, "", None
        i = 0
        while i < len(line):
            c = line[i]
            if c in '"!':
                close = line.find(c, i + 1)
                i = len(line) if close < 0 else close + 1
                continue
            if c == "%":
                break
            if line.startswith("[|]", i):   # an invisible bar line: no section boundary
                i += 3
                continue
            if c == "[" and i + 1 < len(line) and line[i + 1].isdigit():
                yield "ending", line_start + i, line[i:i + 2], None
                i += 2
                continue
            match = _BAR_RE.match(line, i)
            token = match.group(0)
            if "|" not in token and "::" not in token:
                i += 1
                continue
            ending = _ENDING_DIGIT_RE.match(line, match.end())
            yield "bar", line_start + i, token, ending.group(0) if ending else None
            i = match.end()


def _repeat_start(body: str, at: int) -> tuple[int, int, str]:
    """The edit that opens a repeat at `at`, written so verovio reads it: "|:" glued to a
    plain bar ("||:", "|:|") crashes it too, so a plain bar there becomes the "|:" itself."""
    start = at + len(body[at:]) - len(body[at:].lstrip(" \t"))
    if body[start:start + 1] == "|" and body[start + 1:start + 2] not in ("|", "]", ":"):
        return start, start + 1, "|:"
    glued = body[at - 1:at] == "|" and body[at - 2:at] != ":|"
    return at, at, " |:" if glued else "|:"
