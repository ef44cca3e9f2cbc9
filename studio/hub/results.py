"""The results mirror: the leaderboard's records in a Hub data set repo (STUDIO_RESULTS_REPO), so a restarted
Space or another machine sees the same leaderboard.

The repo holds one file per record, named by what the record is:
  README.md                a data set card (the Hub's viewer shows leaderboard.csv)
  leaderboard.csv          the board as the studio that pushed last saw it (for people; never read back)
  runs/<name>-<key>.json   a run's registry row (local ids left out)
  evaluations/<key>.json   an evaluation's registry row and its scored rows
  datasets/<id>.json       a data set version a run or an evaluation used: its registry row...
  datasets/<id>/...        ...and its files (content-addressed: uploaded once)

So a push is a merge: files of records this studio never saw (another studio's) stay in the repo, and those
it pushed or imported before but no longer holds (deleted here) are removed. An import adds the records the
registry lacks and skips those it has, so both can be repeated. `ResultsMirror` runs both in the app: an
import at start, then a push whenever runs, evaluations or Hub links change; a failure is logged and retried,
never passed on to the training job or the evaluation that changed the registry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from studio import registry
from studio.errors import StudioError
from studio.hub.client import REPO_ID, Content, PushResult
from studio.hub.mirror import pull_records, push_records
from studio.names import join_inside, named_path, shown_name
from studio.settings import Settings, load_settings

log = logging.getLogger("studio.hub.results")

RECORD_FOLDERS = ("runs/", "evaluations/", "datasets/")  # what a push may delete: records, never the card
STATE_FILE = Path("cache") / "results-mirror.json"  # under STUDIO_HOME: the record files this studio has seen
# An evaluation's identity: its m020 columns and those of its scored rows (a column added later on one
# machine must not make it a new record).
EVALUATION_FIELDS = ("created_at", "candidate", "run_name", "base_model", "adapter", "eval_set",
                     "dataset_version", "mode", "judge_model", "options", "summary", "rows", "accuracy",
                     "ex_score", "judge_score", "agreement", "cost_usd", "generate_seconds")
ROW_FIELDS = ("row_index", "row_id", "db_id", "question", "gold_sql", "completion", "pred_sql", "match",
              "reason", "decided_by", "judge_verdict")
LOCAL_RUN_COLUMNS = ("id", "job_id")  # mean something on this machine only

CARD = """\
---
configs:
- config_name: leaderboard
  data_files: leaderboard.csv
tags:
- text2sql
- korean
- leaderboard
---

# Text2SQL LoRA Studio results

The leaderboard of a Text2SQL LoRA Studio deployment (LoRA fine-tuning of small LLMs for Korean Text-to-SQL),
mirrored so that a restarted Space or another machine shows the same results (STUDIO_RESULTS_REPO).
`leaderboard.csv` is the board for reading; `runs/`, `evaluations/` and `datasets/` hold the records the
studio imports.
"""


def results_repo(settings: Settings) -> str:
    """The configured repo (owner/name), or a StudioError saying how to configure it."""
    repo = settings.results_repo
    if not repo:
        raise StudioError("no results repo: set STUDIO_RESULTS_REPO to a Hub data set repo, owner/name",
                          key="results_no_repo")
    if not REPO_ID.match(repo):
        raise StudioError("STUDIO_RESULTS_REPO must be a Hub data set repo as owner/name, not {repo!r}",
                          key="results_bad_repo", repo=repo)
    return repo


# --- export ---------------------------------------------------------------------------------------------


def export_results(settings: Settings) -> dict[str, Content]:
    """The repo's files for this registry: path in the repo -> content."""
    with registry.session(settings.registry_path) as db:
        runs = _rows(db, "SELECT * FROM runs ORDER BY id")
        evaluations, scored = _rows(db, "SELECT * FROM evaluations ORDER BY id"), _scored_rows(db)
        datasets = _rows(db, "SELECT * FROM datasets WHERE id IN (SELECT dataset_version FROM runs UNION "
                             "SELECT dataset_version FROM evaluations) ORDER BY id")
    files: dict[str, Content] = {"README.md": CARD.encode(), "leaderboard.csv": _board_csv(settings)}
    for run in runs:
        files[_run_path(run["name"], run["created_at"])] = _json({k: v for k, v in run.items()
                                                                  if k not in LOCAL_RUN_COLUMNS})
    files.update(_evaluation_files(evaluations, scored, {r["name"]: r["created_at"] for r in runs}))
    for dataset in datasets:
        files.update(_dataset_files(dataset, settings))
    return files


