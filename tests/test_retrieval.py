"""The nearest training example (studio.retrieval): alike by phrasing, never from the question's own
database, the same in training rows, evaluation rows and the Playground."""

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from studio import registry
from studio.data.prepare import PrepareOptions, prepare_dataset
from studio.evaluate import Candidate, base_candidate, candidate_prompts
from studio.prompts import BOOK_TEMPLATE, make_prompt
from studio.retrieval import EXAMPLE_HEADER, Example, ExampleIndex, add_examples, prompt_questions, with_example
from studio.settings import load_settings
from studio.text2sql import question_prompt
from studio.training.config import TrainingConfig
from studio.training.runs import insert_run

DDL = "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20));"

POOL = pd.DataFrame({
    "question": ["프로젝트는 모두 몇 개인가요?", "직원의 최소 나이는 얼마인가요?", "가격이 5000원보다 비싼 상품의 이름을 알려주세요.",
                 "고객은 모두 몇 명인가요?", "도서의 최소 쪽수는 얼마인가요?"],
    "answer": ["SELECT COUNT(*) FROM projects;", "SELECT MIN(age) FROM employees;",
               "SELECT name FROM products WHERE price > 5000;", "SELECT COUNT(*) FROM customers;",
               "SELECT MIN(pages) FROM books;"],
    "db_id": ["a", "a", "b", "b", "c"],
})


@pytest.fixture(scope="module")
def index():
    return ExampleIndex(POOL["question"], POOL["answer"], POOL["db_id"])


def test_the_example_is_phrased_alike_whatever_the_nouns_and_values(index):
    found = index.nearest("퀘스트는 모두 몇 개인가요?", "game")
    assert found == Example("프로젝트는 모두 몇 개인가요?", "SELECT COUNT(*) FROM projects;", "a")
    # Values are placeholders: a price of 7 or of 7,000,000 asks the same thing.
    assert index.nearest("가격이 7,000,000원보다 비싼 장비의 이름을 알려주세요.", "game").db_id == "b"
    assert index.nearest("플레이어의 최소 레벨은 얼마인가요?", "game").sql.startswith("SELECT MIN(")


def test_the_example_never_comes_from_the_questions_own_database(index):
    assert index.nearest("프로젝트는 모두 몇 개인가요?", "a").sql == "SELECT COUNT(*) FROM customers;"
    assert index.nearest("직원의 최소 나이는 얼마인가요?", "a").db_id == "c"
    only_own = ExampleIndex(["질문"], ["SELECT 1;"], ["x"])
    assert only_own.nearest("질문", "x") is None
    assert only_own.nearest("질문", None).sql == "SELECT 1;"  # the Playground: any database


def test_an_adapted_database_draws_from_its_own_rows_never_the_same_question_or_sql():
    """A version adapted to a user's database shows that database's questions an example with its real names."""
    own = ExampleIndex(POOL["question"], POOL["answer"], POOL["db_id"], own_examples=["a"])
    assert own.nearest("프로젝트는 모두 몇 개인가요?", "a").sql == "SELECT MIN(age) FROM employees;"  # not itself
    assert own.nearest("직원은 모두 몇 명인가요?", "a").sql == "SELECT COUNT(*) FROM projects;"
    assert own.nearest("직원은 모두 몇 명인가요?", "a", unlike_sql="SELECT COUNT(*) FROM projects;").db_id == "a"
    assert own.nearest("직원은 모두 몇 명인가요?", "a", unlike_sql="SELECT COUNT(*) FROM projects;").sql \
        == "SELECT MIN(age) FROM employees;"
    assert own.nearest("프로젝트는 모두 몇 개인가요?", "b").db_id == "a"  # other databases: as before
    training = add_examples(POOL, own, training=True)
    assert (training["example_sql"] != POOL["answer"]).all()
    assert set(training.loc[POOL["db_id"] == "a", "example_sql"]) <= set(POOL.loc[POOL["db_id"] == "a", "answer"])


def test_a_question_sharing_nothing_still_gets_a_stable_example(index):
    assert index.nearest("zzz", "a") == index.nearest("qqq", "a") == index.examples[2]


def test_ties_go_to_the_earlier_row():
    twins = ExampleIndex(["같은 질문", "같은 질문"], ["SELECT 1;", "SELECT 2;"], ["a", "b"])
    assert twins.nearest("같은 질문", "c").sql == "SELECT 1;"


