"""What abc2midi, the reference ABC implementation, rejects in text that music21 reads.

music21 is lenient where abc2midi (Debian's `abcmidi`) is strict, and a tune shared as ABC
should play in both. `portable_findings(tune)` lists, by token index, the abc2midi errors
found by measuring abc2midi 4.84 (Debian abcmidi 20230208) on generated tunes and the Celtic
corpus (`benchmarks/abc2midi_judge.py`):

- `misplaced-decoration`: a decoration letter (`u`, `v`, `~`, `T`, `.` ...) that does not stand
  right before a note, rest or chord (`u(GF)`, `."4".e`, `~{g}A`); only `.` may stand before a
  slur `(`. abc2midi reads "Malformed note". A roll or trill (`~`, `T`) on a chord, and the
  letter `k` (no ABC decoration, passed over only at the start of a run) count too;
- `roll-after-grace`: a roll `~` on a note with grace notes (abc2midi plays a roll as grace
  notes);
- `unequal-broken-rhythm`: `>` or `<` between notes or rests of different lengths (`A2>B`,
  `A>B>c` where the first `>` already halved B), or between a staccato note and a plain one
  (`A>.B`: abc2midi shortens staccato notes) or a fermata and a plain one (`HA>B`);
- `tie-mismatch`: a tie `-` to a rest, to nothing, to a note of another pitch letter or
  octave, across a decoration other than `.`, or from or to grace notes;
- `staccato-tie`: a tie from a staccato note (`.F4-F2`: abc2midi shortens it first);
- `invisible-bar`: the invisible bar line `[|]`, which abc2midi reads as a chord;
- `repeat-at-end`: `|:` (or `::`) with no music after it;
- `unclosed-ending`: a first ending `[1` with no `:|` after it;
- `ending-after-repeat`: a first ending `[1`, or a `::`, after a `:|` with no `|:` between
  (the part has no repeat start);
- `bad-octave`: a lower-case note with `,` or an upper-case one with `'` (`d,` is `D`);
- `bad-chord-symbol`: a quote that is neither text (`"^..."`, `"_..."` ...) nor a chord symbol
  abc2midi knows (`"Segno"`, `"D.C."`, `"Gmaj"`, `"A/"`);
- `hornpipe-swing`: in a hornpipe, a pair of eighths abc2midi swings of which only one is
  staccato or a fermata (`hornpipe_swing_findings`, which needs the checker's bars);
- `bad-tempo`: a `Q:` abc2midi cannot read (`Q:1/1=00`, `Q:x`);
- `body-field`: a field line abc2midi allows only in the header (`R:`, `N:`, `O:` ...) inside
  the body;
- `hornpipe-meter`: `R:hornpipe` in a meter other than C, 2/4 or 4/4 (abc2midi swings
  hornpipes and refuses others, `M:C|` included).

The checker reports each as an error; `repair_portable` fixes each without changing a sounding
note (explicit lengths for broken rhythm, the decoration moved onto its note, `d,` as `D`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from app.music import abc_tokens as T

# The chord types abc2midi 4.84 knows (measured: other names are "Unrecognized chord").
CHORD_TYPES = frozenset({"", "m", "7", "m7", "maj7", "M7", "6", "m6", "aug", "+", "aug7", "dim",
                         "dim7", "9", "m9", "maj9", "M9", "11", "dim9", "sus", "sus9", "7sus4",
                         "7sus9", "5", "sus4", "sus2", "7sus2", "m7b5"})
_CHORD = re.compile(r"\(?([A-Ga-g])([#b]?)([^\s/()]*)(?:/(.?))?")
# Field letters abc2midi refuses in a tune body (measured; X: is the walker's business).
_HEADER_ONLY = frozenset("RNOCSZHABDFGU")
_HORNPIPE_METERS = frozenset({"C", "2/4", "4/4"})
_TEMPO = re.compile(r"\s*(?:(?:\d+/\d+\s*)+=\s*0*[1-9]\d*|0*[1-9]\d*|C\d*\s*=\s*0*[1-9]\d*)?\s*")
_ROLLS = frozenset("~T")
_NOTE_HEAD = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)")


@dataclass(frozen=True)
class Finding:
    """One abc2midi error: its code, the token it is about, and a message."""

    code: str
    index: int          # a body token's index, or -1 - i for the header's token i
    message: str


def chord_symbol_problem(text: str) -> str | None:
    """Return why abc2midi refuses the quote `"text"` as a chord symbol, or None if it reads it.

    Quotes starting with ^ _ < > @ are text and always fine, and abc2midi also passes over an
    empty quote and one starting with a digit (a fingering).
    """
    if not text or text[0] in "^_<>@" or text[0].isdigit():
        return None
    m = _CHORD.match(text)
    if m is None:
        return f'"{text}" is not a chord symbol (write text as "^{text}")'
    if m.group(3) not in CHORD_TYPES:
        return f'abc2midi does not know the chord type "{m.group(3)}" in "{text}"'
    if m.group(4) is not None and not re.match(r"[A-Ga-g]", m.group(4)):
        return f'the bass note after / is missing in "{text}"'
    return None


def portable_findings(tune: T.TuneTokens) -> list[Finding]:
    """Return what abc2midi rejects in a tokenised tune (see the module docstring)."""
    body = tune.body
    found: list[Finding] = []
    found += _header_findings(tune)
    for i, tok in enumerate(body):
        if tok.kind == T.QUOTE:
            why = chord_symbol_problem(tok.text[1:-1])
            if why:
                found.append(Finding("bad-chord-symbol", i, why))
        elif tok.kind == T.BAR and tok.text == "[|]":
            found.append(Finding("invisible-bar", i, "abc2midi reads the invisible bar line "
                                 "[|] as a chord"))
        elif tok.kind == T.FIELD and tok.value[0] in _HEADER_ONLY:
            found.append(Finding("body-field", i, f"abc2midi allows no {tok.value[0]}: field "
                                 "inside the tune body"))
        elif tok.kind == T.FIELD and tok.value[0] == "Q" and tempo_problem(tok.value[1]):
            found.append(Finding("bad-tempo", i, tempo_problem(tok.value[1])))
        elif tok.kind == T.NOTE:
            m = _NOTE_HEAD.match(tok.text)
            marks = m.group(3)
            if ("," in marks and m.group(2).islower()) or ("'" in marks and m.group(2).isupper()):
                found.append(Finding("bad-octave", i, f"abc2midi reads no {marks[0]!r} after "
                                     f"{m.group(2)}; write {respell_octave(tok.text)}"))
    found += _decoration_findings(body)
    found += _repeat_findings(body)
    found += _tie_findings(body)
    found += broken_rhythm_findings(body)[0]
    return found


def respell_octave(note: str) -> str:
    """Write a note's octave the way abc2midi reads it: "d," -> "D", "C'2" -> "c2"."""
    m = _NOTE_HEAD.match(note)
    accidental, letter, marks = m.group(1) or "", m.group(2), m.group(3)
    octave = (1 if letter.islower() else 0) + marks.count("'") - marks.count(",")
    if octave >= 1:
        head = letter.lower() + "'" * (octave - 1)
    else:
        head = letter.upper() + "," * -octave
    return accidental + head + note[m.end():]


