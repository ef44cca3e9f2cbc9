"""The leaderboard: every run, every base model evaluated alone and every Hub adapter evaluated here, with
its latest scores, its training configuration and its data set; filtered, plotted, compared, exported, and
runs deleted.

A run trained on pairs synthesized for a database (`data synthesize`) and scored on questions about that same
database shows it in `adapted_to`: an in-domain score, never to be read as a held-out one.
One row per (candidate, evaluation set, mode), from the latest evaluation of that key, where the mode is how
the answers were scored and decoded: `hybrid` (free decoding) and `hybrid+schema` (decoding constrained to
the DDL's SQL grammar, studio/constraints.py) are different rows. A run not evaluated yet has one row with
empty scores. Only runs were trained here: a base model or a Hub adapter has
no local training parameters, job, loss curve or folders (`require_local_run`). Pure SQL and pandas over the
registry: the Leaderboard tab and `python -m studio runs` only call these functions.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from studio import registry
from studio.candidates import BASE_PREFIX, candidate_kind, hub_source
from studio.errors import StudioError
from studio.settings import Settings, load_settings
from studio.training.jobs import jobs_dir
from studio.training.monitor import find_job, job_view
from studio.training.runs import get_run

# Every column, in display order.
COLUMNS = (
    "run", "base_model", "lora_r", "lora_alpha", "lora_dropout", "quantization", "dataset", "dataset_name",
    "fraction", "filters", "train_rows", "epochs", "lr", "train_time_s", "final_loss", "eval_set", "adapted_to",
    "mode", "accuracy", "EX", "judge", "agreement", "rows", "cost_usd", "hub", "date", "evaluation_id",
)
# The book's tables: the model, the LoRA and data settings, and the scores (in the order of COLUMNS).
DEFAULT_COLUMNS = (
    "run", "base_model", "lora_r", "lora_alpha", "fraction", "filters", "final_loss", "eval_set", "adapted_to",
    "mode", "accuracy", "EX", "judge", "agreement", "rows", "date",
)
METRICS = ("accuracy", "EX", "judge")
RANGE_COLUMNS = ("lora_r", "lora_alpha", "fraction")  # parameter ranges the filters offer
GROUP_COLUMNS = ("base_model", "dataset", "lora_r", "lora_alpha", "fraction")  # "best per" choices
PLOT_PARAMETERS = ("lora_r", "lora_alpha", "fraction")
SEARCHED = ("run", "base_model", "dataset", "dataset_name", "eval_set", "mode", "filters")
WHOLE_NUMBERS = ("lora_r", "lora_alpha", "train_rows", "epochs", "rows", "evaluation_id")
DECIMALS = ("lora_dropout", "fraction", "lr", "train_time_s", "final_loss", "accuracy", "EX", "judge",
            "agreement", "cost_usd")
ROUNDING = {"accuracy": 3, "EX": 3, "judge": 3, "agreement": 3, "fraction": 3, "final_loss": 4, "cost_usd": 4,
            "train_time_s": 0}
HUB_COLUMNS = ("hub_url", "hub_repo", "hub")  # whichever the Hub work records in `runs`
NOT_COMPARED = ("project_name",)  # differs between any two runs; says nothing
# Against a base model alone, only what its fine-tuning added is worth a line.
BASE_CONTRAST = ("base_model", "dataset", "train_rows", "lora_r", "lora_alpha", "epochs", "lr",
                 "data_fraction")
HUB_FIELDS = ("hub_repo", "hub_commit")  # all that is known here of a Hub adapter's making

BOARD_SQL = """
WITH ranked AS (  -- by when they were made, not by local id: an evaluation imported from the results mirror
                 -- (studio.hub.results) keeps its time but gets an id above this studio's own
    SELECT *, ROW_NUMBER() OVER (PARTITION BY candidate, eval_set, mode, decoding
                                 ORDER BY created_at DESC, id DESC)
              AS recency
    FROM evaluations
),
latest AS (SELECT * FROM ranked WHERE recency = 1),
entries AS (  -- every run, evaluated or not, and every base model or Hub adapter evaluated alone
    SELECT r.name AS run, l.id AS evaluation_id FROM runs r LEFT JOIN latest l ON l.run_name = r.name
    UNION ALL
    SELECT candidate, id FROM latest WHERE run_name IS NULL
)
SELECT x.run, COALESCE(r.base_model, e.base_model) AS base_model,
       json_extract(r.config, '$.lora_r') AS lora_r, json_extract(r.config, '$.lora_alpha') AS lora_alpha,
       json_extract(r.config, '$.lora_dropout') AS lora_dropout,
       json_extract(r.config, '$.quantization') AS quantization,
       COALESCE(r.dataset_version, r.dataset_ref) AS dataset, d.name AS dataset_name,
       COALESCE(json_extract(d.options, '$.fraction'), 1) * json_extract(r.config, '$.data_fraction')
           AS fraction,  -- the version's share of the data times the run's own
       d.id IS NOT NULL AS versioned, json_extract(d.options, '$.exec_filter') AS exec_filter,
       json_extract(d.options, '$.judge') AS judge_filter,
       r.train_rows, json_extract(r.config, '$.epochs') AS epochs, json_extract(r.config, '$.lr') AS lr,
       r.duration_s AS train_time_s, r.final_loss, e.eval_set,
       json_extract(e.summary, '$.adapted_to') AS adapted_to,  -- in-domain: trained on pairs synthesized for it
       e.mode || CASE WHEN e.decoding = 'free' THEN '' ELSE '+' || e.decoding END AS mode, e.accuracy, e.ex_score AS EX,
       e.judge_score AS judge, e.agreement, e.rows, e.cost_usd, {hub} AS hub,
       substr(replace(COALESCE(e.created_at, r.created_at), 'T', ' '), 1, 16) AS date, x.evaluation_id
