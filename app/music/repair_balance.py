"""Repair pass on what is left open or closed twice: chords, grace groups, slurs, tuplets, `>`.

One walk over the body tokens follows the open chord, grace group, tuplet, broken rhythm and
slurs. At a bar line or line end an open chord or grace group is closed where the bar then
fits best (`_close_where_the_bar_fits`), or dropped when it has no notes; at a bar line a
tuplet with too few notes loses its marker and a `>` with no note after it goes; a closer
without an opener goes; open slurs close after the last note.

It keeps its own account of what is open rather than the checker walker's, because the two
differ on purpose in corner cases and the repair's output depends on them: here an opening
`[` or `{` inside an open group closes both groups, a chord inside a grace group counts as a
note, a tuplet marker inside a running tuplet is ignored, and a `>` with no note before it
still waits for one after it.
"""

from __future__ import annotations

from app.music import abc_tokens as T
from app.music.repair_edit import Edit, error_count, where


def balance(text: str, repairs: list[str]) -> str:
    """Close or drop what is open, drop closers without an opener; note each change."""
    edit = Edit(text)
    _Balancer(edit, repairs).run()
    return edit.text()


class _Balancer:
    """One walk over the body: what is open, and the edits that close or drop it."""

    def __init__(self, edit: Edit, repairs: list[str]) -> None:
        self.edit, self.body, self.repairs = edit, edit.body, repairs
        self.chord: int | None = None          # token indices of what is open
        self.chord_notes: list[int] = []
        self.grace: int | None = None
        self.grace_notes: list[int] = []
        self.slurs: list[int] = []
        self.tuplet: int | None = None
        self.tuplet_left = 0
        self.broken: int | None = None
        self.last_event: int | None = None     # the last note, rest or chord outside a group
        self.groups: list[tuple[int, str, list[int]]] = []   # (opening, closer, where it may close)

    def run(self) -> None:
        for i, tok in enumerate(self.body):
            handler = self._handlers.get(tok.kind)
            if handler is not None:
                handler(self, i, tok)
        self._close_bar()
        for _, closer, candidates in self.groups:
            _close_where_the_bar_fits(self.edit, closer, candidates)
        if self.slurs and self.last_event is not None:
            for index in self.slurs:
                self.edit.insert_after(self.last_event, ")")
                self._note(index, "closed the slur ( after the last note")
        else:
            for index in self.slurs:
                self.edit.drop(index)

    def _note(self, index: int, what: str) -> None:
        self.repairs.append(f"{where(self.body[index])}: {what}")

    def _drop(self, index: int, what: str) -> None:
        self.edit.drop(index)
        self._note(index, what)

    # -- closing at line ends and bar lines ----------------------------------------------
    def _close_groups(self) -> None:
        for opening, notes, closer, name in ((self.chord, self.chord_notes, "]", "chord ["),
                                             (self.grace, self.grace_notes, "}", "grace notes {")):
            if opening is None:
                continue
            if not notes:
                self._drop(opening, f"removed an empty {name}")
            else:
                self.groups.append((opening, closer,
                                    _closing_candidates(self.body, opening, notes)))
                self._note(opening, f"closed the {name} with {closer}")
        self.chord = self.grace = None

    def _close_bar(self) -> None:
        self._close_groups()
        if self.tuplet is not None:
            self._drop(self.tuplet, f"removed tuplet {self.body[self.tuplet].text} that had too "
                                    "few notes")
            self.tuplet = None
        if self.broken is not None:
            self._drop(self.broken, f"removed broken rhythm {self.body[self.broken].text} with "
                                    "no note after it")
            self.broken = None

    # -- token handlers --------------------------------------------------------------------
    def _event(self, i: int) -> None:
        self.last_event, self.broken = i, None
        if self.tuplet is not None:
            self.tuplet_left -= 1
            if self.tuplet_left == 0:
                self.tuplet = None

    def _note_token(self, i: int, tok: T.Token) -> None:
        if self.grace is not None:
            self.grace_notes.append(i)
        elif self.chord is not None:
            self.chord_notes.append(i)
        else:
            self._event(i)

    def _rest(self, i: int, tok: T.Token) -> None:
        if self.grace is None and self.chord is None:
            self._event(i)

    def _chord_open(self, i: int, tok: T.Token) -> None:
        if self.chord is not None:
            self._close_groups()
        self.chord, self.chord_notes = i, []

    def _chord_close(self, i: int, tok: T.Token) -> None:
        if self.chord is None:
            self._drop(i, f"removed {tok.text} without an opening [")
        elif not self.chord_notes:
            self.edit.drop(self.chord)
            self.edit.drop(i)
            self._note(self.chord, "removed an empty chord []")
            self.chord = None
        else:
            self.chord = None
            self._event(i)

    def _grace_open(self, i: int, tok: T.Token) -> None:
        if self.grace is not None:
            self._close_groups()
        self.grace, self.grace_notes = i, []

    def _grace_close(self, i: int, tok: T.Token) -> None:
        if self.grace is None:
            self._drop(i, "removed } without an opening {")
        else:
            self.grace = None

    def _slur_open(self, i: int, tok: T.Token) -> None:
        self.slurs.append(i)

    def _slur_close(self, i: int, tok: T.Token) -> None:
        if self.slurs:
            self.slurs.pop()
        else:
            self._drop(i, "removed ) without an opening (")

    def _tuplet(self, i: int, tok: T.Token) -> None:
        if self.chord is None and self.grace is None and self.tuplet is None:
            p, _, r = tok.value
            self.tuplet, self.tuplet_left = i, r or p

    def _broken(self, i: int, tok: T.Token) -> None:
        self.broken = i

    def _bar_line(self, i: int, tok: T.Token) -> None:
        self._close_bar()

    def _newline(self, i: int, tok: T.Token) -> None:
        self._close_groups()

    _handlers = {
        T.NOTE: _note_token, T.REST: _rest, T.CHORD_OPEN: _chord_open,
        T.CHORD_CLOSE: _chord_close, T.GRACE_OPEN: _grace_open, T.GRACE_CLOSE: _grace_close,
        T.SLUR_OPEN: _slur_open, T.SLUR_CLOSE: _slur_close, T.TUPLET: _tuplet,
        T.BROKEN: _broken, T.BAR: _bar_line, T.NEWLINE: _newline,
    }


def _closing_candidates(body: list[T.Token], opening: int, notes: list[int]) -> list[int]:
    """Return where an unclosed chord or grace group may end, the likeliest first: after its
    last note before a space, else after its last note, then after each other note."""
    if body[opening].kind == T.GRACE_OPEN:
        return list(notes)  # grace groups are short: the fewer notes, the likelier
    first_space = next((i for i in range(opening, notes[-1]) if body[i].kind == T.SPACE), None)
    before_space = [n for n in notes if first_space is None or n < first_space]
    likeliest = before_space[-1] if before_space else notes[-1]
    return [likeliest] + [n for n in notes if n != likeliest]


def _close_where_the_bar_fits(edit: Edit, closer: str, candidates: list[int]) -> None:
    """Insert the closer at the candidate that leaves the fewest errors (first one on ties)."""
    best, best_errors = candidates[0], None
    for index in candidates:
        trial = edit.copy()
        trial.insert_after(index, closer)
        errors = error_count(trial.text())
        if best_errors is None or errors < best_errors:
            best, best_errors = index, errors
    edit.insert_after(best, closer)
