"""The synthesized domains: many small schemas whose identifiers vary, none taken from the held-out game."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict

import pandas as pd
import pytest
from sqlglot.dialects import MySQL, SQLite
from sqlglot.tokens import Tokenizer, TokenType

from studio.data.prepare import PrepareOptions, prepare_dataset
from studio.data.sample import DOMAINS, EVAL_DB_ID, SYNTHESIZED, SYNTHESIZED_DB_IDS, SampleInfo, ensure_sample
from studio.data.sample.domains.game import GAME
from studio.data.sample.generate import content_hash, generate_domain
from studio.data.sample.synth import THEMES, synthesize
from studio.data.sample.synth.build import KEY_SPELLINGS
from studio.data.sources import load_source
from studio.errors import StudioError
from tests.data_fixtures import built_sample, install_sample

# Computed on main before the synthesized domains existed (commit 0131364), with
#   gs = [generate_domain(d) for d in DOMAINS]
#   content_hash(gs)                        → HAND_WRITTEN_HASH (DDL, rows and questions of all 8)
#   sha256 over json.dumps(q, ensure_ascii=False, sort_keys=True) of each game question → GAME_QUESTIONS
# Adding domains must not change a single hand-written row, least of all the held-out game set.
HAND_WRITTEN_HASH = "f9a9d604e0188f6f980d5495a8798926e8effb1eb6ec2b8f8eb829c58ec4ba1e"
GAME_QUESTIONS = "74e6d8049b3d4fc748357186245ea377080dba7f0f7d6951494336af6be862ec"
GAME_ROWS = 416


@pytest.fixture(scope="module")
def sample() -> SampleInfo:
    return ensure_sample(built_sample().parent.parent)


@pytest.fixture(scope="module")
def synthesized_rows(sample) -> pd.DataFrame:
    frame = sample.frame()
    return frame[frame["db_id"].isin(SYNTHESIZED_DB_IDS)]


def test_the_hand_written_domains_and_the_held_out_game_rows_are_unchanged():
    generated = [generate_domain(d) for d in DOMAINS]
    assert content_hash(generated) == HAND_WRITTEN_HASH
    game = generated[0]
    assert game.domain.db_id == EVAL_DB_ID and len(game.questions) == GAME_ROWS
    digest = hashlib.sha256()
    for question in game.questions:
        digest.update(json.dumps(question, ensure_ascii=False, sort_keys=True).encode())
    assert digest.hexdigest() == GAME_QUESTIONS


def test_120_small_synthesized_domains_with_plain_ids(sample, synthesized_rows):
    assert len(SYNTHESIZED) == 120 and [d.db_id for d in SYNTHESIZED] == [f"s{i:03d}" for i in range(1, 121)]
    assert synthesize(THEMES, 120)[7].ddl() == SYNTHESIZED[7].ddl()  # drawn from seeds, not from state
    kinds = {d["db_id"]: d["kind"] for d in sample.manifest["domains"]}
    assert sum(k == "synthesized" for k in kinds.values()) == 120 and kinds[EVAL_DB_ID] == "hand"
    assert sample.summary().params == {"domains": 128, "synthesized": 120, "held": "game"}
    for domain in SYNTHESIZED:
        assert 2 <= len(domain.tables) <= 5, domain.db_id
        for table in domain.tables:
            assert 3 <= len(table.columns) <= 7 and 5 <= table.rows <= 300, (domain.db_id, table.name)
    per_domain = synthesized_rows.groupby("db_id").size()
    assert len(per_domain) == 120 and per_domain.between(20, 40).all()
    assert synthesized_rows["template"].nunique() >= 60  # every kind of question, across the domains
    links = [t for d in SYNTHESIZED for t in d.tables if t.link]
    nullable = [c for d in SYNTHESIZED for t in d.tables for c in t.columns if c.nullable]
    assert len(links) >= 40 and len(nullable) >= 100
    assert synthesized_rows["answer"].str.contains(" JOIN ").mean() > 0.2


def test_the_vocabulary_is_broad_and_its_spellings_vary_across_schemas():
    tables = [t for theme in THEMES for t in theme.tables]
    columns = {(c.label, c.names) for t in tables for c in (t.name, *t.columns) if c}
    assert len(THEMES) >= 20 and len(tables) >= 80 and len(columns) >= 250
    spellings = defaultdict(set)  # Korean label → the identifiers it got
    for domain in SYNTHESIZED:
        for table in domain.tables:
            spellings[table.noun].add(table.name)
            for column in table.columns:
                if column.role not in ("key", "ref"):
                    spellings[column.label].add(column.name)
    assert len(spellings["가입일"]) >= 3 and len(spellings["이름"]) >= 3 and len(spellings["회원"]) >= 2
    common = [label for label, names in spellings.items() if sum(
        label in {c.label for t in d.tables for c in t.columns} | {t.noun for t in d.tables} for d in SYNTHESIZED
    ) >= 5]
    varied = [label for label in common if len(spellings[label]) >= 2]
    assert len(varied) >= 0.9 * len(common), sorted(set(common) - set(varied))


def test_no_identifier_is_an_sql_keyword():
    def plain(name: str) -> bool:
        tokenizers = (Tokenizer(), SQLite.tokenizer_class(), MySQL.tokenizer_class())
        return all([t.token_type for t in tok.tokenize(name)] == [TokenType.VAR] for tok in tokenizers)

    names = {
        spelling.format(s=singular)
        for theme in THEMES
        for table in theme.tables
        for name, singular in table.names
        for spelling in (name, *KEY_SPELLINGS, *(s for c in (table.name, *table.columns) if c for s in c.names))
    }
    assert [n for n in sorted(names) if not plain(n) or not re.fullmatch(r"[a-z][a-z0-9_]*", n)] == []


def test_nothing_comes_from_the_held_out_game_domain(sample, synthesized_rows):
    game_tables = {t.name for t in GAME.tables}
    vocabulary = {name for theme in THEMES for t in theme.tables for name, _ in t.names}
    assert not game_tables & vocabulary
    assert all({t.name for t in d.tables} != game_tables for d in SYNTHESIZED)
    assert "game" not in {theme.name for theme in THEMES}
    # No value of the game's questions (its names of quests, guilds, items …) is in the synthesized data:
    # the only ones shared are dates and everyday words (LIKE patterns of a syllable or two aside).
    frame = sample.frame()
    game_values = set(re.findall(r"'([^']*)'", " ".join(frame.loc[frame["db_id"] == EVAL_DB_ID, "answer"])))
    synth_values = set(re.findall(r"'([^']*)'", " ".join(synthesized_rows["answer"])))
    shared = {v for v in game_values & synth_values if "%" not in v and not re.fullmatch(r"[\d-]+", v)}
    assert shared <= {"고급", "보통", "일반", "중급", "초급"}, shared


def test_a_prepared_sample_trains_on_the_chosen_schemas_and_evaluates_on_the_game(studio_home):
    install_sample(studio_home)
    loaded = load_source("sample")
    assert str(loaded.report.notes[-1]) == "128 domains (120 synthesized), 1 held out (game)"
    hand = prepare_dataset(loaded, PrepareOptions(schemas="hand", exec_filter=False))
    only = prepare_dataset(loaded, PrepareOptions(schemas="synthesized", exec_filter=False, fraction=0.2))
    assert set(hand.train_frame()["db_id"]) == {str(i) for i in range(2, 9)}
    assert set(only.train_frame()["db_id"]) <= SYNTHESIZED_DB_IDS
    for version in (hand, only):
        assert set(version.eval_frame()["db_id"]) == {EVAL_DB_ID} and version.eval_rows == GAME_ROWS
        assert version.options["schemas"] in ("hand", "synthesized")
    with pytest.raises(StudioError, match="schemas must be one of all, hand, synthesized"):
        prepare_dataset(loaded, PrepareOptions(schemas="some"))


def test_only_the_sample_has_schemas_to_choose(tmp_path, studio_home):
    data = tmp_path / "rows.csv"
    pd.DataFrame({"db_id": ["a", "b"], "context": ["CREATE TABLE t (x INT);"] * 2,
                  "question": ["q1", "q2"], "answer": ["SELECT x FROM t;"] * 2}).to_csv(data, index=False)
    with pytest.raises(StudioError, match="only the bundled sample has synthesized schemas"):
        prepare_dataset(str(data), PrepareOptions(holdout_db_ids=("a",), schemas="hand"))
    assert prepare_dataset(str(data), PrepareOptions(holdout_db_ids=("a",))).train_rows == 1
