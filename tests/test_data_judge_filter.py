"""The book's GPT data filter as an action on a prepared version, against a local OpenAI-compatible server
(the real `openai` SDK talks HTTP to it). The Data tab's face of it is tested in test_ui_data_tab.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.testing.openai_standin import OpenAIStandin
from studio import leaderboard as lb
from studio.data import PrepareOptions, get_version, list_versions, prepare_dataset
from studio.data.judge_filter import FILTER_TEMPLATE, filter_version
from studio.data.versions import versions_table
from studio.errors import StudioError
from studio.evaluate import EvalOptions, open_judge
from studio.settings import load_settings
from tests.test_leaderboard import Registry

ROOT = Path(__file__).resolve().parent.parent
DDL = "CREATE TABLE players (player_id INT PRIMARY KEY, username VARCHAR(50), level INT);"
WRONG = "틀린"  # marks the questions whose SQL does not answer them; the stand-in judge says "no" to those
QUESTIONS = ["플레이어 수는?", "가장 높은 레벨은?", f"이름 목록은? ({WRONG} SQL)", "레벨 합계는?",
             f"레벨 평균은? ({WRONG} SQL)"]
ANSWERS = ["SELECT COUNT(*) FROM players", "SELECT MAX(level) FROM players", "SELECT level FROM players",
           "SELECT SUM(level) FROM players", "SELECT MIN(level) FROM players"]


def write_rows(tmp_path: Path) -> Path:
    """Five training rows on database 2 (two with a wrong SQL) and one held-out row on database 1."""
    rows = [{"db_id": "2", "context": DDL, "question": q, "answer": a} for q, a in zip(QUESTIONS, ANSWERS)]
    rows.append({"db_id": "1", "context": DDL, "question": "held out", "answer": "SELECT 1"})
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def fair_judge() -> OpenAIStandin:
    return OpenAIStandin(decide=lambda prompt: WRONG not in prompt)


def test_filter_drops_the_rows_the_judge_rejects_into_a_new_version(studio_home, tmp_path):
    version = prepare_dataset(str(write_rows(tmp_path)), PrepareOptions(name="tiny"))
    assert version.train_rows == 5
    with fair_judge() as standin:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "STUDIO_HOME": str(studio_home)}
        done = subprocess.run([sys.executable, "-m", "studio", "data", "filter", version.id,
                               "--judge-model", "gpt-4o-mini", "--judge-base-url", standin.base_url],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert standin.count() == 5
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["asked"] == 5 and report["dropped"] == 2 and report["errors_kept"] == 0
    filtered = get_version(report["version"])
    assert filtered.id != version.id and filtered.train_rows == 3 and filtered.eval_rows == 1
    assert WRONG not in filtered.train_frame()["question"].str.cat()
    assert filtered.name == "tiny-judged" and filtered.options["judge"] == "judge:gpt-4o-mini"
    assert get_version(version.id).train_rows == 5  # the original version is untouched
    assert "sk-test" not in "".join(p.read_text(errors="ignore") for p in studio_home.rglob("*") if p.is_file())


def _judge(base_url: str):
    return open_judge(EvalOptions(judge_model="gpt-4o-mini", judge_base_url=base_url), load_settings(),
                      api_key="sk-test", template=FILTER_TEMPLATE)


def test_only_the_versions_own_training_rows_are_asked_about(studio_home, tmp_path):
    """A version that keeps a share of the rows costs that share, and the new version is a subset of it."""
    share = prepare_dataset(str(write_rows(tmp_path)), PrepareOptions(fraction=0.6))
    kept = set(share.train_frame()["id"])
    assert len(kept) == 3
    with fair_judge() as standin, _judge(standin.base_url) as judge:
        filtered, result = filter_version(share.id, judge)
        assert standin.count() == 3 == result.asked
    wrong = sum(WRONG in q for q in share.train_frame()["question"])
    assert result.dropped == wrong and filtered.train_rows == 3 - wrong
    assert set(filtered.train_frame()["id"]) <= kept
    assert filtered.options["fraction"] == 0.6 and filtered.eval_frame()["question"].tolist() == ["held out"]


def test_a_judged_share_of_the_data_keeps_its_share_and_records_the_judges_drops(studio_home, tmp_path):
    """A judged 40 % version is still 40 % of the data (where the leaderboard plots it); what the judge
    dropped, and from which version, is recorded beside it."""
    share = prepare_dataset(str(write_rows(tmp_path)), PrepareOptions(fraction=0.4, name="forty"))
    assert share.train_rows == 2 and sum(WRONG in q for q in share.train_frame()["question"]) == 1
    with fair_judge() as standin, _judge(standin.base_url) as judge:
        filtered, result = filter_version(share.id, judge)
        again, _ = filter_version(share.id, judge)
        twice, _ = filter_version(filtered.id, judge)
    assert result.asked == 2 and result.dropped == 1 and filtered.train_rows == 1
    assert again.id == filtered.id  # the same rows kept from the same version: the same version
    options = get_version(filtered.id).options
    assert options["fraction"] == 0.4 and options["judged_from"] == share.id
    assert (options["judged_rows"], options["judge_dropped"], options["judge"]) == (2, 1, "judge:gpt-4o-mini")
    assert "parent_fraction" not in options and filtered.name == "forty-judged"
    # the counts say what the judge dropped, not the source's rows outside the share it never read
    assert filtered.counts["judge_filter"] == {"train_dropped": 1}
    assert json.loads((filtered.path / "version.json").read_text())["options"] == options
    # judged again, it is still 40 % of the data, now from the judged version
    assert (twice.options["fraction"], twice.options["judged_from"]) == (0.4, filtered.id)
    assert (twice.options["judged_rows"], twice.options["judge_dropped"], twice.train_rows) == (1, 0, 1)
    assert twice.id != filtered.id

    Registry(load_settings()).run("on-judged-forty", dataset=filtered.id)
    Registry(load_settings()).run("on-half-of-it", dataset=filtered.id, data_fraction=0.5)
    board = lb.load_board().set_index("run")
    assert board.loc["on-judged-forty", "fraction"] == 0.4 and board.loc["on-half-of-it", "fraction"] == 0.2
    assert "judge:gpt-4o-mini" in board.loc["on-judged-forty", "filters"]
    table = versions_table().set_index("id")
    assert (table.loc[filtered.id, "fraction"], table.loc[share.id, "fraction"]) == (0.4, 0.4)


def test_a_changed_source_is_refused_before_anything_is_asked(studio_home, tmp_path):
    source = write_rows(tmp_path)
    version = prepare_dataset(str(source), PrepareOptions())
    changed = source.read_text(encoding="utf-8").replace("플레이어 수는?", "몇 명?")
    source.write_text(changed, encoding="utf-8")
    with fair_judge() as standin, _judge(standin.base_url) as judge:
        with pytest.raises(StudioError, match=f"the source of {version.id} .* has changed since"):
            filter_version(version.id, judge)
        source.unlink()
        with pytest.raises(StudioError, match=f"cannot read the source of {version.id} .* again"):
            filter_version(version.id, judge)
        assert standin.count() == 0
    assert [v.id for v in list_versions()] == [version.id]