def tempo_problem(value: str) -> str | None:
    """Return why abc2midi refuses the tempo `Q:value` ("1/4=0", "x"), or None if it reads it."""
    if _TEMPO.fullmatch(re.sub(r'"[^"]*"', "", value)):
        return None
    return f"abc2midi cannot read the tempo Q:{value.strip()} (write e.g. Q:1/4=120)"


def _header_findings(tune: T.TuneTokens) -> list[Finding]:
    found = []
    for i, tok in enumerate(tune.header):
        if tok.value[0] == "Q" and tempo_problem(tok.value[1]):
            # Negative indices: -1 - the header token's index.
            found.append(Finding("bad-tempo", -1 - i, tempo_problem(tok.value[1])))
    return found + _hornpipe_findings(tune)


def _hornpipe_findings(tune: T.TuneTokens) -> list[Finding]:
    fields = {tok.value[0]: tok.value[1] for tok in reversed(tune.header)}
    rhythm, meter = fields.get("R", "").strip().lower(), fields.get("M", "").replace(" ", "")
    if rhythm.startswith("hornpipe") and meter and meter not in _HORNPIPE_METERS:
        rhythm_index = next(i for i, tok in enumerate(tune.header) if tok.value[0] == "R")
        return [Finding("hornpipe-meter", -1 - rhythm_index, "abc2midi plays a hornpipe only "
                        f"in 2/4 or 4/4, not M:{meter}; drop R: or change the meter")]
    return []


