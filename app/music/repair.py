"""Repair the common faults of generated ABC tunes, and say what was changed.

The generator calls `repair_tune` on every tune it samples; a char-level network stops in the
middle of a note, forgets to close a slur or a repeat, or writes one bar too many. The repair
works on the checker's tokens and bars (`checker.analyse_tune`), in small passes, each of which
re-checks the tune:

1. missing or malformed header fields come from the generation settings (`defaults`) or
   sensible defaults (the meter and unit length that make the most bars fit), K: goes last;
2. text the grammar rejects: stray characters go, `+trill+` becomes `!trill!`, `H` before a
   note becomes `!fermata!`, the invisible rest `x` becomes `z`;
3. a dangling tail goes (a tie, an accidental, a broken-rhythm sign, an unfinished inline
   field or quote, an opening bracket at the very end);
4. what is left open is closed (chords and grace groups where the bar then fits, slurs,
   repeats) and closers without an opener go; tuplets with too few notes lose their marker;
5. a middle bar is changed only when it is clearly safe (a missing or misplaced bar line);
   the last bar is completed (a longer last note, or a rest) or trimmed;
6. what abc2midi rejects is written the way it reads it, without changing a sounding note
   (explicit lengths for broken rhythm between unequal notes, a decoration moved onto its
   note, `d,` as `D`; unknown chord symbols, ties to another pitch, `R:hornpipe` in 2/2,
   voice fields in a one-voice tune and the marker of an ending inside another go): after
   the grammar pass, and again at the end for what the bar passes wrote.

A pass is kept only if it leaves fewer errors. The original text is kept; every change is
listed (positions are lines of the repaired text); a tune that still has errors comes back
with `ok=False` and its remaining problems, never dropped.

The passes live beside this module: `repair_header`, `repair_tokens` (grammar and tail),
`repair_balance` (what is left open), `repair_bars` (repeats and bar lengths) and
`repair_portable` (what abc2midi rejects), all editing
through `repair_edit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from app.music.checker import ERROR, Problem, analyse_tune
from app.music.errors import EngineError
from app.music.isolate import shared
from app.music.limits import MAX_REPAIR_CHARS
from app.music.repair_balance import balance
from app.music.repair_bars import close_repeat, drop_empty_bars, fix_last_bar, fix_middle_bars
from app.music.repair_edit import error_count
from app.music.repair_header import fix_header
from app.music.repair_portable import fix_portable
from app.music.repair_tokens import drop_dangling_tail, fix_tokens


@dataclass
class RepairResult:
    """A repaired tune: its text, the input, what was changed and what is still wrong."""

    text: str
    original: str
    repairs: list[str] = field(default_factory=list)
    problems_left: list[Problem] = field(default_factory=list)
    ok: bool = False


def repair_tune(abc: str, *, defaults: dict[str, str] | None = None) -> RepairResult:
    """Repair one tune's ABC text; `defaults` holds header values such as {"M": "6/8"}.

    Never raises on bad input: what cannot be repaired is left in `problems_left`. A tune over
    `limits.MAX_REPAIR_CHARS` characters is not looked at: it comes back with `ok=False` and one
    "too-long" problem.
    """
    defaults = {k.upper(): v for k, v in (defaults or {}).items()}
    repairs: list[str] = []
    text = abc.replace("\r\n", "\n").replace("\r", "\n").strip("\n") + "\n"
    if len(text) > MAX_REPAIR_CHARS:
        message = (f"the tune has {len(text):,} characters; Ceol repairs tunes of at most "
                   f"{MAX_REPAIR_CHARS:,} characters")
        return RepairResult(text, abc, [], [Problem("too-long", message, 1, 1)], False)
    first = analyse_tune(text)
    if not first.problems:
        return RepairResult(text, abc, [], [], True)
    text = fix_header(text, defaults, repairs)
    text = _guarded(fix_tokens, text, repairs)
    text = _guarded(fix_portable, text, repairs)
    text = _guarded(drop_dangling_tail, text, repairs, must_improve=False)
    text = _guarded(balance, text, repairs)
    text = _guarded(drop_empty_bars, text, repairs)
    text = _guarded(close_repeat, text, repairs)
    text = _guarded(fix_middle_bars, text, repairs)
    text = _guarded(fix_last_bar, text, repairs)
    text = _guarded(fix_portable, text, repairs)
    analysis = analyse_tune(text)
    ok = not any(p.severity == ERROR for p in analysis.problems)
    return RepairResult(text, abc, repairs, analysis.problems, ok)


def _guarded(step: Callable[[str, list[str]], str], text: str, repairs: list[str], *,
             must_improve: bool = True) -> str:
    """Run one repair pass; keep its result only if it leaves fewer errors than before (or,
    for a pass that only tidies, no more errors)."""
    notes: list[str] = []
    new = step(text, notes)
    before, after = error_count(text), error_count(new)
    if new == text or after > before or (must_improve and after == before):
        return text
    repairs.extend(notes)
    return new


REPAIR_TIMEOUT_S = 30.0     # one tune's repair in the worker; past it the tune stays as sampled


def repair_in_worker(abc: str, defaults: dict[str, str] | None = None) -> RepairResult:
    """`repair_tune` run in the app's shared "repair" worker process (app.music.isolate).

    The window generates on a thread of its own process, and checking and repairing the tunes
    is pure Python (three quarters of a batch's time with a small model): on that thread it
    held the GIL the GUI thread waits for at every Python call (a 268 ms stall in the soak). In
    the worker it holds another interpreter's GIL. A crash or hang there costs one tune's
    repair: the tune comes back as sampled, not ok, the reason as its problem.
    """
    try:
        return shared("repair").call(repair_tune, abc, timeout=REPAIR_TIMEOUT_S,
                                     defaults=defaults)
    except EngineError as exc:
        return RepairResult(abc, abc, [], [Problem("repair-failed", f"not repaired: {exc}",
                                                   1, 1)], False)
