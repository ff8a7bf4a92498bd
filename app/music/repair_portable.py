"""Repair pass for what abc2midi rejects (`checker_portable`), keeping every sounding note.

- broken rhythm between unequal notes (`A2>B`, `A>B>c`, `A>.B`): the lengths of the whole
  chain are written out (`A3B/`), which is what `>` means, and the `>` signs go;
- a decoration before a slur, grace notes, a chord symbol or a tuplet (`u(GF)`, `~{g}A`):
  moved right before the note it decorates (`(uGF)`); one with no note after it on its line,
  a roll on a chord and the non-decoration `k` are dropped;
- a tie to a rest, to nothing, to another pitch or next to grace notes: the tie is dropped,
  and so is a roll `~` on a note with grace notes;
- `::|` (read by abc2midi as `::` and `|`) becomes `:|`; `|:` at the very end becomes `|` (`::` becomes `:|`); a `:|` before a part that has a first
  ending but no `|:` becomes `::`; a first ending no `:|` closes loses its `[1`, and an
  ending inside another (`|1 ..|1`) its marker where a bar line stands before it (that bar
  line becomes `||`);
- `d,` and `C'`: written as `D` and `c`; the invisible bar line `[|]` as `|` (dropped before
  another bar line); the staccato of a tied note goes;
- a chord symbol abc2midi does not know: a common spelling is rewritten (`"Gmaj"` -> `"G"`,
  `"Amin"` -> `"Am"`), anything else (`"Segno"`, `"D.C."`) is dropped;
- a hornpipe pair abc2midi swings with a staccato or fermata on one note only: the marks go;
- `R:hornpipe` in a meter other than 2/4 or 4/4: the R: line is dropped (it changes no note),
  and so is a `Q:` tempo abc2midi cannot read (`Q:1/1=00`) and a header-only field line
  (`R:`, `N:` ...) inside the body;
- `::` after a `:|` with no `|:` between: that `:|` becomes `::` as well;
- a voice field after the notes of a tune that declares no voice (`[V:2]`, a `V:1` line):
  dropped, so abc2midi plays one melody in the order Ceol plays it, and again assumes the
  repeat start that a first ending or a `:|` with no `|:` leaves out (the tune's start);
- a length abc2midi refuses (`G/3`): written as a tuplet, `(3:2:1G/2` (`repair_lengths`).

`fix_portable(text, repairs)` is one pass for `repair.repair_tune`, which keeps it only if it
leaves fewer errors.
"""

from __future__ import annotations

import re
from fractions import Fraction

from app.music import abc_tokens as T
from app.music.checker import analyse_tune
from app.music.checker_portable import CHORD_TYPES, portable_findings, respell_octave
from app.music.checker_rhythm import broken_rhythm_findings, hornpipe_swing_findings
from app.music.repair_edit import QUIET, Edit, where
from app.music.repair_lengths import fix_lengths, length_text

# Chord types abc2midi does not know, and the nearest one it does.
_CHORD_ALIASES = {"maj": "", "M": "", "min": "m", "mi": "m", "-": "m", "min7": "m7", "mi7": "m7",
                  "-7": "m7", "7sus": "7sus4", "o": "dim", "o7": "dim7", "ø": "m7b5",
                  "ø7": "m7b5", "add9": "", "13": "7", "m11": "m7", "7b9": "7", "7#9": "7",
                  "maj7#11": "maj7", "69": "6", "6/9": "6", "mmaj7": "m", "mM7": "m"}
_CHORD = re.compile(r"(\(?[A-Ga-g][#b]?)([^\s/()]*)(.*)")
_NOTE_HEAD = re.compile(r"(\^\^|\^|__|_|=)?[A-Ga-g][,']*|z")
_SKIPPED = frozenset({T.SLUR_OPEN, T.TUPLET, T.QUOTE, T.DECORATION, T.SPACE})


def fix_portable(text: str, repairs: list[str]) -> str:
    """Fix what abc2midi rejects (see the module docstring); note each change in `repairs`."""
    edit = Edit(text)
    drop_lines: set[int] = set()
    for finding in portable_findings(edit.tune):
        index = finding.index
        tok = edit.body[index] if index >= 0 else edit.tune.header[-1 - index]
        rule = _RULES.get(finding.code)
        if rule is not None:
            rule(edit, finding, tok, repairs, drop_lines)
    _even_hornpipe_pairs(edit, text, repairs)
    _write_out_broken(edit, repairs)
    _keep_broken_apart(edit)
    lines = edit.text().split("\n")
    text = "\n".join(line for number, line in enumerate(lines, 1) if number not in drop_lines)
    return fix_lengths(text, repairs)


# One repair per finding code: (edit, finding, its token, repairs, header lines to drop).
def _hornpipe_meter(edit, finding, tok, repairs, drop_lines) -> None:
    drop_lines.add(tok.line)
    repairs.append(f"line {tok.line}: dropped R: (abc2midi plays hornpipes only in 2/4 or 4/4)")