def _decoration_findings(body: list[T.Token]) -> list[Finding]:
    found = []
    i = 0
    while i < len(body):
        if not _letter_decoration(body[i]):
            i += 1
            continue
        start = i
        while i < len(body) and _letter_decoration(body[i]):
            i += 1
        # abc2midi passes over a leading k (not an ABC decoration) with a warning only.
        run = "".join(tok.text for tok in body[start:i]).lstrip("k")
        after = i
        while after < len(body) and body[after].kind == T.ERROR and not body[after].text:
            after += 1      # the invisible rest x carries an empty ERROR token before it
        nxt = body[after] if after < len(body) else None
        where = nxt.text.strip() if nxt is not None and nxt.text.strip() else "nothing"
        if not run:
            continue
        if "k" in run:
            found.append(Finding("misplaced-decoration", start, f"{run}: k is not an ABC "
                                 "decoration"))
        elif nxt is None or nxt.kind not in (T.NOTE, T.REST, T.CHORD_OPEN, T.SLUR_OPEN):
            found.append(Finding("misplaced-decoration", start, f"decoration {run} before "
                                 f"{where!r}: abc2midi wants it right before the note"))
        elif nxt.kind == T.SLUR_OPEN and run != ".":
            found.append(Finding("misplaced-decoration", start, f"decoration {run} before a "
                                 "slur (: write it after the ( , right before the note"))
        elif nxt.kind == T.CHORD_OPEN and _ROLLS & set(run):
            found.append(Finding("misplaced-decoration", start, f"abc2midi plays no roll or "
                                 f"trill {run} on a chord"))
    return found


def _repeat_findings(body: list[T.Token]) -> list[Finding]:
    found = []
    closed: int | None = None         # the last repeat bar, when it ended a repeat
    last_start, music_after = None, False
    first_ending: int | None = None   # a first ending not yet closed by :|
    for i, tok in enumerate(body):
        if tok.kind == T.BAR and tok.text.startswith(":"):
            first_ending = None
        elif tok.kind == T.ENDING and tok.value.startswith("1"):
            first_ending = i
        if tok.kind == T.BAR and tok.text == "::" and closed is not None:
            found.append(Finding("ending-after-repeat", closed, f":: after {body[closed].text} "
                                 "with no |: between (abc2midi wants :: there too)"))
        if tok.kind == T.BAR and tok.text.endswith(":"):
            closed, last_start, music_after = None, i, False
        elif tok.kind == T.BAR and tok.text.startswith(":"):
            closed = i
        elif tok.kind in (T.NOTE, T.REST, T.CHORD_OPEN, T.MULTI_REST):
            music_after = True
        elif tok.kind == T.ENDING and tok.value.startswith("1") and closed is not None:
            found.append(Finding("ending-after-repeat", closed, f"first ending {tok.text} after "
                                 f"{body[closed].text} with no |: between (abc2midi wants "
                                 ":: there)"))
            closed = None
        elif tok.kind == T.ENDING:
            closed = None           # a second ending finishes the repeat it belongs to
        elif tok.kind == T.DECORATION and tok.text == "~" and _after_grace(body, i):
            found.append(Finding("roll-after-grace", i, "abc2midi cannot roll ~ a note that "
                                 "has grace notes"))
    if first_ending is not None:
        text = body[first_ending].text
        found.append(Finding("unclosed-ending", first_ending, f"first ending {text} is never "
                             "closed by :| (abc2midi: missing :|)"))
    if last_start is not None and not music_after:
        found.append(Finding("repeat-at-end", last_start, f"{body[last_start].text} at the end "
                             "repeats nothing (abc2midi: missing :|)"))
    return found


