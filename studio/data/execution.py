"""Running gold SQL for the execution filter: on a real database, or on an empty one built from DDL.

Execution is the evaluation library's (`evaluation.execution`, `evaluation.sandbox`): each statement runs
in a sandbox worker process, read-only, row-capped and under a deadline that holds even for a single long
SQLite step (the worker is killed), so a hostile gold SQL in an uploaded data set can neither change a
database nor stall `data prepare`. Sandboxes have the MySQL function shims (YEAR, CONCAT, ...) because the
book's answers are MySQL-flavoured. This module only answers "does this gold SQL run on its database?"
with a short reason class, and retries a failing statement transpiled from MySQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby
from pathlib import Path

from evaluation.execution import ExecutionConfig, ExecutionMatcher
from evaluation.sandbox import QueryResult
from evaluation.schema import sqlite_schema
from evaluation.sql import SqlParseError, leading_keyword, split_statements, transpile

DDL_DIALECT = "mysql"  # the book's `context` and answers


class GoldChecker:
    """Checks gold SQL row by row: on the row's database when there is one, else on its DDL.

    Each database or DDL gets a sandbox (a worker process); the `cache_size` most recently used stay open,
    so check one database's rows together. Use from one thread; close when done."""

    def __init__(self, databases: Mapping[str, Path], timeout_s: float = 2.0, cache_size: int = 4):
        self.databases = dict(databases)
        self.timeout_s = timeout_s
        config = ExecutionConfig(
            timeout_s=timeout_s, ddl_dialect=DDL_DIALECT, max_open_databases=cache_size, mysql_functions=True
        )
        self._matcher = ExecutionMatcher(config)

    def check(self, db_id: str, context: str, sql: str) -> str | None:
        """None when the SQL runs; otherwise the reason it does not."""
        return self.check_rows([(db_id, context, sql)])[0]

    def check_rows(self, rows: Sequence[tuple[str, str, str]]) -> list[str | None]:
        """`check` of each (db_id, context, sql); neighbouring rows of one database run as one batch."""
        reasons: list[str | None] = []
        for _, group in groupby(rows, key=lambda row: self._key(row[0], row[1])):
            reasons += self._check_group(list(group))
        return reasons

    def close(self) -> None:
        self._matcher.close()

    def _key(self, db_id: str, context: str) -> tuple:
        return ("file", db_id) if db_id in self.databases else ("ddl", context)

    def _check_group(self, rows: list[tuple[str, str, str]]) -> list[str | None]:
        db_id, context, _ = rows[0]
        if db_id in self.databases:
            sandbox = self._matcher.file_sandbox(self.databases[db_id])
        elif sqlite_schema(context or "", DDL_DIALECT).problems:
            return ["the DDL does not parse"] * len(rows)
        else:
            sandbox = self._matcher.schema_sandbox(context)
            if sandbox.problems:
                return ["the DDL cannot be created in SQLite"] * len(rows)
        statements = [sql for _, _, sql in rows]
        results = sandbox.run_many(statements, keep_rows=False)
        # What fails as written (in time) is tried again in SQLite's spelling of MySQL.
        retry = {}
        for i, result in enumerate(results):
            if not result.ok and not result.timed_out and (translated := _from_mysql(statements[i])):
                retry[i] = translated
        for i, result in zip(retry, sandbox.run_many(list(retry.values()), keep_rows=False)):
            results[i] = result
        return [None if result.ok else _reason(result, sql) for result, sql in zip(results, statements)]


def _from_mysql(sql: str) -> str | None:
    """The statement in SQLite's spelling; None when it is not one statement, or reads the same."""
    if len(split_statements(sql)) != 1:
        return None
    try:
        translated = transpile(sql, DDL_DIALECT, "sqlite")
    except SqlParseError:
        return None
    return None if translated == sql.strip().rstrip(";") else translated


# The sandbox's messages (SQLite's, and its own limits) as short reason classes for the prepare report.
_REASONS = (
    ("timeout", "timeout"),
    ("no such table", "no such table"),
    ("no such column", "no such column"),
    ("no such function", "no such function"),
    ("syntax error", "syntax error"),
    ("incomplete input", "syntax error"),
    ("ambiguous column", "ambiguous column"),
    ("one statement at a time", "more than one statement"),
    ("only select queries may run", "not a SELECT query"),
    ("empty statement", "not a statement"),
    ("not authorized", "not allowed"),
    ("result exceeds", "result too large"),
    ("too big", "value too large"),
    ("out of memory", "out of memory"),
)


# What SQLite itself would run; the sandbox refuses any statement but a query, and says so before SQLite can.
_STATEMENT_KEYWORDS = frozenset(
    "ALTER ANALYZE ATTACH BEGIN COMMIT CREATE DELETE DETACH DROP END EXPLAIN INSERT PRAGMA REINDEX RELEASE "
    "REPLACE ROLLBACK SAVEPOINT UPDATE VACUUM".split()
)


def _reason(result: QueryResult, sql: str) -> str:
    if result.timed_out:
        return "timeout"
    lowered = (result.error or "").lower()
    if lowered.startswith("only select") and leading_keyword(sql) not in _STATEMENT_KEYWORDS:
        return "syntax error"  # not a statement at all ("SELEC 1"), as SQLite would have said
    return next((reason for key, reason in _REASONS if key in lowered), "error")


def find_databases(folder: Path) -> dict[str, Path]:
    """Databases in a folder as `<db_id>.sqlite` (or Spider's `<db_id>/<db_id>.sqlite`), by db_id."""
    found = {p.stem: p for p in sorted(folder.glob("*.sqlite"))}
    found.update({p.parent.name: p for p in sorted(folder.glob("*/*.sqlite")) if p.stem == p.parent.name})
    return found