def test_the_prompt_shows_the_example_after_the_question_and_the_book_prompt_without_one():
    example = Example("프로젝트는 모두 몇 개인가요?", "SELECT COUNT(*) FROM projects;", "a")
    shown = with_example("퀘스트는 모두 몇 개인가요?", example)
    assert shown == f"퀘스트는 모두 몇 개인가요?\n\n{EXAMPLE_HEADER}\n프로젝트는 모두 몇 개인가요?\nSELECT COUNT(*) FROM projects;"
    prompt = make_prompt("CREATE TABLE quests (quest_id INT);", shown)
    assert prompt.index("### Question:") < prompt.index(EXAMPLE_HEADER) < prompt.index("### SQL:")
    assert with_example("질문", None) == "질문"


def test_rows_carry_their_example_and_render_with_it(index):
    rows = add_examples(pd.DataFrame({"question": ["퀘스트는 모두 몇 개인가요?"], "db_id": ["game"]}), index)
    assert rows.loc[0, "example_sql"] == "SELECT COUNT(*) FROM projects;"
    assert prompt_questions(rows) == [with_example(rows.loc[0, "question"], index.examples[0])]
    book = pd.DataFrame({"question": ["질문"], "db_id": ["x"]})
    assert prompt_questions(book) == ["질문"]  # a version prepared with the book's prompt
    none_found = add_examples(pd.DataFrame({"question": ["질문"], "db_id": ["x"]}),
                              ExampleIndex(["질문"], ["SELECT 1;"], ["x"]))
    assert prompt_questions(none_found) == ["질문"]


def registered_run(name: str, version: str | None) -> str:
    """A run as the worker records one, trained on `version` (a prepared data set) or on a folder (None)."""
    settings = load_settings()
    with registry.session(settings.registry_path) as db:
        job_id = db.execute(
            "INSERT INTO jobs (name, status, config, dataset_ref, dataset_version, train_rows, model_path,"
            " loss_scale, created_at) VALUES (?, 'succeeded', ?, ?, ?, 4, 'm', 1.0, '2026-12')",
            (name, TrainingConfig().to_json(), version or "/rows", version)).lastrowid
        return insert_run(db, name=name, job_id=job_id, base_model="m", base_model_path=Path("m"),
                          dataset_ref=version or "/rows", dataset_version=version, train_rows=4,
                          adapter_path=Path("a"), merged=False, config=TrainingConfig(), duration_s=1.0,
                          train_runtime_s=1.0, final_loss=1.0, train_loss=1.0, tokens_per_s=None,
                          hardware={}, software={})


def trained(run: str) -> Candidate:
    return Candidate(label=run, base_model="m", run_name=run)  # as run_candidate makes it, without loading


def test_a_run_trained_with_examples_is_asked_with_its_own_in_evaluate_and_the_playground(studio_home, tmp_path):
    rows = POOL.assign(context=DDL).assign(db_id=["a", "a", "b", "b", "held"])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    options = PrepareOptions(holdout_db_ids=("held",), exec_filter=False)
    version = prepare_dataset(tmp_path / "rows.csv", options)
    book = prepare_dataset(tmp_path / "rows.csv", replace(options, examples=False))
    settings = load_settings()
    with_examples, on_book, on_folder = (registered_run(name, v) for name, v in
                                         (("ex", version.id), ("book", book.id), ("folder", None)))
    question = "퀘스트는 모두 몇 개인가요?"
    expected = make_prompt(DDL, with_example(question, Example(*POOL.iloc[0][["question", "answer"]], "a")))
    assert question_prompt(DDL, question, with_examples) == expected  # the Playground and `infer`
    assert question_prompt(DDL, question, on_book) == question_prompt(DDL, question, on_folder) \
        == question_prompt(DDL, question) == make_prompt(DDL, question)
    # Evaluate: a set without examples gets the run's own; a set with examples keeps the set's.
    plain = pd.DataFrame({"context": [DDL], "question": [question], "db_id": ["game"]})
    assert candidate_prompts(trained(with_examples), plain, BOOK_TEMPLATE, settings) == [expected]
    assert candidate_prompts(trained(on_book), plain, BOOK_TEMPLATE, settings) == [make_prompt(DDL, question)]
    assert candidate_prompts(base_candidate("m"), version.eval_frame(), BOOK_TEMPLATE, settings) == [
        make_prompt(DDL, with_example(r["question"], Example(r["example_question"], r["example_sql"], "")))
        for _, r in version.eval_frame().iterrows()]


def test_with_one_training_database_no_row_gets_an_example_and_neither_does_the_playground(studio_home, tmp_path):
    rows = POOL.assign(context=DDL).assign(db_id=["a", "a", "a", "a", "held"])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    version = prepare_dataset(tmp_path / "rows.csv", PrepareOptions(holdout_db_ids=("held",), exec_filter=False))
    assert prompt_questions(version.train_frame()) == list(version.train_frame()["question"])
    run = registered_run("single", version.id)
    assert question_prompt(DDL, "질문", run) == make_prompt(DDL, "질문")