def _after_grace(body: list[T.Token], index: int) -> bool:
    i = index - 1
    while i >= 0 and body[i].kind in (T.DECORATION, T.SLUR_OPEN):
        i -= 1
    return i >= 0 and body[i].kind == T.GRACE_CLOSE


def _letter_decoration(tok: T.Token) -> bool:
    # "H" right before a note is an ERROR token (music21 drops the note), still a decoration.
    return tok.kind in (T.DECORATION, T.ERROR) and len(tok.text) == 1 and \
        (tok.kind == T.DECORATION or tok.text == "H")


def _tie_findings(body: list[T.Token]) -> list[Finding]:
    found = []
    for i, tok in enumerate(body):
        # "A>-B": abc2midi ties the note before the broken rhythm.
        tied = i - 2 if i > 1 and body[i - 1].kind == T.BROKEN else i - 1
        if tok.kind == T.TIE and tied >= 0 and body[tied].kind == T.GRACE_CLOSE:
            found.append(Finding("tie-mismatch", i, "abc2midi cannot tie from grace notes"))
            continue
        if tok.kind != T.TIE or tied < 0 or body[tied].kind != T.NOTE:
            continue
        dot = next((j for j in range(tied - 1, -1, -1) if body[j].kind != T.DECORATION
                    or body[j].text in (".", "!staccato!")), None)
        if dot is not None and body[dot].kind == T.DECORATION:
            found.append(Finding("staccato-tie", dot, "abc2midi cannot tie from a staccato "
                                 "note"))
        j, crossed = i + 1, ""
        while j < len(body) and body[j].kind in (T.SPACE, T.NEWLINE, T.BAR, T.SLUR_OPEN,
                                                 T.SLUR_CLOSE, T.QUOTE, T.DECORATION,
                                                 T.COMMENT, T.FIELD, T.INLINE_FIELD):
            if _letter_decoration(body[j]) and body[j].text != ".":
                crossed += body[j].text
            j += 1
        nxt = body[j] if j < len(body) else None
        before = _pitch(body[tied].text)
        if crossed:
            why = f"across the decoration {crossed}"
        elif nxt is None or nxt.kind not in (T.NOTE, T.CHORD_OPEN):
            why = "to " + ("nothing" if nxt is None else repr(nxt.text))
        elif nxt.kind == T.NOTE and _pitch(nxt.text) != before:
            why = f"from {before} to another note, {_pitch(nxt.text)}"
        else:
            continue
        found.append(Finding("tie-mismatch", i, f"abc2midi cannot tie {why}"))
    return found


def _pitch(note: str) -> str:
    m = _NOTE_HEAD.match(note)
    return m.group(2) + m.group(3)


