"""Prepared data set versions: the files under STUDIO_HOME/datasets/<id>/ and their registry rows.

Layout of a version folder (what the training runner and the evaluation read):
  autotrain/train.csv   one column `text`: the prompt with the gold SQL (AutoTrain's --data-path is
                        the `autotrain` folder, --train-split train, --text-column text)
  train.jsonl           the training rows, raw columns: id, db_id, context, question, answer[, difficulty]
  eval.jsonl            the held-out rows, same columns (the prompt is made at inference time)
  databases/<db_id>.sqlite   a database per db_id, for execution match
  version.json          the same record as the registry row

A version folder appears whole (prepare writes a `.staging-*` folder and renames it), then gets its registry
row. A prepare killed in between leaves a `.staging-*` folder, or a version folder without a row: the first
look at the versions in a process (`recover_leftovers`) removes the first and registers the second when it
is complete, as the killed prepare would have (running it again would register the same folder).
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from studio import registry
from studio.data.sources import SourceSpec
from studio.errors import StudioError
from studio.names import named_path
from studio.prompts import BOOK_TEMPLATE
from studio.settings import Settings, load_settings

DATASETS_DIR = "datasets"
STAGING_PREFIX = ".staging-"
LOCK_FILE = ".writers.lock"  # prepares hold it shared while they write; recovery needs it alone
VERSION_ID = re.compile(r"^ds-[0-9a-f]{12}$")


@dataclass(frozen=True)
class DatasetVersion:
    id: str
    name: str
    created_at: str
    content_hash: str
    source: dict
    mapping: dict
    options: dict
    counts: dict
    path: Path

    @property
    def autotrain_dir(self) -> Path:
        return self.path / "autotrain"

    @property
    def train_csv(self) -> Path:
        return self.autotrain_dir / "train.csv"

    @property
    def train_file(self) -> Path:
        return self.path / "train.jsonl"

    @property
    def eval_file(self) -> Path:
        return self.path / "eval.jsonl"

    @property
    def databases_dir(self) -> Path:
        return self.path / "databases"

    @property
    def prompt_template(self) -> str:
        return self.options.get("prompt_template", BOOK_TEMPLATE)

    @property
    def train_rows(self) -> int:
        return int(self.counts["train"])

    @property
    def eval_rows(self) -> int:
        return int(self.counts["eval"])

    def eval_frame(self) -> pd.DataFrame:
        return pd.read_json(self.eval_file, lines=True, dtype=str)

    def train_frame(self) -> pd.DataFrame:
        return pd.read_json(self.train_file, lines=True, dtype=str)

    def to_dict(self) -> dict:
        return {**asdict(self), "path": str(self.path)}


def version_dir(version_id: str, settings: Settings | None = None) -> Path:
    return named_path((settings or load_settings()).home / DATASETS_DIR, version_id, "version")


def save_version(version: DatasetVersion, settings: Settings | None = None) -> None:
    """Record a version (idempotent: saving the same id again changes nothing)."""
    settings = settings or load_settings()
    with registry.session(settings.registry_path) as db:
        _insert(db, version, settings)


def _insert(db: sqlite3.Connection, version: DatasetVersion, settings: Settings) -> None:
    db.execute(
        "INSERT OR IGNORE INTO datasets (id, name, created_at, content_hash, source, mapping, options, counts,"
        " train_rows, eval_rows, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            version.id,
            version.name,
            version.created_at,
            version.content_hash,
            _json(version.source),
            _json(version.mapping),
            _json(version.options),
            _json(version.counts),
            version.train_rows,
            version.eval_rows,
            version.path.relative_to(settings.home).as_posix(),
        ),
    )


# --- what a killed prepare leaves ------------------------------------------------------------------------


@contextmanager
def writing_versions(settings: Settings) -> Iterator[Path]:
    """Held by a prepare from its staging folder to its registry row (shared: prepares run side by side),
    so that recovery never takes a live prepare's folders for leftovers. Yields the datasets folder."""
    folder = settings.home / DATASETS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield folder
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Recovery:
    """What recover_leftovers did: folders removed and versions registered, by name."""

    removed: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    skipped: bool = False  # a prepare (or the registry) was busy: tried again at the next look


_RECOVERED: set[Path] = set()  # homes whose leftovers this process has dealt with


