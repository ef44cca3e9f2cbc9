"""Execution match: labelled pairs for every classic pitfall, a sandbox that cannot change the database,
queries that cannot run away, several databases of one schema, and DDL-only checks."""

import hashlib
import sqlite3
import time
from contextlib import closing

import pytest

from evaluation.execution import (
    DECIDED,
    EMPTY,
    GOLD_ERROR,
    MATCH,
    MISMATCH,
    NO_DATABASE,
    PRED_ERROR,
    SCHEMA_ONLY,
    TIMEOUT,
    ExecutionConfig,
    ExecutionMatcher,
    check_against_ddl,
    execution_match,
    find_databases,
)
from evaluation.sandbox import Limits, Sandbox
from evaluation.testing.sample_db import GAME_DDL, build_game_database

PLAYERS = [
    (1, "아리", "mage", 10, 100.5, "red"),
    (2, "보라", "warrior", 20, 200.25, None),
    (3, "찬", "mage", 20, 50.0, "blue"),
    (4, "다온", "archer", 35, None, "red"),
    (5, "에릭", "warrior", 35, 0.1, None),
]
ITEMS = [
    (1, 1, "sword", 10.0),
    (2, 1, "shield", 5.5),
    (3, 2, "bow", 7.25),
    (4, 3, "sword", 10.0),
    (5, 5, "staff", 0.2),
]


def make_db(path, players=PLAYERS):
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(
            "CREATE TABLE players (id INTEGER PRIMARY KEY, name TEXT, class TEXT, level INT, gold REAL, "
            "guild TEXT)"
        )
        connection.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, player_id INT, name TEXT, price REAL)"
        )
        connection.executemany("INSERT INTO players VALUES (?, ?, ?, ?, ?, ?)", players)
        connection.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", ITEMS)
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("pitfalls") / "game.sqlite")


@pytest.fixture(scope="module")
def big_db(tmp_path_factory):
    return build_game_database(tmp_path_factory.mktemp("game") / "game.sqlite", players=300)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# (gold, prediction, match?) — each line one pitfall.
