"""The bundled sample passes its own checks: determinism, sizes, every gold SQL runs and answers."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from evaluation.schema import sqlite_schema
from studio.data.sample import DOMAINS, EVAL_DB_ID, SYNTHESIZED_DB_IDS, TEMPLATES, SampleInfo, ensure_sample
from studio.data.sample.generate import _tied_at_limit, content_hash, generate
from studio.data.sample.korean import attach_particles, final_sound, number_text
from tests.data_fixtures import built_sample

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample() -> SampleInfo:
    return ensure_sample(built_sample().parent.parent)


@pytest.fixture(scope="module")
def frame(sample) -> pd.DataFrame:
    return sample.frame()


def test_generation_is_deterministic_in_process_and_across_hash_seeds(sample):
    assert content_hash(generate()) == sample.content_hash
    code = "from studio.data.sample.generate import generate, content_hash; print(content_hash(generate()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == sample.content_hash


def test_sizes_match_the_issue(sample, frame):
    assert len(DOMAINS) == 8 and EVAL_DB_ID == "1" and DOMAINS[0].name == "game"
    assert {"players", "quests", "equipments"} <= {t.name for t in DOMAINS[0].tables}
    hand = [d for d in sample.manifest["domains"] if d["kind"] == "hand"]
    assert [d["db_id"] for d in hand] == [d.db_id for d in DOMAINS]
    for domain in hand:
        assert 3 <= len(domain["tables"]) <= 6
        assert all(50 <= n <= 2000 for n in domain["tables"].values()), domain
    train = frame[(frame["db_id"] != EVAL_DB_ID) & ~frame["db_id"].isin(SYNTHESIZED_DB_IDS)]
    assert len(train) >= 6000 and train["db_id"].nunique() == 7
    assert (frame["db_id"] == EVAL_DB_ID).sum() >= 300
    assert set(frame["difficulty"]) == {"easy", "medium", "hard", "extra"}
    assert list(frame.columns[:5]) == ["db_id", "context", "question", "answer", "difficulty"]


def test_templates_cover_the_spider_levels_with_three_phrasings_each(frame):
    assert len(TEMPLATES) >= 60
    assert all(len(t.questions) >= 3 for t in TEMPLATES)
    assert {t.level for t in TEMPLATES} == {"easy", "medium", "hard", "extra"}
    used = frame.groupby("template")["question"].nunique()
    assert len(used) >= 60  # templates that actually produced questions
    sql = " ".join(frame["answer"])
    for construct in (
        "GROUP BY",
        "HAVING",
        "ORDER BY",
        "LIMIT",
        "JOIN",
        "INTERSECT",
        "EXCEPT",
        "UNION",
        "NOT IN (SELECT",
        "IS NULL",
        "LIKE",
        "BETWEEN",
        "COUNT(DISTINCT",
        "AVG(",
        "SUM(",
    ):
        assert construct in sql, construct


def test_every_gold_sql_runs_and_answers_without_ties(sample, frame):
    for db_id, rows in frame.groupby("db_id"):
        db = sqlite3.connect(sample.databases[db_id])
        for answer in rows["answer"].unique():
            result = db.execute(answer).fetchall()
            assert result and result != [(None,)] and result != [(0,)], answer
            if "LIMIT" in answer:
                assert not _tied_at_limit(lambda probe: db.execute(probe).fetchall(), answer.rstrip(";")), answer
        db.close()


def test_no_duplicate_pairs_and_one_answer_per_question(frame):
    assert not frame.duplicated(["db_id", "question", "answer"]).any()
    assert frame.groupby(["db_id", "question"])["answer"].nunique().max() == 1


def test_context_is_the_ddl_that_built_the_database(sample, frame):
    for db_id, rows in frame.groupby("db_id"):
        db = sqlite3.connect(sample.databases[db_id])
        built = {
            name: [c[1] for c in db.execute(f"PRAGMA table_info({name})")]
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        db.close()
        for context in rows["context"].unique()[:50]:
            assert "AUTO_INCREMENT" in context  # the book's MySQL flavour
            empty = sqlite3.connect(":memory:")
            empty.executescript(";\n".join(sqlite_schema(context).statements))
            for (name,) in empty.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ):
                assert [c[1] for c in empty.execute(f"PRAGMA table_info({name})")] == built[name]
        schema = (sample.path / "schema" / f"{db_id}.sql").read_text(encoding="utf-8")
        for context in rows["context"].unique():
            assert all(block in schema for block in context.split("\n\n"))  # verbatim CREATE TABLE statements


def test_questions_are_filled_korean_with_values_from_the_data(sample, frame):
    assert not frame["question"].str.contains(r"[{}]|\(가\)|\(를\)|\(는\)|\(으\)", regex=True).any()
    assert frame["question"].str.contains(r"[가-힣]").all()
    polite = frame["question"].str.contains(r"(?:요|니다)[.?]?$")
    casual = frame["question"].str.contains(r"(?:줘|야|해|어)[.?]?$")
    assert polite.mean() > 0.3 and casual.mean() > 0.15
    db = sqlite3.connect(sample.databases["1"])
    names = {n for (n,) in db.execute("SELECT quest_name FROM quests")}
    quoted = [
        m
        for q in frame.loc[frame["answer"].str.contains("quest_name = "), "answer"]
        for m in re.findall(r"quest_name = '([^']+)'", q)
    ]
    assert quoted and set(quoted) <= names


def test_korean_particles_follow_the_last_sound():
    assert attach_particles("직업이(가) 전사인 플레이어을(를)") == "직업이 전사인 플레이어를"
    assert attach_particles("서울(으)로, 부산(으)로") == "서울로, 부산으로"
    assert attach_particles("'용의 심장'이(가)") == "'용의 심장'이"
    assert [final_sound(w) for w in ("3", "2", "10", "100", "KE12", "ICN")] == [
        "ㅁ",
        "",
        "ㅂ",
        "ㄱ",
        "",
        "ㄴ",
    ]
    assert attach_particles("레벨 2이(가), 레벨 3이(가)") == "레벨 2가, 레벨 3이"
    assert number_text(30000, "원") == "30,000원" and number_text(50) == "50"


def test_sample_cache_is_reused_and_written_files_are_complete(sample):
    again = ensure_sample(sample.path.parent.parent)
    assert again.path == sample.path and again.content_hash == sample.content_hash
    manifest = json.loads((sample.path / "manifest.json").read_text())
    assert manifest["rows"] == sum(d["questions"] for d in manifest["domains"])
    assert sorted(p.name for p in (sample.path / "databases").iterdir()) == sorted(
        [f"{i}.sqlite" for i in range(1, 9)] + [f"s{i:03d}.sqlite" for i in range(1, 121)]
    )
    assert Counter(sample.frame()["db_id"])[EVAL_DB_ID] == manifest["domains"][0]["questions"]
