"""What a user's SQLite database holds: its tables, columns, keys and (a bounded number of) rows.

The file is opened read-only (`mode=ro`); rows are read through the evaluation sandbox, so a huge or hostile
database costs at most the sandbox's limits. Names the SQL grammar cannot write bare (spaces, quotes, Hangul)
are reported and left out, as the bundled sample's names are all plain identifiers.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.sandbox import Limits, Sandbox
from studio.errors import StudioError

SQLITE_HEADER = b"SQLite format 3\x00"
MAX_TABLES = 200
ROWS_PER_TABLE = 5000  # rows read per table to pick values from (questions only need a few thousand)
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_READ_LIMITS = Limits(timeout_s=20.0, max_rows=ROWS_PER_TABLE)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    declared_type: str  # as written in the DDL ("VARCHAR(50)", "INTEGER", "" when none)
    not_null: bool
    primary_key: bool
    references: tuple[str, str] | None = None  # (table, column) of a foreign key


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    row_count: int
    sql: str  # the CREATE TABLE statement as the database stores it (comments included)

    @property
    def key(self) -> ColumnInfo | None:
        """The single-column integer primary key, the one kind of key the templates can use."""
        keys = [c for c in self.columns if c.primary_key]
        if len(keys) == 1 and "INT" in keys[0].declared_type.upper():
            return keys[0]
        return None

    def ddl(self) -> str:
        """The table's DDL in the bundled sample's layout (one column a line), from what SQLite reports."""
        lines = []
        for c in self.columns:
            words = [c.name, c.declared_type or "TEXT"]
            words += ["PRIMARY KEY"] if c.primary_key and self.key is c else []
            words += ["NOT NULL"] if c.not_null and not c.primary_key else []
            lines.append(" ".join(words))
        lines += [f"FOREIGN KEY ({c.name}) REFERENCES {c.references[0]}({c.references[1]})"
                  for c in self.columns if c.references]
        body = ",\n".join(f"  {line}" for line in lines)
        return f"CREATE TABLE {self.name} (\n{body}\n);"


@dataclass(frozen=True)
class DatabaseInfo:
    path: Path
    tables: tuple[TableInfo, ...]
    skipped: tuple[str, ...] = ()  # "name: why", for tables left out

    def table(self, name: str) -> TableInfo | None:
        return next((t for t in self.tables if t.name == name), None)


def read_database(path: str | Path) -> DatabaseInfo:
    """The schema of a SQLite file; a StudioError when it is not one, cannot be read, or has no usable table."""
    path = Path(path)
    _check_header(path)
    db = None
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        tables, skipped = _tables(db)
    except sqlite3.Error as error:
        raise StudioError("{file} cannot be read as a SQLite database: {error}", key="adapt_unreadable_db",
                          file=path.name, error=str(error)) from None
    finally:
        if db is not None:
            db.close()
    if not tables:
        raise StudioError("{file} has no table to ask questions about{why}", key="adapt_no_tables",
                          file=path.name, why=f" ({'; '.join(skipped)})" if skipped else "")
    return DatabaseInfo(path, tuple(tables), tuple(skipped))


def read_rows(info: DatabaseInfo, table: TableInfo) -> list[dict[str, Any]]:
    """Up to ROWS_PER_TABLE rows of a table (by key, so parents and children overlap), read in the sandbox."""
    columns = ", ".join(c.name for c in table.columns)
    order = f" ORDER BY {table.key.name}" if table.key else ""
    with Sandbox.open_file(info.path, _READ_LIMITS) as sandbox:
        result = sandbox.run(f"SELECT {columns} FROM {table.name}{order} LIMIT {ROWS_PER_TABLE}")
    if not result.ok:
        raise StudioError("the rows of {table} cannot be read: {error}", key="adapt_rows_unreadable",
                          table=table.name, error=result.error)
    names = [c.name for c in table.columns]
    return [dict(zip(names, row)) for row in result.rows]


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StudioError("{file} cannot be read: {error}", key="adapt_file_unreadable", file=path.name,
                          error=error.strerror or str(error)) from None
    if header != SQLITE_HEADER:
        raise StudioError("{file} is not a SQLite database (it does not start with SQLite's header)",
                          key="adapt_not_sqlite", file=path.name)


def _tables(db: sqlite3.Connection) -> tuple[list[TableInfo], list[str]]:
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                      "ORDER BY rowid").fetchall()
    tables, skipped = [], []
    for name, sql in rows[:MAX_TABLES]:
        if not _PLAIN.fullmatch(name):
            skipped.append(f"{name}: not a plain identifier")
            continue
        columns = _columns(db, name)
        if not all(_PLAIN.fullmatch(c.name) for c in columns):
            skipped.append(f"{name}: a column name is not a plain identifier")
            continue
        count = db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
        tables.append(TableInfo(name, columns, count, sql or ""))
    skipped += [f"{name}: more than {MAX_TABLES} tables" for name, _ in rows[MAX_TABLES:]]
    return tables, skipped


def _columns(db: sqlite3.Connection, table: str) -> tuple[ColumnInfo, ...]:
    references = {row[3]: (row[2], row[4]) for row in db.execute(f"PRAGMA foreign_key_list({table})")}
    return tuple(
        ColumnInfo(name, declared or "", bool(not_null), bool(pk), _reference(references.get(name), db))
        for _, name, declared, not_null, _, pk in db.execute(f"PRAGMA table_info({table})")
    )


def _reference(target: tuple[str, str | None] | None, db: sqlite3.Connection) -> tuple[str, str] | None:
    """(table, column) of a foreign key; a key that names no column refers to the parent's primary key."""
    if target is None:
        return None
    table, column = target
    if not _PLAIN.fullmatch(table):
        return None
    if column is None:
        keys = [row[1] for row in db.execute(f"PRAGMA table_info({table})") if row[5]]
        column = keys[0] if len(keys) == 1 else None
    return (table, column) if column else None