def _bad_instruction(edit, finding, tok, repairs, drop_lines) -> None:
    drop_lines.add(tok.line)
    repairs.append(f"line {tok.line}: dropped I:{tok.value[1].strip()} (abc2midi does not "
                   "know the instruction)")


def _voice_field(edit, finding, tok, repairs, drop_lines) -> None:
    edit.drop(finding.index)     # a field line left blank goes
    repairs.append(f"{where(tok)}: dropped the voice field {tok.text.strip()} (the tune "
                   "declares no voices)")


def _body_field(edit, finding, tok, repairs, drop_lines) -> None:
    edit.drop(finding.index)     # the line left blank goes
    repairs.append(f"line {tok.line}: dropped {tok.text.strip()} (abc2midi allows "
                   f"{tok.value[0]}: only in the header)")


def _bad_tempo(edit, finding, tok, repairs, drop_lines) -> None:
    if finding.index >= 0:
        edit.drop(finding.index)
    else:
        drop_lines.add(tok.line)     # header lines keep their numbers in edit.text()
    repairs.append(f"line {tok.line}: dropped the tempo {tok.text.strip()} (abc2midi cannot "
                   "read it)")


def _bad_octave(edit, finding, tok, repairs, drop_lines) -> None:
    edit.replace[finding.index] = respell_octave(tok.text)
    repairs.append(f"{where(tok)}: {tok.text} written as {edit.replace[finding.index]}")


def _bad_chord_symbol(edit, finding, tok, repairs, drop_lines) -> None:
    new = _chord_alias(tok.text[1:-1])
    if new is None:
        _drop(edit, finding.index)
    else:
        edit.replace[finding.index] = f'"{new}"'
    repairs.append(f"{where(tok)}: " + (f"dropped {tok.text}" if new is None
                                         else f'{tok.text} written as "{new}"'))


def _staccato_tie(edit, finding, tok, repairs, drop_lines) -> None:
    _drop(edit, finding.index)
    repairs.append(f"{where(tok)}: dropped the staccato of a tied note")


def _double_repeat_bar(edit, finding, tok, repairs, drop_lines) -> None:
    edit.replace[finding.index] = ":|"
    repairs.append(f"{where(tok)}: ::| written as :|")


def _invisible_bar(edit, finding, tok, repairs, drop_lines) -> None:
    index, body = finding.index, edit.body
    after = body[index + 1] if index + 1 < len(body) else None
    edit.replace[index] = "" if after is not None and after.kind == T.BAR else "|"
    repairs.append(f"{where(tok)}: invisible bar line [|] written as "
                   f"{edit.replace[index] or 'nothing (a bar line follows)'}")


def _roll_after_grace(edit, finding, tok, repairs, drop_lines) -> None:
    _drop(edit, finding.index)
    repairs.append(f"{where(tok)}: dropped the roll ~ after grace notes")


def _repeat_at_end(edit, finding, tok, repairs, drop_lines) -> None:
    core = tok.text.strip(":") or "|"
    new = ":" + core if tok.text.startswith(":") else core
    edit.replace[finding.index] = new
    repairs.append(f"{where(tok)}: {tok.text} at the end written as {new}")


def _ending_after_repeat(edit, finding, tok, repairs, drop_lines) -> None:
    if tok.text not in (":|", ":||"):
        return
    # Measured: abc2midi reads "::" and ":||:" here, not ":|:".
    new = "::" if tok.text == ":|" else ":||:"
    edit.replace[finding.index] = new
    repairs.append(f"{where(tok)}: {tok.text} written as {new} (the next part, with a first "
                   "ending or ::, needs a repeat start)")


def _unclosed_ending(edit, finding, tok, repairs, drop_lines) -> None:
    if not _drop_ending(edit, finding.index):
        _drop(edit, finding.index)
    repairs.append(f"{where(tok)}: dropped the first ending {tok.text} (no :| closes it)")


def _ending_in_ending(edit, finding, tok, repairs, drop_lines) -> None:
    if _drop_ending(edit, finding.index):
        repairs.append(f"{where(tok)}: dropped the ending {tok.text} (the ending before it is "
                       "still open)")


def _tie_mismatch(edit, finding, tok, repairs, drop_lines) -> None:
    _drop(edit, finding.index)
    why = finding.message.removeprefix("abc2midi cannot tie ")
    repairs.append(f"{where(tok)}: dropped a tie (abc2midi cannot tie {why})")


def _misplaced_decoration(edit, finding, tok, repairs, drop_lines) -> None:
    _move_decorations(edit, finding.index, repairs)


_RULES = {"hornpipe-meter": _hornpipe_meter, "bad-instruction": _bad_instruction,
          "voice-field": _voice_field, "body-field": _body_field, "bad-tempo": _bad_tempo, "bad-octave": _bad_octave,
          "bad-chord-symbol": _bad_chord_symbol, "staccato-tie": _staccato_tie,
          "double-repeat-bar": _double_repeat_bar, "invisible-bar": _invisible_bar,
          "roll-after-grace": _roll_after_grace, "repeat-at-end": _repeat_at_end,
          "ending-after-repeat": _ending_after_repeat, "unclosed-ending": _unclosed_ending,
          "ending-in-ending": _ending_in_ending, "tie-mismatch": _tie_mismatch,
          "misplaced-decoration": _misplaced_decoration}


