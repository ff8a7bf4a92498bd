"""The tune library: storing, searching, editing, undo, crash safety and schema migration."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from app.library import MIGRATIONS, SCHEMA_VERSION, Library, LibraryError, Query

REEL = "X:1\nT:The Silver Spear\nR:reel\nM:4/4\nL:1/8\nK:D\nFAAB A2FA|\n"
JIG = "X:2\nT:Out on the Ocean\nR:Jig\nM:6/8\nL:1/8\nK:G\nGBd gdB|\n"


@pytest.fixture
def library(tmp_path):
    with Library(tmp_path / "library.db") as lib:
        yield lib


def test_add_get_and_provenance(library):
    tune_id = library.add_tune(REEL, source_kind="generated", source="tiny",
                               provenance={"model": "tiny", "seed": 7, "temperature": 0.9})
    record = library.get(tune_id)
    assert (record.title, record.key, record.meter, record.rhythm) == \
        ("The Silver Spear", "D", "4/4", "reel")
    assert record.provenance == {"model": "tiny", "seed": 7, "temperature": 0.9}
    assert record.abc == REEL
    with pytest.raises(KeyError):
        library.get(9999)


def test_search_and_filters(library):
    library.add_tunes([REEL, JIG], source_kind="file", source="/tmp/book.abc")
    library.add_tune(JIG, source_kind="corpus", source="celtic")
    assert library.count() == 3
    assert [r[1] for r in library.search(Query(text="silver"))] == ["The Silver Spear"]
    assert library.count(Query(rhythm="jig")) == 2
    assert library.count(Query(meter="6/8", source_kind="corpus")) == 1
    assert library.count(Query(text="100%")) == 0
    assert library.values("key") == ["D", "G"]
    assert ("file", "/tmp/book.abc", 2) in library.sources()


def test_position_is_the_row_search_lists_a_tune_in(library):
    ids = library.add_tunes([REEL, JIG, REEL, JIG], source_kind="file", source="book.abc")
    rows = [r[0] for r in library.search(Query(rhythm="jig"))]
    assert [library.position(i, Query(rhythm="jig")) for i in ids] == [-1, 0, -1, 1]
    assert rows == [ids[1], ids[3]]
    assert library.position(ids[2]) == 2 and library.position(9999) == -1


def test_edits_delete_and_undo(library):
    a, b = library.add_tunes([REEL, JIG], source_kind="file", source="book.abc")
    library.set_favourite(a, True)
    library.set_rating(a, 4)
    library.rename(b, "  Renamed  ")
    library.set_notes(b, "learnt from Mary")
    assert library.count(Query(favourite=True)) == 1
    assert library.get(a).rating == 4 and library.get(b).title == "Renamed"
    with pytest.raises(ValueError):
        library.set_rating(a, 6)
    library.delete([a])
    assert library.count() == 1
    library.undelete([a])
    assert library.count() == 2
    library.delete_source("file", "book.abc")
    assert library.count() == 0 and library.purge_deleted() == 2


def test_survives_restart(tmp_path):
    with Library(tmp_path / "l.db") as lib:
        tune_id = lib.add_tune(REEL, source_kind="generated", source="m")
        lib.set_favourite(tune_id, True)
    with Library(tmp_path / "l.db") as lib:
        assert lib.get(tune_id).favourite


def test_writer_killed_mid_way_loses_nothing_committed(tmp_path):
    path = tmp_path / "l.db"
    script = textwrap.dedent(f"""
        import sys
        from app.library import Library
        lib = Library({str(path)!r})
        i = 0
        while True:
            lib.add_tune("X:%d\\nT:Tune %d\\nK:D\\nabc|\\n" % (i, i), source_kind="generated")
            i += 1
            print(i, flush=True)
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True, cwd=root)
    committed = 0
    deadline = time.monotonic() + 30
    while committed < 40 and time.monotonic() < deadline:
        committed = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert committed >= 40
    with Library(path) as lib:
        assert lib.count() >= committed
        assert lib._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert lib.get(1).title == "Tune 0"


def test_migrates_a_version_1_database(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    db.execute("INSERT INTO tunes (title, key, meter, source_kind, source, created) "
               "VALUES ('Old Tune', 'D', '4/4', 'file', 'a.abc', 0)")
    db.execute("INSERT INTO tune_text VALUES (1, ?)", (REEL,))
    db.commit()
    db.close()
    with Library(path) as lib:
        assert lib.schema_version == SCHEMA_VERSION
        record = lib.get(1)
        assert record.title == "Old Tune" and not record.favourite and record.notes == ""
        lib.set_favourite(1, True)


def test_refuses_newer_or_broken_database(tmp_path):
    newer = tmp_path / "newer.db"
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LibraryError, match="newer Ceol"):
        Library(newer)
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LibraryError, match="broken.db"):
        Library(broken)


# ---------------------------------------------------------------- damaged library files

def _seed_bytes(tmp_path):
    from tests.fuzz.raw_library import library_seed

    return library_seed(tmp_path)


@pytest.mark.parametrize("damage", ["text", "random", "truncated_half", "truncated_header",
                                    "page_garbage", "header_page_size"])
def test_damaged_library_is_refused_and_left_as_it_is(tmp_path, damage):
    seed = _seed_bytes(tmp_path)
    data = {"text": b"X:1\nT:not a database\nK:D\nABc|\n" * 40,
            "random": bytes(range(256)) * 64,
            "truncated_half": seed[:len(seed) // 2],
            "truncated_header": seed[:50],
            "page_garbage": seed[:4096 + 10] + b"\xff" * 2000 + seed[4096 + 2010:],
            "header_page_size": seed[:16] + b"\x00\x03" + seed[18:]}[damage]
    path = tmp_path / "lib" / "library.db"
    path.parent.mkdir()
    path.write_bytes(data)
    with pytest.raises(LibraryError) as info:
        with Library(path) as library:
            library.count()
            library.search()
            library.values("key")
    assert str(path) in str(info.value)
    assert path.read_bytes() == data


def test_invalid_utf8_and_bad_provenance_read_without_errors(tmp_path):
    path = tmp_path / "library.db"
    with Library(path) as library:
        tune_id = library.add_tune(REEL, source_kind="file", source="a.abc")
    db = sqlite3.connect(path)
    db.execute("UPDATE tunes SET title = CAST(x'63e96c746963' AS TEXT), provenance = '{nope' "
               "WHERE id = ?", (tune_id,))
    db.commit()
    db.close()
    with Library(path) as library:
        record = library.get(tune_id)
        assert record.title == "c\ufffdltic" and record.provenance == {}
        assert library.search()[0][1] == "c\ufffdltic"


def test_a_database_that_is_not_a_ceol_library_is_refused(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE tunes (id INTEGER PRIMARY KEY)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.commit()
    db.close()
    with pytest.raises(LibraryError, match="cannot open the tune library"):
        Library(path)


def test_a_library_damaged_where_the_open_check_does_not_look_fails_as_library_error(tmp_path):
    path = tmp_path / "library.db"
    with Library(path) as library:
        library.add_tune(REEL, source_kind="file")
    library = Library(path)
    library._db.close()
    library._db = sqlite3.connect(":memory:")   # the tables are gone under it
    with pytest.raises(LibraryError, match="cannot read the tune library"):
        library.search()
    library.close()
