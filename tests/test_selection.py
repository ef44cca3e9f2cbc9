"""Execution-guided selection: the answer most candidates agree on by result, its fall-backs, sampled candidates
from the real model under the schema grammar, and how an evaluation with selection is recorded."""

import sqlite3

import pytest

from evaluation.execution import ExecutionMatcher, check_against_ddl
from studio.data import get_version
from studio.errors import StudioError
from studio.evaluate import EvalOptions, base_candidate, eval_set_from_version, evaluate
from studio.inference import GenerationOptions, Sampling, get_generator
from studio.leaderboard import load_board
from studio.prompts import make_prompt
from studio.selection import run_candidates, select, select_answers

DDL = "CREATE TABLE players (id INTEGER PRIMARY KEY, name TEXT, level INTEGER);"
ROW = {"db_id": "game", "context": DDL}


@pytest.fixture
def db_dir(tmp_path):
    db = sqlite3.connect(tmp_path / "game.sqlite")
    db.execute(DDL)
    db.executemany("INSERT INTO players VALUES (?, ?, ?)", [(1, "ari", 3), (2, "bo", 12), (3, "cy", 30)])
    db.commit()
    db.close()
    return tmp_path


def _pick(candidates, db_dir):
    return select_answers([candidates], [ROW], db_dir)[0]


def test_the_result_most_candidates_agree_on_wins(db_dir):
    candidates = ["SELECT name FROM players WHERE level > 100;",  # greedy: runs, but no one agrees with it
                  "SELECT name FROM players WHERE level >= 10;",
                  "SELECT name FROM players WHERE level > 5 ORDER BY id DESC;",  # the same rows, another order
                  "SELECT id FROM players WHERE level >= 10;"]
    pick = _pick(candidates, db_dir)
    assert (pick.index, pick.agreed, pick.ran, pick.total) == (1, 2, 4, 4)
    assert pick.note == "selection: candidate 2 of 4, 2 of 4 that ran agree"


def test_columns_in_another_order_agree_and_ordered_results_must_keep_their_order(db_dir):
    candidates = ["SELECT name, level FROM players ORDER BY level;",
                  "SELECT level, name FROM players ORDER BY level DESC;",  # both ordered: the order differs
                  "SELECT level, name FROM players ORDER BY level;"]
    assert _pick(candidates, db_dir).index == 0 and _pick(candidates, db_dir).agreed == 2


def test_a_tie_goes_to_the_earliest_that_runs(db_dir):
    candidates = ["SELECT nickname FROM players;",  # fails: no such column
                  "SELECT name FROM players WHERE id = 1;",
                  "SELECT name FROM players WHERE id = 2;",
                  "SELECT name FROM players WHERE id = 2;",
                  "SELECT name FROM players WHERE id = 1;"]
    pick = _pick(candidates, db_dir)
    assert (pick.index, pick.agreed, pick.ran) == (1, 2, 4)
    assert _pick(candidates[:3], db_dir).index == 1  # no agreement at all: the first that runs


def test_when_no_candidate_runs_the_greedy_one_is_kept(db_dir):
    candidates = ["SELECT nickname FROM players;", "DELETE FROM players;", "", "SELECT * FROM quests;"]
    pick = _pick(candidates, db_dir)
    assert (pick.index, pick.agreed, pick.ran) == (0, 0, 0)
    assert pick.note == "selection: none of 4 candidates ran, the greedy one kept"
    assert sqlite3.connect(db_dir / "game.sqlite").execute("SELECT count(*) FROM players").fetchone() == (3,)


def test_without_a_database_the_ddl_schema_decides_what_runs():
    pick = select_answers([["SELECT nickname FROM players;", "SELECT name FROM players;"]], [ROW], None)[0]
    assert (pick.index, pick.ran) == (1, 1)


def test_a_statement_several_candidates_wrote_runs_once(db_dir):
    class Counting(ExecutionMatcher):
        runs = 0

        def results(self, *args, **kwargs):
            Counting.runs += 1
            return super().results(*args, **kwargs)

    sqls = ["SELECT name FROM players;"] * 3 + ["SELECT id FROM players;"]
    with Counting() as matcher:
        outcomes = run_candidates(matcher, sqls, [db_dir / "game.sqlite"], DDL)
    assert Counting.runs == 2 and select(sqls, outcomes).agreed == 3


