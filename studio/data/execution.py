"""Running gold SQL for the execution filter: on a real database, or on an empty one built from DDL.

Kept small on purpose: `evaluation/execution.py` owns sandboxed execution and result comparison for
scoring; this module only answers "does this gold SQL run on its database?" while preparing data.
Every statement runs on an in-memory copy inside a transaction that is rolled back, under a time limit,
so a gold `UPDATE` or a runaway join cannot change or stall anything.
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot.errors import SqlglotError


class QueryError(Exception):
    """The statement does not run; the message is a short reason class ("no such column", "timeout")."""


@lru_cache(maxsize=4096)
def transpile_ddl(ddl: str) -> str:
    """MySQL-flavoured DDL (the book's `context`) as a SQLite script. Raises QueryError if it does not parse."""
    try:
        statements = sqlglot.transpile(ddl, read="mysql", write="sqlite")
    except SqlglotError as exc:
        raise QueryError("the DDL does not parse") from exc
    return ";\n".join(s for s in statements if s.strip()) + ";"


def empty_database(ddl: str) -> sqlite3.Connection:
    """An empty in-memory database with the tables of `ddl` (foreign keys not enforced, as in MySQL dumps)."""
    db = _connect(":memory:")
    try:
        db.executescript(transpile_ddl(ddl))
    except sqlite3.Error as exc:
        db.close()
        raise QueryError("the DDL cannot be created in SQLite") from exc
    return db


def load_database(path: Path) -> sqlite3.Connection:
    """An in-memory copy of a SQLite file: queries can never change the file."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db = _connect(":memory:")
    try:
        source.backup(db)
    finally:
        source.close()
    return db


def _connect(target: str) -> sqlite3.Connection:
    db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
    # A few MySQL functions the book's answers use, so MySQL-flavoured gold SQL can run on SQLite.
    db.create_function("YEAR", 1, lambda v: int(str(v)[:4]) if v else None, deterministic=True)
    db.create_function("MONTH", 1, lambda v: int(str(v)[5:7]) if v else None, deterministic=True)
    db.create_function("DAY", 1, lambda v: int(str(v)[8:10]) if v else None, deterministic=True)
    db.create_function(
        "CONCAT", -1, lambda *a: None if None in a else "".join(map(str, a)), deterministic=True
    )
    db.create_function("NOW", 0, lambda: time.strftime("%Y-%m-%d %H:%M:%S"))
    db.create_function("CURDATE", 0, lambda: time.strftime("%Y-%m-%d"))
    return db


def run_query(db: sqlite3.Connection, sql: str, timeout_s: float = 2.0) -> list[tuple]:
    """Run one statement (as written, else transpiled from MySQL) and roll back whatever it changed."""
    try:
        return _run(db, sql, timeout_s)
    except QueryError as first:
        if str(first) == "timeout":
            raise
        try:
            translated = sqlglot.transpile(sql, read="mysql", write="sqlite")
        except SqlglotError:
            raise first from None
        if len(translated) != 1 or translated[0] == sql.strip().rstrip(";"):
            raise first from None
        return _run(db, translated[0], timeout_s)


def _run(db: sqlite3.Connection, sql: str, timeout_s: float) -> list[tuple]:
    deadline = time.monotonic() + timeout_s
    db.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    db.execute("BEGIN")
    try:
        return db.execute(sql).fetchall()
    except sqlite3.ProgrammingError as exc:  # several statements, or a non-SQL object
        raise QueryError(
            "more than one statement" if "one statement" in str(exc) else "not a statement"
        ) from exc
    except sqlite3.Error as exc:
        raise QueryError(_reason(str(exc))) from exc
    finally:
        db.execute("ROLLBACK")
        db.set_progress_handler(None, 0)


_REASONS = (
    ("interrupted", "timeout"),
    ("no such table", "no such table"),
    ("no such column", "no such column"),
    ("no such function", "no such function"),
    ("syntax error", "syntax error"),
    ("incomplete input", "syntax error"),
    ("ambiguous column", "ambiguous column"),
)


def _reason(message: str) -> str:
    lowered = message.lower()
    return next((reason for key, reason in _REASONS if key in lowered), "error")


class GoldChecker:
    """Checks gold SQL row by row: on the row's database when there is one, else on its DDL."""

    def __init__(self, databases: Mapping[str, Path], timeout_s: float = 2.0, cache_size: int = 256):
        self.databases = dict(databases)
        self.timeout_s = timeout_s
        self.cache_size = cache_size
        self._loaded: dict[str, sqlite3.Connection] = {}
        self._empty: OrderedDict[str, sqlite3.Connection | QueryError] = OrderedDict()

    def check(self, db_id: str, context: str, sql: str) -> str | None:
        """None when the SQL runs; otherwise the reason it does not."""
        try:
            run_query(self._database(db_id, context), sql, self.timeout_s)
        except QueryError as exc:
            return str(exc)
        return None

    def _database(self, db_id: str, context: str) -> sqlite3.Connection:
        if db_id in self.databases:
            if db_id not in self._loaded:
                self._loaded[db_id] = load_database(self.databases[db_id])
            return self._loaded[db_id]
        return self._from_ddl(context)

    def _from_ddl(self, context: str) -> sqlite3.Connection:
        if context in self._empty:
            self._empty.move_to_end(context)
        else:
            try:
                self._empty[context] = empty_database(context)
            except QueryError as exc:
                self._empty[context] = exc
            if len(self._empty) > self.cache_size:
                _, old = self._empty.popitem(last=False)
                if isinstance(old, sqlite3.Connection):
                    old.close()
        found = self._empty[context]
        if isinstance(found, QueryError):
            raise found
        return found

    def close(self) -> None:
        for db in [*self._loaded.values(), *self._empty.values()]:
            if isinstance(db, sqlite3.Connection):
                db.close()
        self._loaded.clear()
        self._empty.clear()


def find_databases(folder: Path) -> dict[str, Path]:
    """Databases in a folder as `<db_id>.sqlite` (or Spider's `<db_id>/<db_id>.sqlite`), by db_id."""
    found = {p.stem: p for p in sorted(folder.glob("*.sqlite"))}
    found.update({p.parent.name: p for p in sorted(folder.glob("*/*.sqlite")) if p.stem == p.parent.name})
    return found
