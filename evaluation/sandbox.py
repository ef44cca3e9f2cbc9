"""Running untrusted SQL against SQLite: read-only, bounded in time, rows and value size.

Model output is executed as-is, so every connection here is guarded four ways:
- database files are opened with `mode=ro`, so SQLite itself refuses to write them;
- an authorizer allows reading only (no INSERT/UPDATE/DELETE/DDL, ATTACH, pragmas, transactions,
  `load_extension`), which also protects in-memory schema databases;
- a progress handler interrupts a statement once its deadline has passed (runaway joins, endless CTEs);
- a row cap and a value-size limit stop results that would exhaust memory before the deadline does.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.sql import leading_keyword

_READ_ONLY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES"})
_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
_DENIED_FUNCTIONS = frozenset({"load_extension"})
_PROGRESS_EVERY = 1000  # SQLite VM instructions between deadline checks
_FETCH_CHUNK = 1000


@dataclass(frozen=True)
class Limits:
    """Bounds for one query."""

    timeout_s: float = 3.0
    max_rows: int = 100_000
    max_value_bytes: int = 1_000_000  # one string or blob, enforced by SQLite
    max_result_bytes: int = 50_000_000  # all strings and blobs of a result together


@dataclass(frozen=True)
class QueryResult:
    """Rows and column names of a query, or why there are none."""

    rows: list[tuple] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    error: str | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class Sandbox:
    """One guarded SQLite connection. Like any sqlite3 connection, use it from one thread."""

    def __init__(self, connection: sqlite3.Connection, limits: Limits = Limits()):
        self.limits = limits
        self._connection = connection
        self._deadline = float("inf")
        self._interrupted = False
        connection.text_factory = _decode_text
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.max_value_bytes)
        connection.set_authorizer(_authorize)
        connection.set_progress_handler(self._check_deadline, _PROGRESS_EVERY)

    @classmethod
    def open_file(cls, path: str | Path, limits: Limits = Limits()) -> Sandbox:
        """Open an existing database file read-only (the file is never modified)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no database file at {path}")
        uri = path.resolve().as_uri() + "?mode=ro"
        return cls(sqlite3.connect(uri, uri=True), limits)

    @classmethod
    def from_statements(cls, statements: list[str], limits: Limits = Limits()) -> tuple[Sandbox, list[str]]:
        """An empty in-memory database built from schema statements; returns it and the statements' errors."""
        connection = sqlite3.connect(":memory:")
        problems = []
        for statement in statements:
            try:
                connection.execute(statement)
            except sqlite3.Error as error:
                problems.append(f"{error} in {statement[:80]!r}")
        return cls(connection, limits), problems

    def run(self, sql: str) -> QueryResult:
        """Execute one read-only statement within the limits; errors are returned, never raised."""
        if not sql.strip():
            return QueryResult(error="empty statement")
        keyword = leading_keyword(sql)
        if keyword not in _READ_ONLY_KEYWORDS:
            return QueryResult(error=f"only SELECT queries may run, not {keyword or 'this statement'}")
        self._interrupted = False
        self._deadline = time.monotonic() + self.limits.timeout_s
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql)
            columns = tuple(d[0] for d in cursor.description or ())
            return self._fetch(cursor, columns)
        except (sqlite3.Error, ValueError, OverflowError, MemoryError) as error:
            if self._interrupted:
                return QueryResult(error=f"timeout after {self.limits.timeout_s:g} s", timed_out=True)
            return QueryResult(error=str(error) or type(error).__name__)
        finally:
            cursor.close()
            self._deadline = float("inf")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fetch(self, cursor: sqlite3.Cursor, columns: tuple[str, ...]) -> QueryResult:
        rows: list[tuple] = []
        size = 0
        while chunk := cursor.fetchmany(_FETCH_CHUNK):
            rows.extend(chunk)
            if len(rows) > self.limits.max_rows:
                return QueryResult(error=f"result exceeds {self.limits.max_rows} rows")
            size += sum(len(value) for row in chunk for value in row if isinstance(value, (str, bytes)))
            if size > self.limits.max_result_bytes:
                return QueryResult(error=f"result exceeds {self.limits.max_result_bytes} bytes")
        return QueryResult(rows=rows, columns=columns)

    def _check_deadline(self) -> int:
        if time.monotonic() > self._deadline:
            self._interrupted = True
            return 1  # non-zero: SQLite aborts the statement with "interrupted"
        return 0


def _authorize(
    action: int, _arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _decode_text(raw: bytes) -> str:
    # Some databases hold invalid UTF-8; a replacement character beats failing the whole query.
    return raw.decode("utf-8", "replace")