LABELLED = {
    # ordering: only a gold ORDER BY makes order matter
    "same order": (
        "SELECT name FROM players ORDER BY id DESC",
        "SELECT name FROM players ORDER BY id DESC",
        True,
    ),
    "reversed order": (
        "SELECT name FROM players ORDER BY id DESC",
        "SELECT name FROM players ORDER BY id",
        False,
    ),
    "gold unordered": ("SELECT name FROM players", "SELECT name FROM players ORDER BY name DESC", True),
    "order in subquery only": (
        "SELECT name FROM (SELECT name, id FROM players ORDER BY id DESC)",
        "SELECT name FROM players ORDER BY id",
        True,
    ),
    "order with ties": (
        "SELECT level FROM players ORDER BY level",
        "SELECT level FROM players ORDER BY level, name DESC",
        True,
    ),
    # duplicates: results are bags
    "distinct drops duplicates": ("SELECT class FROM players", "SELECT DISTINCT class FROM players", False),
    "distinct vs group by": (
        "SELECT DISTINCT class FROM players",
        "SELECT class FROM players GROUP BY class",
        True,
    ),
    "join duplicates": (
        "SELECT DISTINCT p.name FROM players p JOIN items i ON i.player_id = p.id",
        "SELECT p.name FROM players p JOIN items i ON i.player_id = p.id",
        False,
    ),
    # aliases and names never matter
    "column alias": ("SELECT name AS n FROM players", "SELECT p.name FROM players AS p", True),
    "count alias": ("SELECT COUNT(*) AS cnt FROM players", "SELECT COUNT(id) FROM players", True),
    # column order
    "swapped columns": ("SELECT name, level FROM players", "SELECT level, name FROM players", True),
    "swapped columns ordered": (
        "SELECT name, level FROM players ORDER BY level, id",
        "SELECT level, name FROM players ORDER BY level, id",
        True,
    ),
    "same values other column": (
        "SELECT id, level FROM players WHERE id = 1",
        "SELECT level, id FROM players WHERE id = 1",
        True,
    ),
    # NULLs
    "= NULL is not IS NULL": (
        "SELECT name FROM players WHERE guild IS NULL",
        "SELECT name FROM players WHERE guild = NULL",
        False,
    ),
    "NULL vs empty string": (
        "SELECT name, guild FROM players",
        "SELECT name, COALESCE(guild, '') FROM players",
        False,
    ),
    "NULLs equal NULLs": ("SELECT gold FROM players", "SELECT players.gold FROM players", True),
    "COUNT(col) skips NULL": ("SELECT COUNT(gold) FROM players", "SELECT COUNT(*) FROM players", False),
    # floats
    "average two ways": ("SELECT AVG(price) FROM items", "SELECT SUM(price) / COUNT(price) FROM items", True),
    "float noise": ("SELECT 0.1 + 0.2", "SELECT 0.3", True),
    "int vs float": ("SELECT SUM(level) FROM players", "SELECT SUM(level * 1.0) FROM players", True),
    "rounded is different": ("SELECT AVG(price) FROM items", "SELECT ROUND(AVG(price), 1) FROM items", False),
    "integer division": (
        "SELECT AVG(player_id) FROM items",
        "SELECT SUM(player_id) / COUNT(*) FROM items",
        False,
    ),
    # extra and missing columns
    "extra column": ("SELECT name FROM players", "SELECT id, name FROM players", False),
    "missing column": ("SELECT name, level FROM players", "SELECT name FROM players", False),
    "star": ("SELECT name FROM players", "SELECT * FROM players", False),
    "extra column on empty results": (
        "SELECT name FROM players WHERE level > 99",
        "SELECT name, id FROM players WHERE level > 99",
        False,
    ),
    "both empty": (
        "SELECT name FROM players WHERE level > 99",
        "SELECT name FROM players WHERE level < 0",
        True,
    ),
    # model output around the statement
    "fenced": (
        "SELECT name FROM players WHERE level = 20",
        "```sql\nSELECT name FROM players WHERE level = 20;\n```\n설명: ...",
        True,
    ),
    "explanation after": (
        "SELECT name FROM players WHERE level = 20",
        "SELECT name FROM players WHERE level = 20;\n\nThis query ...",
        True,
    ),
    "next prompt section": (
        "SELECT name FROM players",
        "SELECT name FROM players\n\n### Question:\n다음",
        True,
    ),
    "several statements": ("SELECT name FROM players", "SELECT name FROM players; DROP TABLE players;", True),
    "gold with semicolon": ("SELECT name FROM players;", "SELECT name FROM players", True),
    # wrong answers
    "wrong filter": (
        "SELECT name FROM players WHERE level >= 20",
        "SELECT name FROM players WHERE level > 20",
        False,
    ),
    "wrong join": (
        "SELECT p.name FROM players p JOIN items i ON i.player_id = p.id WHERE i.name = 'sword'",
        "SELECT p.name FROM players p JOIN items i ON i.id = p.id WHERE i.name = 'sword'",
        False,
    ),
}


@pytest.mark.parametrize("gold, pred, expected", LABELLED.values(), ids=LABELLED.keys())
def test_labelled_pairs(db, gold, pred, expected):
    verdict = execution_match(gold, pred, [db])
    assert verdict.match is expected, verdict.reason
    assert verdict.status == (MATCH if expected else MISMATCH)
    assert verdict.reason.startswith("match" if expected else "wrong result: ")


def test_reasons_say_what_differs(db):
    assert execution_match("SELECT name FROM players", "SELECT id, name FROM players", [db]).reason == (
        "wrong result: 2 columns, expected 1"
    )
    assert execution_match("SELECT name FROM players", "SELECT name FROM players LIMIT 1", [db]).reason == (
        "wrong result: 1 row, expected 5"
    )
    reversed_order = execution_match(
        "SELECT id FROM players ORDER BY id", "SELECT id FROM players ORDER BY id DESC", [db]
    )
    assert reversed_order.reason == "wrong result: rows in a different order"


