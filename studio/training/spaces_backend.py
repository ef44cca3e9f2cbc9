"""Training on a Hugging Face Space: AutoTrain's own `spaces-*` backends, started and followed by the studio.

What AutoTrain's SpaceRunner does (autotrain/backends/spaces.py, 0.8.36), this module does the same way:
a private Docker Space `<user>/autotrain-<project>` on the requested hardware, whose Dockerfile runs
`autotrain api`; the job reaches it only through the Space's secrets (HF_TOKEN, AUTOTRAIN_USERNAME,
PROJECT_NAME, TASK_ID, PARAMS, DATA_PATH, MODEL), from which `autotrain api` starts training at boot. When
training ends, AutoTrain pushes its output folder to the private model repo `<user>/<project>` and pauses
the Space; when it fails, it pauses the Space without pushing.

One difference: AutoTrain's CLI pushes local data as a processed `datasets` repo; the studio uploads the
job's train.csv as it is to the same name, `<user>/autotrain-data-<project>`, which `load_dataset` reads
as the train split.

The worker follows a job by polling the Space's runtime stage and the model repo (SpaceFollower, one step
at a time); success is a new commit there holding the adapter, which is downloaded into the job folder.
Each job is its own Space, so several Space jobs may train at the same time: the worker follows all it has
launched, in steps between the polls of the local trainer, which meanwhile runs the local queue.

While the Space's app runs, each look also copies what it printed since the last look (its run log, which
the Hub replays) into the job's log. AutoTrain logs the same records there as on this machine, so the
Train tab shows a Space job's steps, loss curve and log tail as it shows a local one's, a poll behind; and
when a Space fails, the reason is read from that log.

An ended job leaves its Space (paused: it bills nothing) and its private data repo on the Hub, as AutoTrain
does; `clean_up` deletes both (python -m studio train cleanup). What a run needs stays: its adapter, here and
in its model repo, and its log, copied here.

The HF token goes to the Hub only (the Space's secrets and the client's Authorization header), never into
the job folder, the registry or the log: it is masked in every line copied from the Space's log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio import registry
from studio.errors import Phrase, StudioError
from studio.hub.client import TOKENS_PAGE, HubSession, commit_files, connect, ensure_repo, hub_errors
from studio.export.merged import TOKENIZER_FILES
from studio.hub.push import ADAPTER_FILES
from studio.models import HUB_ID
from studio.settings import Secret, Settings
from studio.training.config import SPACE_BACKENDS, TrainingConfig, portable_model_ref
from studio.training.jobs import (
    CANCELLED, FAILED, LAUNCHING, SUCCEEDED, Job, Remote, get_job, list_jobs,
    set_remote_baseline, set_remote_stage, timestamp,
)
from studio.training.logparse import failure_in_log, read_log

TASK_ID = 9  # autotrain.backends.base: the task id of LLMTrainingParams, which `autotrain api` reads
SLEEP_TIME_S = 604800  # AutoTrain's set_space_sleep_time: a week, so the Space never sleeps mid-training
DOCKERFILE = ("FROM huggingface/autotrain-advanced:latest\n"
              "CMD pip uninstall -y autotrain-advanced && pip install -U autotrain-advanced && "
              "autotrain api --port 7860 --host 0.0.0.0")
SECRET_NAMES = ("HF_TOKEN", "AUTOTRAIN_USERNAME", "PROJECT_NAME", "TASK_ID", "PARAMS", "DATA_PATH", "MODEL")
LAUNCHED = "LAUNCHED"  # not a Hub stage: set up by the studio, not looked at yet
GONE = "GONE"  # not a Hub stage: the Space no longer exists (deleted on the Hub)
DELETED = "DELETED"  # not a Hub stage: the studio deleted the ended job's Space and data repo (clean_up)
FAILED_STAGES = ("BUILD_ERROR", "CONFIG_ERROR", "RUNTIME_ERROR", "DELETING")
STOPPED_STAGES = ("PAUSED", "STOPPED")  # AutoTrain pauses the Space when training ends, pushed or not
DEFAULT_TIMEOUT_S = 24 * 3600.0
DEFAULT_HUB_POLL_S = 15.0  # the Hub rate-limits; a training run takes minutes to hours
# The stages in which the Space's app has a run log to copy (building, it has none yet).
LOG_STAGES = ("APP_STARTING", "RUNNING", "RUNNING_APP_STARTING", "RUNNING_BUILDING", "RUNTIME_ERROR",
              *STOPPED_STAGES)
LOG_MARK = "space-log.json"  # in the job folder: how much of the Space's log was copied
IMAGE = "huggingface/autotrain-advanced:latest"


def is_space_backend(backend: str) -> bool:
    return backend in SPACE_BACKENDS


def hardware_flavor(backend: str) -> str:
    """The Space hardware of an AutoTrain backend: spaces-t4-small -> t4-small (AutoTrain's table)."""
    return backend.removeprefix("spaces-")


@dataclass(frozen=True)
class Targets:
    space_id: str
    model_repo: str
    dataset_repo: str


def targets(config: TrainingConfig, job_name: str) -> Targets:
    """AutoTrain's names: the Space `autotrain-<project>`, the data `autotrain-data-<project>`, the model
    `<project>`, all in the hub_username namespace (the project is the job name, unique in the registry)."""
    owner = config.hub_username
    return Targets(space_id=f"{owner}/autotrain-{job_name}", model_repo=f"{owner}/{job_name}",
                   dataset_repo=f"{owner}/autotrain-data-{job_name}")


def base_model_id(config: TrainingConfig) -> str:
    """The base model as a Hub id: a Space cannot read a folder on this machine."""
    ref = portable_model_ref(config.base_model)
    if Path(ref).expanduser().exists() or not HUB_ID.match(ref):
        raise StudioError("backend {backend} trains on a Hugging Face Space, which cannot load {model!r}: "
                          "give a Hub id (owner/name) or a built-in model", key="space_local_model",
                          backend=config.backend, model=config.base_model)
    return ref


# -- before anything is queued -----------------------------------------------------------------------


def preflight(configs: list[TrainingConfig], settings: Settings) -> None:
    """Refuse Space jobs that cannot run before anything is queued or created: no token, a token that
    does not work or may not write to hub_username's namespace, a local base model, a merge."""
    remote = [c for c in configs if is_space_backend(c.backend)]
    if not remote:
        return
    if not settings.hf_token:
        raise StudioError("backend {backend} trains on a Hugging Face Space, which needs a token: set "
                          "HF_TOKEN to a token with write access ({page}); nothing was queued or created",
                          key="space_no_token", backend=remote[0].backend, page=TOKENS_PAGE)
    session = connect(settings)
    for config in remote:
        session.check_owner(f"{config.hub_username}/{config.project_name}")  # Space, data and model go there
        base_model_id(config)
        if config.merge_adapter:
            raise StudioError("backend {backend}: merge_adapter would download a whole merged model from the "
                              "Space; train the adapter, then merge it when pushing (python -m studio push "
                              "--merged)", key="space_merge", backend=config.backend)


# -- what the Space receives ---------------------------------------------------------------------------


def space_readme(project_name: str) -> str:
    """AutoTrain's Space card (SpaceRunner._create_readme)."""
    return ("---\n"
            f"title: {project_name}\n"
            "emoji: 🚀\ncolorFrom: green\ncolorTo: indigo\nsdk: docker\npinned: false\n"
            "tags:\n- autotrain\n"
            "duplicated_from: autotrain-projects/autotrain-advanced\n"
            "---\n")


def space_params(job: Job, token: Secret) -> dict:
    """PARAMS: what `autotrain api` passes to LLMTrainingParams on the Space. Unlike a local job's
    training_params.json it holds the token (the trainer reads the private data and pushes the model),
    which is why it only ever goes into the Space's secrets."""
    params = job.config.training_params(model=base_model_id(job.config), project_name=job.name,
                                        data_path=job.remote.dataset_repo)
    params.update(username=job.config.hub_username, token=token.reveal(), push_to_hub=True)
    return params


def space_secrets(job: Job, token: Secret) -> dict[str, str]:
    """SpaceRunner._add_secrets, key for key."""
    params = space_params(job, token)
    return {
        "HF_TOKEN": token.reveal(), "AUTOTRAIN_USERNAME": job.config.hub_username, "PROJECT_NAME": job.name,
        "TASK_ID": str(TASK_ID), "PARAMS": json.dumps(params), "DATA_PATH": job.remote.dataset_repo,
        "MODEL": params["model"],
    }


# -- launching ---------------------------------------------------------------------------------------------

Note = Callable[[str], None]


def launch(db, session: HubSession, job: Job, token: Secret, note: Note) -> None:
    """Upload the data and start the Space. Safe to repeat after an interruption: repos are reused,
    unchanged files are not committed again, and a reused Space is restarted to run this job."""
    remote = job.remote
    set_remote_stage(db, job.id, LAUNCHING)
    head = _repo_info(session, remote.model_repo)
    set_remote_baseline(db, job.id, head.sha if head else "")
    note(f"uploading {job.train_rows} training rows to the private dataset {remote.dataset_repo}")
    ensure_repo(session, remote.dataset_repo, repo_type="dataset", private=True)
    commit_files(session, remote.dataset_repo, {"train.csv": job.data_dir / "train.csv"},
                 message=f"Training data of {job.name}", repo_type="dataset")
    reused = _repo_info(session, remote.space_id, "space") is not None
    flavor = hardware_flavor(job.config.backend)
    note(f"{'reusing' if reused else 'creating'} the private Space {remote.space_id} on {flavor}")
    ensure_repo(session, remote.space_id, repo_type="space", private=True, space_sdk="docker",
                space_hardware=flavor)
    _configure_space(session, job, token)
    commit_files(session, remote.space_id, {"README.md": space_readme(job.name).encode(),
                                            "Dockerfile": DOCKERFILE.encode()},
                 message=f"AutoTrain job {job.name}", repo_type="space")
    if reused:  # created by an earlier attempt: it may be paused, or on other hardware, or have run already
        restart = Phrase("restarting the Space {space}", key="hub_act_restart_space", space=remote.space_id)
        _space_call(session, remote.space_id, restart, lambda api: (
            api.request_space_hardware(remote.space_id, flavor), api.restart_space(remote.space_id)))
    set_remote_stage(db, job.id, LAUNCHED)  # from here on a restarted worker follows, never relaunches
    note(f"the Space runs AutoTrain; it pushes the adapter to {session.repo_url(remote.model_repo)}")


def _configure_space(session: HubSession, job: Job, token: Secret) -> None:
    def configure(api) -> None:
        for key, value in space_secrets(job, token).items():
            api.add_space_secret(job.remote.space_id, key, value)
        api.set_space_sleep_time(job.remote.space_id, SLEEP_TIME_S)

    action = Phrase("setting the secrets of the Space {space}", key="hub_act_space_secrets",
                    space=job.remote.space_id)
    _space_call(session, job.remote.space_id, action, configure)


def _space_call(session: HubSession, space_id: str, action: Phrase, call: Callable) -> object:
    with hub_errors(action, session.endpoint, space_id):
        return call(session.api)


def _repo_info(session: HubSession, repo_id: str, repo_type: str = "model"):
    """The repo's info, or None if it does not exist (yet)."""
    from huggingface_hub.errors import RepositoryNotFoundError

    action = Phrase("reading {repo}", key="hub_act_read", repo=repo_id)
    with hub_errors(action, session.endpoint, repo_id):
        try:
            return session.api.repo_info(repo_id, repo_type=repo_type)
        except RepositoryNotFoundError:
            return None


# -- following ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    stage: str
    error: str | None  # the Hub's errorMessage for a failed build or run
    adapter_commit: str | None  # a commit of the model repo, newer than the baseline, holding the adapter


@dataclass(frozen=True)
class Outcome:
    status: str  # SUCCEEDED, FAILED or CANCELLED
    reason: str | None = None
    commit: str | None = None  # the model repo's commit the adapter came from
    url: str | None = None  # the model repo's page


def observe(session: HubSession, remote: Remote) -> Observation:
    """The stage first, then the model repo: AutoTrain pushes before it pauses, so a PAUSED stage read
    before the repo can never hide an adapter pushed in between."""
    stage, error = _runtime(session, remote.space_id)
    info = _repo_info(session, remote.model_repo)
    files = {sibling.rfilename for sibling in (info.siblings or [])} if info else set()
    fresh = info is not None and info.sha != remote.baseline and set(ADAPTER_FILES) <= files
    return Observation(stage, error, info.sha if fresh else None)


def _runtime(session: HubSession, space_id: str) -> tuple[str, str | None]:
    """The Space's stage and the Hub's error message; GONE if the Space was deleted."""
    from huggingface_hub.errors import RepositoryNotFoundError

    action = Phrase("reading the stage of the Space {space}", key="hub_act_space_stage", space=space_id)
    with hub_errors(action, session.endpoint, space_id):
        try:
            runtime = session.api.get_space_runtime(space_id)
        except RepositoryNotFoundError:
            return GONE, None
    stage = getattr(runtime.stage, "value", runtime.stage)  # a SpaceStage, or the plain string
    return str(stage), runtime.raw.get("errorMessage")


def judge(seen: Observation, job: Job, timeout_s: float, url: str) -> Outcome | None:
    """The job's end, or None while it goes on; `url` is the Space's page, for the messages."""
    remote = job.remote
    if seen.adapter_commit:
        return Outcome(SUCCEEDED, commit=seen.adapter_commit)
    if job.cancel_requested:  # a cancel paused the Space between two looks
        return Outcome(CANCELLED, "cancelled")
    if seen.stage == GONE:
        return Outcome(FAILED, f"the Space {remote.space_id} no longer exists on the Hub (deleted?) and "
                               f"pushed no adapter to {remote.model_repo}")
    if seen.stage in FAILED_STAGES:
        detail = f": {seen.error.strip()}" if seen.error and seen.error.strip() else ""
        return Outcome(FAILED, f"the Space {remote.space_id} stopped with {seen.stage}{detail} (logs: {url})")
    if seen.stage in STOPPED_STAGES:
        return Outcome(FAILED, f"the Space {remote.space_id} is {seen.stage} and pushed no adapter to "
                               f"{remote.model_repo}: AutoTrain failed there, or someone paused it "
                               f"(logs: {url})")
    if (job.duration_s() or 0.0) > timeout_s:
        return Outcome(FAILED, f"timed out: no adapter in {remote.model_repo} after {timeout_s / 3600:g} h "
                               f"(the Space was {seen.stage}; logs: {url})")
    return None


@dataclass(frozen=True)
class FollowOptions:
    poll_s: float = 1.0  # how often an idle worker looks at its Space jobs (a cancel is noticed)
    hub_poll_s: float = DEFAULT_HUB_POLL_S  # how often the Hub is asked, per Space
    timeout_s: float = DEFAULT_TIMEOUT_S  # from the job's start


class SpaceFollower:
    """Follows one Space job in steps, so that one worker follows any number of them between the polls of
    a local trainer: each step reads the registry (a cancel) and asks the Hub every `hub_poll_s`. It uses
    the worker's registry connection: call it from the worker's thread only."""

    def __init__(self, db, settings: Settings, session: HubSession, job_id: int, options: FollowOptions,
                 note: Note):
        self.db, self.settings, self.session, self.job_id = db, settings, session, job_id
        self.options, self.note = options, note
        self.problems: dict[str, str] = {}  # what reading the Space's state / log last failed with
        self.next_look = 0.0

    @classmethod
    def start(cls, db, settings: Settings, job: Job, options: FollowOptions) -> SpaceFollower:
        """Launch the job's Space unless that was done (a restarted worker follows, never relaunches).
        Raises StudioError when the job cannot be launched or followed."""
        try:
            session = connect(settings)
        except StudioError as exc:
            raise StudioError("cannot launch or follow the Space {space} ({error}); if it was launched, it "
                              "still trains and pushes to {repo}", key="space_unreachable",
                              space=job.remote.space_id, error=exc, repo=job.remote.model_repo) from None
        note = job_note(job)
        if not job.remote.launched:
            launch(db, session, job, settings.hf_token, note)
        return cls(db, settings, session, job.id, options, note)

    def step(self, on_poll: Callable[[Job], None] | None = None) -> Outcome | None:
        """The job's end, or None while it goes on; on success the adapter is in the job's output folder.
        Raises StudioError when the adapter cannot be downloaded."""
        job = get_job(self.db, self.settings, self.job_id)
        if job.cancel_requested:
            return self._stop(job, Outcome(CANCELLED, "cancelled"))
        if on_poll:
            on_poll(job)
        if time.monotonic() < self.next_look:
            return None
        outcome = self._look(job)
        self.next_look = time.monotonic() + self.options.hub_poll_s
        if outcome is None or outcome.status != SUCCEEDED:
            return outcome
        download_adapter(self.session, get_job(self.db, self.settings, job.id), outcome.commit, self.note)
        return Outcome(SUCCEEDED, commit=outcome.commit, url=self.session.repo_url(job.remote.model_repo))

    def _look(self, job: Job) -> Outcome | None:
        try:
            seen = observe(self.session, job.remote)
        except StudioError as exc:  # the Space trains on without us: a network blip must not fail the job
            return self._problem(job, str(exc))
        self.problems.pop("state", None)
        if seen.stage != job.remote.stage:
            set_remote_stage(self.db, job.id, seen.stage)
            self.note(f"Space {job.remote.space_id}: {seen.stage}")
        if seen.stage in LOG_STAGES:
            self._copy_log(job)
        outcome = judge(seen, get_job(self.db, self.settings, job.id), self.options.timeout_s, self._url(job))
        if outcome and outcome.status == FAILED:
            outcome = _with_log_reason(outcome, job)
        if outcome and outcome.status != SUCCEEDED and seen.stage not in (*STOPPED_STAGES, GONE):
            return self._stop(job, outcome)  # a crashed or overdue Space must not keep billing
        return outcome

    def _copy_log(self, job: Job) -> None:
        """Copy the Space's new log lines; a failure to read them is noted once and never ends the job."""
        try:
            copy_space_log(self.session, job, self.settings.hf_token)
            self.problems.pop("log", None)
        except StudioError as exc:
            self._note_once("log", str(exc), "cannot read the Space's log now (progress and loss wait for it)")

    def _problem(self, job: Job, problem: str) -> Outcome | None:
        self._note_once("state", problem, "cannot read the Space's state now, trying again")
        if (job.duration_s() or 0.0) > self.options.timeout_s:
            return Outcome(FAILED, f"timed out following the Space {job.remote.space_id}: {problem}")
        return None

    def _note_once(self, what: str, problem: str, saying: str) -> None:
        """Note a problem when it first shows, not at every look: a Hub outage can last many looks."""
        if self.problems.get(what) != problem:
            self.note(f"{saying}: {problem}")
            self.problems[what] = problem

    def _url(self, job: Job) -> str:
        return self.session.repo_url(job.remote.space_id, "space")

    def _stop(self, job: Job, outcome: Outcome) -> Outcome:
        try:
            pause_space(self.session, job.remote)
        except StudioError as exc:
            return Outcome(outcome.status, f"{outcome.reason}; pausing the Space failed ({exc}): pause it at "
                                           f"{self._url(job)}/settings")
        self.note(f"paused the Space {job.remote.space_id}")
        return outcome


def _with_log_reason(outcome: Outcome, job: Job) -> Outcome:
    """A failure's reason, with what the Space's log (as copied into the job's log) says went wrong."""
    found = failure_in_log(read_log(job.log_path))
    if not found:
        return outcome
    return dataclasses.replace(outcome, reason=f"{outcome.reason}; its log says: {found}")


def copy_space_log(session: HubSession, job: Job, token: Secret | None) -> int:
    """Append what the Space's app printed since the last copy to the job's log; how many lines.

    The Hub replays the log it keeps on every read, so what follows the last line copied is new (all of
    it when the Hub no longer has that line: a restarted Space, or a buffer that moved on). The token is
    masked in every line; the mark left in the job folder holds a count and a digest, no text."""
    space_id = job.remote.space_id
    action = Phrase("reading the log of the Space {space}", key="hub_act_space_log", space=space_id)
    with hub_errors(action, session.endpoint, space_id):
        lines = [line.rstrip("\n") for line in session.api.fetch_space_logs(space_id)]
    mark_path = job.folder / LOG_MARK
    mark = json.loads(mark_path.read_text(encoding="utf-8")) if mark_path.is_file() else {}
    new = lines[_copied_before(lines, mark.get("count", 0), mark.get("last")):]
    if not new:
        return 0
    secret = token.reveal() if token else None
    with open(job.log_path, "a", encoding="utf-8") as log:
        log.writelines((line.replace(secret, "***") if secret else line) + "\n" for line in new)
    mark_path.write_text(json.dumps({"count": len(lines), "last": _digest(lines[-1])}), encoding="utf-8")
    return len(new)


def _copied_before(lines: list[str], count: int, last: str | None) -> int:
    """How many of the replayed lines were copied before: those up to the last one copied, where the count
    says or else at its latest occurrence; none if it is not there any more."""
    if not count or last is None:
        return 0
    if count <= len(lines) and _digest(lines[count - 1]) == last:
        return count
    return next((i + 1 for i in range(len(lines) - 1, -1, -1) if _digest(lines[i]) == last), 0)


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def pause_space(session: HubSession, remote: Remote) -> None:
    """Pause the Space (no more billing; its logs stay readable); nothing to do if it does not exist."""
    from huggingface_hub.errors import RepositoryNotFoundError

    action = Phrase("pausing the Space {space}", key="hub_act_pause_space", space=remote.space_id)
    with hub_errors(action, session.endpoint, remote.space_id):
        try:
            session.api.pause_space(remote.space_id)
        except RepositoryNotFoundError:
            pass


def stop(job: Job, settings: Settings) -> None:
    """Cancel: pause the job's Space now, whoever follows the job."""
    pause_space(connect(settings), job.remote)


def download_adapter(session: HubSession, job: Job, commit: str, note: Note) -> None:
    """The adapter (and tokenizer) at `commit` into the job's output folder, complete or not at all.
    An allow-list: the repo also holds AutoTrain's README and training_params.json, not needed here."""
    repo, target = job.remote.model_repo, job.output_dir
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    note(f"downloading the adapter from {repo} at {commit[:12]}")
    action = Phrase("downloading the adapter from {repo}", key="hub_act_download_adapter", repo=repo)
    with hub_errors(action, session.endpoint, repo):
        session.api.snapshot_download(repo, revision=commit, local_dir=staging,
                                      allow_patterns=[*ADAPTER_FILES, *TOKENIZER_FILES])
    shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's download bookkeeping
    missing = [name for name in ADAPTER_FILES if not (staging / name).is_file()]
    if missing:
        raise StudioError("{repo} at {commit} lacks {files}", key="space_adapter_incomplete", repo=repo,
                          commit=commit[:12], files=", ".join(missing))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


# -- after the job ---------------------------------------------------------------------------------------


def deleted_text(repos: list[str]) -> str:
    """What a clean-up deleted, as the job's log and `train cleanup` both say it."""
    return f"deleted {', '.join(repos) or 'nothing (already gone)'}"


def clean_up(settings: Settings, job_ref: str | None = None) -> dict[str, list[str]]:
    """Delete the Space and the private data repo of every ended Space job (or of `job_ref`'s); per job
    cleaned up, the repos deleted. A job cleaned up before is skipped, a repo already gone is no error, and
    a job still queued or running is left alone (named, it is refused: cancel it first)."""
    with registry.session(settings.registry_path) as db:
        if job_ref:
            jobs = [_endable(get_job(db, settings, job_ref))]
        else:
            jobs = [job for job in list_jobs(db, settings, limit=10_000) if job.remote and not job.active]
        jobs = [job for job in jobs if job.remote.stage != DELETED]
        if not jobs:
            return {}
        session = connect(settings)
        cleaned = {}
        for job in jobs:
            cleaned[job.name] = _delete_repos(session, job.remote)
            set_remote_stage(db, job.id, DELETED)  # autocommit: a later job's failure keeps this one's stage
            job_note(job)(f"{deleted_text(cleaned[job.name])} on the Hub")
        return cleaned


def _endable(job: Job) -> Job:
    if job.remote is None:
        raise StudioError("job {job} did not train on a Space: there is nothing to clean up on the Hub",
                          key="space_cleanup_local", job=job.name)
    if job.active:
        raise StudioError("job {job} is {status} on its Space: cancel it before cleaning up",
                          key="space_cleanup_active", job=job.name, status=job.status)
    return job


def _delete_repos(session: HubSession, remote: Remote) -> list[str]:
    from huggingface_hub.errors import RepositoryNotFoundError

    deleted = []
    for repo_id, repo_type in ((remote.space_id, "space"), (remote.dataset_repo, "dataset")):
        action = Phrase("deleting {repo}", key="hub_act_delete", repo=repo_id)
        with hub_errors(action, session.endpoint, repo_id):
            try:
                session.api.delete_repo(repo_id, repo_type=repo_type)
                deleted.append(repo_id)
            except RepositoryNotFoundError:
                pass
    return deleted


def job_note(job: Job) -> Note:
    """A writer of the studio's own lines in the job's log (the Train tab's log tail shows them)."""
    def note(text: str) -> None:
        job.folder.mkdir(parents=True, exist_ok=True)
        with open(job.log_path, "a", encoding="utf-8") as log:
            log.write(f"{timestamp()} | studio | {text}\n")

    return note


# -- what a run records ------------------------------------------------------------------------------------


def run_hardware(job: Job) -> dict:
    flavor = hardware_flavor(job.config.backend)
    return {"device": "cuda", "gpu": f"Hugging Face Space {flavor}", "space": job.remote.space_id,
            "backend": job.config.backend}


def run_software() -> dict:
    # The Space installs the newest autotrain-advanced at boot; its version is not reported back.
    return {"autotrain-advanced": None, "image": IMAGE}


def status_text(job: Job) -> str:
    """One phrase for the CLI and the Train tab: `Space alice/autotrain-x-1 (t4-small): RUNNING`."""
    stage = job.remote.stage or "not launched yet"
    return f"Space {job.remote.space_id} ({hardware_flavor(job.config.backend)}): {stage}"
