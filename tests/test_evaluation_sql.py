import pytest

from evaluation.sql import (
    SqlParseError,
    extract_sql,
    has_top_level_order_by,
    leading_keyword,
    normalize_sql,
    parse_error,
    split_statements,
    transpile,
)


@pytest.mark.parametrize(
    "completion, expected",
    [
        ("SELECT name FROM players", "SELECT name FROM players"),
        ("SELECT name FROM players;", "SELECT name FROM players"),
        ("```sql\nSELECT name FROM players;\n```\nThis query lists names.", "SELECT name FROM players"),
        ("SELECT level FROM players;\n\nThis returns every level.", "SELECT level FROM players"),
        ("SELECT 1; SELECT 2;", "SELECT 1"),
        ("SELECT a FROM t\n\n### Question:\n다음 질문", "SELECT a FROM t"),
        ("", ""),
        (None, ""),
    ],
)
def test_extract_sql_keeps_its_contract(completion, expected):
    assert extract_sql(completion) == expected


def test_split_statements_respects_quotes_and_drops_empty_ones():
    assert split_statements("SELECT ';' ; ; SELECT 2;\n") == ["SELECT ';'", "SELECT 2"]


@pytest.mark.parametrize(
    "sql, keyword",
    [
        ("  select 1", "SELECT"),
        ("-- note\n/* c */ ((WITH x AS (SELECT 1) SELECT * FROM x))", "WITH"),
        ("", ""),
    ],
)
def test_leading_keyword_skips_comments_and_parentheses(sql, keyword):
    assert leading_keyword(sql) == keyword


def test_normalize_sql_ignores_case_and_spacing():
    assert normalize_sql("select  Name\nFROM Players  where LEVEL>3") == normalize_sql(
        "SELECT name FROM players WHERE level > 3"
    )
    assert normalize_sql("SELECT name FROM players") != normalize_sql("SELECT level FROM players")


def test_parse_errors_are_reported_in_one_line():
    message = parse_error("SELEC name FRM players")
    assert message and "\n" not in message and "line 1" in message
    assert parse_error("SELECT name FROM players") is None
    assert parse_error("SELECT 'unterminated") is not None
    with pytest.raises(SqlParseError):
        normalize_sql("SELECT * FROM")


def test_transpile_mysql_to_sqlite():
    sql = transpile("SELECT IFNULL(gold, 0) FROM players LIMIT 5, 10", "mysql")
    assert "COALESCE" in sql and "OFFSET 5" in sql


@pytest.mark.parametrize(
    "sql, ordered",
    [
        ("SELECT a FROM t ORDER BY a", True),
        ("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1", True),
        ("SELECT a FROM (SELECT a FROM t ORDER BY a LIMIT 3)", False),
        ("WITH c AS (SELECT a FROM t ORDER BY a) SELECT a FROM c", False),
        ("SELECT a, ROW_NUMBER() OVER (ORDER BY a) FROM t", False),
        ("SELECT 'ORDER BY' FROM t", False),
    ],
)
def test_top_level_order_by(sql, ordered):
    assert has_top_level_order_by(sql) is ordered
