"""The results mirror (STUDIO_RESULTS_REPO) through the real huggingface_hub client and the stand-in Hub: the
leaderboard's records go to a data set repo and come back on a fresh STUDIO_HOME as the same board; imports
and pushes repeat without duplicates; deletions leave the mirror, other studios' records stay; the app's
background mirror pushes after changes and logs failures without stopping."""

import json
import logging

import pytest

from studio import leaderboard as lb
from studio.errors import StudioError
from studio.evaluate import latest_summary
from studio.hub import ResultsMirror, pull_results, push_results
from studio.settings import load_settings
from tests.test_hub_standin import ALICE, standin_hub
from tests.test_leaderboard import Registry, fill
from tests.training_fixtures.support import wait_for

hub = pytest.fixture(standin_hub)

RESULTS = f"{ALICE}/studio-results"


@pytest.fixture
def home_a(hub, studio_home, monkeypatch):
    """The book's sweep in one studio, with the files of one of its data set versions."""
    monkeypatch.setenv("STUDIO_RESULTS_REPO", RESULTS)
    registry = fill(Registry(load_settings()))
    folder = studio_home / "datasets" / "ds-full"
    (folder / "databases").mkdir(parents=True)
    (folder / "eval.jsonl").write_text('{"question": "레벨이 10 이상인 플레이어는?"}\n', encoding="utf-8")
    (folder / "databases" / "1.sqlite").write_bytes(b"SQLite format 3\x00")
    return registry


def switch_home(monkeypatch, home) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(home))


def comparable(board):
    """The board without the local evaluation ids, in a fixed order."""
    return board.drop(columns="evaluation_id").sort_values(["run", "eval_set", "mode"]).reset_index(drop=True)


def record_files(repo) -> set[str]:
    return {path for path in repo.head.files if path.startswith(("runs/", "evaluations/", "datasets/"))}


def test_a_fresh_studio_imports_the_same_leaderboard_once(home_a, hub, tmp_path, monkeypatch):
    before = comparable(lb.load_board())
    pushed = push_results()
    repo = hub.repo(RESULTS, "dataset")
    assert repo.private and pushed.commit == repo.head.oid
    files = repo.head.files
    assert sum(p.startswith("runs/") for p in files) == 7
    assert sum(p.startswith("evaluations/") for p in files) == 10
    assert {"README.md", "leaderboard.csv", "datasets/ds-full.json", "datasets/ds-20.json",
            "datasets/ds-full/eval.jsonl", "datasets/ds-full/databases/1.sqlite"} <= set(files)
    assert "r16-a32-20pct" in files["leaderboard.csv"].decode("utf-8-sig")

    switch_home(monkeypatch, tmp_path / "restarted")  # a Space restarted without its disk, or another machine
    report = pull_results()
    assert (report.runs, report.evaluations, report.datasets, report.skipped) == (7, 10, 2, [])
    after = comparable(lb.load_board())
    assert after.equals(before)  # the same rows, the same latest evaluation of r16-a32, the same filters
    assert (tmp_path / "restarted" / "datasets" / "ds-full" / "eval.jsonl").read_text(encoding="utf-8") == \
        '{"question": "레벨이 10 이상인 플레이어는?"}\n'
    compared = lb.compare("r8-a16", "r16-a32")  # scored rows came along: the questions that differ
    assert len(compared.rows) == 3

    again = pull_results()  # idempotent: nothing twice
    assert (again.runs, again.evaluations, again.datasets) == (0, 0, 0)
    assert comparable(lb.load_board()).equals(before)
    assert not push_results().changed  # the imported records are the same files, byte for byte


def test_deleted_records_leave_the_mirror_and_other_studios_records_stay(home_a, hub, tmp_path, monkeypatch):
    push_results()
    home_a_dir = load_settings().home
    switch_home(monkeypatch, tmp_path / "laptop")  # another studio adds its own run
    laptop = Registry(load_settings())
    laptop.run("laptop-r4", lora_r=4, dataset="folder")
    laptop.evaluation("laptop-r4", [1, 1, 0, 0])
    push_results()
    repo = hub.repo(RESULTS, "dataset")
    laptop_files = {p for p in record_files(repo) if "laptop-r4" in p or _candidate(repo, p) == "laptop-r4"}
    assert len(laptop_files) == 2 and len(record_files(repo)) == 7 + 10 + 4 + 2  # none of A's deleted

    switch_home(monkeypatch, home_a_dir)
    lb.delete_run("r8-a16")
    push_results()
    files = record_files(repo)
    assert laptop_files <= files  # never seen here: another studio's, kept
    assert not [p for p in files if "r8-a16" in p or _candidate(repo, p) == "r8-a16"]
    report = pull_results()  # and A sees the laptop's run, without getting its own deleted run back
    assert (report.runs, report.evaluations) == (1, 1)
    runs = set(lb.load_board()["run"])
    assert "laptop-r4" in runs and "r8-a16" not in runs