def _evaluation_files(evaluations: list[dict], scored: dict[int, list[dict]],
                      run_created: dict[str, str]) -> dict[str, bytes]:
    """`position` orders evaluations of the same candidate, set and mode made within one second (the board
    shows the latest); `run_created_at` tells the run apart from another machine's run of the same name."""
    files, seen = {}, Counter()
    for evaluation in evaluations:
        group = (evaluation["candidate"], evaluation["eval_set"], evaluation["mode"], evaluation.get("decoding"))
        record = {**{k: v for k, v in evaluation.items() if k != "id"}, "position": seen[group],
                  "run_created_at": run_created.get(evaluation["run_name"]),
                  "scored_rows": scored.get(evaluation["id"], [])}
        seen[group] += 1
        files[f"evaluations/{evaluation_key(evaluation, record['scored_rows'])}.json"] = _json(record)
    return files


def _scored_rows(db: sqlite3.Connection) -> dict[int, list[dict]]:
    """Every evaluation's scored rows, by evaluation id."""
    scored = defaultdict(list)
    for row in _rows(db, "SELECT * FROM evaluation_rows ORDER BY evaluation_id, row_index"):
        scored[row.pop("evaluation_id")].append(row)
    return scored


def _dataset_files(dataset: dict, settings: Settings) -> dict[str, Content]:
    files: dict[str, Content] = {f"datasets/{dataset['id']}.json": _json(dataset)}
    folder = settings.home / dataset["path"]
    for file in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if file.is_file():
            files[f"datasets/{dataset['id']}/{file.relative_to(folder).as_posix()}"] = file
    return files


def _board_csv(settings: Settings) -> bytes:
    from studio import leaderboard as lb

    board = lb.load_board(settings).drop(columns="evaluation_id")  # a local id: differs on every machine
    # Ordered by what the rows say, not by local ids, so every machine writes the same file.
    board = board.sort_values(["date", "run", "eval_set", "mode"], ascending=[False, False, True, True],
                              na_position="last", kind="stable")
    return board.to_csv(index=False).encode("utf-8-sig")  # with a BOM, so spreadsheets read the Korean


def evaluation_key(evaluation: dict, rows: list[dict]) -> str:
    fields = [evaluation.get(name) for name in EVALUATION_FIELDS]
    if evaluation.get("decoding") not in (None, "free"):  # records made before decoding existed keep their key
        fields.append(evaluation["decoding"])
    return _digest([fields, [[row.get(name) for name in ROW_FIELDS] for row in rows]])[:20]


def _run_path(name: str, created_at: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in name)[:80]
    return f"runs/{safe}-{_digest([name, created_at])[:10]}.json"


# --- import ---------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    runs: int = 0
    evaluations: int = 0
    datasets: int = 0
    hub_links: int = 0  # imported runs that were pushed to the Hub since (their link is updated)
    skipped: list[str] = field(default_factory=list)  # records left out, and why
    present: set[str] = field(default_factory=set)  # record files whose record this registry now holds


def import_results(folder: Path, settings: Settings) -> ImportReport:
    """Add the records of a downloaded results repo that the registry lacks, in one transaction."""
    report = ImportReport()
    with registry.session(settings.registry_path, begin="IMMEDIATE") as db:
        for path in sorted(folder.glob("datasets/*.json")):
            _import_dataset(db, folder, path, settings, report)
        for path in sorted(folder.glob("runs/*.json")):
            _import_run(db, path, _load(path), report)
        scored = _scored_rows(db)
        known = {evaluation_key(e, scored.get(e["id"], [])) for e in _rows(db, "SELECT * FROM evaluations")}
        records = [(path, _load(path)) for path in folder.glob("evaluations/*.json")]
        for path, record in sorted(records, key=lambda item: (item[1]["created_at"], item[1]["position"])):
            _import_evaluation(db, path, record, known, report)
    report.present = {p.relative_to(folder).as_posix() for p in report.present}
    return report


