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
- `tie-mismatch`: a tie `-` with no note or chord before it, to a rest or nothing, to a note or
  chord without each tied pitch (letter and octave), across a decoration other than `.`, or
  from or to grace notes;
- `staccato-tie`: a tie from a staccato note (`.F4-F2`: abc2midi shortens it first);
- `double-repeat-bar`: `::|`, which abc2midi reads as `::` then `|`;
- `invisible-bar`: the invisible bar line `[|]`, which abc2midi reads as a chord;
- `repeat-at-end`: `|:` (or `::`) with no music after it;
- `unclosed-ending`: a first ending `[1` with no `:|` after it;
- `ending-after-repeat`: a first ending `[1`, or a `::`, after a `:|` with no `|:` between
  (the part has no repeat start);
- `ending-in-ending`: an ending (`[2`, `|1`) after another with only plain bar lines `|`
  between (`|1 ..|1`, `[1 ..|[2`): abc2midi wants `||`, `:|`, `|:` or `::` first ("Need || |:
  :| or :: to mark end of variant ending") and drops notes; a line break, `P:` or an inline
  field is no end either;
- `bad-octave`: a lower-case note with `,` or an upper-case one with `'` (`d,` is `D`);
- `bad-chord-symbol`: a quote that is neither text (`"^..."`, `"_..."` ...) nor a chord symbol
  abc2midi knows (`"Segno"`, `"D.C."`, `"Gmaj"`, `"A/"`);
- `hornpipe-swing`: in a hornpipe, a pair of eighths abc2midi swings of which only one is
  staccato or a fermata (`hornpipe_swing_findings`, which needs the checker's bars);

Ties and broken rhythm, hornpipe swing included, are judged in `checker_rhythm`.
- `bad-tempo`: a `Q:` abc2midi cannot read (`Q:1/1=00`, `Q:x`), or one that divides by zero
  (`Q:1/0=120`: abc2midi reads it, music21, hence Ceol's player, cannot);
- `body-field`: a field line abc2midi allows only in the header (`R:`, `N:`, `O:` ...) inside
  the body;
- `hornpipe-meter`: `R:hornpipe` (any of a header's `R:` lines) in a meter other than C, 2/4
  or 4/4 (abc2midi swings hornpipes and refuses others, `M:C|` included);
- `bad-instruction`: a header `I:` line naming an instruction (`I:linebreak $`, `I:A:||`),
  which abc2midi 4.84 refuses ("I: key not recognized"); repeat plans such as `I::: ::` pass;
- `voice-field`: a voice field (`[V:2]`, a `V:1` line) after the first note of a tune whose
  header declares no voice. abc2midi ("First V: field occurs past body") plays what follows
  a `V:2` as a second track at the same time as the notes before it, while music21 (Ceol)
  plays one melody; and a repeat with no `|:` (a first ending, a `:|`) loses the repeat start
  abc2midi otherwise assumes: "multiple endings do not follow |: or ::", "Found unexpected :|",
  "Missing :| at end of tune". Voices named from the start of the body are a real
  multi-voice tune and are left alone;
- `odd-length`: a note, rest or chord length whose divisor is not a power of 2 (`G/3`,
  `z2/6`, `[GB]/3`): abc2midi says "3 b is not a power of 2" and plays it wrong, while
  music21 reads a third; the same length is a tuplet (`(3:2:1G/2`), which both read.

The checker reports each as an error; `repair_portable` fixes each without changing a sounding
note (explicit lengths for broken rhythm, the decoration moved onto its note, `d,` as `D`).
"""

from __future__ import annotations

import re
from app.music import abc_tokens as T
from app.music.checker_records import Finding
from app.music.checker_rhythm import (HORNPIPE_METERS, NOTE_HEAD, broken_rhythm_findings,
                                      hornpipe_swing_findings, length_findings,
                                      letter_decoration, tie_findings)

__all__ = ["CHORD_TYPES", "Finding", "chord_symbol_problem", "hornpipe_swing_findings",
           "portable_findings", "respell_octave", "tempo_problem"]

# The chord types abc2midi 4.84 knows (measured: other names are "Unrecognized chord").
CHORD_TYPES = frozenset({"", "m", "7", "m7", "maj7", "M7", "6", "m6", "aug", "+", "aug7", "dim",
                         "dim7", "9", "m9", "maj9", "M9", "11", "dim9", "sus", "sus9", "7sus4",
                         "7sus9", "5", "sus4", "sus2", "7sus2", "m7b5"})
_CHORD = re.compile(r"\(?([A-Ga-g])([#b]?)([^\s/()]*)(?:/(.?))?")
# Field letters abc2midi refuses in a tune body (measured; X: is the walker's business).
_HEADER_ONLY = frozenset("RNOCSZHABDFGU")
_TEMPO = re.compile(r"\s*(?:(?:\d+/\d+\s*)+=\s*0*[1-9]\d*|0*[1-9]\d*|C\d*\s*=\s*0*[1-9]\d*)?\s*")
_ROLLS = frozenset("~T")


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
        elif tok.kind == T.BAR and tok.text == "::|":
            found.append(Finding("double-repeat-bar", i, "abc2midi reads ::| as :: and | (a "
                                 "repeat that never ends); write :|"))
        elif tok.kind == T.BAR and tok.text == "[|]":
            found.append(Finding("invisible-bar", i, "abc2midi reads the invisible bar line "
                                 "[|] as a chord"))
        elif tok.kind == T.FIELD and tok.value[0] in _HEADER_ONLY:
            found.append(Finding("body-field", i, f"abc2midi allows no {tok.value[0]}: field "
                                 "inside the tune body"))
        elif tok.kind == T.FIELD and tok.value[0] == "Q" and tempo_problem(tok.value[1]):
            found.append(Finding("bad-tempo", i, tempo_problem(tok.value[1])))
        elif tok.kind == T.NOTE:
            m = NOTE_HEAD.match(tok.text)
            marks = m.group(3)
            if ("," in marks and m.group(2).islower()) or ("'" in marks and m.group(2).isupper()):
                found.append(Finding("bad-octave", i, f"abc2midi reads no {marks[0]!r} after "
                                     f"{m.group(2)}; write {respell_octave(tok.text)}"))
    found += _decoration_findings(body)
    found += _voice_findings(tune)
    found += _repeat_findings(body)
    found += _ending_in_ending_findings(body)
    found += tie_findings(body)
    found += length_findings(body)
    found += broken_rhythm_findings(body)[0]
    return found


def respell_octave(note: str) -> str:
    """Write a note's octave the way abc2midi reads it: "d," -> "D", "C'2" -> "c2"."""
    m = NOTE_HEAD.match(note)
    accidental, letter, marks = m.group(1) or "", m.group(2), m.group(3)
    octave = (1 if letter.islower() else 0) + marks.count("'") - marks.count(",")
    if octave >= 1:
        head = letter.lower() + "'" * (octave - 1)
    else:
        head = letter.upper() + "," * -octave
    return accidental + head + note[m.end():]


def tempo_problem(value: str) -> str | None:
    """Return why abc2midi refuses the tempo `Q:value` ("1/4=0", "x"), or why music21 (Ceol's
    player) does ("1/0=120": abc2midi reads it, music21 divides by zero), or None."""
    plain = re.sub(r'"[^"]*"', "", value)
    if re.search(r"/\s*0+(?!\d)", plain):
        return f"the tempo Q:{value.strip()} divides by zero (write e.g. Q:1/4=120)"
    if _TEMPO.fullmatch(plain):
        return None
    return f"abc2midi cannot read the tempo Q:{value.strip()} (write e.g. Q:1/4=120)"


def _header_findings(tune: T.TuneTokens) -> list[Finding]:
    found = []
    for i, tok in enumerate(tune.header):
        if tok.value[0] == "Q" and tempo_problem(tok.value[1]):
            # Negative indices: -1 - the header token's index.
            found.append(Finding("bad-tempo", -1 - i, tempo_problem(tok.value[1])))
    return found + _hornpipe_findings(tune) + _instruction_findings(tune)


def _hornpipe_findings(tune: T.TuneTokens) -> list[Finding]:
    """Each `R:` line naming a hornpipe (a header may hold several) under another meter."""
    fields = {tok.value[0]: tok.value[1] for tok in reversed(tune.header)}
    meter = fields.get("M", "").replace(" ", "")
    if not meter or meter in HORNPIPE_METERS:
        return []
    return [Finding("hornpipe-meter", -1 - i, "abc2midi plays a hornpipe only in 2/4 or 4/4, "
                    f"not M:{meter}; drop R: or change the meter")
            for i, tok in enumerate(tune.header)
            if tok.value[0] == "R" and tok.value[1].strip().lower().startswith("hornpipe")]


def _instruction_findings(tune: T.TuneTokens) -> list[Finding]:
    """Header `I:` lines that name an instruction: abc2midi 4.84 knows none we tried
    (`linebreak`, `abc-charset`, `A:||`: "I: key ... not recognized"); it passes over, with a
    warning, the repeat plans (`I::: ::`) of the Nottingham and Ryan's books."""
    return [Finding("bad-instruction", -1 - i, f"abc2midi does not know the instruction "
                    f"I:{tok.value[1].strip()}; drop it")
            for i, tok in enumerate(tune.header)
            if tok.value[0] == "I" and tok.value[1].strip()[:1].isalpha()]


def _voice_findings(tune: T.TuneTokens) -> list[Finding]:
    if any(tok.value[0] == "V" for tok in tune.header):
        return []
    body = tune.body
    voices = [i for i, tok in enumerate(body)
              if tok.kind in (T.FIELD, T.INLINE_FIELD) and tok.value[0] == "V"]
    # Measured: only a note before the first voice field counts (rests, bars, chord symbols
    # do not), grace and chord notes included.
    first_note = next((i for i, tok in enumerate(body) if tok.kind == T.NOTE), None)
    if not voices or first_note is None or first_note > voices[0]:
        return []
    return [Finding("voice-field", i, f"voice field {body[i].text.strip()} after the notes of "
                    "a tune that declares no voice: abc2midi plays a new voice alongside the "
                    "notes before it and loses a repeat start; Ceol plays one melody")
            for i in voices]


def _decoration_findings(body: list[T.Token]) -> list[Finding]:
    found = []
    i = 0
    while i < len(body):
        if not letter_decoration(body[i]):
            i += 1
            continue
        start = i
        while i < len(body) and letter_decoration(body[i]):
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


def _ending_in_ending_findings(body: list[T.Token]) -> list[Finding]:
    found = []
    playing: int | None = None     # the last ending, while only plain bar lines follow it
    for i, tok in enumerate(body):
        if tok.kind == T.BAR and tok.text not in ("|", "[|]"):
            playing = None
        elif tok.kind == T.ENDING:
            if playing is not None:
                found.append(Finding("ending-in-ending", i, f"ending {tok.value} inside ending "
                                     f"{body[playing].value}: abc2midi wants ||, :|, |: or :: "
                                     "between them"))
            playing = i
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
