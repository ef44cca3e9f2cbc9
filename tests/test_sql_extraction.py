import pytest

from evaluation.sql import extract_sql

CASES = [
    ("bare", "SELECT name FROM players WHERE level >= 10", "SELECT name FROM players WHERE level >= 10"),
    ("bare with semicolon", " SELECT 1;", "SELECT 1"),
    ("fenced", "```sql\nSELECT name\nFROM players;\n```", "SELECT name\nFROM players"),
    ("fenced without language", "Here you go:\n```\nSELECT 1\n```\nDone.", "SELECT 1"),
    ("trailing explanation", "SELECT COUNT(*) FROM quests;\n이 쿼리는 퀘스트 수를 셉니다.", "SELECT COUNT(*) FROM quests"),
    ("explanation after a blank line", "SELECT 1 FROM t\n\nThis query returns one.", "SELECT 1 FROM t"),
    ("leading prose", "The SQL is:\nSELECT a FROM t;", "SELECT a FROM t"),
    ("several statements", "SELECT a FROM t; SELECT b FROM u;", "SELECT a FROM t"),
    ("next prompt section", "SELECT a FROM t\n\n### Question:\n다음 질문", "SELECT a FROM t"),
    ("semicolon inside a string", "SELECT * FROM t WHERE name = 'a;b';", "SELECT * FROM t WHERE name = 'a;b'"),
    ("semicolon inside a comment", "SELECT a -- first; then\nFROM t;", "SELECT a -- first; then\nFROM t"),
    ("windows newlines", "SELECT a\r\nFROM t;\r\n", "SELECT a\nFROM t"),
    ("empty", "", ""),
    ("only whitespace", "  \n ", ""),
    ("none", None, ""),
]


@pytest.mark.parametrize("completion, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_extract_sql(completion, expected):
    assert extract_sql(completion) == expected
