"""The job queue, persisted in the registry's `jobs` table.

A job moves queued → running → succeeded | failed | cancelled | interrupted, and never back. Only the worker
that holds the machine's worker lock (studio.training.worker) starts or finishes running jobs; anyone may
queue, request a cancel, or read. Every change of status is one conditional UPDATE, so two processes
cannot both finish the same job.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from studio import registry
from studio.errors import StudioError
from studio.names import check_name, named_path
from studio.settings import Settings
from studio.training.config import TrainingConfig

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "succeeded", "failed", "cancelled", "interrupted")
ACTIVE = (QUEUED, RUNNING)
FINISHED = (SUCCEEDED, FAILED, CANCELLED, INTERRUPTED)
LAUNCHING = "LAUNCHING"  # a Space job's remote stage while the studio sets up its repos and Space


@dataclass(frozen=True)
class Remote:
    """Where a job that trains on a Hugging Face Space lives on the Hub (studio.training.spaces_backend)."""

    space_id: str  # runs AutoTrain's `autotrain api`, as AutoTrain's own spaces-* backends do
    model_repo: str  # AutoTrain pushes the adapter here when training ends
    dataset_repo: str  # the job's train.csv
    baseline: str | None  # the model repo's commit before launch ("" if it did not exist); None: not launched
    stage: str | None  # the last stage seen: LAUNCHING, LAUNCHED, then the Space's (BUILDING, RUNNING, ...)

    @property
    def launched(self) -> bool:
        return self.baseline is not None and self.stage not in (None, LAUNCHING)


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    status: str
    config: TrainingConfig
    dataset_ref: str
    dataset_version: str | None
    train_rows: int
    model_path: Path  # the local base model folder; for a job on a Space, the Hub id the Space loads
    loss_scale: float
    folder: Path
    sweep: str | None
    host: str | None
    pid: int | None
    cancel_requested: bool
    error: str | None
    run_name: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    remote: Remote | None = None  # set for jobs on a Space backend

    # The job folder: config.yml (for `autotrain --config`), training_params.json (what the runner passes),
    # data/train.csv, train.log, and AutoTrain's output folder <name>/ with the adapter.
    @property
    def yaml_path(self) -> Path:
        return self.folder / "config.yml"

    @property
    def params_path(self) -> Path:
        return self.folder / "training_params.json"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_path(self) -> Path:
        return self.folder / "train.log"

    @property
    def output_dir(self) -> Path:
        return self.folder / self.name

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def duration_s(self, now: datetime | None = None) -> float | None:
        """Seconds from start to finish (or to now while running)."""
        if not self.started_at:
            return None
        end = parse_time(self.finished_at) if self.finished_at else (now or utcnow())
        return (end - parse_time(self.started_at)).total_seconds()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def timestamp(moment: datetime | None = None) -> str:
    return (moment or utcnow()).isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def this_host() -> str:
    return socket.gethostname()


def jobs_dir(settings: Settings) -> Path:
    return settings.home / "jobs"


def _job(row: sqlite3.Row, settings: Settings) -> Job:
    return Job(
        id=row["id"], name=row["name"], status=row["status"],
        config=TrainingConfig.from_dict(json.loads(row["config"])),
        dataset_ref=row["dataset_ref"], dataset_version=row["dataset_version"], train_rows=row["train_rows"],
        model_path=Path(row["model_path"]), loss_scale=row["loss_scale"],
        folder=jobs_dir(settings) / row["name"], sweep=row["sweep"], host=row["host"], pid=row["pid"],
        cancel_requested=bool(row["cancel_requested"]), error=row["error"], run_name=row["run_name"],
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        remote=_remote(row),
    )


def _remote(row: sqlite3.Row) -> Remote | None:
    if not row["space_id"]:
        return None
    return Remote(space_id=row["space_id"], model_repo=row["hub_model_repo"],
                  dataset_repo=row["hub_dataset_repo"], baseline=row["remote_baseline"],
                  stage=row["remote_stage"])


def insert_job(db: sqlite3.Connection, settings: Settings, *, config: TrainingConfig, dataset_ref: str,
               dataset_version: str | None, train_rows: int, model_path: Path, loss_scale: float,
               sweep: str | None) -> Job:
    """Queue a job (inside the caller's transaction); its name is `<project_name>-<id>`, unique for good."""
    cursor = db.execute(
        """INSERT INTO jobs (name, status, config, dataset_ref, dataset_version, train_rows, model_path,
                             loss_scale, sweep, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (f"pending-{uuid.uuid4().hex}", QUEUED, config.to_json(), dataset_ref, dataset_version,
         train_rows, str(model_path), loss_scale, sweep, timestamp()),
    )
    job_id = cursor.lastrowid
    name = f"{config.project_name}-{job_id}"
    if named_path(jobs_dir(settings), name, "job").exists():  # left by an older registry: never reuse it
        name = check_name(f"{name}-{utcnow():%Y%m%d%H%M%S}", "job")
    db.execute("UPDATE jobs SET name = ? WHERE id = ?", (name, job_id))
    return get_job(db, settings, job_id)


def get_job(db: sqlite3.Connection, settings: Settings, ref: int | str) -> Job:
    """A job by id or by name."""
    text = str(ref).strip()
    if text.isdigit():  # names always end in "-<id>", so a bare number is an id
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (int(text),)).fetchone()
    else:
        row = db.execute("SELECT * FROM jobs WHERE name = ?", (text,)).fetchone()
    if row is None:
        raise StudioError("no job {job!r}: see python -m studio train list", key="job_unknown", job=text)
    return _job(row, settings)


def list_jobs(db: sqlite3.Connection, settings: Settings, statuses: tuple[str, ...] = (),
              limit: int = 200) -> list[Job]:
    """Newest first."""
    where = f"WHERE status IN ({','.join('?' * len(statuses))})" if statuses else ""
    rows = db.execute(f"SELECT * FROM jobs {where} ORDER BY id DESC LIMIT ?", (*statuses, limit)).fetchall()
    return [_job(row, settings) for row in rows]


def has_active_jobs(settings: Settings) -> bool:
    """Whether any job is queued or running (cheap: one indexed query)."""
    with registry.session(settings.registry_path) as db:
        return db.execute("SELECT 1 FROM jobs WHERE status IN (?, ?) LIMIT 1", ACTIVE).fetchone() is not None


def claim_next(db: sqlite3.Connection, settings: Settings, remote_only: bool = False) -> Job | None:
    """Move the oldest queued job (with `remote_only`, the oldest on a Space) to running on this host;
    None when there is none."""
    remote = " AND space_id IS NOT NULL" if remote_only else ""
    with registry.transaction(db, "IMMEDIATE"):  # two workers must not claim the same job
        row = db.execute(f"SELECT id FROM jobs WHERE status = ?{remote} ORDER BY id LIMIT 1",
                         (QUEUED,)).fetchone()
        if row is None:
            return None
        db.execute("UPDATE jobs SET status = ?, started_at = ?, host = ? WHERE id = ?",
                   (RUNNING, timestamp(), this_host(), row["id"]))
    return get_job(db, settings, row["id"])


def set_pid(db: sqlite3.Connection, job_id: int, pid: int) -> None:
    db.execute("UPDATE jobs SET pid = ? WHERE id = ?", (pid, job_id))


def finish(db: sqlite3.Connection, job_id: int, status: str, error: str | None = None,
           run_name: str | None = None, from_status: str = RUNNING) -> bool:
    """Move a job to a final status if it is still in `from_status`; False if someone else moved it."""
    assert status in FINISHED
    cursor = db.execute(
        "UPDATE jobs SET status = ?, error = ?, run_name = ?, finished_at = ? WHERE id = ? AND status = ?",
        (status, error, run_name, timestamp(), job_id, from_status))
    return cursor.rowcount == 1


def request_cancel(db: sqlite3.Connection, job_id: int) -> None:
    db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))


def set_remote(db: sqlite3.Connection, job_id: int, space_id: str, model_repo: str,
               dataset_repo: str) -> None:
    """Name a Space job's Hub repos (before anything is created there, so a restart finds them)."""
    db.execute("UPDATE jobs SET space_id = ?, hub_model_repo = ?, hub_dataset_repo = ? WHERE id = ?",
               (space_id, model_repo, dataset_repo, job_id))


def set_remote_baseline(db: sqlite3.Connection, job_id: int, baseline: str) -> None:
    """Keep the first baseline: a relaunch after a restart must not take the Space's own push for 'before'."""
    db.execute("UPDATE jobs SET remote_baseline = COALESCE(remote_baseline, ?) WHERE id = ?",
               (baseline, job_id))


def set_remote_stage(db: sqlite3.Connection, job_id: int, stage: str) -> None:
    db.execute("UPDATE jobs SET remote_stage = ? WHERE id = ?", (stage, job_id))
