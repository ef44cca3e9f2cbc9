"""Adapting to a user's database: glossary sources, role inference, synthesized pairs checked by execution,
the data set version with its provenance, and the CLI (issue #19)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from studio.cli import main
from studio.data.adapt.domain import infer_role
from studio.data.adapt.glossary import Glossary, Term, glossary_from_ddl, read_glossary
from studio.data.adapt.schema import ColumnInfo, read_database
from studio.data.adapt.synthesize import SynthesisOptions, draft_glossary, save_synthesis, synthesize
from studio.data.versions import get_version
from studio.errors import StudioError
from tests.data_fixtures import install_sample

# A small shop whose DDL carries its Korean words as comments (SQLite keeps them in sqlite_master).
SHOP_DDL = """
CREATE TABLE members ( -- 회원
  member_id INTEGER PRIMARY KEY, -- 회원 번호
  nickname TEXT NOT NULL UNIQUE, -- 닉네임
  grade TEXT NOT NULL, -- 등급
  points INTEGER NOT NULL, -- 적립금
  joined_on DATE NOT NULL, -- 가입일
  referrer TEXT -- 추천인
);
CREATE TABLE orders ( -- 주문
  order_id INTEGER PRIMARY KEY,
  member_id INTEGER NOT NULL REFERENCES members(member_id),
  status TEXT NOT NULL, -- 주문 상태
  total_price INTEGER NOT NULL, -- 결제 금액
  ordered_at DATE NOT NULL, -- 주문일
  internal_note TEXT
);
CREATE TABLE audit_log (id INTEGER PRIMARY KEY, payload TEXT);
"""
GRADES = ("브론즈", "실버", "골드", "VIP")
STATUSES = ("배송중", "배송완료", "취소")


def shop_database(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(SHOP_DDL)
        db.executemany("INSERT INTO members VALUES (?, ?, ?, ?, ?, ?)", [
            (i, f"별빛{i}", GRADES[i % 4], (i * 37) % 500 * 10, f"202{i % 4}-{i % 12 + 1:02d}-{i % 27 + 1:02d}",
             None if i % 3 else f"별빛{i + 1}") for i in range(1, 61)])
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", [
            (i, i % 50 + 1, STATUSES[i % 3], (i * 7919) % 90_000 + 1000, f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
             "x") for i in range(1, 241)])
    db.close()
    return path


@pytest.fixture
def shop(tmp_path):
    return shop_database(tmp_path / "shop.sqlite")


def test_words_come_from_ddl_comments_and_a_glossary_wins_field_by_field():
    mysql = ("CREATE TABLE quests (\n  quest_id INT PRIMARY KEY COMMENT '퀘스트 번호',\n"
             "  reward INT COMMENT 'reward in gold',\n  title VARCHAR(50) COMMENT '퀘스트 이름'\n) COMMENT='퀘스트';")
    words = glossary_from_ddl(mysql)
    assert [(t.table, t.column, t.korean) for t in words.terms] == [
        ("quests", "", "퀘스트"), ("quests", "quest_id", "퀘스트 번호"), ("quests", "title", "퀘스트 이름")]
    merged = words.merged(Glossary((Term("quests", "title", "제목", unit=""), Term("quests", "reward", "보상", "number", "골드"))))
    assert merged.word("quests", "title") == "제목" and merged.term("quests", "reward").unit == "골드"
    assert merged.word("quests") == "퀘스트"  # kept: the later glossary has no word for the table


def test_a_glossary_csv_is_checked_and_read_in_korean_encodings(tmp_path):
    good = tmp_path / "words.csv"
    good.write_bytes("table,column,korean,role,unit\nmembers,,회원,,명\nmembers,points,적립금,number,원\n"
                     .encode("cp949"))
    glossary = read_glossary(good)
    assert glossary.word("members") == "회원" and glossary.term("members", "points").unit == "원"
    bad = tmp_path / "bad.csv"
    bad.write_text("table,column,korean,role\nmembers,points,적립금,amount\n,x,y,\n", encoding="utf-8")
    with pytest.raises(StudioError, match=r"row 1: unknown role 'amount'.*row 2: no table"):
        read_glossary(bad)
    headless = tmp_path / "headless.csv"
    headless.write_text("members,points,적립금\n", encoding="utf-8")
    with pytest.raises(StudioError, match="must start with the header table,column,korean"):
        read_glossary(headless)


@pytest.mark.parametrize("values, role", [
    (["2024-01-02", "2023-12-31 10:00:00"], "date"),
    (["별빛1", "별빛2", "별빛3"], "name"),
    (["실버", "골드", "실버", "골드", "실버"], "category"),
    ([1, 2.5, 3], "number"),
    ([1, "a"], "text"),
    ([], "text"),
])
def test_roles_are_inferred_from_values(values, role):
    assert infer_role(ColumnInfo("c", "", False, False), values, False) == role


def test_synthesized_pairs_run_and_answer_on_the_database(shop):
    synthesis = synthesize(shop, Glossary(), SynthesisOptions(pairs=120, seed=3))
    frame = synthesis.frame
    assert len(frame) >= 60 and frame["question"].is_unique and set(frame["db_id"]) == {"shop"}
    db = sqlite3.connect(shop)
    for row in frame.itertuples():
        rows = db.execute(row.answer).fetchall()
        assert rows and rows != [(None,)] and rows != [(0,)], row.answer
        used = {t for t in ("members", "orders") if f"FROM {t}" in row.answer or f"JOIN {t}" in row.answer}
        assert {t for t in ("members", "orders") if f"CREATE TABLE {t}" in row.context} == used
    db.close()
    assert any(" JOIN " in sql for sql in frame["answer"])  # the foreign key is used
    assert any("'별빛" in q for q in frame["question"])  # values come from the database
    assert "audit_log: no Korean word for the table" in synthesis.schema.left_out
    assert "orders.internal_note: no Korean word" in synthesis.schema.left_out
    assert synthesis.dropped["duplicate question"] > 0
    again = synthesize(shop, Glossary(), SynthesisOptions(pairs=120, seed=3))
    assert again.frame.equals(frame)  # seeded: the same pairs


def test_bad_input_gets_a_clear_error(tmp_path, shop):
    text = tmp_path / "notes.sqlite"
    text.write_text("hello")
    with pytest.raises(StudioError, match="is not a SQLite database"):
        synthesize(text, Glossary())
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    empty.write_bytes(empty.read_bytes() or b"SQLite format 3\x00" + bytes(84))
    with pytest.raises(StudioError, match="cannot be read|has no table"):
        synthesize(empty, Glossary())
    with pytest.raises(StudioError, match="names what shop.sqlite does not have: members.email"):
        synthesize(shop, Glossary((Term("members", "email", "이메일"),)))
    with pytest.raises(StudioError, match="pairs must be in"):
        synthesize(shop, Glossary(), SynthesisOptions(pairs=10**9))
    with pytest.raises(StudioError, match="db_id"):
        synthesize(shop, Glossary(), SynthesisOptions(name="../up"))


def test_a_glossary_role_that_the_values_cannot_take_is_reported(shop):
    glossary = Glossary((Term("members", "nickname", "", "number"),))
    synthesis = synthesize(shop, glossary, SynthesisOptions(pairs=20))
    assert "members.nickname: its values cannot be a number; taken as a name" in synthesis.schema.left_out


def test_draft_glossary_lists_every_column_with_its_role(shop):
    draft = draft_glossary(shop)
    assert draft.term("members", "grade") == Term("members", "grade", "등급", "category", "")
    assert draft.term("orders", "member_id").role == "ref" and draft.term("audit_log", "payload").korean == ""
    assert draft.term("members").unit == "명"  # 회원 counts people
    assert draft.term("orders", "total_price").unit == "원" and draft.term("members", "points").unit == "점"


@pytest.mark.parametrize("name, unit", [("unit_price", "원"), ("interest_rate", "%"), ("age", "세"),
                                        ("weight_kg", "kg"), ("stage", ""), ("level", "")])
def test_units_are_inferred_from_names(name, unit):
    from studio.data.adapt.domain import infer_unit

    assert infer_unit(name) == unit


def test_the_version_keeps_the_database_and_its_provenance(studio_home, shop):
    install_sample(studio_home)
    options = SynthesisOptions(pairs=80, seed=1, sample_share=0.5)
    synthesis = synthesize(shop, Glossary(), options)
    version = save_synthesis(synthesis, options)
    assert version.source["kind"] == "synthesized"
    assert version.source["label"] == f"synthesized for shop (glossary {synthesis.schema.glossary.digest})"
    assert (version.databases_dir / "shop.sqlite").is_file()
    by_db = {**version.counts["train_by_db"]}
    assert by_db.pop("shop") > 0 and sum(by_db.values()) > 0 and "1" not in by_db  # mixed, never the game
    assert synthesis.dropped and all(version.counts["dropped_on_load"][f"synthesis: {reason}"] == n
                                     for reason, n in synthesis.dropped.items())
    assert get_version(version.id).train_rows == version.counts["train"]
    # The database's own rows are shown its own pairs as examples; the sample's rows, other databases'.
    assert version.options["own_examples"] == ["shop"]
    train = pd.read_json(version.train_file, lines=True, dtype=str)
    shop_rows = train[train["db_id"] == "shop"]
    assert shop_rows["example_sql"].isin(shop_rows["answer"]).all() and not (shop_rows["example_sql"] == shop_rows["answer"]).any()
    db_of = dict(zip(train["answer"].str.strip(), train["db_id"]))
    others = train[train["db_id"] != "shop"]
    assert all(db_of.get(sql) != db for sql, db in zip(others["example_sql"], others["db_id"]))


def test_cli_prints_the_version_then_json(studio_home, shop, tmp_path, capsys):
    words = tmp_path / "words.csv"
    words.write_text("table,column,korean,role,unit\naudit_log,,감사 기록,,\naudit_log,payload,내용,,\n",
                     encoding="utf-8")
    assert main(["data", "glossary", "--db", str(shop), "--glossary", str(words)]) == 0
    drafted = capsys.readouterr().out
    assert drafted.startswith("table,column,korean,role,unit\n") and "audit_log,payload,내용,text," in drafted

    assert main(["data", "synthesize", "--db", str(shop), "--glossary", str(words), "--rows", "50",
                 "--name", "myshop"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert out[0] == result["version"] and result["db_id"] == "myshop" and result["pairs"] == 50
    assert "audit_log: no rows" in result["left_out"]  # it has its words now, but nothing to ask about
    assert main(["data", "synthesize", "--db", str(tmp_path / "missing.sqlite")]) == 2
    assert "error: missing.sqlite cannot be read" in capsys.readouterr().err
    assert not list((studio_home / "datasets").glob("*.staging*"))


def test_a_run_trained_on_synthesized_pairs_is_marked_adapted_to_that_database(studio_home, shop):
    """Scores of such a run on questions about its own database are in-domain: the evaluation records the
    database (`adapted_to`) and the leaderboard shows it in its own column, never as a held-out score."""
    from studio import leaderboard as lb
    from studio.evaluate import adapted_to
    from studio.settings import load_settings
    from tests.test_leaderboard import Registry

    settings = load_settings()
    version = save_synthesis(synthesize(shop, Glossary(), SynthesisOptions(pairs=40)))
    board = Registry(settings)
    board.run("adapted-run", dataset=version.id)
    board.run("plain-run", dataset="ds-other")
    assert adapted_to("adapted-run", {"shop", "1"}, settings) == "shop"
    assert adapted_to("adapted-run", {"1"}, settings) is None  # the held-out game: not adapted to it
    assert adapted_to("plain-run", {"shop"}, settings) is None and adapted_to(None, {"shop"}, settings) is None
    evaluation = board.evaluation("adapted-run", [1, 1, 0, 0])
    with board.db:
        board.db.execute("UPDATE evaluations SET summary = json_set(summary, '$.adapted_to', 'shop') WHERE id = ?",
                         (evaluation,))
    rows = lb.load_board(settings).set_index("run")
    assert rows.loc["adapted-run", "adapted_to"] == "shop" and pd.isna(rows.loc["plain-run", "adapted_to"])
    assert "adapted_to" in lb.DEFAULT_COLUMNS

    # Asked about its database (the Playground's database section, the API), the run is shown one of that
    # database's own pairs as its example, as in its training; about another database, another's.
    from studio.retrieval import EXAMPLE_HEADER
    from studio.text2sql import question_prompt

    train = pd.read_json(version.train_file, lines=True, dtype=str)
    prompt = question_prompt("CREATE TABLE t (a INT);", "회원은 모두 몇 명인가요?", "adapted-run", db_id="shop")
    shown_sql = prompt.split(EXAMPLE_HEADER)[1].split("### SQL:")[0].strip().splitlines()[-1]
    assert shown_sql in set(train.loc[train["db_id"] == "shop", "answer"].str.strip())


def _proposer(prompt: str) -> str:
    """The stand-in's answer to a proposal: two good words, an unknown column and an English word."""
    assert "TABLE audit_log" in prompt and "'별빛1'" in prompt  # the schema and real values were sent
    return json.dumps({"audit_log": {"": "감사 기록", "payload": "내용", "ghost": "유령"},
                       "orders": {"internal_note": "note"}})


