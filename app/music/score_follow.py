"""The sheet music's notes timed as the player plays them, for the score view's highlight.

verovio times the notes of the engraving itself (its timemap), and reads repeats its own way:
with first and second endings (`|: .. |1 .. :|2 .. |`) it plays the first ending on both
passes and then the second, a bar longer than what is heard, so a highlight timed by it falls
a bar behind from the first repeat on. The piano roll's layout (app.music.pianoroll) is the
player's reading: each played note knows the written note (or chord) it comes from. Here the
verovio note ids are put in written order, one group per written note or chord (grace notes
left out, which music21 gives no time), and each played note takes its written note's id.
Where the two readings count different written notes, there is no match and the view keeps
verovio's own timing.
"""

from __future__ import annotations

from typing import Iterable

Timeline = list[tuple[float, float, str]]   # (on, off, note id), quarter notes


def written_groups(timeline: Timeline, graces: Iterable[str] = ()) -> list[list[str]]:
    """verovio's note ids in written order, grouped by written note or chord: the notes that
    first sound together form one group. A note's first sounding is on the first pass, and
    repeats only ever go back, so the first soundings are in written order."""
    skip = set(graces)
    first: dict[str, float] = {}
    for on, _, note_id in timeline:
        if note_id not in skip:
            first.setdefault(note_id, on)
    groups: list[list[str]] = []
    last = None
    for note_id in sorted(first, key=first.__getitem__):   # stable: chord notes stay together
        if groups and first[note_id] == last:
            groups[-1].append(note_id)
        else:
            groups.append([note_id])
            last = first[note_id]
    return groups


def played_timeline(timeline: Timeline, graces: Iterable[str], layout) -> Timeline | None:
    """Return the timeline of the played notes of `layout` (a `pianoroll.RollLayout`) with
    verovio's ids, or None when the two readings count different written notes."""
    groups = written_groups(timeline, graces)
    if not layout.notes or layout.written != len(groups) or \
            any(n.written is None for n in layout.notes):
        return None
    seen, out = set(), []
    for note in layout.notes:
        key = (note.start, note.written)
        if key not in seen:                  # one entry per chord, not per pitch
            seen.add(key)
            out.append((note.start, note.start + note.length, groups[note.written][0]))
    out.sort()
    return out


def note_at(timeline: Timeline, quarters: float) -> str | None:
    """Return the id of the note sounding at a time in quarter notes, or None."""
    best = None
    for on, off, note_id in timeline:
        if on > quarters:
            break
        if quarters < off:
            best = note_id
    return best
