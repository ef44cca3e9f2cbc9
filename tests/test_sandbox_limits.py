"""The SQL sandbox's deadline holds even for single expensive steps, and its limits are checked and clear."""

from __future__ import annotations

import math
import os
import re
import sqlite3
import time

import pytest

from evaluation.execution import ExecutionConfig
from evaluation.sandbox import Limits, LimitsError, Sandbox

# One `instr()` over a megabyte is one SQLite VM step of about a second: neither a progress handler
# nor `interrupt()` can stop it, and 40 of them ran 34 s under a 3 s timeout in the probe.
INSTR_40 = (
    "WITH s(h,n) AS (SELECT replace(hex(zeroblob(499000)),'0','a'), "
    "replace(hex(zeroblob(25000)),'0','a')||'b') SELECT " + "+".join(["instr(h,n)"] * 40) + " FROM s"
)
ENDLESS_CTE = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"


@pytest.fixture
def sandbox():
    box, problems = Sandbox.from_statements(["CREATE TABLE t (a INT, b TEXT)"], Limits(timeout_s=1.0))
    assert problems == []
    yield box
    box.close()


def timed(box: Sandbox, sql: str):
    started = time.monotonic()
    result = box.run(sql)
    return result, time.monotonic() - started


def test_single_expensive_steps_stop_at_the_deadline(sandbox):
    result, seconds = timed(sandbox, INSTR_40)
    assert result.timed_out and result.error == "timeout after 1 s"
    assert seconds < 1.0 + 2.0  # it ran ~30 s before


def test_an_endless_recursive_cte_stops_at_the_deadline(sandbox):
    result, seconds = timed(sandbox, ENDLESS_CTE)
    assert result.timed_out and seconds < 1.0 + 2.0


def test_a_timeout_never_reaches_the_next_statement():
    box, _ = Sandbox.from_statements(["CREATE TABLE t (a INT)"], Limits(timeout_s=0.2))
    with box:
        for overrun in [INSTR_40] * 3 + [ENDLESS_CTE] * 10:  # the worker killed, then stopped from inside
            assert box.run(overrun).timed_out
            after = box.run("SELECT COUNT(*) FROM t")
            assert after.ok and after.rows == [(0,)], after.error


def test_statements_sent_ahead_keep_their_own_deadline_and_order(sandbox):
    """`run_many` sends a batch ahead of its replies: an overrun in the middle ends only itself."""
    statements = ["SELECT 1", INSTR_40, "SELECT 2", "UPDATE t SET a = 1", ENDLESS_CTE, "SELECT 3"]
    started = time.monotonic()
    results = sandbox.run_many(statements)
    assert time.monotonic() - started < 2 * (1.0 + 2.0)
    assert [r.rows for r in results if r.ok] == [[(1,)], [(2,)], [(3,)]]
    assert [r.timed_out for r in results] == [False, True, False, False, True, False]
    assert results[3].error == "only SELECT queries may run, not UPDATE"
    many = sandbox.run_many([f"SELECT {i}, '{'x' * 500}'" for i in range(300)])  # several batches
    assert [r.rows[0][0] for r in many] == list(range(300))


def test_a_stream_left_unfinished_never_answers_the_next_statements(sandbox):
    """`stream` sends the next batch before yielding: abandoning it mid-way must not leave replies behind."""
    results = sandbox.stream([f"SELECT {i}" for i in range(200)])
    assert [next(results).rows for _ in range(3)] == [[(0,)], [(1,)], [(2,)]]
    results.close()  # replies to the statements sent ahead are still under way
    assert sandbox.run("SELECT 'next'").rows == [("next",)]
    assert [r.rows[0][0] for r in sandbox.stream([f"SELECT {i}" for i in range(200)])] == list(range(200))


def test_text_that_is_not_utf8_is_replaced_not_fatal(tmp_path):
    path = database(tmp_path / "mixed.sqlite", "CREATE TABLE t (a TEXT)",
                    "INSERT INTO t VALUES (CAST(x'ff41' AS TEXT)), ('좋아')")
    with Sandbox.open_file(path) as box:
        assert box.run("SELECT a FROM t").rows == [("\ufffdA",), ("좋아",)]
        assert box.run("SELECT a FROM t WHERE a = '좋아'").rows == [("좋아",)]


def test_without_rows_a_statement_still_runs_to_the_end_and_under_the_row_cap():
    box, _ = Sandbox.from_statements(["CREATE TABLE t (a INT)"], Limits(timeout_s=1.0, max_rows=1000))
    with box:
        counted = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {}) SELECT x FROM c"
        result = box.run(counted.format(1000), keep_rows=False)
        assert result.ok and result.rows == [] and result.columns == ("x",)
        assert box.run(counted.format(1001), keep_rows=False).error == "result exceeds 1000 rows"
        late = f"SELECT CASE WHEN x = 500 THEN abs(-9223372036854775808) END FROM ({counted.format(600)})"
        assert "integer overflow" in box.run(late, keep_rows=False).error  # an error after the first rows


