"""The studio's SQLite registry: data sets, jobs, runs, evaluations.

Schema changes are small named migration functions, applied once each, in order, and recorded in the
`_migrations` table (the approach of simonw/llm). To change the schema, append a new `@migration`
function; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register a schema migration; its function name is its identity in `_migrations`."""
    MIGRATIONS.append(fn)
    return fn


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the registry at `path` and bring its schema up to date."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")  # the UI reads while a job runner writes
    db.execute("PRAGMA foreign_keys=ON")
    migrate(db)
    return db


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations this database has not seen yet; return their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        with db:  # each migration and its record commit together, or not at all
            db.execute("BEGIN")
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", (fn.__name__,)
            )
        applied.append(fn.__name__)
    return applied


@migration
def m001_datasets(db: sqlite3.Connection) -> None:
    """Prepared data set versions (studio.data.versions): what went in, what came out, where it lies."""
    db.execute(
        """CREATE TABLE datasets (
            id TEXT PRIMARY KEY,          -- ds-<12 hex>: a hash of the options and the files written
            name TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            content_hash TEXT NOT NULL,   -- full SHA-256 behind the id
            source TEXT NOT NULL,         -- JSON: kind, ref, config, split, fingerprint of the rows
            mapping TEXT NOT NULL,        -- JSON: our column -> the input's column
            options TEXT NOT NULL,        -- JSON: split, fraction, seed, filters, prompt template
            counts TEXT NOT NULL,         -- JSON: rows kept and dropped at each step
            train_rows INTEGER NOT NULL,
            eval_rows INTEGER NOT NULL,
            path TEXT NOT NULL            -- relative to STUDIO_HOME
        )"""
    )
