"""The library's own thread: calls run in order on it, errors come back as messages, and
closing does the queued writes, skips the queued reads and never hangs on a stuck write."""

import threading

import pytest

from app.library import Library, LibraryError, Query
from app.library_queue import LibraryClosed, LibraryQueue

REEL = "X:1\nT:The Silver Spear\nR:reel\nM:4/4\nL:1/8\nK:D\nFAAB A2FA|\n"


class Inbox:
    """What the queue delivers, as (ticket, value, error), and on which thread."""

    def __init__(self) -> None:
        self.items, self.threads = [], set()
        self.arrived = threading.Condition()

    def __call__(self, ticket, value, error) -> None:
        with self.arrived:
            self.items.append((ticket, value, error))
            self.threads.add(threading.current_thread())
            self.arrived.notify_all()

    def wait(self, count: int) -> list:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.items) >= count, 30)
            return list(self.items)


def test_calls_run_in_order_on_the_library_thread(tmp_path):
    inbox = Inbox()
    tasks = LibraryQueue(tmp_path / "lib.db", inbox)
    tasks.put(1, Library.add_tune, (REEL,), {"source_kind": "file"}, write=True)
    tasks.put(2, Library.count)
    tasks.put(3, Library.get, (999,))                          # no such tune: a message
    tasks.put(4, lambda library: 1 / 0)                         # a bug: logged, thread lives
    tasks.put(5, Library.search, (Query(text="silver"),))
    items = inbox.wait(5)
    assert [i[0] for i in items] == [1, 2, 3, 4, 5]
    assert items[0][1:] == (1, None) and items[1][1:] == (1, None)
    assert items[2][1] is None and "999" in items[2][2]
    assert "ZeroDivisionError" in items[3][2]
    assert items[4][1][0][1] == "The Silver Spear"
    assert inbox.threads == {tasks.thread} and tasks.thread is not threading.main_thread()
    assert tasks.close()


def test_close_does_the_queued_writes_and_skips_the_reads(tmp_path):
    inbox, gate = Inbox(), threading.Event()
    tasks = LibraryQueue(tmp_path / "lib.db", inbox)
    tasks.put(1, lambda library: gate.wait(30), write=True)     # holds the thread
    tasks.put(2, Library.add_tune, (REEL,), {"source_kind": "generated"}, write=True)
    tasks.put(3, Library.count)
    closing = threading.Thread(target=tasks.close)
    closing.start()
    while not tasks.closing:
        closing.join(0.01)
    gate.set()
    closing.join(30)
    assert not tasks.thread.is_alive()
    assert [i[0] for i in inbox.items] == [1, 2]               # the read was skipped
    with pytest.raises(LibraryClosed):
        tasks.put(4, Library.count)
    with Library(tmp_path / "lib.db") as library:
        assert library.count(Query(source_kind="generated")) == 1


def test_close_gives_up_on_a_stuck_write_without_losing_what_was_stored(tmp_path):
    inbox, gate = Inbox(), threading.Event()
    tasks = LibraryQueue(tmp_path / "lib.db", inbox)
    tasks.put(1, Library.add_tune, (REEL,), {"source_kind": "file"}, write=True)
    tasks.put(2, lambda library: gate.wait(30), write=True)     # a disk that does not answer
    inbox.wait(1)
    assert not tasks.close(timeout_s=0.2)                      # bounded: the window can quit
    with Library(tmp_path / "lib.db") as library:
        assert library.count() == 1
    gate.set()
    tasks.thread.join(30)
    assert not tasks.thread.is_alive()


def test_a_library_that_cannot_be_opened_answers_every_call_with_the_reason(tmp_path):
    path = tmp_path / "lib.db"
    path.write_bytes(b"not a database at all" * 100)
    inbox = Inbox()
    tasks = LibraryQueue(path, inbox)
    tasks.put(1, Library.add_tune, (REEL,), {"source_kind": "file"}, write=True)
    (ticket, value, error), = inbox.wait(1)
    assert ticket == 1 and value is None and "cannot open the tune library" in error
    assert tasks.close()
    assert issubclass(LibraryClosed, LibraryError)
