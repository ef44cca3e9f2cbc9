"""Preparation: split, filters, fraction, the files AutoTrain reads, and versions in the registry."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest

from studio.data.execution import GoldChecker
from studio.data.prepare import PrepareOptions, prepare_dataset, take_fraction
from studio.data.sample import SYNTHESIZED_DB_IDS
from studio.data.sources import load_source
from studio.data.versions import get_version, list_versions, versions_table
from studio.errors import StudioError
from studio.settings import load_settings
from studio.prompts import make_prompt
from studio.retrieval import Example, with_example
from tests.data_fixtures import BOOK_DDL, install_sample, write_hub_standin


@pytest.fixture
def sample_home(studio_home):
    install_sample(studio_home)
    return studio_home


def test_the_book_split_writes_what_autotrain_and_evaluation_read(sample_home):
    version = prepare_dataset("sample")
    train = pd.read_csv(version.train_csv)
    rows = version.train_frame()
    evaluation = version.eval_frame()
    assert list(train.columns) == ["text"] and len(train) == len(rows) == version.train_rows >= 6000
    # Each prompt shows the nearest training example of another database (studio.retrieval), in training
    # as in evaluation: never one from the game, which no training row comes from.
    first = rows.iloc[0]
    example = Example(first["example_question"], first["example_sql"], "")
    assert train.loc[0, "text"] == make_prompt(
        first["context"], with_example(first["question"], example), first["answer"])
    databases_of: dict[tuple[str, str], set[str]] = {}
    for q, a, d in zip(rows["question"], rows["answer"], rows["db_id"]):
        databases_of.setdefault((q, a.strip()), set()).add(d)
    assert all(databases_of[(q, a)] - {d} for q, a, d in zip(rows["example_question"], rows["example_sql"],
                                                               rows["db_id"]))
    assert set(evaluation["example_question"]) <= set(rows["question"])
    assert set(evaluation["db_id"]) == {"1"} and "1" not in set(rows["db_id"])
    assert list(evaluation.columns) == ["id", "db_id", "context", "question", "answer", "difficulty",
                                        "example_question", "example_sql"]
    assert evaluation["id"].is_unique and len(evaluation) == version.eval_rows >= 300
    # Every schema trains (the 7 hand-written and the 120 synthesized), the game only evaluates.
    assert set(rows["db_id"]) == {str(i) for i in range(2, 9)} | SYNTHESIZED_DB_IDS
    assert sorted(p.name for p in version.databases_dir.iterdir()) == sorted(
        [f"{i}.sqlite" for i in range(1, 9)] + [f"{d}.sqlite" for d in SYNTHESIZED_DB_IDS]
    )
    assert list(version.autotrain_dir.iterdir()) == [
        version.train_csv
    ]  # nothing else for AutoTrain to pick up
    record = json.loads((version.path / "version.json").read_text())
    assert record["id"] == version.id and record["counts"]["exec_filter"]["train_dropped"] == {}
    assert version.path == sample_home / "datasets" / version.id


def test_without_examples_the_prompt_is_the_books_exactly(sample_home):
    version = prepare_dataset("sample", PrepareOptions(fraction=0.2, examples=False))
    rows, texts = version.train_frame(), pd.read_csv(version.train_csv)["text"]
    assert "example_question" not in rows and "example_question" not in version.eval_frame()
    assert list(texts) == [make_prompt(c, q, a) for c, q, a in zip(rows["context"], rows["question"], rows["answer"])]


def test_same_input_and_options_give_the_same_version(sample_home):
    first = prepare_dataset("sample", PrepareOptions(fraction=0.2, name="twenty"))
    again = prepare_dataset("sample", PrepareOptions(fraction=0.2, name="another name"))
    other = prepare_dataset("sample", PrepareOptions(fraction=0.4))
    assert again.id == first.id and again.name == "twenty" and other.id != first.id
    assert {v.id for v in list_versions()} == {first.id, other.id}
    assert get_version(first.id).counts == first.counts
    assert set(versions_table()["id"]) == {first.id, other.id}
    with pytest.raises(StudioError, match="no prepared data set 'ds-nope'"):
        get_version("ds-nope")
    # Saved within one second (created_at has whole seconds): the one saved last is listed first.
    db = sqlite3.connect(load_settings().registry_path)
    with db:
        db.execute("UPDATE datasets SET created_at = '2026-11-23T12:00:00+00:00'")
    db.close()
    assert [v.id for v in list_versions()] == [other.id, first.id]


def test_fractions_are_nested_and_reproducible():
    frame = pd.DataFrame({"question": [f"q{i}" for i in range(100)]})
    twenty, forty = take_fraction(frame, 0.2, 42), take_fraction(frame, 0.4, 42)
    assert len(twenty) == 20 and len(forty) == 40
    assert set(twenty["question"]) <= set(forty["question"])
    assert take_fraction(frame, 0.2, 42).equals(twenty) and not take_fraction(frame, 0.2, 7).equals(twenty)


def test_random_split_and_errors(sample_home):
    loaded = load_source("sample")
    version = prepare_dataset(loaded, PrepareOptions(eval_fraction=0.1, exec_filter=False, fraction=0.2))
    assert version.eval_rows == round(len(loaded.frame) * 0.1)
    assert version.options["split"] == "random:0.1" and version.options["exec_filter"] is False
    with pytest.raises(StudioError, match="held-out database\\(s\\) 42 not in the data"):
        prepare_dataset(loaded, PrepareOptions(holdout_db_ids=("42",)))
    with pytest.raises(StudioError, match="the fraction must be in"):
        prepare_dataset(loaded, PrepareOptions(fraction=0))
    with pytest.raises(StudioError, match="must contain \\{question\\}"):
        prepare_dataset(loaded, PrepareOptions(prompt_template="{ddl} {query}"))


def test_ddl_only_data_is_checked_on_an_empty_database_built_from_the_ddl(tmp_path, studio_home):
    repo = write_hub_standin(tmp_path / "ko_text2sql")
    version = prepare_dataset(f"hub:{repo}:origin", PrepareOptions(exec_timeout_s=1.0))
    # row "player" (no such table) is dropped; the MySQL YEAR() answer runs through the compatibility functions
    assert version.counts["exec_filter"]["train_dropped"] == {"no such table": 1}
    assert version.train_rows == 2 and version.eval_rows == 1
    with sqlite3.connect(version.databases_dir / "1.sqlite") as conn:
        tables = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        assert tables.fetchall() == [("players",)]
        assert conn.execute("SELECT COUNT(*) FROM players").fetchone() == (0,)
    unfiltered = prepare_dataset(f"hub:{repo}:origin", PrepareOptions(exec_filter=False))
    assert unfiltered.train_rows == 3 and unfiltered.id != version.id


def test_judge_filter_and_custom_template(tmp_path, studio_home):
    rows = pd.DataFrame(
        {
            "db_id": ["1", "2", "2", "2"],
            "context": [BOOK_DDL] * 4,
            "question": ["평가 질문", "좋은 질문", "나쁜 질문", "또 좋은 질문"],
            "answer": [
                "SELECT 1;",
                "SELECT COUNT(*) FROM players;",
                "SELECT email FROM players;",
                "SELECT 2;",
            ],
        }
    )
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    seen = []

    def keep_good(frame: pd.DataFrame):
        seen.append(len(frame))
        return [not q.startswith("나쁜") for q in frame["question"]]

    template = "DDL:\n{ddl}\nQ: {question}\nSQL: {query}"
    version = prepare_dataset(path, PrepareOptions(prompt_template=template), judge=keep_good)
    assert seen == [3] and version.counts["judge_filter"] == {"train_dropped": 1}
    assert version.options["judge"] == "keep_good" and version.prompt_template == template
    texts = pd.read_csv(version.train_csv)["text"]
    assert len(texts) == 2 and all(t.startswith("DDL:\nCREATE TABLE players") for t in texts)


def test_progress_is_reported(sample_home):
    calls = []
    prepare_dataset("sample", PrepareOptions(fraction=0.2), progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and calls[-1][1].startswith("saved ds-")


def test_gold_sql_checks_run_in_batches_with_their_own_reasons_and_deadlines(tmp_path):
    """One database's rows run as a batch in the evaluation sandbox; each keeps its own reason and deadline,
    MySQL-only SQL runs through the function shims or the transpile fallback, and a write is not a query."""
    database = tmp_path / "shop.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE items (id INTEGER, name TEXT, added TEXT)")
        db.execute("INSERT INTO items VALUES (1, 'pen', '2024-03-09')")
    db.close()
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    answers = {
        "SELECT name FROM items": None,
        "SELECT YEAR(added) FROM items": None,
        "SELECT DATE_FORMAT(added, '%Y') FROM items": None,  # no shim: runs transpiled
        endless: "timeout",
        "SELECT nope FROM items": "no such column",
        "SELECT * FROM item": "no such table",
        "SELECT 1; SELECT 2": "more than one statement",
        "SELEC name FROM items": "syntax error",
        "DELETE FROM items": "not a SELECT query",
    }
    checker = GoldChecker({"shop": database}, timeout_s=1.0)
    try:
        on_file = checker.check_rows([("shop", "", sql) for sql in answers])
        on_ddl = checker.check_rows([("other", BOOK_DDL, "SELECT YEAR(date_joined) FROM players"),
                                     ("other", BOOK_DDL, "SELECT name FROM items"),
                                     ("bad", "CREATE TABLE (", "SELECT 1")])
        assert checker.check("shop", "", "SELECT COUNT(*) FROM items") is None
    finally:
        checker.close()
    assert dict(zip(answers, on_file)) == answers
    assert on_ddl == [None, "no such table", "the DDL does not parse"]
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM items").fetchone() == (1,)
    db.close()