def test_candidates_are_bounded():
    with pytest.raises(StudioError):
        EvalOptions(candidates=0)
    with pytest.raises(StudioError):
        EvalOptions(candidates=17)
    with pytest.raises(StudioError):
        EvalOptions(candidates=3, temperature=0)
    assert EvalOptions(candidates=5).decoding == "schema+select5"
    assert EvalOptions(candidates=5, constrained=False, temperature=1.0).decoding == "free+select5@t1s0"
    assert EvalOptions().decoding == "schema"


def test_cached_answers_are_keyed_by_the_grammars_revision():
    """A grammar change can change answers: the cache key carries its revision, the leaderboard row does not."""
    from studio.sql_grammar import GRAMMAR_REVISION

    assert EvalOptions(candidates=2).generation_keys == [f"schema@{GRAMMAR_REVISION}",
                                                         f"schema@{GRAMMAR_REVISION}+sample1@t0.7s0"]
    assert EvalOptions(constrained=False).generation_keys == ["free"]


# --- with the real offline model -------------------------------------------------------------------------

QUESTIONS = ["레벨이 10 이상인 플레이어의 이름은?", "플레이어는 모두 몇 명인가?"]


@pytest.fixture(scope="module")
def base_model(model_home):
    from studio.settings import DEFAULT_MODEL

    return get_generator(model_home / "models" / DEFAULT_MODEL)


def _runs_on_schema(sql: str) -> bool:
    return check_against_ddl(DDL, sql, dialect="sqlite")[0]


def test_sampled_candidates_under_the_grammar_are_selects_that_run_and_repeat_with_their_seed(base_model):
    prompts = [make_prompt(DDL, q) for q in (QUESTIONS[0], QUESTIONS[0], QUESTIONS[0], QUESTIONS[1])]
    sampling = [Sampling(seed=0), Sampling(seed=0), Sampling(seed=1), Sampling(seed=0)]
    options = GenerationOptions(max_new_tokens=24)
    shared = [c.text for c in base_model.generate(prompts, options, ddls=[DDL] * 4, sampling=sampling)]
    assert all(text.strip().startswith("SELECT") and _runs_on_schema(text) for text in shared), shared
    assert shared[0] == shared[1] != shared[2]  # the same seed, the same candidate; another seed, another
    # The plain `generate` path draws the same way (one draw per token from the row's own generator).
    plain = base_model.generate(prompts[2:], GenerationOptions(max_new_tokens=24, prefix_cache=False),
                                ddls=[DDL] * 2, sampling=sampling[2:])
    assert [c.text for c in plain] == shared[2:]


def test_no_sampling_is_todays_greedy_answer(base_model):
    prompts, options = [make_prompt(DDL, QUESTIONS[1])], GenerationOptions(max_new_tokens=16)
    greedy = base_model.generate(prompts, options, ddls=[DDL])
    assert base_model.generate(prompts, options, ddls=[DDL], sampling=[None]) == greedy


def test_an_evaluation_with_selection_is_recorded_as_its_own_decoding(offline_model, sample_version_id):
    eval_set = eval_set_from_version(get_version(sample_version_id).id)
    greedy = evaluate(base_candidate("smollm2-135m-instruct"), eval_set,
                      EvalOptions(mode="execution", max_new_tokens=20, limit=2))
    options = EvalOptions(mode="execution", max_new_tokens=20, limit=2, candidates=3)
    selected = evaluate(base_candidate("smollm2-135m-instruct"), eval_set, options)
    assert selected.new_generations == 4  # two sampled candidates a row; the greedy ones are reused
    assert all("selection: " in row["reason"] for row in selected.rows)
    again = evaluate(base_candidate("smollm2-135m-instruct"), eval_set, options)
    assert again.new_generations == 0 and [r["completion"] for r in again.rows] == [
        r["completion"] for r in selected.rows]
    assert greedy.rows[0]["reason"].count("selection") == 0
    board = load_board()
    modes = set(board[board["run"] == "base:smollm2-135m-instruct"]["mode"])
    assert {"execution+schema", "execution+schema+select3"} <= modes