def _import_dataset(db, folder: Path, path: Path, settings: Settings, report: ImportReport) -> None:
    record = _load(path)
    try:  # the mirror is another machine's word: its names and paths must stay in their folders
        files = named_path(folder / "datasets", record["id"], "version")
        target = join_inside(settings.home, PurePosixPath(record["path"]))
    except StudioError as exc:
        report.skipped.append(f"data set {shown_name(record['id'])}: {exc}")
        return
    if db.execute("SELECT 1 FROM datasets WHERE id = ?", (record["id"],)).fetchone() is None:
        for file in sorted(files.rglob("*")) if files.is_dir() else []:
            if file.is_file():  # the Hub cache links files to blobs: copy the content
                (target / file.relative_to(files)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, target / file.relative_to(files))
        _insert(db, "datasets", record)
        report.datasets += 1
    report.present.update([path, *(file for file in files.rglob("*") if file.is_file())])


def _import_run(db, path: Path, record: dict, report: ImportReport) -> None:
    """Add the run as recorded. Its adapter path stays the other machine's, as a record of where it was made
    (`run_weights` in studio.training.runs loads the run's Hub copy instead)."""
    local = db.execute("SELECT created_at, job_id, hub_url, hub_commit FROM runs WHERE name = ?",
                       (record["name"],)).fetchone()
    if local is not None and local["created_at"] != record["created_at"]:
        report.skipped.append(f"run {record['name']}: another run here has that name")
        return
    if local is None:
        _insert(db, "runs", {k: v for k, v in record.items() if k not in LOCAL_RUN_COLUMNS})
        report.runs += 1
    elif _follows_hub_link(local, record):
        db.execute("UPDATE runs SET hub_url = ?, hub_commit = ? WHERE name = ?",
                   (record["hub_url"], record.get("hub_commit"), record["name"]))
        report.hub_links += 1
    report.present.add(path)


def _follows_hub_link(local: sqlite3.Row, record: dict) -> bool:
    """An imported run (no job here) takes the link its own machine recorded when it pushed the run after this
    studio imported it: that Hub copy is the only one this machine can load. A run trained here keeps its own."""
    link = (record.get("hub_url"), record.get("hub_commit"))
    return local["job_id"] is None and link[0] is not None and link != (local["hub_url"], local["hub_commit"])


def _import_evaluation(db, path: Path, record: dict, known: set[str], report: ImportReport) -> None:
    key = evaluation_key(record, record["scored_rows"])
    run = record["run_name"]
    if key not in known:
        here = db.execute("SELECT created_at FROM runs WHERE name = ?", (run,)).fetchone() if run else None
        if run and (here is None or here[0] != record["run_created_at"]):
            report.skipped.append(f"evaluation of {run}: that run is not this registry's")
            return
        evaluation_id = _insert(db, "evaluations", {**{name: record.get(name) for name in EVALUATION_FIELDS},
                                                    "decoding": record.get("decoding") or "free"})
        for row in record["scored_rows"]:
            _insert(db, "evaluation_rows", {**row, "evaluation_id": evaluation_id})
        known.add(key)
        report.evaluations += 1
    report.present.add(path)


def _insert(db: sqlite3.Connection, table: str, record: dict[str, Any]) -> int:
    """Insert the record's fields the table has (a newer studio's extra fields are left out)."""
    columns = [row["name"] for row in db.execute(f"PRAGMA table_info({table})") if row["name"] in record]
    marks = ", ".join("?" * len(columns))
    cursor = db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        [record[name] for name in columns])
    return cursor.lastrowid


# --- push and pull --------------------------------------------------------------------------------------


def push_results(settings: Settings | None = None) -> PushResult:
    """Bring the results repo up to date with the registry (creating it, private, if needed)."""
    settings = settings or load_settings()
    repo = results_repo(settings)
    seen = _seen(settings, repo)
    files = export_results(settings)
    result = push_records(repo, files, message="Update results from Text2SQL LoRA Studio", settings=settings,
                          stale=lambda path: path in seen and path.startswith(RECORD_FOLDERS))
    _remember(settings, repo, {path for path in files if path.startswith(RECORD_FOLDERS)})
    return result


def pull_results(settings: Settings | None = None) -> ImportReport:
    """Import what the results repo holds and the registry lacks (nothing while the repo does not exist)."""
    settings = settings or load_settings()
    repo = results_repo(settings)
    folder = pull_records(repo, settings=settings, missing_ok=True)
    if folder is None:
        log.info("results mirror: %s does not exist yet (or HF_TOKEN cannot see it): nothing to import", repo)
        return ImportReport()
    report = import_results(folder, settings)
    _remember(settings, repo, _seen(settings, repo) | report.present)
    for reason in report.skipped:
        log.warning("results mirror %s: not imported: %s", repo, reason)
    return report


