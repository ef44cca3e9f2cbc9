"""The studio's SQLite registry: data sets, jobs, runs, evaluations.

Open it with `session` (connect, maybe one transaction, close); a connection held on purpose (the training
worker's loop) is a session too, and takes its transactions with `transaction`.

Schema changes are small named migration functions, applied once each, in order, and recorded in the
`_migrations` table (the approach of simonw/llm). To change the schema, append a new `@migration`
function; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, get_args

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []
Begin = Literal["DEFERRED", "IMMEDIATE", "EXCLUSIVE"]


class Busy(sqlite3.OperationalError):
    """A transaction could not begin: another connection held the lock for longer than the busy timeout."""


def migration(fn: Migration) -> Migration:
    """Register a schema migration; its function name is its identity in `_migrations`."""
    MIGRATIONS.append(fn)
    return fn


@contextmanager
def session(path: Path, *, begin: Begin | None = None,
            busy_timeout_ms: int | None = None) -> Iterator[sqlite3.Connection]:
    """The registry at `path`, closed when the block ends. Without `begin` each statement commits on its
    own (autocommit); with it the block is one transaction (`BEGIN <begin>`), committed when the block ends
    and rolled back if it raises. `busy_timeout_ms` shortens the wait for another writer's lock (connecting
    waits up to 30 s), so that a BEGIN which cannot have it raises `Busy` soon."""
    db = connect(path)
    try:
        if busy_timeout_ms is not None:
            db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if begin is None:
            yield db
        else:
            with transaction(db, begin):
                yield db
    finally:
        db.close()


@contextmanager
def transaction(db: sqlite3.Connection, begin: Begin = "DEFERRED") -> Iterator[sqlite3.Connection]:
    """One transaction on an open registry connection: committed when the block ends, rolled back if it
    raises. IMMEDIATE takes the write lock at once, so that what the block reads stays true until it
    commits (two workers never claim the same job)."""
    if begin not in get_args(Begin):  # it is spliced into the SQL
        raise ValueError(f"not a transaction mode: {begin!r}")
    try:
        db.execute(f"BEGIN {begin}")
    except sqlite3.OperationalError as exc:
        raise Busy(*exc.args) from exc
    with db:  # sqlite3's own `with`: commit, or roll back on an exception
        yield db


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
        with transaction(db):  # each migration and its record commit together, or not at all
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


@migration
def m010_jobs_queue_and_runs(db: sqlite3.Connection) -> None:
    """Training jobs (studio.training: the persisted queue) and the runs finished jobs become."""
    db.execute(
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,    -- AutoTrain's project_name and the folder under STUDIO_HOME/jobs/
            status TEXT NOT NULL CHECK (status IN
                ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
            config TEXT NOT NULL,         -- JSON: studio.training.config.TrainingConfig
            dataset_ref TEXT NOT NULL,    -- as given: a data set version id or a folder
            dataset_version TEXT,         -- the version id when it came from the datasets table
            train_rows INTEGER NOT NULL,  -- rows the job trains on (after data_fraction)
            model_path TEXT NOT NULL,     -- the resolved local base model folder AutoTrain loads
            loss_scale REAL NOT NULL DEFAULT 1,  -- the trainer over-reports loss by this (gradient accumulation)
            sweep TEXT,                   -- jobs queued together share it
            host TEXT,                    -- the machine running it (pids mean something there only)
            pid INTEGER,                  -- the trainer's process (and process group) id
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            error TEXT,                   -- why it failed, was cancelled or interrupted
            run_name TEXT,                -- the run it became
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT
        )"""
    )
    db.execute("CREATE INDEX jobs_by_status ON jobs (status, id)")
    db.execute(
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,    -- never reused: nothing overwrites another run
            job_id INTEGER REFERENCES jobs (id),
            created_at TEXT NOT NULL,
            base_model TEXT NOT NULL,     -- the reference as given (built-in name, folder, Hub id)
            base_model_path TEXT NOT NULL,
            dataset_ref TEXT NOT NULL,
            dataset_version TEXT,
            train_rows INTEGER NOT NULL,
            adapter_path TEXT NOT NULL,   -- the LoRA adapter folder (a full model when merged)
            merged INTEGER NOT NULL DEFAULT 0,
            config TEXT NOT NULL,         -- JSON: the TrainingConfig
            duration_s REAL NOT NULL,     -- wall time of the job, start to finish
            train_runtime_s REAL,         -- the trainer's own training time
            final_loss REAL,              -- last logged training loss (corrected)
            train_loss REAL,              -- mean training loss over the run (corrected)
            tokens_per_s REAL,
            hardware TEXT NOT NULL,       -- JSON
            software TEXT NOT NULL        -- JSON: versions in the AutoTrain environment
        )"""
    )


@migration
def m020_evaluations(db: sqlite3.Connection) -> None:
    """Evaluations of runs and base models (studio.evaluate): the summary, every row, and the generations
    they reused, so re-scoring never regenerates."""
    db.execute("""CREATE TABLE evaluations (
        id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, candidate TEXT NOT NULL, run_name TEXT,
        base_model TEXT NOT NULL, adapter TEXT, eval_set TEXT NOT NULL, dataset_version TEXT,
        mode TEXT NOT NULL, judge_model TEXT, options TEXT NOT NULL, summary TEXT NOT NULL, rows INTEGER NOT NULL,
        accuracy REAL, ex_score REAL, judge_score REAL, agreement REAL, cost_usd REAL, generate_seconds REAL)""")
    db.execute("CREATE INDEX evaluations_candidate ON evaluations (candidate, eval_set)")
    db.execute("""CREATE TABLE evaluation_rows (
        evaluation_id INTEGER NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE, row_index INTEGER NOT NULL,
        row_id TEXT, db_id TEXT, question TEXT, gold_sql TEXT, completion TEXT, pred_sql TEXT,
        match INTEGER NOT NULL, reason TEXT, decided_by TEXT, judge_verdict TEXT,
        PRIMARY KEY (evaluation_id, row_index))""")
    db.execute("""CREATE TABLE generations (
        candidate TEXT NOT NULL, prompt_sha TEXT NOT NULL, max_new_tokens INTEGER NOT NULL,
        completion TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (candidate, prompt_sha, max_new_tokens))""")


@migration
def m021_run_hub_links(db: sqlite3.Connection) -> None:
    """Where a run was pushed on the Hub (studio.hub), so the leaderboard can link it."""
    db.execute("ALTER TABLE runs ADD COLUMN hub_url TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN hub_commit TEXT")


@migration
def m030_jobs_on_spaces(db: sqlite3.Connection) -> None:
    """Jobs that train on a Hugging Face Space (studio.training.spaces_backend): where they live on the Hub
    and how far they got. NULL for local jobs."""
    db.execute("ALTER TABLE jobs ADD COLUMN space_id TEXT")  # owner/autotrain-<job name>: runs AutoTrain
    db.execute("ALTER TABLE jobs ADD COLUMN hub_model_repo TEXT")  # owner/<job name>: receives the adapter
    db.execute("ALTER TABLE jobs ADD COLUMN hub_dataset_repo TEXT")  # owner/autotrain-data-<job name>
    db.execute("ALTER TABLE jobs ADD COLUMN remote_baseline TEXT")  # the model repo's commit before launch
    db.execute("ALTER TABLE jobs ADD COLUMN remote_stage TEXT")  # last stage seen (LAUNCHING, BUILDING, ...)


@migration
def m040_decoding(db: sqlite3.Connection) -> None:
    """How an evaluation's answers were decoded: 'free', or 'schema' (constrained to the DDL's SQL grammar,
    studio/constraints.py). The leaderboard keeps them apart, and a cached generation is reused only for
    the same decoding, with why it ended early if it did. Everything before this migration was decoded freely."""
    db.execute("ALTER TABLE evaluations ADD COLUMN decoding TEXT NOT NULL DEFAULT 'free'")
    db.execute("""CREATE TABLE generations_new (
        candidate TEXT NOT NULL, prompt_sha TEXT NOT NULL, max_new_tokens INTEGER NOT NULL,
        decoding TEXT NOT NULL DEFAULT 'free', completion TEXT NOT NULL, problem TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        PRIMARY KEY (candidate, prompt_sha, max_new_tokens, decoding))""")
    db.execute("""INSERT INTO generations_new (candidate, prompt_sha, max_new_tokens, completion, created_at)
                  SELECT candidate, prompt_sha, max_new_tokens, completion, created_at FROM generations""")
    db.execute("DROP TABLE generations")
    db.execute("ALTER TABLE generations_new RENAME TO generations")