@pytest.mark.parametrize(
    "pred, status, reason",
    [
        ("", EMPTY, "empty prediction"),
        (None, EMPTY, "empty prediction"),
        ("```sql\n```", EMPTY, "empty prediction"),
        ("SELECT nickname FROM players", PRED_ERROR, "pred error: no such column: nickname"),
        ("SELECT name FROM heroes", PRED_ERROR, "pred error: no such table: heroes"),
        ("SELEC name FROM players", PRED_ERROR, "pred error: only SELECT queries may run, not SELEC"),
    ],
)
def test_predictions_that_cannot_match(db, pred, status, reason):
    verdict = execution_match("SELECT name FROM players", pred, [db])
    assert (verdict.status, verdict.reason) == (status, reason)
    assert verdict.decided and not verdict.match


def test_a_broken_gold_leaves_the_pair_undecided(db):
    verdict = execution_match("SELECT nickname FROM players", "SELECT name FROM players", [db])
    assert verdict.status == GOLD_ERROR and verdict.reason == "gold error: no such column: nickname"
    assert not verdict.decided


def test_no_database_is_undecided():
    verdict = execution_match("SELECT 1", "SELECT 1", [])
    assert verdict.status == NO_DATABASE and not verdict.decided


DESTRUCTIVE = [
    "DELETE FROM players",
    "DROP TABLE players",
    "UPDATE players SET level = 99",
    "INSERT INTO players (name) VALUES ('x')",
    "REPLACE INTO items VALUES (1, 1, 'x', 1.0)",
    "ALTER TABLE players ADD COLUMN hacked INT",
    "CREATE TABLE evil (a)",
    "CREATE TEMP TABLE evil (a)",
    "CREATE INDEX idx ON players (name)",
    "WITH doomed AS (SELECT id FROM players) DELETE FROM players WHERE id IN (SELECT id FROM doomed)",
    "ATTACH DATABASE '{dir}/other.sqlite' AS other",
    "PRAGMA journal_mode = WAL",
    "PRAGMA user_version = 7",
    "PRAGMA writable_schema = ON",
    "VACUUM",
    "VACUUM INTO '{dir}/copy.sqlite'",
    "SELECT load_extension('/tmp/evil.so')",
    "BEGIN IMMEDIATE",
    "/* hidden */ DELETE FROM players",
    "```sql\nDROP TABLE items;\n```",
]


@pytest.mark.parametrize("statement", DESTRUCTIVE)
def test_destructive_predictions_change_nothing(tmp_path, statement):
    database = make_db(tmp_path / "game.sqlite")
    before, files = digest(database), sorted(tmp_path.iterdir())
    verdict = execution_match("SELECT name FROM players", statement.format(dir=tmp_path), [database])
    assert digest(database) == before
    assert sorted(tmp_path.iterdir()) == files  # no journal, WAL, attached or vacuumed copy either
    assert verdict.status == PRED_ERROR, verdict.reason


def test_only_the_first_statement_of_a_prediction_runs(tmp_path):
    database = make_db(tmp_path / "game.sqlite")
    before = digest(database)
    verdict = execution_match(
        "SELECT name FROM players", "SELECT name FROM players; DELETE FROM players", [database]
    )
    assert verdict.match and digest(database) == before


def test_sandbox_refuses_writes_even_on_a_writable_in_memory_database():
    sandbox, problems = Sandbox.from_statements(["CREATE TABLE t (a INT)"])
    assert problems == []
    for statement in ("INSERT INTO t VALUES (1)", "DROP TABLE t", "WITH x AS (SELECT 1) DELETE FROM t"):
        assert sandbox.run(statement).error
    assert sandbox.run("SELECT COUNT(*) FROM t").rows == [(0,)]


def test_huge_values_and_results_are_refused():
    sandbox, _ = Sandbox.from_statements([], Limits(max_value_bytes=1000, max_result_bytes=50_000))
    assert "too big" in sandbox.run("SELECT zeroblob(100000)").error
    many = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100) "
        "SELECT zeroblob(900) FROM c"
    )
    assert sandbox.run(many).error == "result exceeds 50000 bytes"


