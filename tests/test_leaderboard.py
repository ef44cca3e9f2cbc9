"""The leaderboard's queries, plots, comparison, export and deletion, and `python -m studio runs`, over a
registry filled through SQL: the book's 2×2 lora_r × lora_alpha sweep, a 20 % data run, a larger base model,
base models evaluated alone, a run evaluated twice (the latest counts) and one not evaluated yet; and a Hub
adapter evaluated here (`eval --hub`), which was never trained here."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from studio import leaderboard as lb
from studio import registry
from studio.errors import StudioError
from studio.settings import REPO_ROOT, load_settings
from studio.training.config import TrainingConfig
from studio.training.jobs import jobs_dir
from studio.training.runs import insert_run

SMALL, LARGE = "smollm2-135m-instruct", "qwen2.5-1.5b-instruct"
EVAL_SET = "ds-eval"
HUB_LABEL = "hub:alice/r16-adapter@abc1234"  # as studio.evaluate.hub_candidate labels a Hub adapter
QUESTIONS = ["레벨이 10 이상인 플레이어는?", "플레이어는 몇 명인가요?", "가장 높은 레벨은?", "길드 이름은?"]
LOG_PREFIX = "INFO     | 2026-11-23 10:00:00 | autotrain.trainers.common:on_log:367 - "  # AutoTrain's log


class Registry:
    """Writes runs, data set versions and evaluations as training and evaluation would, without either."""

    def __init__(self, settings):
        self.settings = settings
        self.db = registry.connect(settings.registry_path)

    def dataset(self, version_id: str, name: str, fraction: float, exec_filter: bool = True, judge=None):
        options = {"fraction": fraction, "exec_filter": exec_filter, "judge": judge, "split": "holdout:1"}
        with self.db:
            self.db.execute(
                "INSERT INTO datasets VALUES (?, ?, '2026-11-01', 'hash', '{}', '{}', ?, ?, 8, 4, ?)",
                (version_id, name, json.dumps(options), json.dumps({"train": 8, "eval": 4}),
                 f"datasets/{version_id}"))

    def run(self, name: str, *, lora_r=16, lora_alpha=32, dataset="ds-full", base_model=SMALL,
            losses=(2.0, 1.5, 1.0), loss_scale=1.0, adapter: Path | None = None, merged=False,
            **config) -> str:
        """A succeeded job with its folder (log, adapter) and the run it became."""
        config = TrainingConfig(base_model=base_model, project_name=name, lora_r=lora_r,
                                lora_alpha=lora_alpha, **config)
        folder = jobs_dir(self.settings) / name
        (folder / name).mkdir(parents=True)
        (folder / name / "adapter_config.json").write_text(json.dumps({"r": lora_r}))
        (folder / "train.log").write_text("".join(f"{LOG_PREFIX}{{'loss': {loss}, 'epoch': 1.0}}\n"
                                                  for loss in losses))
        version = dataset if dataset.startswith("ds-") else None
        with self.db:
            job_id = self.db.execute(
                "INSERT INTO jobs (name, status, config, dataset_ref, dataset_version, train_rows,"
                " model_path, loss_scale, created_at) VALUES (?, 'succeeded', ?, ?, ?, 8, ?, ?, '2026-11')",
                (name, config.to_json(), dataset, version, base_model, loss_scale)).lastrowid
            insert_run(self.db, name=name, job_id=job_id, base_model=base_model,
                       base_model_path=Path(base_model), dataset_ref=dataset, dataset_version=version,
                       train_rows=8, adapter_path=adapter or folder / name, merged=merged, config=config,
                       duration_s=60.0, train_runtime_s=50.0, final_loss=losses[-1] / loss_scale,
                       train_loss=1.5, tokens_per_s=None, hardware={}, software={})
            self.db.execute("INSERT INTO generations (candidate, prompt_sha, max_new_tokens, completion, created_at)"
                            " VALUES (?, 'sha', 64, 'SELECT 1', '2026-11-03')", (name,))
        return name

    def evaluation(self, candidate: str, verdicts: list[int], *, mode="execution", base_model=SMALL,
                   judge: list[int] | None = None, cost=None) -> int:
        """A stored evaluation of the four QUESTIONS: `verdicts` are its matches (and the execution's)."""
        score = sum(verdicts) / len(verdicts)
        judge_score = sum(judge) / len(judge) if judge else None
        agreement = sum(a == b for a, b in zip(judge, verdicts)) / len(judge) if judge else None
        run_name = candidate if lb.candidate_kind(candidate) == "run" else None  # as evaluate._store
        with self.db:
            evaluation_id = self.db.execute(
                "INSERT INTO evaluations (created_at, candidate, run_name, base_model, eval_set, mode,"
                " options, summary, rows, accuracy, ex_score, judge_score, agreement, cost_usd)"
                " VALUES (datetime('now'), ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?)",
                (candidate, run_name, base_model, EVAL_SET, mode, json.dumps({"accuracy": score}), len(verdicts),
                 max(score, judge_score or 0), score, judge_score, agreement, cost)).lastrowid
            self.db.executemany(
                "INSERT INTO evaluation_rows (evaluation_id, row_index, row_id, db_id, question, gold_sql,"
                " pred_sql, match, reason) VALUES (?, ?, ?, '1', ?, 'SELECT 1', ?, ?, ?)",
                [(evaluation_id, i, str(i), QUESTIONS[i], f"SELECT {i}", match,
                  "match" if match else "mismatch") for i, match in enumerate(verdicts)])
        return evaluation_id


def fill(home_registry: Registry) -> Registry:
    """The experiments of the book's chapter 6, scored on four questions."""
    r = home_registry
    r.dataset("ds-full", "책 전체", 1.0)
    r.dataset("ds-20", "20%", 0.2, exec_filter=False, judge="gpt-4o")
    for lora_r in (8, 16):
        for lora_alpha in (16, 32):
            r.run(f"r{lora_r}-a{lora_alpha}", lora_r=lora_r, lora_alpha=lora_alpha)
    r.run("r16-a32-20pct", dataset="ds-20")
    r.run("large-r16", base_model=LARGE, losses=(4.0, 2.0), loss_scale=2.0)
    r.run("fresh")
    r.evaluation("base:" + SMALL, [0, 0, 0, 0])
    r.evaluation("base:" + LARGE, [1, 0, 0, 0], base_model=LARGE)
    r.evaluation("r8-a16", [1, 0, 0, 0])
    r.evaluation("r8-a32", [1, 1, 0, 0])
    r.evaluation("r16-a16", [1, 1, 1, 0])
    r.evaluation("r16-a32", [0, 0, 0, 0])  # superseded by the next
    r.evaluation("r16-a32", [1, 1, 1, 1])
    r.evaluation("r16-a32", [1, 1, 1, 0], mode="hybrid", judge=[1, 1, 1, 1], cost=0.002)
    r.evaluation("r16-a32-20pct", [1, 0, 1, 0])
    r.evaluation("large-r16", [1, 1, 1, 1], base_model=LARGE)
    return r


@pytest.fixture
def sweep(studio_home):
    return fill(Registry(load_settings()))


def _row(board, run, mode="execution"):
    rows = board[(board["run"] == run) & ((board["mode"] == mode) | board["mode"].isna())]
    assert len(rows) == 1
    return rows.iloc[0]


def test_one_row_per_run_evaluation_set_and_mode_with_base_models(sweep):
    board = lb.load_board()
    assert list(board.columns) == list(lb.COLUMNS)
    assert sorted(zip(board["run"], board["mode"].fillna("-"))) == sorted([
        ("base:" + SMALL, "execution"), ("base:" + LARGE, "execution"), ("r8-a16", "execution"),
        ("r8-a32", "execution"), ("r16-a16", "execution"), ("r16-a32", "execution"), ("r16-a32", "hybrid"),
        ("r16-a32-20pct", "execution"), ("large-r16", "execution"), ("fresh", "-")])
    assert _row(board, "r16-a32")["accuracy"] == 1.0  # the latest evaluation of the key, not the first
    hybrid = _row(board, "r16-a32", "hybrid")
    assert hybrid[["EX", "judge", "agreement", "cost_usd"]].tolist() == [0.75, 1.0, 0.75, 0.002]
    base = _row(board, "base:" + LARGE)
    assert base["base_model"] == LARGE and pd.isna(base["lora_r"]) and pd.isna(base["dataset"])
    fresh = _row(board, "fresh")
    assert pd.isna(fresh["accuracy"]) and fresh["lora_r"] == 16 and fresh["dataset_name"] == "책 전체"
    small_data = _row(board, "r16-a32-20pct")
    assert (small_data["fraction"], small_data["filters"]) == (0.2, "judge:gpt-4o")
    assert (_row(board, "r8-a32")["fraction"], _row(board, "r8-a32")["filters"]) == (1.0, "execution")
    assert _row(board, "r8-a32")[["lora_alpha", "epochs", "lr", "train_time_s"]].tolist() == [32, 1, 2e-4, 60]
    assert board["hub"].isna().all()  # no Hub column in `runs` yet: an empty column of that name


def test_the_hub_link_shows_once_runs_record_one(sweep):
    from studio.training.runs import record_hub_push

    record_hub_push("r8-a16", "https://huggingface.co/me/r8-a16", "abc123")  # what `studio push --run` records
    board = lb.load_board()
    assert board.loc[board["hub"].notna(), ["run", "hub"]].values.tolist() == [
        ["r8-a16", "https://huggingface.co/me/r8-a16"]]


def _runs(rows) -> list[str]:
    return rows["run"].tolist()


def test_filters_search_ranges_and_best_per_group(sweep):
    board = lb.load_board()
    executed = lb.filter_board(board, lb.BoardQuery(eval_sets=[EVAL_SET], modes=["execution"]))
    assert len(executed) == 8 and executed["accuracy"].is_monotonic_decreasing  # best first
    large = lb.filter_board(board, lb.BoardQuery(base_models=[LARGE]))
    assert sorted(_runs(large)) == ["base:" + LARGE, "large-r16"]
    wide = lb.filter_board(board, lb.BoardQuery(modes=["execution"], ranges={"lora_r": (16, None)}))
    assert "r8-a16" not in _runs(wide) and "base:" + SMALL in _runs(wide)  # base models pass training filters
    no_base = lb.filter_board(board, lb.BoardQuery(ranges={"fraction": (None, 0.5)}, include_base=False))
    assert _runs(no_base) == ["r16-a32-20pct"]
    only_20 = lb.filter_board(board, lb.BoardQuery(datasets=["ds-20"], include_base=False))
    assert _runs(only_20) == ["r16-a32-20pct"]
    searched = lb.filter_board(board, lb.BoardQuery(search="R16-a32 HYBRID"))
    assert _runs(searched) == ["r16-a32"] and searched.iloc[0]["mode"] == "hybrid"
    assert _runs(lb.filter_board(board, lb.BoardQuery(search="책"))) == _runs(
        lb.filter_board(board, lb.BoardQuery(datasets=["ds-full"], include_base=False)))
    best = lb.filter_board(board, lb.BoardQuery(modes=["execution"], best_per="base_model"))
    assert sorted(zip(best["base_model"], best["accuracy"])) == [(LARGE, 1.0), (SMALL, 1.0)]
    assert _runs(lb.filter_board(board, lb.BoardQuery(modes=["execution"], best_per="lora_alpha", metric="EX",
                                                      ranges={"lora_r": (8, 8)}, include_base=False))) == [
        "r8-a32", "r8-a16"]
    with pytest.raises(StudioError, match="no range filter for epochs"):
        lb.BoardQuery(ranges={"epochs": (1, 2)})


@pytest.mark.parametrize("text, bounds", [("8-32", (8, 32)), ("16-", (16, None)), ("-0.6", (None, 0.6)),
                                          (" 16 ", (16, 16)), ("", (None, None))])
def test_range_text(text, bounds):
    assert lb.parse_range(text) == bounds


def test_a_bad_range_is_a_message():
    with pytest.raises(StudioError, match="a range looks like 8-32"):
        lb.parse_range("eight")


def test_plot_frames_score_against_parameters_and_loss_curves(sweep):
    rows = lb.leaderboard(lb.BoardQuery(modes=["execution"]))
    by_r = lb.parameter_plot(rows, "lora_r")
    assert list(by_r.columns) == ["lora_r", "score", "base_model", "run", "eval_set", "mode"]
    assert len(by_r) == 6 and set(by_r["base_model"]) == {SMALL, LARGE}  # fine-tuned, scored rows only
    by_fraction = lb.parameter_plot(rows, "fraction", metric="EX").set_index("run")
    assert by_fraction.loc["r16-a32-20pct", "fraction"] == 0.2 and by_fraction.loc["r8-a32", "score"] == 0.5
    curves = lb.loss_curves(["r8-a16", "large-r16"])
    assert curves.groupby("run")["loss"].apply(list).to_dict() == {
        "r8-a16": [2.0, 1.5, 1.0], "large-r16": [2.0, 1.0]}  # corrected for gradient accumulation
    assert curves["step"].tolist() == [1, 2, 3, 1, 2]


def test_compare_two_runs_config_scores_and_differing_verdicts(sweep):
    result = lb.compare("r8-a16", "r16-a32")
    assert result.config.values.tolist() == [["lora_r", "8", "16"], ["lora_alpha", "16", "32"]]
    assert result.key == (EVAL_SET, "execution")  # the only set and mode both were scored on
    accuracy = result.scores.set_index("metric").loc["accuracy"]
    assert (accuracy["r8-a16"], accuracy["r16-a32"], accuracy["diff"]) == (0.25, 1.0, 0.75)
    assert result.rows["question"].tolist() == QUESTIONS[1:]
    assert list(result.rows.columns) == ["question", "gold_sql", "r16-a32 · pred_sql", "r16-a32 · verdict",
                                         "r8-a16 · pred_sql", "r8-a16 · verdict"]


def test_compare_a_base_model_with_its_fine_tuned_run(sweep):
    result = lb.compare("base:" + SMALL, "r16-a32")
    assert result.config["parameter"].tolist() == ["lr", "epochs", "lora_r", "lora_alpha", "data_fraction",
                                                    "dataset", "train_rows"]  # what fine-tuning added
    assert result.config.set_index("parameter").loc["dataset"].tolist() == ["", "ds-full"]
    assert len(result.rows) == 4


def test_compare_without_a_shared_evaluation(sweep):
    result = lb.compare("fresh", "r8-a16")
    assert result.key is None and result.rows.empty and result.scores.empty
    with pytest.raises(StudioError, match="two different runs"):
        lb.compare("r8-a16", "r8-a16")
    with pytest.raises(StudioError, match="no run, evaluated base model or Hub adapter 'nope'"):
        lb.compare("nope", "r8-a16")


@pytest.fixture
def with_hub(sweep):
    """The sweep and a Hub adapter on the small base model, evaluated on the same set (no network: the
    evaluation is written as `eval --hub` stores it)."""
    sweep.evaluation(HUB_LABEL, [1, 1, 0, 1])
    return sweep


def test_a_hub_adapter_is_a_row_of_its_own(with_hub):
    board = lb.load_board()
    hub = _row(board, HUB_LABEL)
    assert (hub["base_model"], hub["accuracy"], hub["mode"]) == (SMALL, 0.75, "execution")
    assert hub["hub"] == f"{load_settings().hub_endpoint}/alice/r16-adapter"  # its repo's page
    assert hub[["lora_r", "dataset", "filters", "train_rows", "final_loss"]].isna().all()  # trained elsewhere
    assert lb.candidate_kind(HUB_LABEL) == "hub"
    assert lb.hub_source(HUB_LABEL) == ("alice/r16-adapter", "abc1234")
    found = lb.choices(board)
    assert HUB_LABEL in found["candidates"] and HUB_LABEL not in found["runs"]  # compared, never managed
    assert _runs(lb.filter_board(board, lb.BoardQuery(search="alice"))) == [HUB_LABEL]
    assert HUB_LABEL in _runs(lb.filter_board(board, lb.BoardQuery(include_base=False)))  # not a base model
    assert HUB_LABEL not in _runs(lb.filter_board(board, lb.BoardQuery(ranges={"lora_r": (8, None)})))
    assert HUB_LABEL not in lb.parameter_plot(board, "lora_r")["run"].tolist()


def test_compare_a_hub_adapter_with_a_run_and_a_base_model(with_hub):
    result = lb.compare(HUB_LABEL, "r16-a32")
    config = result.config.set_index("parameter")
    assert config.loc["hub_repo"].tolist() == ["alice/r16-adapter", ""]
    assert config.loc["hub_commit"].tolist() == ["abc1234", ""]
    assert config.loc["lora_r"].tolist() == ["", "16"] and "base_model" not in config.index  # same base
    assert "project_name" not in config.index and "batch_size" not in config.index  # what made them differ
    assert result.key == (EVAL_SET, "execution")
    accuracy = result.scores.set_index("metric").loc["accuracy"]
    assert (accuracy[HUB_LABEL], accuracy["r16-a32"], accuracy["diff"]) == (0.75, 1.0, 0.25)
    assert result.rows["question"].tolist() == [QUESTIONS[2]]
    assert f"{HUB_LABEL} · verdict" in result.rows.columns

    against_base = lb.compare("base:" + LARGE, HUB_LABEL)
    assert against_base.config.values.tolist() == [
        ["base_model", LARGE, SMALL], ["hub_repo", "", "alice/r16-adapter"], ["hub_commit", "", "abc1234"]]
    assert len(against_base.rows) == 2  # LARGE's base got question 0 only; the adapter 0, 1 and 3


def test_what_only_a_run_trained_here_has_is_refused_for_a_hub_adapter(with_hub):
    refusal = "a Hub adapter is not a run of this studio: .*alice/r16-adapter at commit abc1234"
    with pytest.raises(StudioError, match=refusal + ".*cannot be deleted"):
        lb.plan_deletion(HUB_LABEL)
    with pytest.raises(StudioError, match=refusal):
        lb.delete_run(HUB_LABEL)
    with pytest.raises(StudioError, match=refusal + ".*no training log"):
        lb.loss_curves(["r8-a16", HUB_LABEL])
    assert _count("SELECT COUNT(*) FROM evaluations WHERE candidate = ?", HUB_LABEL) == 1  # nothing deleted


def test_export_csv_keeps_every_column_and_the_korean(sweep, tmp_path):
    rows = lb.leaderboard(lb.BoardQuery(datasets=["ds-full"], include_base=False))
    path = lb.export_csv(rows, tmp_path / "out" / "board.csv")
    read = pd.read_csv(path, encoding="utf-8-sig")
    assert list(read.columns) == list(lb.COLUMNS) and read["run"].tolist() == rows["run"].tolist()
    assert set(read["dataset_name"]) == {"책 전체"}
    assert read["accuracy"].tolist() == pytest.approx(rows["accuracy"].tolist(), nan_ok=True)


def _count(sql: str, *args) -> int:
    with registry.session(load_settings().registry_path) as db:
        return db.execute(sql, args).fetchone()[0]


def test_deleting_a_run_removes_its_files_and_rows_and_nothing_else(sweep, tmp_path):
    jobs = jobs_dir(load_settings())
    doomed = _count("SELECT id FROM evaluations WHERE run_name = 'r8-a16'")
    others = _count("SELECT COUNT(*) FROM evaluation_rows WHERE evaluation_id != ?", doomed)
    plan = lb.plan_deletion("r8-a16")
    assert (plan.evaluations, plan.evaluation_rows, plan.paths) == (1, 4, [jobs / "r8-a16"])
    assert (jobs / "r8-a16").exists()  # planning removes nothing
    lb.delete_run("r8-a16")
    assert not (jobs / "r8-a16").exists() and (jobs / "r8-a32" / "r8-a32").is_dir()
    assert _count("SELECT COUNT(*) FROM runs WHERE name = 'r8-a16'") == 0
    assert _count("SELECT COUNT(*) FROM jobs WHERE name = 'r8-a16'") == 0
    assert _count("SELECT COUNT(*) FROM evaluation_rows WHERE evaluation_id = ?", doomed) == 0
    assert _count("SELECT COUNT(*) FROM generations WHERE candidate = 'r8-a16'") == 0
    assert _count("SELECT COUNT(*) FROM evaluation_rows") == others
    assert _count("SELECT COUNT(*) FROM runs") == 6 and len(lb.load_board()) == 9

    mine = tmp_path / "my-adapter"  # an adapter the user keeps elsewhere is never deleted
    mine.mkdir()
    sweep.run("outside", adapter=mine)
    assert lb.delete_run("outside").kept == [mine] and mine.is_dir()
    with pytest.raises(StudioError, match="a base model is not a run"):
        lb.delete_run("base:" + SMALL)


def studio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", "runs", *args], cwd=REPO_ROOT,
                          env=dict(os.environ), capture_output=True, text=True, timeout=120)