FROM entries x
LEFT JOIN runs r ON r.name = x.run
LEFT JOIN evaluations e ON e.id = x.evaluation_id
LEFT JOIN datasets d ON d.id = r.dataset_version
"""


# -- the board -----------------------------------------------------------------------------------------

def load_board(settings: Settings | None = None) -> pd.DataFrame:
    """Every leaderboard row, unfiltered, in the order of COLUMNS (newest runs first)."""
    settings = settings or load_settings()
    with registry.session(settings.registry_path) as db:
        raw = pd.read_sql_query(BOARD_SQL.format(hub=_hub_column(db)), db)
    board = raw.assign(filters=_filters(raw), hub=_hub_links(raw, settings))
    for column in WHOLE_NUMBERS:
        board[column] = board[column].astype("Int64")
    for column in DECIMALS:
        board[column] = board[column].astype("float64")
    newest_first = board.sort_values(["date", "run"], ascending=False, kind="stable")
    return newest_first[list(COLUMNS)].reset_index(drop=True)


def _hub_column(db: sqlite3.Connection) -> str:
    present = {row["name"] for row in db.execute("PRAGMA table_info(runs)")}
    return next((f"r.{name}" for name in HUB_COLUMNS if name in present), "NULL")


def _hub_links(raw: pd.DataFrame, settings: Settings) -> list[str | None]:
    """A run's recorded Hub link; for a Hub adapter, its repo's page (the label names the repo)."""
    return [f"{settings.hub_endpoint}/{hub_source(name)[0]}" if candidate_kind(name) == "hub" else link
            for name, link in zip(raw["run"], raw["hub"])]


def _filters(raw: pd.DataFrame) -> list[str | None]:
    """How the training data was filtered: 'execution', 'judge:<name>', both, or 'none' (None: a plain folder,
    or a base model)."""
    def describe(versioned, exec_filter, judge):
        if not versioned:
            return None
        parts = (["execution"] if exec_filter == 1 else []) + ([f"judge:{judge}"] if pd.notna(judge) else [])
        return "+".join(parts) or "none"

    return [describe(*values) for values in zip(raw["versioned"], raw["exec_filter"], raw["judge_filter"])]


def require_local_run(name: str, done: str) -> None:
    """Refuse what only a run trained here has (a job, a training log, folders, a configuration to repeat)
    for a base model or a Hub adapter, which were only evaluated here; `done` says what, as 'deleted'."""
    kind = candidate_kind(name)
    if kind == "base":
        raise StudioError("a base model is not a run: {name} cannot be {done}", key="lb_base_not_run",
                          name=name, done=done)
    if kind == "hub":
        repo, commit = hub_source(name)
        raise StudioError("a Hub adapter is not a run of this studio: {name} ({repo} at commit {commit}) "
                          "was only evaluated here, so it cannot be {done}", key="lb_hub_not_run", name=name,
                          repo=repo, commit=commit, done=done)


def is_base(board: pd.DataFrame) -> pd.Series:
    return board["run"].str.startswith(BASE_PREFIX)


def is_local_run(board: pd.DataFrame) -> pd.Series:
    """Rows of runs trained here (not base models, not Hub adapters)."""
    return board["run"].map(candidate_kind) == "run"


@dataclass(frozen=True)
class BoardQuery:
    """What the user narrowed the board to. Empty choices mean all; a range is (low, high), either open.
    Filters on training (data set, parameter ranges) let base models through: `include_base` hides them.
    A Hub adapter's training is unknown here, so those filters leave it out."""

    search: str = ""  # every word must appear in one of the SEARCHED columns
    base_models: Sequence[str] = ()
    datasets: Sequence[str] = ()
    eval_sets: Sequence[str] = ()
    modes: Sequence[str] = ()
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    include_base: bool = True
    best_per: str | None = None  # one of GROUP_COLUMNS: only the best row per (it, eval_set, mode)
    metric: str = "accuracy"  # ranks rows (and picks "best")

    def __post_init__(self):
        if self.metric not in METRICS:
            raise StudioError("unknown metric {metric!r}: choose one of {known}", key="lb_unknown_metric",
                              metric=self.metric, known=", ".join(METRICS))
        if self.best_per and self.best_per not in GROUP_COLUMNS:
            raise StudioError("cannot group by {column!r}: choose one of {known}", key="lb_unknown_group",
                              column=self.best_per, known=", ".join(GROUP_COLUMNS))
        unknown = ", ".join(sorted(set(self.ranges) - set(RANGE_COLUMNS)))
        if unknown:
            raise StudioError("no range filter for {unknown}: choose {known}", key="lb_unknown_range",
                              unknown=unknown, known=", ".join(RANGE_COLUMNS))


