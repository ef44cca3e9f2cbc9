"""Runs: what a succeeded training job leaves for evaluation, the Playground and the leaderboard.

A run records the configuration, the data set version, the base model, the adapter folder, the duration,
the final loss, the hardware and the software versions. Run names are unique and never reused: a new run
never overwrites an old one (its adapter lives in its own job folder).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from studio import registry
from studio.errors import StudioError
from studio.models import HUB_ID, adapter_base_model, is_missing_folder
from studio.settings import Settings, load_settings
from studio.training.config import TrainingConfig
from studio.training.jobs import timestamp


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    job_id: int | None
    created_at: str
    base_model: str  # the reference as given: a built-in name, a folder or a Hub id
    base_model_path: Path  # the local folder the adapter was trained on
    dataset_ref: str
    dataset_version: str | None
    train_rows: int
    adapter_path: Path  # load with PeftModel.from_pretrained(base, adapter_path); a full model if merged
    merged: bool
    config: TrainingConfig
    duration_s: float
    train_runtime_s: float | None
    final_loss: float | None
    train_loss: float | None
    tokens_per_s: float | None
    hardware: dict[str, Any]
    software: dict[str, Any]
    hub_url: str | None = None  # the Hub repo the run was pushed to (record_hub_push), None if never
    hub_commit: str | None = None  # the commit that push made

    @property
    def hub_repo(self) -> str | None:
        """owner/name of the pushed repo: the last two parts of its URL (the endpoint may have a path)."""
        parts = urlparse(self.hub_url or "").path.strip("/").split("/")
        repo_id = "/".join(parts[-2:])
        return repo_id if len(parts) >= 2 and HUB_ID.match(repo_id) else None

    @property
    def imported(self) -> bool:
        """Trained on another machine and imported from the results mirror (studio.hub.results leaves the
        job out: job ids mean something on their own machine only); every run trained here has a job."""
        return self.job_id is None

    def summary(self) -> dict[str, Any]:
        """A flat, JSON-ready description (CLI `runs show`, tables)."""
        return {
            "name": self.name, "job_id": self.job_id, "created_at": self.created_at,
            "base_model": self.base_model, "base_model_path": str(self.base_model_path),
            "dataset": self.dataset_version or self.dataset_ref, "train_rows": self.train_rows,
            "adapter_path": str(self.adapter_path), "merged": self.merged,
            "duration_s": round(self.duration_s, 1),
            "train_runtime_s": self.train_runtime_s, "final_loss": self.final_loss,
            "train_loss": self.train_loss,
            "tokens_per_s": self.tokens_per_s, "hardware": self.hardware, "software": self.software,
            "config": self.config.to_dict(),
        }


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"], name=row["name"], job_id=row["job_id"], created_at=row["created_at"],
        base_model=row["base_model"], base_model_path=Path(row["base_model_path"]),
        dataset_ref=row["dataset_ref"], dataset_version=row["dataset_version"], train_rows=row["train_rows"],
        adapter_path=Path(row["adapter_path"]), merged=bool(row["merged"]),
        config=TrainingConfig.from_dict(json.loads(row["config"])), duration_s=row["duration_s"],
        train_runtime_s=row["train_runtime_s"], final_loss=row["final_loss"], train_loss=row["train_loss"],
        tokens_per_s=row["tokens_per_s"], hardware=json.loads(row["hardware"]),
        software=json.loads(row["software"]), hub_url=row["hub_url"], hub_commit=row["hub_commit"],
    )


def unique_run_name(db: sqlite3.Connection, wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`, … if that name is taken."""
    taken = {r[0] for r in db.execute("SELECT name FROM runs WHERE name = ? OR name LIKE ?",
                                      (wanted, f"{wanted}-%"))}
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted}-{number}"
    return name


