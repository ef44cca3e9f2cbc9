"""Schemas without data: an SQLite schema from (MySQL-flavoured) DDL text, and DDL text from a database.

Data sets such as the book's ship only DDL. An empty SQLite database with the same tables and columns is
enough to tell whether a query runs against the schema. Types are reduced to SQLite affinities and column
constraints, indexes, comments and table options are dropped: none of them changes whether a query runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from evaluation.sql import SqlParseError, parse, split_statements, transpile


@dataclass(frozen=True)
class SqliteSchema:
    """SQLite statements for an empty copy of a schema, and the DDL statements that could not be used."""

    statements: tuple[str, ...]
    problems: tuple[str, ...]
    names: tuple[str, ...] = ()  # the table or view each statement creates, in the same order


@lru_cache(maxsize=128)
def sqlite_schema(ddl: str, dialect: str = "mysql") -> SqliteSchema:
    """Translate DDL text (any sqlglot dialect) into SQLite CREATE TABLE / CREATE VIEW statements."""
    from sqlglot import exp

    statements, problems, names = [], [], []
    for text in split_statements(ddl):
        try:
            tree = parse(text, dialect)
        except SqlParseError as error:
            problems.append(f"{error} in {text[:60]!r}")
            continue
        if not isinstance(tree, exp.Create):
            continue  # data, indexes, settings: an empty schema does not need them
        kind = (tree.args.get("kind") or "").upper()
        columns = list(tree.find_all(exp.ColumnDef))
        name = tree.this.find(exp.Table).name if tree.this.find(exp.Table) else ""
        if kind == "TABLE" and columns:
            statements.append(_create_table(name, columns))
        elif kind in ("TABLE", "VIEW"):  # CREATE TABLE ... AS SELECT, views: keep the query
            statements.append(transpile(text, dialect, "sqlite"))
        else:
            continue
        names.append(name)
    return SqliteSchema(tuple(statements), tuple(problems), tuple(names))


def create_schema(path: str | Path, statements: Iterable[str]) -> None:
    """An empty database file at `path` made of `sqlite_schema` statements (those SQLite rejects are left
    out, as an in-memory schema sandbox leaves them out)."""
    with closing(sqlite3.connect(path)) as connection:
        for statement in statements:
            try:
                connection.execute(statement)
            except sqlite3.Error:
                continue
        connection.commit()


def schema_ddl(database: str | Path) -> str:
    """The CREATE statements of a database file (for a judge prompt when a row has no DDL)."""
    uri = Path(database).resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        ).fetchall()
    return ";\n".join(row[0] for row in rows) + (";" if rows else "")


def _create_table(name: str, columns) -> str:
    body = ", ".join(f"{_quote(column.name)} {_affinity(column.args.get('kind'))}" for column in columns)
    return f"CREATE TABLE {_quote(name)} ({body})"


def _affinity(data_type) -> str:
    from sqlglot import exp

    if data_type is None:
        return "BLOB"
    kind = data_type.this
    if kind in exp.DataType.INTEGER_TYPES:
        return "INTEGER"
    if kind in exp.DataType.REAL_TYPES:
        return "REAL"
    if kind in exp.DataType.NUMERIC_TYPES:
        return "NUMERIC"
    return "TEXT"  # strings, dates, ENUM/SET, JSON: SQLite stores them as text


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
