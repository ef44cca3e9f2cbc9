"""The worker: drains the job queue, one local trainer at a time per machine, any number of Spaces beside it.

Whoever holds the machine's worker lock (a file lock under STUDIO_HOME/jobs/) is the worker: a thread in the
app, or `python -m studio train --wait` in the foreground; any other process only queues, cancels and
reads. On start, and before each job, the worker settles what a previous worker left running: a trainer
that still runs is followed to its end (training survives an app restart); one whose process is gone is
marked interrupted, never left "running".

A job succeeds when its artifacts exist and the log shows no failure: AutoTrain exits 0 even when training
failed.

A job on a Space backend has no local trainer: the worker launches its Space and then follows it in steps
(studio.training.spaces_backend.SpaceFollower), between the polls of the local trainer or while idle, so a
Space that trains for hours never holds up the local queue, and a Space job queued behind a local one is
launched at once. Each Space job is its own Space: several may train at the same time, beside one local
job. All of it runs on the worker's one thread and registry connection (SQLite connections are per
thread). A restarted worker follows a Space job again, never relaunches it: the Space trains on meanwhile.
Stepping a Space reads the Hub, so a slow Hub delays noticing the local trainer's end by as much; the
trainer itself runs on in its own process.
"""

from __future__ import annotations

import fcntl
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from studio import registry
from studio.errors import StudioError
from studio.settings import Settings, load_settings
from studio.training import process, spaces_backend
from studio.training.environment import autotrain_env
from studio.training.jobs import (
    CANCELLED, FAILED, INTERRUPTED, RUNNING, SUCCEEDED, Job, claim_next, finish, get_job, has_active_jobs,
    jobs_dir, list_jobs, set_pid, this_host,
)
from studio.training.logparse import Progress, failure_reason, parse_log, read_log
from studio.training.runs import insert_run
from studio.training.spaces_backend import FollowOptions, Outcome, SpaceFollower

log = logging.getLogger("studio.training")
ADAPTER_FILE = "adapter_model.safetensors"
MERGED_FILES = ("model.safetensors", "model.safetensors.index.json")
GONE = "the trainer process is gone: the studio or the machine stopped while it ran"