RUNAWAY = {
    "cartesian count": ("SELECT COUNT(*) FROM players a, players b, players c, players d", TIMEOUT),
    "endless recursive count": (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c",
        TIMEOUT,
    ),
    "endless recursive distinct": (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION SELECT x + 1 FROM c) SELECT MAX(x) FROM c",
        TIMEOUT,
    ),
    "sorted cartesian rows": (
        "SELECT a.username FROM players a, players b, players c ORDER BY random() LIMIT 1",
        TIMEOUT,
    ),
    "cartesian rows": ("SELECT * FROM players a, players b, players c", PRED_ERROR),
    "endless recursive rows": (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c",
        PRED_ERROR,
    ),
}


@pytest.mark.parametrize("pred, status", RUNAWAY.values(), ids=RUNAWAY.keys())
def test_runaway_predictions_end_within_the_limit(big_db, pred, status):
    # Row-producing runaways must hit the row cap; a generous time limit keeps that deterministic on a
    # loaded machine, where 50,000 rows can take longer than the 0.5 s the timeout cases use.
    config = ExecutionConfig(timeout_s=0.5 if status == TIMEOUT else 5.0, max_rows=50_000)
    started = time.monotonic()
    verdict = execution_match("SELECT COUNT(*) FROM players", pred, [big_db], config)
    elapsed = time.monotonic() - started
    assert verdict.status == status, verdict.reason
    assert elapsed < config.timeout_s + 1.0
    if status == TIMEOUT:
        assert verdict.reason == "timeout after 0.5 s"
    else:
        assert verdict.reason == "pred error: result exceeds 50000 rows"


def test_default_limit_stops_an_endless_query(big_db):
    config = ExecutionConfig()
    started = time.monotonic()
    verdict = execution_match(
        "SELECT 1",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT SUM(x) FROM c",
        [big_db],
    )
    assert verdict.status == TIMEOUT
    assert time.monotonic() - started < config.timeout_s + 1.0


def test_a_runaway_gold_is_a_gold_error(big_db):
    verdict = execution_match(
        "SELECT COUNT(*) FROM players a, players b, players c, players d",
        "SELECT 1",
        [big_db],
        ExecutionConfig(timeout_s=0.3),
    )
    assert verdict.status == GOLD_ERROR and verdict.reason == "gold error: timeout after 0.3 s"


def test_every_database_of_a_schema_must_agree(tmp_path):
    (tmp_path / "game").mkdir()
    first = make_db(tmp_path / "game" / "game.sqlite")
    second = make_db(tmp_path / "game" / "game_variant.sqlite", PLAYERS[:3])
    databases = find_databases(tmp_path, "game")
    assert databases == [first, second]
    general = execution_match("SELECT COUNT(*) FROM players", "SELECT COUNT(id) FROM players", databases)
    assert general.match
    hard_coded = execution_match("SELECT COUNT(*) FROM players", "SELECT 5", databases)
    assert hard_coded.status == MISMATCH
    assert hard_coded.reason == "wrong result: different values (database 2 of 2)"
    assert execution_match("SELECT COUNT(*) FROM players", "SELECT 5", databases[:1]).match


def test_find_databases_layouts(tmp_path):
    flat = make_db(tmp_path / "shop.sqlite")
    (tmp_path / "spider").mkdir()
    variant = make_db(tmp_path / "spider" / "a_variant.sqlite")
    main = make_db(tmp_path / "spider" / "spider.sqlite")
    assert find_databases(tmp_path, "shop") == [flat]
    assert find_databases(tmp_path, "spider") == [main, variant]
    assert find_databases(tmp_path, "missing") == []
    assert find_databases(None, "shop") == []


def test_matcher_reuses_connections_and_closes_them(db):
    with ExecutionMatcher(ExecutionConfig(max_open_databases=1)) as matcher:
        for _ in range(3):
            assert matcher.match("SELECT name FROM players", "SELECT name FROM players", [db]).match


# --- DDL only -------------------------------------------------------------------------------------


