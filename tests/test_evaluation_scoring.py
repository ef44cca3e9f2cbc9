"""Hybrid scoring: execution decides where it can, the judge (the HTTP stand-in) only where it cannot."""

from dataclasses import replace

import pytest

from evaluation.execution import ExecutionConfig
from evaluation.judge import Judge, JudgeConfig
from evaluation.pairs import Pair, pair_from_row
from evaluation.scoring import _EXECUTION_CHUNK, ScoringConfig, plan_scoring, score_pairs, summarize
from evaluation.testing.openai_standin import OpenAIStandin
from evaluation.testing.sample_db import GAME_DDL, build_game_database

TOP = "SELECT username FROM players WHERE level >= 55"


def pair(number, pred, gold=TOP, db_id="game", context=None, question=None):
    return Pair(number, db_id, question or f"질문 {number}", gold, pred, context)


YES = '[[answer:{"resolve_yn": "yes"}]]'  # makes the stand-in say yes


PAIRS = [
    pair(1, TOP),  # match
    pair(2, "SELECT p.username AS name FROM players AS p WHERE p.level > 54"),  # match, other text
    pair(3, "SELECT username FROM players WHERE level > 55"),  # wrong result
    pair(4, "SELECT nickname FROM players"),  # pred error
    pair(5, ""),  # empty
    pair(6, "SELECT username FROM players", gold="SELECT usernme FROM players"),  # gold error: judge
    pair(7, "SELECT username FROM players WHERE level > 3", db_id="book", context=GAME_DDL),  # runs: judge
    pair(8, "SELECT nickname FROM players", db_id="book", context=GAME_DDL),  # fails on the schema
    pair(9, "select USERNAME from players where LEVEL >= 55;", db_id="book", context=GAME_DDL),  # same SQL
    pair(
        10, "SELECT 1 AS one", gold="SELECT 1", db_id="nowhere", question=f"하나 {YES}"
    ),  # no database: judge
]


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dbs")
    build_game_database(folder / "game.sqlite", players=150, seed=3)
    return folder


@pytest.fixture
def server():
    with OpenAIStandin() as standin:
        yield standin


@pytest.fixture
def judge(server):
    with Judge(
        JudgeConfig(model="gpt-4o-mini", base_url=server.base_url, backoff_s=0.01, max_attempts=2),
        api_key="sk-x",
    ) as j:
        yield j


def test_hybrid_asks_the_judge_only_where_execution_cannot_decide(db_dir, judge, server):
    report = score_pairs(PAIRS, db_dir=db_dir, judge=judge)
    by_id = {row.pair.id: row for row in report.rows}
    assert [by_id[i].decided_by for i in range(1, 11)] == [
        "execution",
        "execution",
        "execution",
        "execution",
        "execution",
        "judge",
        "judge",
        "execution",
        "exact",
        "judge",
    ]
    assert server.count() == 3
    assert [by_id[i].match for i in range(1, 11)] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    assert by_id[3].reason.startswith("wrong result")
    assert by_id[4].reason == "pred error: no such column: nickname"
    assert by_id[6].reason == "judge: no (gold error: no such column: usernme)"
    assert by_id[10].reason == "judge: yes (no database)"
    assert by_id[8].reason == "pred error: no such column: nickname"
    summary = report.summary
    assert (summary.total, summary.matches) == (10, 4)
    assert (summary.ex_evaluated, summary.ex_matches) == (5, 2)  # EX counts rows executed on a database
    assert (summary.judge_yes, summary.judge_no, summary.judge_errors, summary.judge_calls) == (1, 2, 0, 3)
    assert summary.agreement is None  # no row has both verdicts in hybrid mode
    assert summary.cost_usd > 0


def test_the_judge_sees_the_schema_of_the_database(db_dir, judge, server):
    score_pairs([PAIRS[5]], db_dir=db_dir, judge=judge)
    prompt = server.requests[0].body["messages"][0]["content"]
    assert 'CREATE TABLE "players"' in prompt and "gen_sql: SELECT username FROM players" in prompt


def test_both_mode_reports_agreement(db_dir, judge, server):
    report = score_pairs(PAIRS[:5], db_dir=db_dir, judge=judge, config=ScoringConfig(mode="both"))
    assert server.count() == 5
    assert [row.match for row in report.rows] == [True, True, False, False, False]  # execution still decides
    agreement = report.summary.agreement
    # the stand-in only says yes to identical text: it misses the aliased match of pair 2
    assert (agreement.both_yes, agreement.ex_yes_judge_no, agreement.ex_no_judge_yes, agreement.both_no) == (
        1,
        1,
        0,
        3,
    )
    assert agreement.rate == pytest.approx(0.8)
    assert report.summary.to_dict()["agreement"]["total"] == 5