class WorkerLock:
    """A non-blocking, machine-wide lock; the OS drops it when its holder dies."""

    def __init__(self, settings: Settings):
        self.path = jobs_dir(settings) / ".worker.lock"
        self._handle = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class Worker:
    """Runs local jobs one after another and follows every Space job it has launched meanwhile.
    `on_poll(job)` is called about every `poll_s` for each running job. `space` says how a job on a Space
    is followed (how often the Hub is asked, when to give up)."""

    def __init__(self, settings: Settings | None = None, poll_s: float = 1.0,
                 on_poll: Callable[[Job], None] | None = None, space: FollowOptions | None = None):
        self.settings = settings or load_settings()
        self.poll_s = poll_s
        self.on_poll = on_poll
        self.space = space or FollowOptions(poll_s=poll_s)
        self._spaces: dict[int, SpaceFollower] = {}  # the Space jobs this worker follows, by job id

    def run(self, stop: threading.Event | None = None, until: Callable[[], bool] | None = None) -> bool:
        """Work until `stop` is set or `until()` is true (forever if neither is given).
        Returns False at once if another process is the worker."""
        lock = WorkerLock(self.settings)
        if not lock.acquire():
            return False
        try:
            with registry.session(self.settings.registry_path) as db:  # held for the whole loop
                while not (stop and stop.is_set()) and not (until and until()):
                    self._turn(db, stop)
        finally:
            self._spaces.clear()  # their Spaces train on: the next worker follows them again
            lock.release()
        return True

    def _turn(self, db, stop: threading.Event | None) -> None:
        """Settle what a previous worker left, step the Spaces, then start the next job or wait."""
        self.recover(db)
        self._tick_spaces(db)
        job = claim_next(db, self.settings)
        if job is not None and job.remote is not None:
            self._start_space(db, job)
        elif job is not None:
            self._execute(db, job)
        elif stop is not None:
            stop.wait(self._idle_s())
        else:
            time.sleep(self._idle_s())

    def _idle_s(self) -> float:
        return min(self.poll_s, self.space.poll_s) if self._spaces else self.poll_s

    def recover(self, db) -> None:
        """Settle jobs a previous worker left running on this machine (call with the lock held): follow
        their Spaces again; follow a local trainer that still runs to its end; mark one whose process is
        gone interrupted."""
        left = _running_here(db, self.settings)
        # Spaces first: a local trainer followed below steps them, and this list is stale once it ends.
        for job in left:
            if job.remote is not None and job.id not in self._spaces:
                self._start_space(db, job)
        for job in left:
            if job.remote is not None:
                continue
            if process.is_alive(job.pid, str(job.params_path)):
                self._follow(db, job, None)
                self._finalize(db, job, None)
            else:
                _settle_gone(db, job)

    def _execute(self, db, job: Job) -> None:
        try:
            trainer = process.spawn(self.settings, job.params_path, job.folder, job.log_path)
        except OSError as exc:
            finish(db, job.id, FAILED, f"could not start the trainer: {exc}")
            return
        try:
            set_pid(db, job.id, trainer.pid)
            self._follow(db, get_job(db, self.settings, job.id), trainer)
            self._finalize(db, job, trainer.returncode)
        except Exception as exc:  # noqa: BLE001 - a bug here must not leave a ghost "running" job
            log.exception("job %s", job.name)
            process.stop_group(trainer.pid, str(job.params_path), grace_s=5)
            finish(db, job.id, FAILED, f"the studio failed running the job: {type(exc).__name__}: {exc}")

    # -- Space jobs: launched, then followed in steps beside the local queue ------------------------------

    def _start_space(self, db, job: Job) -> None:
        """Launch the job's Space (unless a previous worker did) and follow it from the next step on."""
        try:
            self._spaces[job.id] = SpaceFollower.start(db, self.settings, job, self.space)
        except StudioError as exc:
            finish(db, job.id, FAILED, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug here must not leave a ghost "running" job
            log.exception("job %s", job.name)
            finish(db, job.id, FAILED, f"the studio failed launching the Space: {type(exc).__name__}: {exc}")

    def _beside_local(self, db) -> None:
        """While the local trainer runs: step the Spaces, and launch Space jobs queued behind it (they need
        nothing of this machine's CPU or GPU)."""
        self._tick_spaces(db)
        job = claim_next(db, self.settings, remote_only=True)
        if job is not None:
            self._start_space(db, job)

    def _tick_spaces(self, db) -> None:
        for job_id, follower in list(self._spaces.items()):
            if self._step_space(db, job_id, follower):
                del self._spaces[job_id]

    def _step_space(self, db, job_id: int, follower: SpaceFollower) -> bool:
        """One step of a Space job; True once it has ended and is recorded. A failure ends this job only,
        never the local trainer it runs beside."""
        try:
            outcome = follower.step(self.on_poll)
            if outcome is not None:
                self._settle_space(db, job_id, outcome)
            return outcome is not None
        except StudioError as exc:
            finish(db, job_id, FAILED, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug here must not leave a ghost "running" job
            log.exception("job %s", job_id)
            finish(db, job_id, FAILED, f"the studio failed following the Space: {type(exc).__name__}: {exc}")
        return True

    def _settle_space(self, db, job_id: int, outcome: Outcome) -> None:
        """Finish the job; on success, record the run the Space trained, with its Hub link and the losses
        its log (copied into the job's) reports."""
        if outcome.status != SUCCEEDED:
            finish(db, job_id, outcome.status, outcome.reason)
            return
        job = get_job(db, self.settings, job_id)
        progress = parse_log(read_log(job.log_path), job.loss_scale)
        self._insert_run(db, job, progress, spaces_backend.run_hardware(job), spaces_backend.run_software(),
                         hub=(outcome.url, outcome.commit))

    # -- local jobs ----------------------------------------------------------------------------------------

    def _follow(self, db, job: Job, trainer: subprocess.Popen | None) -> None:
        """Wait for the trainer to end (our child, or one adopted from a previous worker), passing on a
        cancel and reporting progress meanwhile."""
        marker = str(job.params_path)
        while True:
            current = get_job(db, self.settings, job.id)
            if current.cancel_requested:
                process.stop_group(current.pid, marker)
            elif self.on_poll:
                self.on_poll(current)
            self._beside_local(db)
            if not self._still_running(trainer, current.pid, marker):
                return

    def _still_running(self, trainer: subprocess.Popen | None, pid: int | None, marker: str) -> bool:
        """Wait up to `poll_s`; our own child is noticed the moment it exits."""
        if trainer is not None:
            try:
                trainer.wait(timeout=self.poll_s)
                return False
            except subprocess.TimeoutExpired:
                return True
        time.sleep(self.poll_s)
        return process.is_alive(pid, marker)

    def _finalize(self, db, job: Job, returncode: int | None) -> None:
        job = get_job(db, self.settings, job.id)
        if job.cancel_requested:
            finish(db, job.id, CANCELLED, "cancelled")
            return
        text = read_log(job.log_path)
        reason = check_outcome(job.output_dir, text, returncode)
        if reason:
            finish(db, job.id, FAILED, reason)
            return
        self._record_run(db, job, text)

    def _record_run(self, db, job: Job, log_text: str) -> None:
        env = autotrain_env(self.settings)
        self._insert_run(db, job, parse_log(log_text, job.loss_scale), env.hardware, env.software)

    def _insert_run(self, db, job: Job, progress: Progress, hardware: dict, software: dict,
                    hub: tuple[str, str] | None = None) -> None:
        """Record the run and finish the job in one transaction; `hub` is where the adapter already is
        on the Hub (its URL and commit), for a job that trained on a Space."""
        tokens_per_s = (progress.samples_per_second * job.config.block_size  # packed: a sample is a block
                        if progress.samples_per_second else None)
        with registry.transaction(db, "IMMEDIATE"):
            name = insert_run(
                db, name=job.name, job_id=job.id, base_model=job.config.base_model,
                base_model_path=job.model_path, dataset_ref=job.dataset_ref,
                dataset_version=job.dataset_version, train_rows=job.train_rows, adapter_path=job.output_dir,
                merged=is_merged(job.output_dir), config=job.config, duration_s=job.duration_s() or 0.0,
                train_runtime_s=progress.train_runtime_s, final_loss=progress.last_loss,
                train_loss=progress.train_loss,
                tokens_per_s=round(tokens_per_s, 1) if tokens_per_s else None,
                hardware=hardware, software=software,
            )
            if hub:
                db.execute("UPDATE runs SET hub_url = ?, hub_commit = ? WHERE name = ?", (*hub, name))
            finish(db, job.id, SUCCEEDED, run_name=name)


def _running_here(db, settings: Settings) -> list[Job]:
    # Another machine's running job is not ours to judge: its pid means nothing here. A job on a Space has
    # no pid, and a studio on a Space gets a new host name at every restart: any worker may follow it.
    return [job for job in list_jobs(db, settings, (RUNNING,))
            if job.remote is not None or job.host in (None, this_host())]


def _settle_gone(db, job: Job) -> None:
    finish(db, job.id, CANCELLED if job.cancel_requested else INTERRUPTED,
           "cancelled" if job.cancel_requested else GONE)


def settle_orphans(settings: Settings | None = None) -> None:
    """Mark running jobs whose trainer is gone as interrupted, unless a worker is alive to judge them
    (it may be reading the log of a trainer that just ended). Cheap; call it before showing the queue."""
    settings = settings or load_settings()
    lock = WorkerLock(settings)
    if not lock.acquire():
        return
    try:
        with registry.session(settings.registry_path) as db:
            for job in _running_here(db, settings):
                if job.remote is None and not process.is_alive(job.pid, str(job.params_path)):
                    _settle_gone(db, job)
    finally:
        lock.release()


def is_merged(output_dir: Path) -> bool:
    return any((output_dir / name).is_file() for name in MERGED_FILES)


def check_outcome(output_dir: Path, log_text: str, returncode: int | None) -> str | None:
    """None if the job succeeded, else why not: judged by artifacts and the log, not the exit code."""
    reason = failure_reason(log_text, returncode)
    if reason:
        return reason
    if not ((output_dir / ADAPTER_FILE).is_file() or is_merged(output_dir)):
        return f"the trainer ended without writing an adapter ({ADAPTER_FILE}); see the log tail"
    return None


# -- the app's background worker ---------------------------------------------------------------------

_THREADS: dict[str, threading.Thread] = {}
_THREADS_LOCK = threading.Lock()
_WAKE = threading.Event()
IDLE_POLL_S = 2.0


def wake() -> None:
    """Tell this process's idle worker thread that a job was queued (no wait for its next look)."""
    _WAKE.set()


def ensure_background_worker(settings: Settings | None = None) -> None:
    """Start this process's worker thread for STUDIO_HOME once. It takes the worker lock only while jobs
    are queued or running, so a CLI `train --wait` can be the worker whenever the app is idle."""
    settings = settings or load_settings()
    key = str(settings.home)
    with _THREADS_LOCK:
        if key in _THREADS and _THREADS[key].is_alive():
            return
        thread = threading.Thread(target=_serve, args=(settings,), daemon=True, name="studio-training-worker")
        thread.start()
        _THREADS[key] = thread


def _serve(settings: Settings) -> None:
    while True:
        try:
            if has_active_jobs(settings):
                Worker(settings).run(until=lambda: not has_active_jobs(settings))
        except Exception:  # noqa: BLE001 - keep serving; the job itself is settled by recover()
            log.exception("the training worker failed; retrying")
        _WAKE.wait(IDLE_POLL_S)
        _WAKE.clear()
