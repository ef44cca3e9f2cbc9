"""Asking a database (studio.text2sql.ask_database, the Playground's database section and the documented
`text2sql_answer` API endpoint): its schema is the prompt's DDL, the answer runs on it read-only, first rows out;
only the studio's listed databases can be named."""

from __future__ import annotations

import json
import sqlite3

import pytest
from gradio_client import Client

from studio.text2sql import COUNTED_ROWS, PREVIEW_ROWS, run_preview
from tests.test_app import running_app  # noqa: F401 - the launched app fixture

QUESTION = "레벨이 가장 높은 플레이어의 이름은?"


@pytest.fixture
def numbers(tmp_path):
    path = tmp_path / "numbers.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE n (i INTEGER)")
        db.executemany("INSERT INTO n VALUES (?)", [(i,) for i in range(COUNTED_ROWS + 5)])
    return path


def test_the_preview_shows_the_first_rows_counts_what_it_can_and_never_writes(numbers):
    columns, rows, count, error = run_preview(numbers, "SELECT i FROM n WHERE i < 30 ORDER BY i")
    assert (columns, rows, count, error) == (("i",), [(i,) for i in range(PREVIEW_ROWS)], 30, "")
    columns, rows, count, error = run_preview(numbers, "SELECT i FROM n ORDER BY i DESC;")
    assert rows[0] == (COUNTED_ROWS + 4,) and len(rows) == PREVIEW_ROWS and count is None and error == ""
    _, rows, _, error = run_preview(numbers, "DELETE FROM n")
    assert rows == [] and "only SELECT" in error.replace("select", "SELECT")
    with sqlite3.connect(numbers) as db:
        assert db.execute("SELECT count(*) FROM n").fetchone() == (COUNTED_ROWS + 5,)


def test_the_endpoint_answers_about_a_listed_database_and_refuses_anything_else(running_app,  # noqa: F811
                                                                                sample_version_id):
    client = Client(running_app, verbose=False, headers={"Accept-Language": "en-US"})
    answer = json.loads(client.predict(f"{sample_version_id}/1", QUESTION, "smollm2-135m-instruct", "", 48,
                                       api_name="/text2sql_answer"))
    assert set(answer) == {"sql", "runs_on_schema", "schema_message", "columns", "rows", "row_count", "error",
                           "model"}
    assert answer["sql"].upper().startswith("SELECT")  # schema-constrained: a query over the game's tables
    if answer["runs_on_schema"]:  # the database has that schema: what runs on it empty runs on it full
        assert answer["error"] == "" and len(answer["rows"]) <= PREVIEW_ROWS and answer["columns"]
    for name in ("/etc/passwd", f"{sample_version_id}/../../registry", "ds-000000000000/1"):
        with pytest.raises(Exception, match="not one of the studio's databases"):
            client.predict(name, QUESTION, api_name="/text2sql_answer")
    sql, status, result, ddl = client.predict("smollm2-135m-instruct", "", f"{sample_version_id}/1", QUESTION,
                                              48, True, api_name="/playground_ask_database")
    assert sql == answer["sql"] and "CREATE TABLE" in ddl and ("Ran on the database" in status
                                                                or "did not run" in status)