def recover_leftovers(settings: Settings) -> Recovery:
    """Remove stale `.staging-*` folders and settle version folders that have no registry row: registered
    when complete (version.json names this folder's id, and its files hold the rows it counts), else
    removed. Does nothing while a prepare writes or the registry is busy (then `skipped`)."""
    report = Recovery()
    folder = settings.home / DATASETS_DIR
    if not folder.is_dir():
        return report
    with (folder / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report.skipped = True
            return report
        try:
            _settle(folder, settings, report)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return report


def _settle(folder: Path, settings: Settings, report: Recovery) -> None:
    # IMMEDIATE: the results import copies folders inside its transaction. Never wait long for it: this is
    # housekeeping, tried again at the next look.
    try:
        with registry.session(settings.registry_path, begin="IMMEDIATE", busy_timeout_ms=1000) as db:
            _settle_folders(db, folder, settings, report)
    except registry.Busy:
        report.skipped = True


def _settle_folders(db: sqlite3.Connection, folder: Path, settings: Settings, report: Recovery) -> None:
    known = {row[0] for row in db.execute("SELECT path FROM datasets")}
    for entry in sorted(folder.iterdir()):
        if not entry.is_dir() or entry.is_symlink():
            continue
        if entry.name.startswith(STAGING_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
            report.removed.append(entry.name)
        elif VERSION_ID.match(entry.name) and f"{DATASETS_DIR}/{entry.name}" not in known:
            version = _complete_version(entry)
            if version is None:
                shutil.rmtree(entry, ignore_errors=True)
                report.removed.append(entry.name)
            else:
                _insert(db, version, settings)
                report.registered.append(entry.name)


def _complete_version(folder: Path) -> DatasetVersion | None:
    """The version a folder holds, if it is whole: its record names it, and its files hold what it counts."""
    try:
        record = json.loads((folder / "version.json").read_text(encoding="utf-8"))
        version = DatasetVersion(**{name: record[name] for name in _FIELDS}, path=folder)
        whole = (
            version.id == folder.name
            and version.train_csv.is_file()
            and version.databases_dir.is_dir()
            and _lines(version.train_file) == version.train_rows
            and _lines(version.eval_file) == version.eval_rows
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return version if whole else None


_FIELDS = [name for name in DatasetVersion.__dataclass_fields__ if name != "path"]


def _lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def get_version(version_id: str, settings: Settings | None = None) -> DatasetVersion:
    settings = settings or load_settings()
    rows = _select(settings, "WHERE id = ?", (version_id,))
    if not rows:
        raise StudioError("no prepared data set '{version}' (see: python -m studio data list)",
                          key="version_unknown", version=version_id)
    return rows[0]


def find_version(version_id: str, settings: Settings | None = None) -> DatasetVersion | None:
    rows = _select(settings or load_settings(), "WHERE id = ?", (version_id,))
    return rows[0] if rows else None


def list_versions(settings: Settings | None = None) -> list[DatasetVersion]:
    """Every prepared version, newest first. created_at has whole seconds: versions saved within one second
    (a judged version right after its parent) go by the order they were saved in."""
    return _select(settings or load_settings(), "ORDER BY created_at DESC, rowid DESC", ())


MAX_LISTED_DATABASES = 500  # a dropdown's worth, newest versions first


def listed_databases(settings: Settings | None = None) -> dict[str, Path]:
    """The prepared versions' databases by "<version>/<db_id>", newest version first: the databases the
    Playground and the `text2sql_answer` endpoint may query (a guest names one of these, never a path)."""
    found: dict[str, Path] = {}
    for version in list_versions(settings):
        for path in sorted(version.databases_dir.glob("*.sqlite")) if version.databases_dir.is_dir() else ():
            if len(found) == MAX_LISTED_DATABASES:
                return found
            found[f"{version.id}/{path.stem}"] = path
    return found


def versions_table(settings: Settings | None = None) -> pd.DataFrame:
    """The versions as a table for the UI: id, name, source, split, fraction, rows, databases (training /
    evaluation: how many schemas a run trains on), created."""
    return pd.DataFrame(
        [
            {
                "id": v.id,
                "name": v.name,
                "source": SourceSpec.from_dict(v.source).label(),  # a file's name, not its server path
                "split": v.options.get("split"),
                "fraction": v.options.get("fraction"),
                "train": v.train_rows,
                "eval": v.eval_rows,
                "databases": f"{len(v.counts.get('train_by_db', {}))} / {len(v.counts.get('eval_by_db', {}))}",
                "created": v.created_at,
            }
            for v in list_versions(settings)
        ],
        columns=["id", "name", "source", "split", "fraction", "train", "eval", "databases", "created"],
    )


def _select(settings: Settings, where: str, args: tuple) -> list[DatasetVersion]:
    if settings.home not in _RECOVERED and not recover_leftovers(settings).skipped:
        _RECOVERED.add(settings.home)  # once a process: crash leftovers are an older process's
    with registry.session(settings.registry_path) as db:
        rows = db.execute(f"SELECT * FROM datasets {where}", args).fetchall()
    return [
        DatasetVersion(
            id=r["id"],
            name=r["name"],
            created_at=r["created_at"],
            content_hash=r["content_hash"],
            source=json.loads(r["source"]),
            mapping=json.loads(r["mapping"]),
            options=json.loads(r["options"]),
            counts=json.loads(r["counts"]),
            path=settings.home / r["path"],
        )
        for r in rows
    ]


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
