"""registry.session: the one way to open the registry. It connects (schema up to date), runs the block in
one transaction when asked, commits it or rolls it back, and always closes."""

import sqlite3
from contextlib import closing, nullcontext

import pytest

from studio import registry

ROW = "INSERT INTO datasets VALUES ('ds-1', '', '2026', 'h', '{}', '{}', '{}', '{}', 1, 1, 'datasets/ds-1')"


@pytest.fixture
def path(tmp_path):
    return tmp_path / "home" / "studio.sqlite"


def dataset_ids(path) -> list[str]:
    with registry.session(path) as db:
        return [row["id"] for row in db.execute("SELECT id FROM datasets")]


def test_a_new_registry_gets_every_migration(path):
    with registry.session(path) as db:
        applied = [row["name"] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert applied == [fn.__name__ for fn in registry.MIGRATIONS]


@pytest.mark.parametrize("begin", [None, "DEFERRED", "IMMEDIATE"])
def test_a_block_that_ends_well_is_committed(path, begin):
    with registry.session(path, begin=begin) as db:
        db.execute(ROW)
    assert dataset_ids(path) == ["ds-1"]


def test_a_block_that_raises_is_rolled_back_and_the_error_goes_on(path):
    with pytest.raises(KeyError):
        with registry.session(path, begin="IMMEDIATE") as db:
            db.execute(ROW)
            assert db.in_transaction
            raise KeyError("boom")
    assert dataset_ids(path) == []


def test_without_a_transaction_each_statement_commits_on_its_own(path):
    with pytest.raises(KeyError):
        with registry.session(path) as db:
            db.execute(ROW)
            assert not db.in_transaction
            raise KeyError("boom")
    assert dataset_ids(path) == ["ds-1"]


@pytest.mark.parametrize("fails", [False, True])
def test_the_connection_is_closed_after_the_block(path, fails):
    with pytest.raises(KeyError) if fails else nullcontext():
        with registry.session(path, begin="DEFERRED") as db:
            if fails:
                raise KeyError("boom")
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")


def test_an_immediate_session_holds_the_write_lock_until_it_ends(path):
    assert dataset_ids(path) == []  # the registry exists: a plain connection can open it
    with closing(sqlite3.connect(path, timeout=0.05, isolation_level=None)) as other:
        with registry.session(path, begin="IMMEDIATE"):
            assert other.execute("SELECT COUNT(*) FROM datasets").fetchone() == (0,)  # WAL: readers go on
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released when the block ended
        other.execute(ROW)
        other.execute("COMMIT")
    assert dataset_ids(path) == ["ds-1"]


def test_a_begin_that_cannot_have_the_lock_in_time_raises_busy(path):
    with registry.session(path, begin="IMMEDIATE"):
        with pytest.raises(registry.Busy, match="locked"):
            with registry.session(path, begin="IMMEDIATE", busy_timeout_ms=50) as db:
                db.execute(ROW)
    assert issubclass(registry.Busy, sqlite3.OperationalError)  # callers catching that still do
    assert dataset_ids(path) == []


def test_a_deferred_session_does_not_lock_out_writers_until_it_writes(path):
    with registry.session(path, begin="DEFERRED") as db:
        db.execute("SELECT 1")
        with registry.session(path, begin="IMMEDIATE", busy_timeout_ms=50) as other:
            other.execute(ROW)
    assert dataset_ids(path) == ["ds-1"]


def test_a_transaction_on_a_held_connection_commits_or_rolls_back(path):
    with registry.session(path) as db:
        with pytest.raises(KeyError):
            with registry.transaction(db, "IMMEDIATE"):
                db.execute(ROW)
                raise KeyError("boom")
        assert dataset_ids(path) == []
        with registry.transaction(db):
            db.execute(ROW)
        assert not db.in_transaction
    assert dataset_ids(path) == ["ds-1"]


def test_only_sqlites_transaction_modes_are_spliced_into_begin(path):
    with registry.session(path) as db, pytest.raises(ValueError, match="not a transaction mode"):
        with registry.transaction(db, "IMMEDIATE; DROP TABLE datasets"):
            pass
    assert dataset_ids(path) == []  # the table is still there