def _drop(edit: Edit, index: int) -> None:
    """Drop one token (`_keep_broken_apart` then keeps ">" and ">" from gluing into ">>")."""
    edit.replace[index] = ""


def _drop_ending(edit: Edit, index: int) -> bool:
    """Drop an ending marker that follows a bar line; a plain `|` there becomes "||", the
    section boundary the ending made for the bar lengths. An ending inside a bar is left as
    it is (False): dropping it would join two bars, and a tuplet or `>` across them."""
    body = edit.body
    before = next((j for j in range(index - 1, -1, -1) if body[j].kind not in QUIET), None)
    if before is not None and body[before].kind != T.BAR:
        return False
    _drop(edit, index)
    if before is not None and body[before].text == "|":
        edit.replace[before] = "||"
    return True


def _keep_broken_apart(edit: Edit) -> None:
    """Leave a blank where dropped tokens stood between two broken-rhythm signs."""
    body = edit.body
    last = None      # the index of the last broken-rhythm sign, while only drops follow it
    for i, tok in enumerate(body):
        if tok.kind == T.BROKEN and i not in edit.replace:
            if last is not None and i - last > 1:
                edit.replace[last + 1] = " "
            last = i
        elif edit.replace.get(i) != "" or i in edit.after:
            last = None


def _chord_alias(text: str) -> str | None:
    m = _CHORD.fullmatch(text)
    if m is None or m.group(2) not in _CHORD_ALIASES:
        return None
    kind = _CHORD_ALIASES[m.group(2)]
    bass = m.group(3)
    if bass and not re.fullmatch(r"/[A-Ga-g][#b]?\)?|\)", bass):
        bass = ")" if m.group(1).startswith("(") else ""
    return m.group(1) + kind + bass if kind in CHORD_TYPES else None


def _move_decorations(edit: Edit, start: int, repairs: list[str]) -> None:
    """Move the run of decoration letters at `start` onto the note after it, or drop it."""
    body = edit.body
    end = start
    while end < len(body) and body[end].kind == T.DECORATION and len(body[end].text) == 1:
        end += 1
    run = "".join(tok.text for tok in body[start:end]).replace("k", "")
    target = end
    while target < len(body) and body[target].kind in _SKIPPED:
        target += 1
    if target < len(body) and body[target].kind == T.GRACE_OPEN:
        while target < len(body) and body[target].kind not in (T.GRACE_CLOSE, T.NEWLINE):
            target += 1
        target += 1
    found = target < len(body) and body[target].kind in (T.NOTE, T.REST, T.CHORD_OPEN)
    if found and body[target].kind == T.CHORD_OPEN:
        run = "".join(c for c in run if c not in "~T")
    # Letters already on the note stay once.
    there = {tok.text for tok in body[end:target] if tok.kind == T.DECORATION}
    run = "".join(c for c in run if c not in there)
    for i in range(start, end):
        edit.drop(i)
    what = "".join(tok.text for tok in body[start:end])
    if found and run:
        edit.insert_after(target - 1, run)
        repairs.append(f"{where(body[start])}: decoration {what} moved onto "
                       f"{body[target].text}")
    else:
        repairs.append(f"{where(body[start])}: dropped the decoration {what}")


def _even_hornpipe_pairs(edit: Edit, text: str, repairs: list[str]) -> None:
    """Drop the staccato and fermata marks of the hornpipe pairs abc2midi cannot swing."""
    if not any(tok.value[0] == "R" and "hornpipe" in tok.value[1].lower()
               for tok in edit.tune.header):
        return
    analysis = analyse_tune(text)
    body = edit.body
    for finding in hornpipe_swing_findings(analysis.tune, analysis.bars):
        first = max(i for i in range(finding.index) if body[i].kind == T.NOTE)
        for note in (first, finding.index):
            i = note - 1
            while i >= 0 and body[i].kind == T.DECORATION:
                if body[i].text in (".", "!staccato!", "!fermata!"):
                    edit.drop(i)
                i -= 1
        repairs.append(f"{where(body[finding.index])}: dropped the staccato or fermata of a "
                       "hornpipe pair abc2midi swings")


def _write_out_broken(edit: Edit, repairs: list[str]) -> None:
    """Write the notes of each broken-rhythm chain abc2midi rejects with explicit lengths."""
    body = edit.body
    findings, chains, lengths = broken_rhythm_findings(body)
    done: set[int] = set()
    for finding in findings:
        chain = [i for i in chains[finding.index] if i not in done]
        if not chain:
            continue
        done.update(chain)
        for i in chain:
            head = _NOTE_HEAD.match(edit.replace.get(i) or body[i].text).group()
            edit.replace[i] = head + length_text(lengths[i])
        for i in range(chain[0], chain[-1]):
            if body[i].kind == T.BROKEN:
                edit.drop(i)
        written = " ".join(edit.replace[i] for i in chain)
        repairs.append(f"{where(body[finding.index])}: broken rhythm written out as {written}")