def filter_board(board: pd.DataFrame, query: BoardQuery) -> pd.DataFrame:
    """The rows `query` keeps, best first by its metric (unscored rows last, then newest first)."""
    keep = pd.Series(True, index=board.index)
    for column, chosen in (("base_model", query.base_models), ("eval_set", query.eval_sets),
                           ("mode", query.modes)):
        if chosen:
            keep &= board[column].isin(list(chosen))
    # Training filters: a base model was never trained, so they let it through (include_base hides it).
    base = is_base(board)
    if query.datasets:
        keep &= base | board["dataset"].isin(list(query.datasets))
    for column, (low, high) in query.ranges.items():
        values = board[column].astype("float64")  # NaN, never in range
        keep &= base | values.between(-math.inf if low is None else low, math.inf if high is None else high)
    if not query.include_base:
        keep &= ~base
    if query.search.strip():
        keep &= _search(board, query.search)
    rows = board[keep]
    if query.best_per:
        rows = best_per_group(rows, query.best_per, query.metric)
    return rows.sort_values([query.metric, "date"], ascending=False, na_position="last", kind="stable")


def parse_range(text: str | None) -> tuple[float | None, float | None]:
    """'8-32' → (8, 32); '16-' → (16, None); '-0.6' → (None, 0.6); '16' → (16, 16); '' → no bounds."""
    text = (text or "").strip()
    if not text:
        return None, None
    low, dash, high = text.partition("-")
    try:
        bounds = (float(low) if low.strip() else None, float(high) if high.strip() else None)
    except ValueError:
        raise StudioError("a range looks like 8-32, 16- or -0.6, not {text!r}", key="lb_bad_range",
                          text=text) from None
    return bounds if dash else (bounds[0], bounds[0])


