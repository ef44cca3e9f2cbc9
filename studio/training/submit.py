"""Queue jobs, cancel them, and reproduce runs: what the CLI and the Train tab call.

Every configuration is checked before anything is queued (a sweep is queued whole or not at all): its own
values, the machine (no quantization without a GPU), the model (block size within its context) and the
data (a train.csv with a `text` column whose rows fit in the block size: studio.training.truncation). Each
job gets its folder at once, holding the YAML a user can take away and run with plain `autotrain --config`.
A job on a Space backend (spaces-t4-small, ...) is checked against the Hub first (a token that may write to
hub_username's namespace, a base model the Space can download); its repos are named at once and created
when the worker launches it (studio.training.spaces_backend).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import astuple, dataclass
from pathlib import Path

from studio import registry
from studio.errors import StudioError
from studio.models import resolve_model
from studio.settings import Settings, load_settings
from studio.training import process, spaces_backend
from studio.training.config import TrainingConfig, check_runnable, resolve_mixed_precision
from studio.training.data_input import TrainingData, resolve_training_data, write_job_data
from studio.training.environment import autotrain_env
from studio.training.jobs import (
    CANCELLED, QUEUED, RUNNING, Job, finish, get_job, insert_job, request_cancel, set_remote,
)
from studio.training.runs import get_run
from studio.training.truncation import BlockSizeNote, check_block_sizes
from studio.training.worker import WorkerLock, wake


@dataclass(frozen=True)
class _Checked:
    config: TrainingConfig
    model_path: Path


class Submitted(list):
    """The queued jobs, in order, and `notes`: the checks' warnings (training rows a block size cuts)."""

    def __init__(self, jobs: list[Job], notes: list[BlockSizeNote]):
        super().__init__(jobs)
        self.notes = notes


def submit(configs: list[TrainingConfig], dataset_ref: str, settings: Settings | None = None,
           sweep: str | None = None) -> Submitted:
    """Check every configuration, then queue one job per configuration, in order."""
    settings = settings or load_settings()
    if not configs:
        raise StudioError("nothing to train: the configuration list is empty", key="submit_nothing")
    data = resolve_training_data(dataset_ref, settings)
    spaces_backend.preflight(configs, settings)
    checked = [_check(config, settings) for config in configs]
    notes = check_block_sizes([(item.config, item.model_path) for item in checked], data.train_csv)
    if sweep is None and len(configs) > 1:
        sweep = f"sweep-{time.strftime('%Y%m%d-%H%M%S')}"
    env = autotrain_env(settings)
    with registry.session(settings.registry_path) as db:
        jobs = [_queue(db, settings, item, data, env.loss_scale(item.config.gradient_accumulation), sweep)
                for item in checked]
    wake()
    return Submitted(jobs, notes)


def _check(config: TrainingConfig, settings: Settings) -> _Checked:
    env = autotrain_env(settings)
    config = resolve_mixed_precision(config, has_gpu=env.has_gpu, bf16=env.bf16)
    if spaces_backend.is_space_backend(config.backend):
        # The Space downloads the base model itself: nothing to fetch here (it may be many GB). The job's
        # model_path is then the Hub id the Space loads.
        return _Checked(config, Path(spaces_backend.base_model_id(config)))
    model_path = resolve_model(config.base_model, settings)
    check_runnable(config, has_gpu=env.has_gpu, model_dir=model_path, cpu_bf16=env.bf16)
    return _Checked(config, model_path)


def _queue(db, settings: Settings, item: _Checked, data: TrainingData, loss_scale: float,
           sweep: str | None) -> Job:
    """Insert the job and write its folder in one transaction: both exist, or neither."""
    folder = None
    try:
        with registry.transaction(db, "IMMEDIATE"):
            job = insert_job(db, settings, config=item.config, dataset_ref=data.ref,
                             dataset_version=data.version, train_rows=data.rows, model_path=item.model_path,
                             loss_scale=loss_scale, sweep=sweep)
            folder = job.folder
            rows = _prepare_folder(job, data)
            db.execute("UPDATE jobs SET train_rows = ? WHERE id = ?", (rows, job.id))
            if spaces_backend.is_space_backend(job.config.backend):
                set_remote(db, job.id, *astuple(spaces_backend.targets(job.config, job.name)))
    except BaseException:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return get_job(db, settings, job.id)


def _prepare_folder(job: Job, data: TrainingData) -> int:
    job.folder.mkdir(parents=True)
    rows = write_job_data(data, job.config.data_fraction, job.config.seed, job.data_dir, job.config.max_train_rows)
    params = job.config.training_params(model=str(job.model_path), project_name=job.name,
                                        data_path=str(job.data_dir))
    job.params_path.write_text(json.dumps(params, indent=2), encoding="utf-8")
    job.yaml_path.write_text(job.config.to_yaml(model=str(job.model_path), project_name=job.name,
                                                data_path=str(job.data_dir)), encoding="utf-8")
    return rows


def cancel(job_ref: int | str, settings: Settings | None = None) -> Job:
    """Cancel a queued job, or stop a running one (its whole process group, or its Space)."""
    settings = settings or load_settings()
    with registry.session(settings.registry_path) as db:
        job = get_job(db, settings, job_ref)
        if job.status == QUEUED and finish(db, job.id, CANCELLED, "cancelled before it started",
                                           from_status=QUEUED):
            return get_job(db, settings, job.id)
        if job.status != RUNNING:
            raise StudioError("job {job} is {status}: only queued or running jobs can be cancelled",
                              key="submit_not_cancellable", job=job.name, status=job.status)
        request_cancel(db, job.id)
        try:
            _stop_trainer(job, settings)
        finally:
            _settle_if_orphaned(db, settings, job)
        return _after_worker_settles(db, settings, job.id)


def _stop_trainer(job: Job, settings: Settings) -> None:
    """Stop what trains: the local process group, or the job's Space (paused at once: it bills by the
    minute, whether or not a worker is following it)."""
    if job.remote is not None:
        try:
            spaces_backend.stop(job, settings)
        except StudioError as exc:
            raise StudioError("job {job} is cancelled, but its Space could not be paused ({error}); "
                              "pause it on the Hub: {space}", key="submit_space_not_paused", job=job.name,
                              error=exc, space=job.remote.space_id) from None
    elif job.pid:
        process.stop_group(job.pid, str(job.params_path))


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