def test_an_llm_proposes_the_missing_words_checked_against_the_schema(shop, monkeypatch):
    from evaluation.testing.openai_standin import OpenAIStandin
    from studio.data.adapt.propose import estimate_proposal, propose_glossary

    info = read_database(shop)
    estimate = estimate_proposal(info, "gpt-4o-mini")
    assert estimate.prompt_tokens > 100 and estimate.cost_usd is not None
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with OpenAIStandin(reply=_proposer) as server:
        proposal = propose_glossary(info, "gpt-4o-mini", base_url=server.base_url, api_key="sk-test-secret")
        assert server.requests[-1].authorization == "Bearer sk-test-secret"
    assert proposal.glossary.word("audit_log") == "감사 기록" and proposal.dropped == 2
    draft = draft_glossary(shop, Glossary((Term("audit_log", "payload", "본문"),)), proposal.glossary)
    assert draft.word("audit_log", "payload") == "본문"  # the user's word wins over the model's
    assert draft.word("members", "nickname") == "닉네임"  # and so do the DDL's comments
    assert draft.word("audit_log") == "감사 기록"
    with OpenAIStandin(reply=lambda prompt: "[1, 2]") as server, pytest.raises(StudioError, match="not the JSON"):
        propose_glossary(info, "gpt-4o-mini", base_url=server.base_url)
    with pytest.raises(StudioError, match="no API key"):
        propose_glossary(info, "gpt-4o-mini")