def test_judge_mode_judges_every_row_without_executing(db_dir, judge, server):
    report = score_pairs(PAIRS[:3], db_dir=db_dir, judge=judge, config=ScoringConfig(mode="judge"))
    assert server.count() == 3
    assert all(row.execution is None and row.decided_by == "judge" for row in report.rows)
    assert report.summary.ex_evaluated == 0 and report.summary.judge_yes == 1


def test_execution_mode_never_calls_a_judge(db_dir):
    report = score_pairs(PAIRS, db_dir=db_dir, config=ScoringConfig(mode="execution"))
    undecided = [row for row in report.rows if row.decided_by == "none"]
    assert {row.pair.id for row in undecided} == {6, 7, 9, 10}
    assert all(not row.match for row in undecided)
    assert report.summary.judge_calls == 0


def test_hybrid_without_a_judge_keeps_the_execution_reason(db_dir):
    report = score_pairs(PAIRS[5:6], db_dir=db_dir)
    assert report.rows[0].reason == "gold error: no such column: usernme"
    assert report.rows[0].decided_by == "none"


def test_judge_errors_are_reported_not_counted_as_no(db_dir, judge):
    broken = pair(11, "SELECT 1", gold="SELECT 2", db_id="nowhere", question="q [[fail:500]]")
    report = score_pairs([broken], db_dir=db_dir, judge=judge)
    assert report.rows[0].reason == "judge error: HTTP 500: stand-in failure 500 (attempt 2)"
    assert (report.summary.judge_errors, report.summary.judge_no) == (1, 0)
    assert report.summary.judge_score is None


def test_modes_that_need_a_judge_refuse_to_run_without_one(db_dir):
    with pytest.raises(ValueError, match="needs a judge"):
        score_pairs(PAIRS, db_dir=db_dir, config=ScoringConfig(mode="both"))
    with pytest.raises(ValueError, match="mode must be one of"):
        score_pairs(PAIRS, db_dir=db_dir, config=ScoringConfig(mode="vibes"))


def test_plan_lists_the_judge_questions_before_any_request(db_dir, judge, server):
    plan = plan_scoring(PAIRS, db_dir=db_dir)
    assert plan.to_judge == [5, 6, 9]
    estimate = judge.estimate(plan.judge_items)
    assert estimate.requests == 3 and server.count() == 0


def test_output_rows_repeat_the_input_and_add_the_verdict(db_dir):
    row = {"id": "a", "db_id": "game", "question": "q", "gold_sql": TOP, "pred_sql": TOP, "model": "smollm2"}
    report = score_pairs([pair_from_row(row)], db_dir=db_dir)
    out = report.rows[0].to_row()
    assert {key: out[key] for key in row} == row
    assert out["match"] is True and out["reason"] == "match" and out["execution"] == "match"


def test_progress_is_reported(db_dir):
    seen = []
    score_pairs(
        PAIRS[:3], db_dir=db_dir, progress=lambda stage, done, total: seen.append((stage, done, total))
    )
    assert seen == [("execution", 3, 3)]  # pairs go to the sandbox in chunks; each chunk reports once
    seen.clear()
    many = [replace(PAIRS[i % 3], id=i) for i in range(2 * _EXECUTION_CHUNK + 2)]
    score_pairs(many, db_dir=db_dir, progress=lambda stage, done, total: seen.append((stage, done, total)))
    chunk, total = _EXECUTION_CHUNK, len(many)
    assert seen == [("execution", chunk, total), ("execution", 2 * chunk, total), ("execution", total, total)]


def test_summary_of_nothing():
    summary = summarize([])
    assert summary.total == 0 and summary.accuracy is None and summary.ex_score is None


def test_sql_dialect_of_database_rows_can_be_mysql(db_dir):
    config = ScoringConfig(mode="execution", execution=ExecutionConfig(dialect="mysql"))
    mysql = pair(
        1,
        "SELECT IFNULL(guild_id, 0) FROM players LIMIT 0, 5",
        gold="SELECT COALESCE(guild_id, 0) FROM players LIMIT 5",
    )
    assert score_pairs([mysql], db_dir=db_dir, config=config).rows[0].match
