"""Prepared data set versions: the files under STUDIO_HOME/datasets/<id>/ and their registry rows.

Layout of a version folder (what the training runner and the evaluation read):
  autotrain/train.csv   one column `text`: the prompt with the gold SQL (AutoTrain's --data-path is
                        the `autotrain` folder, --train-split train, --text-column text)
  train.jsonl           the training rows, raw columns: id, db_id, context, question, answer[, difficulty]
  eval.jsonl            the held-out rows, same columns (the prompt is made at inference time)
  databases/<db_id>.sqlite   a database per db_id, for execution match
  version.json          the same record as the registry row
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from studio import registry
from studio.data.sources import SourceSpec
from studio.errors import StudioError
from studio.names import named_path
from studio.prompts import BOOK_TEMPLATE
from studio.settings import Settings, load_settings

DATASETS_DIR = "datasets"


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
    db = registry.connect(settings.registry_path)
    try:
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
    finally:
        db.close()


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
    db = registry.connect(settings.registry_path)
    try:
        rows = db.execute(f"SELECT * FROM datasets {where}", args).fetchall()
    finally:
        db.close()
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