def test_check_against_mysql_ddl():
    ok, message = check_against_ddl(
        GAME_DDL, "SELECT p.username, g.name FROM players p LEFT JOIN guilds g ON p.guild_id = g.guild_id"
    )
    assert ok, message
    ok, message = check_against_ddl(
        GAME_DDL, "SELECT IFNULL(gold, 0) FROM players ORDER BY level DESC LIMIT 0, 10"
    )
    assert ok, message  # MySQL syntax is transpiled to SQLite


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT nickname FROM players", "no such column: nickname"),
        ("SELECT name FROM heroes", "no such table: heroes"),
        ("DELETE FROM players", "only SELECT queries may run, not DELETE"),
        ("", "empty prediction"),
    ],
)
def test_check_against_ddl_reports_why_not(sql, message):
    assert check_against_ddl(GAME_DDL, sql) == (False, message)


def test_check_against_ddl_without_tables():
    assert check_against_ddl("-- nothing here", "SELECT 1") == (False, "the DDL defines no table")


def test_ddl_only_rows_decide_failures_and_leave_running_predictions_to_the_judge():
    with ExecutionMatcher() as matcher:
        runs = matcher.match_schema(
            GAME_DDL, "SELECT username FROM players", "SELECT username FROM players WHERE level > 3"
        )
        fails = matcher.match_schema(GAME_DDL, "SELECT username FROM players", "SELECT nickname FROM players")
        dialect_gap = matcher.match_schema(
            GAME_DDL, "SELECT username FROM players", "SELECT FOO(level) FROM players"
        )
        broken_gold = matcher.match_schema(
            GAME_DDL, "SELECT nickname FROM players", "SELECT username FROM players"
        )
    assert runs.status == SCHEMA_ONLY and not runs.decided
    assert fails.status == PRED_ERROR and fails.decided and not fails.match
    assert dialect_gap.status == SCHEMA_ONLY and not dialect_gap.decided
    assert broken_gold.status == GOLD_ERROR and not broken_gold.decided
    assert {runs.databases, fails.databases} == {0}


def test_decided_statuses():
    assert {MATCH, MISMATCH, PRED_ERROR, TIMEOUT, EMPTY} == DECIDED


def test_pairs_scored_together_get_the_verdicts_they_get_one_by_one(db, big_db, tmp_path):
    """match_many pipelines the pairs of each database through its worker: the same verdicts as `match`,
    and a runaway pair in the middle times out alone, leaving the pairs after it their answers."""
    labelled = [(gold, pred, [db]) for gold, pred, _ in LABELLED.values()]
    runaway = ("SELECT COUNT(*) FROM players", RUNAWAY["cartesian count"][0], [big_db])
    other = make_db(tmp_path / "other.sqlite", players=PLAYERS[:2])
    items = [*labelled[:3], runaway, ("SELECT COUNT(*) FROM players", "SELECT 2", [other]), *labelled[3:],
             ("SELECT 1", "", [db]), ("SELECT 1", "SELECT 1", []), ("SELECT 1", "SELECT 1", [db, other])]
    config = ExecutionConfig(timeout_s=0.5)
    with ExecutionMatcher(config) as matcher:
        together = matcher.match_many(items)
    with ExecutionMatcher(config) as matcher:
        alone = [matcher.match(gold, pred, databases) for gold, pred, databases in items]
    assert together == alone
    assert together[3].status == TIMEOUT and together[4].status == MATCH


def test_an_empty_schema_names_what_it_creates_and_is_written_as_a_database(tmp_path):
    from evaluation.schema import create_schema, sqlite_schema

    schema = sqlite_schema("CREATE TABLE a (x INT PRIMARY KEY, y VARCHAR(9) NOT NULL); INSERT INTO a VALUES (1, 'z');"
                           "CREATE VIEW v AS SELECT x FROM a; CREATE TABLE (")
    assert schema.names == ("a", "v") and len(schema.statements) == 2 and len(schema.problems) == 1
    path = tmp_path / "empty.sqlite"
    create_schema(path, [*schema.statements, "CREATE TABLE a (x)"])  # the repeated table is left out
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name, type FROM sqlite_master ORDER BY name").fetchall() == [("a", "table"),
                                                                                           ("v", "view")]
        assert db.execute("SELECT count(*) FROM v").fetchone() == (0,)