def _seen(settings: Settings, repo: str) -> set[str]:
    path = settings.home / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return set(state.get("seen", [])) if state.get("repo") == repo else set()


def _remember(settings: Settings, repo: str, seen: set[str]) -> None:
    path = settings.home / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"repo": repo, "seen": sorted(seen)}, indent=1), encoding="utf-8")
    partial.replace(path)


# --- in the app -----------------------------------------------------------------------------------------


def fingerprint(settings: Settings) -> tuple:
    """Changes whenever a run or an evaluation is added or deleted, or a run is pushed to the Hub."""
    with registry.session(settings.registry_path) as db:
        return tuple(db.execute(
            "SELECT (SELECT COUNT(*) || ':' || IFNULL(MAX(id), 0) || ':' || IFNULL(group_concat(hub_commit), '')"
            "        FROM runs),"
            "       (SELECT COUNT(*) || ':' || IFNULL(MAX(id), 0) FROM evaluations)").fetchone())


class ResultsMirror:
    """Imports once, then pushes from a background thread whenever `fingerprint` changes (looked at every
    `poll_s`, or at once after `notify`). Failures are logged and retried after `retry_s`."""

    def __init__(self, settings: Settings, poll_s: float = 5.0, retry_s: float = 60.0):
        self.settings, self.poll_s, self.retry_s = settings, poll_s, retry_s
        self.repo = results_repo(settings)
        self.imported = threading.Event()  # set once the start-up import finished (or failed)
        self.last_push: PushResult | None = None
        self._pushed: tuple | None = None  # the fingerprint of the registry at the last push
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="studio-results-mirror")

    def start(self, wait_s: float = 0.0) -> ResultsMirror:
        """Start; wait up to `wait_s` for the import, so the first page already shows the mirrored board."""
        self._thread.start()
        self.imported.wait(wait_s)
        return self

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _serve(self) -> None:
        self._attempt("importing from", lambda: pull_results(self.settings))
        self.imported.set()
        while not self._stop.is_set():
            if not self._attempt("pushing to", self._push_if_changed):
                self._wake.wait(self.retry_s)
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _push_if_changed(self) -> None:
        current = fingerprint(self.settings)  # before exporting: a change made meanwhile is pushed next time
        if current == self._pushed:
            return
        self.last_push = push_results(self.settings)
        self._pushed = current
        if self.last_push.changed:
            log.info("results mirror: pushed %s at %s", self.repo, self.last_push.commit)

    def _attempt(self, what: str, action) -> bool:
        try:
            action()
            return True
        except StudioError as exc:
            log.warning("results mirror: %s %s failed: %s", what, self.repo, exc)
        except Exception:  # noqa: BLE001 - a bug here must not stop the app; it is logged in full
            log.exception("results mirror: %s %s failed", what, self.repo)
        return False


_mirror: ResultsMirror | None = None
_mirror_lock = threading.Lock()


def start_results_mirror(settings: Settings | None = None, wait_s: float = 30.0) -> ResultsMirror | None:
    """Start this process's mirror once, when STUDIO_RESULTS_REPO is set (None otherwise)."""
    global _mirror
    settings = settings or load_settings()
    if not settings.results_repo:
        return None
    with _mirror_lock:
        if _mirror is None:
            _mirror = ResultsMirror(settings).start(wait_s)
    return _mirror


def notify_results_changed() -> None:
    """Tell the running mirror (if any) that the registry changed: it pushes now, not at its next look."""
    if _mirror is not None:
        _mirror.notify()


def push_results_now(settings: Settings | None = None) -> PushResult | None:
    """For the CLI: push when a results repo is set; a failure is logged (the command's own work is done)."""
    settings = settings or load_settings()
    if not settings.results_repo:
        return None
    try:
        return push_results(settings)
    except StudioError as exc:
        log.warning("results mirror: pushing to %s failed: %s", settings.results_repo, exc)
        return None


# --- helpers --------------------------------------------------------------------------------------------


def _rows(db: sqlite3.Connection, sql: str) -> list[dict]:
    return [dict(row) for row in db.execute(sql)]


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