def _search(board: pd.DataFrame, text: str) -> pd.Series:
    haystack = board[SEARCHED[0]].fillna("").astype(str)
    for column in SEARCHED[1:]:
        haystack = haystack + " " + board[column].fillna("").astype(str)
    haystack = haystack.str.lower()
    found = pd.Series(True, index=board.index)
    for word in text.lower().split():
        found &= haystack.str.contains(word, regex=False)
    return found


def best_per_group(rows: pd.DataFrame, by: str, metric: str) -> pd.DataFrame:
    """The best scored row per (`by`, eval_set, mode): scores of different sets or modes do not compare."""
    scored = rows[rows[metric].notna()].sort_values(metric, ascending=False, kind="stable")
    return scored.groupby([by, "eval_set", "mode"], dropna=False, sort=False).head(1)


def leaderboard(query: BoardQuery = BoardQuery(), settings: Settings | None = None) -> pd.DataFrame:
    """The board as `query` narrows it (every column)."""
    return filter_board(load_board(settings), query)


def view(rows: pd.DataFrame, columns: Sequence[str] = DEFAULT_COLUMNS) -> pd.DataFrame:
    """The chosen columns (in board order), rounded for reading."""
    chosen = [c for c in COLUMNS if c in set(columns)] or list(DEFAULT_COLUMNS)
    return rows[chosen].round({c: d for c, d in ROUNDING.items() if c in chosen}).reset_index(drop=True)