def broken_rhythm_findings(body: list[T.Token]
                           ) -> tuple[list[Finding], dict[int, list[int]], dict[int, Fraction]]:
    """Return the broken-rhythm findings, the chain of notes of each, and the notes' lengths.

    The chains map a finding's broken-rhythm token to the indices of the notes and rests linked
    by broken rhythms around it (`A>B>c`); the lengths are each note's or rest's multiplier of
    the unit length once broken rhythm is applied, so a repair can write a chain out exactly.
    """
    found: list[Finding] = []
    chains: dict[int, list[int]] = {}
    previous: int | None = None      # the last note or rest outside chords and grace groups
    effective: dict[int, Fraction] = {}
    pending: tuple[int, int, Fraction] | None = None  # (broken index, note before, factor)
    chain: list[int] = []
    depth = 0                        # inside a chord or grace group
    for i, tok in enumerate(body):
        if tok.kind in (T.CHORD_OPEN, T.GRACE_OPEN):
            depth += 1
        elif tok.kind in (T.CHORD_CLOSE, T.GRACE_CLOSE):
            depth = max(0, depth - 1)
            if tok.kind == T.CHORD_CLOSE and not depth:
                previous, pending, chain = None, None, []
        elif tok.kind == T.BROKEN and not depth:
            if previous is None or pending is not None:
                previous, pending, chain = None, None, []   # "A><B" is no rhythm to write out
                continue
            pending = (i, previous, tok.value)
            if not chain or chain[-1] != previous:
                chain = [previous]
        elif tok.kind in (T.NOTE, T.REST) and not depth:
            effective[i] = tok.value
            if pending is not None:
                b, before, factor = pending
                # abc2midi shortens staccato notes and lengthens fermatas, so both notes must
                # carry the same of these marks.
                marks = tok.kind == T.NOTE and body[before].kind == T.NOTE \
                    and _length_marks(body, i) != _length_marks(body, before)
                if effective[before] != tok.value or marks:
                    what = "notes with different staccato or fermata marks" \
                        if effective[before] == tok.value else "notes of different lengths"
                    found.append(Finding("unequal-broken-rhythm", b, f"abc2midi cannot apply "
                                         f"the broken rhythm {body[b].text} to {what}"))
                    chains[b] = chain
                effective[before] *= factor
                effective[i] = tok.value * (2 - factor)
                chain.append(i)
                pending = None
            else:
                chain = []
            previous = i
        elif tok.kind in (T.BAR, T.TUPLET):
            previous, pending, chain = None, None, []
    return found, chains, effective


_LENGTH_MARKS = {".": ".", "!staccato!": ".", "H": "H", "!fermata!": "H"}


def hornpipe_swing_findings(tune: T.TuneTokens, bars: list) -> list[Finding]:
    """Return the note pairs abc2midi swings in a hornpipe whose staccato or fermata marks differ.

    In a tune with `R:hornpipe` in 2/4 or 4/4, abc2midi plays two equal eighths (4/4) or
    sixteenths (2/4), the second starting off the beat, as `>`, and then refuses marks that make
    them unequal. `bars` are the checker's bars of the tune (`checker_records.Bar`); each
    finding is about the second note of the pair.
    """
    fields = {tok.value[0]: tok.value[1] for tok in reversed(tune.header)}
    meter = fields.get("M", "").replace(" ", "")
    if not fields.get("R", "").strip().lower().startswith("hornpipe") \
            or meter not in _HORNPIPE_METERS:
        return []
    pair = Fraction(1, 16) if meter == "2/4" else Fraction(1, 8)
    body, found = tune.body, []
    for bar in bars:
        position, previous = Fraction(0), None
        for span in bar.spans:
            note = body[span.start].kind == T.NOTE and span.tuplet is None and span.plain
            if note and previous is not None and span.duration == previous.duration == pair \
                    and position.denominator == pair.denominator \
                    and _length_marks(body, span.start) != _length_marks(body, previous.start):
                found.append(Finding("hornpipe-swing", span.start, "abc2midi swings this pair "
                                     "of a hornpipe and cannot when only one is staccato or "
                                     "a fermata"))
            previous = span if note else None
            position += span.duration
    return found


def _length_marks(body: list[T.Token], index: int) -> set[str]:
    """Return the staccato (".") and fermata ("H") marks right before the note at `index`."""
    marks = set()
    i = index - 1
    # "H" before a note is an ERROR token (music21 drops the note; the repair writes !fermata!).
    while i >= 0 and (body[i].kind == T.DECORATION or body[i].text == "H"):
        if body[i].text in _LENGTH_MARKS:
            marks.add(_LENGTH_MARKS[body[i].text])
        i -= 1
    return marks
