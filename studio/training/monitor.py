"""Views of the queue and of one job's progress, for the Train tab and the CLI.

State comes from the registry and the job's log file, never from a UI session: a reloaded page, a second
browser or a shell all see the same thing. Logs are read incrementally (one follower per job and process).
A job on a Space shows its Space's stage too; its steps and loss come from the Space's log, which the worker
copies into the job's log at each look (studio.training.spaces_backend).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

from studio import registry
from studio.settings import Settings, load_settings
from studio.training.jobs import RUNNING, Job, get_job, list_jobs
from studio.training.logparse import LogFollower, Progress, read_tail
from studio.training.spaces_backend import status_text
from studio.training.worker import settle_orphans


@dataclass(frozen=True)
class JobView:
    job: Job
    progress: Progress
    elapsed_s: float | None  # wall time since the job started (whole job: start-up, training, saving)

    def line(self) -> str:
        """One line of progress, e.g. `running · step 3/12 (25%) · loss 2.1810 · lr 1.80e-04 · 0:42 elapsed`
        (and `~1:30 left` while running)."""
        p, parts = self.progress, [self.job.status]
        if self.job.remote is not None:
            parts.append(status_text(self.job))
        if p.total_steps:
            parts.append(f"step {p.step}/{p.total_steps} ({p.fraction:.0%})")
        elif self.job.status == RUNNING and self.job.remote is None:  # a Space's stage is its phase
            parts.append(p.phase)
        if p.last_loss is not None:
            parts.append(f"loss {p.last_loss:.4f}")
        if p.learning_rate is not None:
            parts.append(f"lr {p.learning_rate:.2e}")
        if self.elapsed_s is not None:
            parts.append(f"{clock(self.elapsed_s)} elapsed")
        if self.job.status == RUNNING and p.remaining_s is not None:
            parts.append(f"~{clock(p.remaining_s)} left")
        return " · ".join(parts)


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


_FOLLOWERS: dict[tuple[str, int], LogFollower] = {}
_FOLLOWERS_LOCK = threading.Lock()


def job_view(job: Job) -> JobView:
    key = (str(job.log_path), job.id)
    with _FOLLOWERS_LOCK:
        if key not in _FOLLOWERS:
            _FOLLOWERS[key] = LogFollower(job.log_path, job.loss_scale)
        follower = _FOLLOWERS[key]
        progress = follower.poll()
    if job.remote is not None:  # the stage is a Space job's phase: watchers report each change
        progress = dataclasses.replace(progress, phase=job.remote.stage or "queued")
    return JobView(job=job, progress=progress, elapsed_s=job.duration_s())


def log_tail(job: Job, lines: int = 40) -> str:
    return read_tail(job.log_path, lines)


def jobs_overview(settings: Settings | None = None, limit: int = 50) -> list[Job]:
    """The queue and recent jobs, newest first, after settling orphans (no 'running' ghosts)."""
    settings = settings or load_settings()
    settle_orphans(settings)
    with registry.session(settings.registry_path) as db:
        return list_jobs(db, settings, limit=limit)


def find_job(ref: int | str, settings: Settings | None = None) -> Job:
    settings = settings or load_settings()
    with registry.session(settings.registry_path) as db:
        return get_job(db, settings, ref)


def current_job(jobs: list[Job]) -> Job | None:
    """The job to show by default: the local job running (it has a live loss; Space jobs may run beside
    it), else a running Space job, else the newest."""
    running = [j for j in jobs if j.status == RUNNING]
    local = [j for j in running if j.remote is None]
    return (local or running or jobs or [None])[0]


def job_row(job: Job) -> dict[str, Any]:
    """One row of the queue table."""
    c = job.config
    return {
        "id": job.id, "name": job.name, "status": job.status, "base_model": c.base_model,
        "dataset": job.dataset_version or job.dataset_ref, "rows": job.train_rows,
        "lora": f"r{c.lora_r}/a{c.lora_alpha}", "created": job.created_at[:19].replace("T", " "),
        "duration": clock(job.duration_s()) if job.started_at else "",
        "run": job.run_name or "", "error": job.error or "",
    }