def export_csv(rows: pd.DataFrame, path: Path) -> Path:
    """Write rows (every column, unrounded) as UTF-8 CSV with a BOM, so spreadsheets read the Korean."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def choices(board: pd.DataFrame) -> dict[str, list[str]]:
    """The values the filters and pickers offer, from the unfiltered board."""
    def values(column: str, rows: pd.DataFrame = board) -> list[str]:
        return sorted(rows[column].dropna().astype(str).unique())

    runs = board[is_local_run(board)]  # what the loss-curve and run pickers offer: runs trained here
    return {"base_models": values("base_model"), "datasets": values("dataset", runs),
            "eval_sets": values("eval_set"), "modes": values("mode"), "runs": values("run", runs),
            "candidates": values("run")}


# -- plots ---------------------------------------------------------------------------------------------

def parameter_plot(rows: pd.DataFrame, parameter: str, metric: str = "accuracy") -> pd.DataFrame:
    """Points of `metric` (as `score`) against a training parameter, one per fine-tuned row, by base model."""
    if parameter not in PLOT_PARAMETERS:
        raise StudioError("no plot against {parameter!r}: choose one of {known}", key="lb_unknown_plot",
                          parameter=parameter, known=", ".join(PLOT_PARAMETERS))
    points = rows[rows[parameter].notna() & rows[metric].notna()]
    return pd.DataFrame({parameter: points[parameter].astype(float), "score": points[metric].astype(float),
                         "base_model": points["base_model"], "run": points["run"],
                         "eval_set": points["eval_set"], "mode": points["mode"]}).reset_index(drop=True)


def loss_curves(run_names: Sequence[str], settings: Settings | None = None) -> pd.DataFrame:
    """The training loss of each run by step (from its job's log, corrected like the Train tab's)."""
    settings = settings or load_settings()
    frames = []
    for name in run_names:
        require_local_run(name, "plotted (it has no training log here)")
        run = get_run(name, settings)
        if run.job_id is None:
            continue
        points = job_view(find_job(run.job_id, settings)).progress.points
        frames.append(pd.DataFrame({"run": run.name, "step": [p.step for p in points],
                                    "loss": [p.loss for p in points]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["run", "step", "loss"])


# -- comparing two candidates -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    config: pd.DataFrame  # parameter, <a>, <b>: only what differs
    scores: pd.DataFrame  # eval_set, mode, metric, <a>, <b>, diff (b - a): evaluations both have
    key: tuple[str, str] | None  # the (eval_set, mode) whose rows are compared; None if they share none
    rows: pd.DataFrame  # the questions where their verdicts differ, side by side


def compare(a: str, b: str, key: tuple[str, str] | None = None,
            settings: Settings | None = None) -> Comparison:
    """Two candidates (run names, `base:<model>` or `hub:<repo>@<commit>`): configuration diff, score diff,
    differing verdicts on `key` (by default the latest evaluation set and mode both were scored on)."""
    if a == b:
        raise StudioError("choose two different runs to compare", key="lb_compare_same")
    board = load_board(settings)
    mine, theirs = (_rows_of(board, name) for name in (a, b))
    both = mine.merge(theirs, on=["eval_set", "mode"], suffixes=("_a", "_b"))
    if key is None and not both.empty:
        latest = both.loc[both[["evaluation_id_a", "evaluation_id_b"]].max(axis=1).idxmax()]
        key = (latest["eval_set"], latest["mode"])
    return Comparison(a, b, config_diff(a, b, settings), _score_diff(both, a, b), key,
                      _differing_rows(both, key, settings))


def _rows_of(board: pd.DataFrame, name: str) -> pd.DataFrame:
    rows = board[board["run"] == name]
    if rows.empty:
        raise StudioError("no run, evaluated base model or Hub adapter {name!r} on the leaderboard",
                          key="lb_unknown_candidate", name=name)
    return rows[rows["evaluation_id"].notna()]


def candidate_config(name: str, settings: Settings | None = None) -> dict[str, object]:
    """What made a candidate: a run's data and training configuration, just a base model, or a Hub adapter's
    repo and commit on the base model it named (its training happened elsewhere)."""
    kind = candidate_kind(name)
    if kind == "base":
        return {"base_model": name.removeprefix(BASE_PREFIX)}
    if kind == "hub":
        repo, commit = hub_source(name)
        return {"base_model": _evaluated_base_model(name, settings), "hub_repo": repo, "hub_commit": commit}
    run = get_run(name, settings)
    config = {k: v for k, v in run.config.to_dict().items() if k not in NOT_COMPARED}
    return {**config, "dataset": run.dataset_version or run.dataset_ref, "train_rows": run.train_rows}


def _evaluated_base_model(candidate: str, settings: Settings | None) -> str:
    """The base model a candidate's latest evaluation loaded (a Hub adapter names its own)."""
    with registry.session((settings or load_settings()).registry_path) as db:
        row = db.execute("SELECT base_model FROM evaluations WHERE candidate = ? "
                         "ORDER BY created_at DESC, id DESC LIMIT 1", (candidate,)).fetchone()
    if row is None:
        raise StudioError("no evaluation of {candidate!r} in the registry", key="lb_no_evaluation",
                          candidate=candidate)
    return row["base_model"]


def config_diff(a: str, b: str, settings: Settings | None = None) -> pd.DataFrame:
    first, second = candidate_config(a, settings), candidate_config(b, settings)
    names = list(dict.fromkeys([*first, *second]))
    if candidate_kind(a) != "run" or candidate_kind(b) != "run":  # not trained here: what made them differ
        names = [n for n in names if n in (*BASE_CONTRAST, *HUB_FIELDS)]
    differing = [(n, first.get(n), second.get(n)) for n in names if first.get(n) != second.get(n)]
    return pd.DataFrame([(n, _text(x), _text(y)) for n, x, y in differing], columns=["parameter", a, b])


def _text(value) -> str:
    return "" if value is None else str(value)


