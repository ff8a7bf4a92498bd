"""What the window asks of the tune library on the library's own thread (app/library_queue.py).

Each function takes the thread's `Library` first and returns plain data for the GUI thread to
show: the Library panel's list (`read_view`: the rows, how many match and, when asked, the
filter choices, all read between the same two writes so they agree), the next rows as the list
scrolls (`read_page`), a file's tunes stored in place of its old copy (`store_file`) and
favourites toggled (`toggle_favourites`). No Qt here; the CLI and the tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from app.library import Library, Query

BATCH = 256   # rows read at a time as the list scrolls


@dataclass(frozen=True)
class Filters:
    """The choices of the Library panel's filters: every key, meter, rhythm and source."""

    keys: list[str]
    meters: list[str]
    rhythms: list[str]
    sources: list[tuple[str, str, int]]    # (kind, source, tune count)


@dataclass(frozen=True)
class View:
    """The list for one query: its first rows (id order), how many match, and the filters."""

    query: Query
    total: int
    rows: list[tuple]
    filters: Filters | None


def read_filters(library: Library) -> Filters:
    """Read the filter choices."""
    return Filters(library.values("key"), library.values("meter"), library.values("rhythm"),
                   library.sources())


def read_view(library: Library, query: Query, *, at_least: int = BATCH,
              through: int | None = None, filters: bool = False) -> View:
    """Read `at_least` rows of the query's list, more if needed to reach tune `through` (so it
    can be selected), with the count and, if `filters`, the filter choices."""
    limit = at_least
    if through is not None:
        row = library.position(through, query)
        limit = max(limit, row + 1)
    return View(query, library.count(query), library.search(query, limit=limit),
                read_filters(library) if filters else None)


def read_page(library: Library, query: Query, offset: int, limit: int = BATCH) -> list[tuple]:
    """Read the rows of the query's list from `offset` on."""
    return library.search(query, limit=limit, offset=offset)


def store_file(library: Library, kind: str, source: str, abcs: Sequence[str]) -> list[int]:
    """Store a file's or corpus's tunes, hiding the copy stored before; return the new ids."""
    if library.has_source(kind, source):
        library.delete_source(kind, source)
    return library.add_tunes(abcs, source_kind=kind, source=source)


def toggle_favourites(library: Library, tune_ids: Sequence[int]) -> None:
    """Mark each tune as a favourite, or unmark it if it was one."""
    for tune_id in tune_ids:
        try:
            favourite = library.get(tune_id).favourite
        except KeyError:   # removed for good meanwhile: nothing to mark
            continue
        library.set_favourite(tune_id, not favourite)