def test_cli_runs_list_show_export_delete(sweep, tmp_path):
    shown = json.loads(studio("show", "r16-a32").stdout)
    assert shown["config"]["lora_r"] == 16
    scores = sorted((e["mode"], e["accuracy"]) for e in shown["evaluations"])
    assert scores == [("execution", 1.0), ("hybrid", 1.0)]

    best = studio("export", "--mode", "execution", "--best-per", "base_model", "--columns", "run,base_model")
    assert best.returncode == 0, best.stderr
    assert sorted(best.stdout.splitlines()[1:]) == [f"large-r16,{LARGE}", f"r16-a32,{SMALL}"]
    written = studio("export", "-o", str(tmp_path / "board.csv"), "--range", "lora_r=8-8", "--no-base")
    assert written.returncode == 0 and "wrote 2 rows" in written.stderr
    assert pd.read_csv(tmp_path / "board.csv", encoding="utf-8-sig")["run"].tolist() == ["r8-a32", "r8-a16"]

    asked = studio("delete", "r8-a16")
    assert asked.returncode == 1 and "add --yes" in asked.stderr
    assert "1 evaluation(s) with 4 row(s)" in asked.stderr
    assert (jobs_dir(load_settings()) / "r8-a16").exists()
    deleted = studio("delete", "r8-a16", "--yes")
    assert deleted.returncode == 0 and deleted.stdout.startswith("deleted:\nrun r8-a16")
    assert not (jobs_dir(load_settings()) / "r8-a16").exists()
    listed = [line.split("\t")[0] for line in studio("list").stdout.splitlines()]
    assert listed == ["fresh", "large-r16", "r16-a32-20pct", "r16-a32", "r16-a16", "r8-a32"]
    assert studio("export", "--range", "lora_r=x").stderr.strip() == (
        "error: a range looks like 8-32, 16- or -0.6, not 'x'")