def test_mysql_functions_only_where_asked(database_file):
    """The data pipeline's gold SQL is MySQL-flavoured (the book's); scoring runs plain SQLite."""
    sql = ("SELECT YEAR(d), MONTH(d), DAY(d), CONCAT(d, '/', 1), CONCAT(d, NULL), length(NOW()), "
           "length(CURDATE()) FROM days")
    with Sandbox.open_file(database_file, mysql_functions=True) as box:
        assert box.run(sql).rows == [(2024, 3, 9, "2024-03-09/1", None, 19, 10)]
    with Sandbox.open_file(database_file) as box:  # scoring stays plain SQLite
        assert box.run(sql).error == "no such function: YEAR"
    schema, _ = Sandbox.from_statements(["CREATE TABLE days (d TEXT)"], mysql_functions=True)
    with schema:
        assert schema.run(sql).ok


def database(path, *statements):
    """A database file made by `statements`."""
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    db.close()
    return path


@pytest.fixture
def database_file(tmp_path):
    return database(tmp_path / "days.sqlite", "CREATE TABLE days (d TEXT)", "INSERT INTO days VALUES ('2024-03-09')")


def test_normal_queries_are_unaffected(sandbox):
    result = sandbox.run("SELECT 1, 'x', NULL, 2.5, x'00', upper('ab') || instr('hello', 'l')")
    assert result.ok and result.rows == [(1, "x", None, 2.5, b"\x00", "AB3")]


def test_values_and_statements_over_the_caps_are_refused_with_the_reason(sandbox):
    assert sandbox.run("SELECT zeroblob(2000000)").error == (
        "string or blob too big: a value over the sandbox's 1,000,000-byte limit"
    )
    assert "too big" in sandbox.run("SELECT replace(hex(zeroblob(600000)), '0', 'a')").error
    assert "too large" in sandbox.run("SELECT '" + "x" * 200_000 + "'").error
    assert "too large" in sandbox.run("SELECT 1" + " + 1" * 300).error
    assert "too many terms" in sandbox.run(" UNION ALL ".join(["SELECT 1"] * 60)).error
    assert "too complex" in sandbox.run("SELECT 'a' LIKE '" + "%a" * 600 + "'").error


def test_memory_is_capped():
    box, _ = Sandbox.from_statements([], Limits(timeout_s=5.0, max_memory_bytes=100_000_000))
    with box:
        result = box.run(
            "WITH RECURSIVE r(x, i) AS (SELECT zeroblob(900000), 1 UNION ALL SELECT x, i + 1 FROM r) "
            "SELECT COUNT(*) FROM (SELECT x FROM r ORDER BY i DESC)"
        )
        assert result.error.startswith("out of memory") or result.timed_out


def test_a_closed_sandbox_leaves_nothing_to_the_next_and_an_overrun_worker_is_never_reused():
    first, _ = Sandbox.from_statements(["CREATE TABLE secret (a INT)"], Limits(timeout_s=0.2))
    first.close()
    with Sandbox.from_statements([], Limits(timeout_s=0.2))[0] as second:
        assert "no such table" in second.run("SELECT * FROM secret").error
        killed = second._process.pid
        assert second.run(INSTR_40).timed_out
        with pytest.raises(ProcessLookupError):
            os.kill(killed, 0)  # killed and reaped
        assert second.run("SELECT 1").rows == [(1,)]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"timeout_s": math.nan}, "timeout_s must be a finite number, not nan"),
        ({"timeout_s": math.inf}, "timeout_s must be a finite number"),
        ({"timeout_s": -1}, "timeout_s must be in (0, 600], not -1"),
        ({"timeout_s": 0}, "timeout_s must be in (0, 600]"),
        ({"timeout_s": "3"}, "timeout_s must be a finite number"),
        ({"max_rows": 0}, "max_rows must be in [1, 10,000,000]"),
        ({"max_rows": 2.5}, "max_rows must be a whole number"),
        ({"max_rows": True}, "max_rows must be a whole number"),
        ({"max_value_bytes": 10**12}, "max_value_bytes must be in"),
    ],
)
def test_limits_are_checked_when_made(changes, message):
    with pytest.raises(LimitsError, match=re.escape(message)):
        Limits(**changes)


def test_execution_config_checks_its_numbers():
    with pytest.raises(LimitsError, match="timeout_s"):
        ExecutionConfig(timeout_s=math.nan)
    with pytest.raises(LimitsError, match="max_open_databases"):
        ExecutionConfig(max_open_databases=0)
