"""`python -m studio train`: queue AutoTrain LoRA jobs, watch them, cancel them.

    python -m studio train --config cpu-full --dataset DIR_OR_VERSION [--set lora_r=8 ...] [--wait]
    python -m studio train --from-run RUN [--wait]      # the same configuration and data again
    python -m studio train list | show JOB | cancel JOB | work
"""

from __future__ import annotations

import json
import sys
import time

import yaml

from studio.errors import StudioError
from studio.settings import load_settings
from studio.training import presets
from studio.training.jobs import FINISHED, SUCCEEDED, Job, has_active_jobs
from studio.training.monitor import clock, find_job, job_row, job_view, jobs_overview, log_tail
from studio.training.runs import get_run
from studio.training.spaces_backend import clean_up, deleted_text
from studio.training.submit import cancel, reproduce, submit
from studio.training.worker import Worker

ACTIONS = ("start", "list", "show", "cancel", "work", "cleanup")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="queue LoRA training jobs (AutoTrain), watch and cancel them",
        description="start (default): queue the jobs of a preset or sweep; list: the queue and recent jobs; "
                    "show JOB: status, progress and log tail; cancel JOB; work: run queued jobs here; "
                    "cleanup [JOB]: delete the Spaces and data repos that ended Space jobs left on the Hub.")
    parser.add_argument("action", nargs="?", default="start", choices=ACTIONS, metavar="ACTION",
                        help=f"one of {', '.join(ACTIONS)} (default: start)")
    parser.add_argument("job", nargs="?", help="a job id or name (show, cancel, cleanup)")
    parser.add_argument("--config", help="a preset/sweep YAML path or name in autotrain_configs/ "
                                         f"({', '.join(presets.list_presets())})")
    parser.add_argument("--dataset", help="a prepared data set version, or a folder holding train.csv")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="change one parameter of every job, e.g. --set lora_r=8 (repeatable)")
    parser.add_argument("--from-run", help="reproduce a run: its configuration on its data set")
    parser.add_argument("--wait", action="store_true", help="run the jobs here and print progress until done")
    parser.add_argument("--json", action="store_true", help="list: one JSON object per job")
    parser.set_defaults(func=train)


def train(args) -> int:
    actions = {"start": _start, "list": _list, "show": _show, "cancel": _cancel, "work": _work,
               "cleanup": _cleanup}
    return actions[args.action](args)


def _start(args) -> int:
    if args.from_run:
        jobs = reproduce(args.from_run) if not args.overrides else _submit_changed_run(args)
    else:
        if not args.config:
            raise StudioError("give --config (a preset or sweep) or --from-run RUN")
        if not args.dataset:
            raise StudioError("give --dataset: a prepared data set version or a folder holding train.csv")
        configs = [c.replace(**parse_overrides(args.overrides)) if args.overrides else c
                   for c in presets.load_configs(args.config)]
        jobs = submit(configs, args.dataset)
    for job in jobs:
        print(f"queued job {job.id}: {job.name} ({job.train_rows} rows, {job.folder})")
    if not args.wait:
        print("the app's worker runs queued jobs; or run them here: python -m studio train work")
        return 0
    return _wait_for([job.id for job in jobs])


def _submit_changed_run(args) -> list[Job]:
    run = get_run(args.from_run)
    config = run.config.replace(**parse_overrides(args.overrides))
    return submit([config], run.dataset_version or run.dataset_ref)


def parse_overrides(items: list[str]) -> dict:
    changes = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise StudioError(f"--set needs KEY=VALUE, got {item!r}")
        changes[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return changes


class ProgressPrinter:
    """Prints a job's progress line whenever its step, phase or status changes."""

    def __init__(self):
        self._last: dict[int, tuple] = {}

    def __call__(self, job: Job) -> None:
        view = job_view(job)
        state = (job.status, view.progress.phase, view.progress.step)
        if self._last.get(job.id) != state:
            self._last[job.id] = state
            print(f"[{job.name}] {view.line()}", flush=True)


def _wait_for(job_ids: list[int]) -> int:
    settings = load_settings()
    printer = ProgressPrinter()

    def done() -> bool:
        return all(find_job(i, settings).status in FINISHED for i in job_ids)

    if not Worker(settings, on_poll=printer).run(until=done):
        print("another process (the app?) runs the queue; following the jobs' progress", flush=True)
        while not done():
            for job_id in job_ids:
                job = find_job(job_id, settings)
                if job.active:
                    printer(job)
            time.sleep(1.0)
    return _report([find_job(i, settings) for i in job_ids])


def _report(jobs: list[Job]) -> int:
    for job in jobs:
        if job.status == SUCCEEDED:
            run = get_run(job.run_name)
            print(f"[{job.name}] succeeded in {clock(run.duration_s)}: run {run.name}, "
                  f"final loss {_fmt(run.final_loss)}, adapter {run.adapter_path}")
        else:
            print(f"[{job.name}] {job.status}: {job.error}", file=sys.stderr)
            print(log_tail(job, 15), file=sys.stderr)
    return 0 if all(job.status == SUCCEEDED for job in jobs) else 1


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _list(args) -> int:
    jobs = jobs_overview()
    if args.json:
        for job in jobs:
            print(json.dumps(job_row(job), ensure_ascii=False))
        return 0
    if not jobs:
        print("no jobs yet: python -m studio train --config cpu-full --dataset DATASET")
    for job in jobs:
        row = job_row(job)
        detail = row["run"] or row["error"]
        print("\t".join(str(row[k]) for k in ("id", "name", "status", "dataset", "created", "duration"))
              + (f"\t{detail}" if detail else ""))
    return 0


def _show(args) -> int:
    job = find_job(_required_job(args))
    print(f"[{job.name}] {job_view(job).line()}")
    if job.error:
        print(f"reason: {job.error}")
    print(f"folder: {job.folder}")
    print(log_tail(job, 20))
    return 0


def _cancel(args) -> int:
    job = cancel(_required_job(args))
    print(f"[{job.name}] {job.status}")
    return 0


def _work(args) -> int:
    """Run queued jobs in the foreground until the queue is empty."""
    settings = load_settings()
    if not Worker(settings, on_poll=ProgressPrinter()).run(until=lambda: not has_active_jobs(settings)):
        raise StudioError("another process is already running the queue on this machine")
    return 0


def _cleanup(args) -> int:
    cleaned = clean_up(load_settings(), args.job)
    if not cleaned:
        print("nothing to clean up: no ended Space job has repos left on the Hub")
    for job, repos in cleaned.items():
        print(f"[{job}] {deleted_text(repos)}")
    return 0


def _required_job(args) -> str:
    if not args.job:
        raise StudioError(f"{args.action} needs a job id or name (python -m studio train list)")
    return args.job