def test_cli_estimates_a_proposal_before_sending_anything(studio_home, shop, capsys):
    assert main(["data", "glossary", "--db", str(shop), "--propose-model", "gpt-4o-mini", "--estimate-only"]) == 0
    estimate = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["estimate"]
    assert estimate["prompt_tokens"] > 100 and estimate["cost_usd"] > 0


def test_evaluate_runs_uploaded_questions_on_the_chosen_versions_databases(studio_home, shop, tmp_path):
    """Your own questions about a database you synthesized pairs for are scored by execution on it, in
    Evaluate: an uploaded file's rows run on the databases of the version chosen beside it."""
    from evaluation.scoring import ScoringConfig, plan_scoring
    from studio.evaluate import _pair
    from studio.ui.evaluate_tab import _eval_set

    version = save_synthesis(synthesize(shop, Glossary(), SynthesisOptions(pairs=40)))
    questions = tmp_path / "mine.jsonl"
    questions.write_text(json.dumps({"db_id": "shop", "context": "CREATE TABLE members (grade TEXT);",
                                     "question": "골드 등급 회원은 몇 명?",
                                     "answer": "SELECT COUNT(*) FROM members WHERE grade = '골드';"},
                                    ensure_ascii=False) + "\n", encoding="utf-8")
    eval_set = _eval_set(version.id, str(questions), None)
    assert eval_set.db_dir == version.databases_dir
    row = eval_set.rows.to_dict("records")[0]
    plan = plan_scoring([_pair(row, "SELECT COUNT(*) FROM members WHERE grade = '골드'")], db_dir=eval_set.db_dir,
                        config=ScoringConfig(mode="execution"))
    assert plan.executions[0].status == "match"  # executed on the real database, not only on the DDL
    assert _eval_set(None, str(questions), None).db_dir is None  # no version chosen: DDL-only, as before