def insert_run(db: sqlite3.Connection, *, name: str, job_id: int, base_model: str, base_model_path: Path,
               dataset_ref: str, dataset_version: str | None, train_rows: int, adapter_path: Path,
               merged: bool, config: TrainingConfig, duration_s: float, train_runtime_s: float | None,
               final_loss: float | None, train_loss: float | None, tokens_per_s: float | None,
               hardware: dict, software: dict) -> str:
    """Record a run (inside the caller's transaction); returns its unique name."""
    name = unique_run_name(db, name)
    db.execute(
        """INSERT INTO runs (name, job_id, created_at, base_model, base_model_path, dataset_ref,
               dataset_version, train_rows, adapter_path, merged, config, duration_s, train_runtime_s,
               final_loss, train_loss, tokens_per_s, hardware, software)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (name, job_id, timestamp(), base_model, str(base_model_path), dataset_ref, dataset_version,
         train_rows, str(adapter_path), int(merged), config.to_json(), duration_s, train_runtime_s,
         final_loss, train_loss, tokens_per_s, json.dumps(hardware), json.dumps(software)),
    )
    return name


def list_runs(settings: Settings | None = None, limit: int = 500) -> list[Run]:
    """Every run, newest first."""
    with registry.session((settings or load_settings()).registry_path) as db:
        return [_run(r) for r in db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))]


def find_run(ref: str | int, settings: Settings | None = None) -> Run | None:
    """A run by name or id, or None."""
    text = str(ref).strip()
    with registry.session((settings or load_settings()).registry_path) as db:
        row = db.execute("SELECT * FROM runs WHERE name = ?", (text,)).fetchone()
        if row is None and text.isdigit():
            row = db.execute("SELECT * FROM runs WHERE id = ?", (int(text),)).fetchone()
    return _run(row) if row is not None else None


def get_run(ref: str | int, settings: Settings | None = None) -> Run:
    """A run by name or id."""
    run = find_run(ref, settings)
    if run is None:
        raise StudioError("no run {ref!r}: see python -m studio runs list", key="run_unknown",
                          ref=str(ref).strip())
    return run


def record_hub_push(name: str, url: str, commit: str | None, settings: Settings | None = None) -> None:
    """Remember where a run was pushed on the Hub (the leaderboard links it)."""
    with registry.session((settings or load_settings()).registry_path) as db:
        db.execute("UPDATE runs SET hub_url = ?, hub_commit = ? WHERE name = ?", (url, commit, name))


# --- where a run's weights are -------------------------------------------------------------------------


def run_weights(run: Run, settings: Settings | None = None) -> Path:
    """The folder the Playground and Evaluate load a run from: its LoRA adapter (its full model when merged).

    The folder training left, when it is here; else the copy the run was pushed to on the Hub, at the pushed
    commit, downloaded once into STUDIO_HOME's Hub cache. A run imported from another machine's results
    (STUDIO_RESULTS_REPO) keeps that machine's path as a record of where it was made, so only its Hub copy
    can be loaded here; a run neither here nor pushed is a StudioError naming the run and the path."""
    if _holds_weights(run.adapter_path, run.merged):
        return run.adapter_path
    if run.hub_repo is None:
        if run.imported:
            raise StudioError("{missing}, and the run was never pushed to the Hub, so it cannot be loaded "
                              "here: push it from the machine that trained it", key="run_imported_not_pushed",
                              missing=_not_here(run))
        raise StudioError("{missing}, and the run was never pushed to the Hub, so it cannot be loaded here",
                          key="run_not_pushed", missing=_not_here(run))
    return _pushed_weights(run, settings or load_settings())


def run_model(run: Run, settings: Settings | None = None) -> tuple[str, Path | None]:
    """What the Playground and Evaluate load for a run: (its base model reference, its adapter folder), or
    for a merged run, a full model of its own: (its folder, None)."""
    weights = run_weights(run, settings)
    if run.merged:
        return str(weights), None
    return run_base_model(run, weights), weights


def run_base_model(run: Run, adapter: Path) -> str:
    """The base model a run's adapter loads on: the one it was trained on. A run imported from another
    machine may name a folder of that machine; the base its adapter names stands in for it (a pushed
    adapter names a built-in's converted folder by its Hub id, which loads here as the built-in)."""
    if not is_missing_folder(run.base_model):
        return run.base_model
    named = adapter_base_model(adapter)
    if named and not is_missing_folder(named):
        return named
    raise StudioError("run {run} was trained on the model folder {model}, which is not on this machine, and "
                      "its adapter names no base model that is: put a copy of that model there",
                      key="run_base_model_absent", run=run.name, model=run.base_model)


def _pushed_weights(run: Run, settings: Settings) -> Path:
    from studio.hub.client import download_repo  # the Hub client is slow to import: only when needed

    where = f"{run.hub_repo}@{run.hub_commit[:7]}" if run.hub_commit else run.hub_repo
    try:
        # At the pushed commit: a later push to the same repo (another run, or the merged model) is not this
        # run's weights, and Evaluate remembers answers by run name.
        folder = download_repo(run.hub_repo, settings, revision=run.hub_commit)
    except StudioError as exc:
        raise StudioError("{missing}; loading its Hub copy {where} failed: {error}",
                          key="run_hub_copy_failed", missing=_not_here(run), where=where, error=exc) from None
    if not _holds_weights(folder, run.merged):
        if run.merged:
            raise StudioError("{missing}, and its Hub copy {where} holds no model",
                              key="run_hub_copy_no_model", missing=_not_here(run), where=where)
        raise StudioError("{missing}, and its Hub copy {where} holds no LoRA adapter (was it pushed as the "
                          "merged model?)", key="run_hub_copy_no_adapter", missing=_not_here(run),
                          where=where)
    return folder


def _holds_weights(folder: Path, merged: bool) -> bool:
    return (folder / ("config.json" if merged else "adapter_config.json")).is_file()


def _not_here(run: Run) -> StudioError:
    """Why the run's own folder cannot be loaded: the start of a message, as a StudioError so that the UI
    translates it with the message."""
    if run.imported:
        if run.merged:
            return StudioError("run {run} was imported from another machine: its model ({path}) is not on "
                               "this machine", key="run_imported_model", run=run.name, path=run.adapter_path)
        return StudioError("run {run} was imported from another machine: its adapter ({path}) is not on this "
                           "machine", key="run_imported_adapter", run=run.name, path=run.adapter_path)
    if run.merged:
        return StudioError("run {run}: its model folder {path} is missing or holds no model",
                           key="run_model_missing", run=run.name, path=run.adapter_path)
    return StudioError("run {run}: its adapter folder {path} is missing or holds no adapter",
                       key="run_adapter_missing", run=run.name, path=run.adapter_path)