def _score_diff(both: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    rows = []
    for r in both.to_dict("records"):
        for metric in METRICS:
            first, second = r[f"{metric}_a"], r[f"{metric}_b"]
            if pd.notna(first) or pd.notna(second):
                rows.append((r["eval_set"], r["mode"], metric, first, second, second - first))
    return pd.DataFrame(rows, columns=["eval_set", "mode", "metric", a, b, "diff"]).round(3)


def _differing_rows(both: pd.DataFrame, key: tuple[str, str] | None,
                    settings: Settings | None) -> pd.DataFrame:
    from studio.evaluate import evaluation_rows, filter_rows, side_by_side  # the judge client: 1 s to import

    chosen = both[(both["eval_set"] == key[0]) & (both["mode"] == key[1])] if key else both.iloc[:0]
    if chosen.empty:
        return side_by_side(pd.DataFrame())
    ids = [int(chosen.iloc[0]["evaluation_id_a"]), int(chosen.iloc[0]["evaluation_id_b"])]
    return side_by_side(filter_rows(evaluation_rows(ids, settings), "differences"))


# -- deleting a run ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Deletion:
    """What deleting a run removes (or removed): registry rows and folders; nothing of any other run."""

    run: str
    job: str | None
    evaluations: int
    evaluation_rows: int
    paths: list[Path]  # its job folder (with the adapter); an adapter elsewhere under STUDIO_HOME/jobs
    kept: list[Path]  # an adapter outside STUDIO_HOME/jobs is the user's: never deleted

    def describe(self) -> str:
        lines = [f"run {self.run}" + (f" (job {self.job})" if self.job else ""),
                 f"{self.evaluations} evaluation(s) with {self.evaluation_rows} row(s)"]
        lines += [f"folder {p}" for p in self.paths]
        lines += [f"kept (outside the studio's jobs): {p}" for p in self.kept]
        return "\n".join(lines)


def plan_deletion(name: str, settings: Settings | None = None) -> Deletion:
    """What `delete_run` would remove, for the confirmation."""
    settings = settings or load_settings()
    require_local_run(name, "deleted")
    run = get_run(name, settings)
    with registry.session(settings.registry_path) as db:
        job = db.execute("SELECT name FROM jobs WHERE id = ?", (run.job_id,)).fetchone()
        evaluations, rows = db.execute(
            "SELECT COUNT(*), (SELECT COUNT(*) FROM evaluation_rows WHERE evaluation_id IN"
            " (SELECT id FROM evaluations WHERE run_name = ?)) FROM evaluations WHERE run_name = ?",
            (run.name, run.name)).fetchone()
    folders, kept = ([jobs_dir(settings) / job["name"]] if job else []), []
    if not any(_inside(run.adapter_path, folder) for folder in folders):
        (folders if _inside(run.adapter_path, jobs_dir(settings)) else kept).append(run.adapter_path)
    return Deletion(run.name, job["name"] if job else None, evaluations, rows,
                    [f for f in folders if f.exists()], [p for p in kept if p.exists()])


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def delete_run(name: str, settings: Settings | None = None) -> Deletion:
    """Remove a run: its registry rows (run, job, evaluations and their rows, its cached answers), then its
    folders. Rows go in one transaction first, so a failure never leaves a run whose files are gone."""
    settings = settings or load_settings()
    plan = plan_deletion(name, settings)
    try:
        with registry.session(settings.registry_path, begin="IMMEDIATE") as db:
            db.execute("DELETE FROM evaluations WHERE run_name = ?", (plan.run,))  # rows cascade
            db.execute("DELETE FROM generations WHERE candidate = ?", (plan.run,))
            job_id = db.execute("SELECT job_id FROM runs WHERE name = ?", (plan.run,)).fetchone()[0]
            db.execute("DELETE FROM runs WHERE name = ?", (plan.run,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
    except sqlite3.IntegrityError as exc:
        raise StudioError("cannot delete run {run}: other records refer to it ({error})",
                          key="lb_delete_referenced", run=plan.run, error=exc) from None
    for path in plan.paths:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return plan
