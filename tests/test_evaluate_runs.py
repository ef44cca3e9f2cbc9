"""Evaluation runs end to end: the offline model answers held-out questions, scored and stored."""

import json
import sqlite3

import pytest

from evaluation.testing.openai_standin import OpenAIStandin
from studio.data import get_version
from studio.errors import StudioError
from studio.evaluate import EvalOptions, base_candidate, eval_set_from_file, eval_set_from_version, evaluate
from studio.settings import load_settings

MODEL = "smollm2-135m-instruct"


@pytest.fixture
def sample_version(offline_model, sample_version_id):
    return get_version(sample_version_id)


def _stored(evaluation_id):
    db = sqlite3.connect(load_settings().registry_path)
    db.row_factory = sqlite3.Row
    try:
        evaluation = db.execute("SELECT * FROM evaluations WHERE id = ?", (evaluation_id,)).fetchone()
        rows = db.execute("SELECT * FROM evaluation_rows WHERE evaluation_id = ? ORDER BY row_index",
                          (evaluation_id,)).fetchall()
        return evaluation, rows
    finally:
        db.close()


def test_base_model_on_the_held_out_game_domain(sample_version):
    eval_set = eval_set_from_version(sample_version.id)
    result = evaluate(base_candidate(MODEL), eval_set, EvalOptions(mode="execution", max_new_tokens=24, limit=4))
    assert result.summary.total == 4 and result.new_generations == 4
    evaluation, rows = _stored(result.id)
    assert evaluation["candidate"] == f"base:{MODEL}" and evaluation["eval_set"] == sample_version.id
    assert evaluation["rows"] == 4 and evaluation["ex_score"] == result.summary.ex_score
    assert [r["db_id"] for r in rows] == ["1"] * 4  # the game domain is held out
    for row in rows:
        assert row["completion"] and row["reason"] and row["decided_by"] == "execution"
    # Within the DDL's grammar (the default) every answer is a SELECT; shown the nearest training example
    # (the version's prompts have one), the untrained model may even get one right.
    assert all(row["pred_sql"].lstrip().upper().startswith("SELECT") for row in rows)
    assert result.summary.matches <= result.summary.total


def test_rescoring_reuses_stored_generations(sample_version):
    eval_set = eval_set_from_version(sample_version.id)
    options = EvalOptions(mode="execution", max_new_tokens=24, limit=3)
    first = evaluate(base_candidate(MODEL), eval_set, options)
    again = evaluate(base_candidate(MODEL), eval_set, EvalOptions(mode="hybrid", max_new_tokens=24, limit=3))
    assert again.new_generations == 0 and again.id != first.id
    assert [r["completion"] for r in again.rows] == [r["completion"] for r in first.rows]


def test_ddl_only_file_is_judged_through_an_openai_compatible_server(offline_model, tmp_path, monkeypatch):
    rows = [{"db_id": "g", "context": "CREATE TABLE players (id INT PRIMARY KEY, name VARCHAR(20), level INT);",
             "question": q, "answer": "SELECT name FROM players WHERE level >= 10"} for q in ("레벨 10 이상?", "이름?")]
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with OpenAIStandin() as standin:
        from studio.evaluate import open_judge

        options = EvalOptions(mode="judge", max_new_tokens=24, judge_model="gpt-4o-mini",
                              judge_base_url=standin.base_url)
        judge = open_judge(options, load_settings())
        result = evaluate(base_candidate(MODEL), eval_set_from_file(path), options, judge=judge)
        assert standin.count() == 2
    assert result.summary.judge_no == 2 and result.summary.judge_score == 0.0
    _, stored = _stored(result.id)
    assert [r["judge_verdict"] for r in stored] == ["no", "no"]


def test_judge_modes_need_a_judge_model():
    with pytest.raises(StudioError, match="needs a judge model"):
        EvalOptions(mode="judge")
    with pytest.raises(StudioError, match="unknown scoring mode"):
        EvalOptions(mode="vibes")
