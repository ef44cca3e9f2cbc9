"""Queue jobs, cancel them, and reproduce runs: what the CLI and the Train tab call.

Every configuration is checked before anything is queued (a sweep is queued whole or not at all): its own
values, the machine (no quantization without a GPU), the model (block size within its context) and the
data (a train.csv with a `text` column). Each job gets its folder at once, holding the YAML a user can take
away and run with plain `autotrain --config`.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from studio.errors import StudioError
from studio.models import resolve_model
from studio.settings import Settings, load_settings
from studio.training import process
from studio.training.config import LOCAL_BACKEND, TrainingConfig, check_runnable
from studio.training.data_input import TrainingData, resolve_training_data, write_job_data
from studio.training.environment import autotrain_env
from studio.training.jobs import (
    CANCELLED, QUEUED, RUNNING, Job, finish, get_job, insert_job, open_registry, request_cancel,
)
from studio.training.runs import get_run
from studio.training.worker import WorkerLock, wake


@dataclass(frozen=True)
class _Checked:
    config: TrainingConfig
    model_path: Path


def submit(configs: list[TrainingConfig], dataset_ref: str, settings: Settings | None = None,
           sweep: str | None = None) -> list[Job]:
    """Check every configuration, then queue one job per configuration, in order."""
    settings = settings or load_settings()
    if not configs:
        raise StudioError("nothing to train: the configuration list is empty")
    data = resolve_training_data(dataset_ref, settings)
    checked = [_check(config, settings) for config in configs]
    if sweep is None and len(configs) > 1:
        sweep = f"sweep-{time.strftime('%Y%m%d-%H%M%S')}"
    env = autotrain_env(settings)
    db = open_registry(settings)
    try:
        jobs = [_queue(db, settings, item, data, env.loss_scale(item.config.gradient_accumulation), sweep)
                for item in checked]
    finally:
        db.close()
    wake()
    return jobs


def _check(config: TrainingConfig, settings: Settings) -> _Checked:
    if config.backend != LOCAL_BACKEND:
        raise StudioError(f"backend {config.backend}: the studio runs local jobs only for now; download the "
                          "YAML and run `autotrain --config` with HF_TOKEN set to use a Space")
    model_path = resolve_model(config.base_model, settings)
    check_runnable(config, has_gpu=autotrain_env(settings).has_gpu, model_dir=model_path)
    return _Checked(config, model_path)


def _queue(db, settings: Settings, item: _Checked, data: TrainingData, loss_scale: float,
           sweep: str | None) -> Job:
    """Insert the job and write its folder in one transaction: both exist, or neither."""
    folder = None
    try:
        with db:
            db.execute("BEGIN IMMEDIATE")
            job = insert_job(db, settings, config=item.config, dataset_ref=data.ref,
                             dataset_version=data.version, train_rows=data.rows, model_path=item.model_path,
                             loss_scale=loss_scale, sweep=sweep)
            folder = job.folder
            rows = _prepare_folder(job, data)
            db.execute("UPDATE jobs SET train_rows = ? WHERE id = ?", (rows, job.id))
    except BaseException:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return get_job(db, settings, job.id)


def _prepare_folder(job: Job, data: TrainingData) -> int:
    job.folder.mkdir(parents=True)
    rows = write_job_data(data, job.config.data_fraction, job.config.seed, job.data_dir)
    params = job.config.training_params(model=str(job.model_path), project_name=job.name,
                                        data_path=str(job.data_dir))
    job.params_path.write_text(json.dumps(params, indent=2), encoding="utf-8")
    job.yaml_path.write_text(job.config.to_yaml(model=str(job.model_path), project_name=job.name,
                                                data_path=str(job.data_dir)), encoding="utf-8")
    return rows


def cancel(job_ref: int | str, settings: Settings | None = None) -> Job:
    """Cancel a queued job, or stop a running one (its whole process group)."""
    settings = settings or load_settings()
    db = open_registry(settings)
    try:
        job = get_job(db, settings, job_ref)
        if job.status == QUEUED and finish(db, job.id, CANCELLED, "cancelled before it started",
                                           from_status=QUEUED):
            return get_job(db, settings, job.id)
        if job.status != RUNNING:
            raise StudioError(f"job {job.name} is {job.status}: only queued or running jobs can be cancelled")
        request_cancel(db, job.id)
        if job.pid:
            process.stop_group(job.pid, str(job.params_path))
        _settle_if_orphaned(db, settings, job)
        return _after_worker_settles(db, settings, job.id)
    finally:
        db.close()


def _settle_if_orphaned(db, settings: Settings, job: Job) -> None:
    """With no worker alive to see the trainer end, record the cancel here."""
    lock = WorkerLock(settings)
    if lock.acquire():
        try:
            finish(db, job.id, CANCELLED, "cancelled")
        finally:
            lock.release()


def _after_worker_settles(db, settings: Settings, job_id: int, timeout_s: float = 5.0) -> Job:
    """The job once the worker has seen its trainer end (it polls every second), or as it is after a while."""
    deadline = time.monotonic() + timeout_s
    job = get_job(db, settings, job_id)
    while job.status == RUNNING and time.monotonic() < deadline:
        time.sleep(0.2)
        job = get_job(db, settings, job_id)
    return job


def reproduce(run_ref: str, settings: Settings | None = None) -> list[Job]:
    """Queue the same configuration on the same data as an earlier run."""
    settings = settings or load_settings()
    run = get_run(run_ref, settings)
    return submit([run.config], run.dataset_version or run.dataset_ref, settings)