def _candidate(repo, path: str) -> str | None:
    if not path.startswith("evaluations/"):
        return None
    return json.loads(repo.head.files[path])["candidate"]


def test_a_run_of_the_same_name_from_elsewhere_is_not_merged_into_ours(home_a, hub, tmp_path, monkeypatch):
    push_results()
    switch_home(monkeypatch, tmp_path / "other")
    other = Registry(load_settings())
    other.run("r8-a16", lora_r=64)  # a different run that happens to have the same name
    other.evaluation("r8-a16", [0, 0, 0, 1])
    report = pull_results()
    assert report.runs == 6 and any("run r8-a16: another run here has that name" in s for s in report.skipped)
    assert any("evaluation of r8-a16" in s for s in report.skipped)
    board = lb.load_board()
    assert board.loc[board["run"] == "r8-a16", "lora_r"].tolist() == [64]


def test_the_results_repo_must_be_owner_and_name(home_a, monkeypatch):
    monkeypatch.setenv("STUDIO_RESULTS_REPO", "just-a-name")
    with pytest.raises(StudioError, match="STUDIO_RESULTS_REPO must be a Hub data set repo as owner/name"):
        push_results()


def test_the_background_mirror_pushes_after_changes_and_survives_failures(home_a, hub, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="studio.hub.results")
    mirror = ResultsMirror(load_settings(), poll_s=0.1, retry_s=0.2).start(wait_s=30)
    try:
        assert mirror.imported.is_set()
        wait_for(lambda: mirror.last_push is not None)
        repo = hub.repo(RESULTS, "dataset")
        evaluations = sum(p.startswith("evaluations/") for p in repo.head.files)

        monkeypatch.setenv("HF_TOKEN", "hf_revoked")  # the Hub refuses: logged, retried, nothing raised
        home_a.evaluation("fresh", [1, 0, 1, 0])
        wait_for(lambda: "rejected the token (401)" in caplog.text)
        assert f"results mirror: pushing to {RESULTS} failed" in caplog.text
        assert "hf_revoked" not in caplog.text  # the token never reaches a log
        assert mirror._thread.is_alive()

        monkeypatch.setenv("HF_TOKEN", hub.add_user(ALICE))  # fixed: the next attempt goes through
        wait_for(lambda: sum(p.startswith("evaluations/") for p in repo.head.files) == evaluations + 1)
    finally:
        mirror.stop()
    assert not mirror._thread.is_alive()


def test_the_latest_evaluation_is_the_last_made_not_the_last_imported(home_a, hub, tmp_path, monkeypatch):
    def made_at(registry, evaluation_id, when):  # the clock of the machine that evaluated
        with registry.db:
            registry.db.execute("UPDATE evaluations SET created_at = ? WHERE id = ?", (when, evaluation_id))

    push_results()
    home_a_dir = load_settings().home
    switch_home(monkeypatch, tmp_path / "laptop")
    pull_results()
    laptop = Registry(load_settings())
    made_at(laptop, laptop.evaluation("fresh", [1, 1, 1, 1]), "2026-06-01 12:00:00")  # the laptop's own

    switch_home(monkeypatch, home_a_dir)  # A evaluated it a month before, but was offline until now
    made_at(home_a, home_a.evaluation("fresh", [0, 0, 0, 0]), "2026-05-01 12:00:00")
    push_results()
    switch_home(monkeypatch, tmp_path / "laptop")
    assert pull_results().evaluations == 1
    fresh = lb.load_board().set_index("run").loc["fresh"]
    assert (fresh["accuracy"], fresh["date"]) == (1.0, "2026-06-01 12:00")  # imported last, made first
    assert latest_summary("fresh")["accuracy"] == 1.0  # what a model card pushed from here would show

    switch_home(monkeypatch, home_a_dir)  # a later evaluation on A is the latest everywhere
    made_at(home_a, home_a.evaluation("fresh", [1, 1, 0, 0]), "2026-07-01 12:00:00")
    push_results()
    switch_home(monkeypatch, tmp_path / "laptop")
    assert pull_results().evaluations == 1
    fresh = lb.load_board().set_index("run").loc["fresh"]
    assert (fresh["accuracy"], fresh["date"]) == (0.5, "2026-07-01 12:00")
    assert latest_summary("fresh")["accuracy"] == 0.5
