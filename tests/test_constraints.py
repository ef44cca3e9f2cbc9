"""Schema-constrained decoding: the grammar of a DDL's SELECTs, the tokenizer llguidance reads, and the real
model's answers under the constraint (they run on the schema; free decoding is unchanged)."""

import sqlite3

import pytest

from evaluation.schema import sqlite_schema
from studio.constraints import SchemaConstraints
from studio.inference import UNFINISHED, GenerationOptions, get_generator
from studio.prompts import make_prompt
from studio.sql_grammar import schema_of, sql_grammar
from studio.ui.examples import GAME_DDL, QUESTIONS as PLAYGROUND_QUESTIONS

DDL = """CREATE TABLE teams (
  team_id INT PRIMARY KEY AUTO_INCREMENT,
  team_name VARCHAR(50) UNIQUE NOT NULL,
  city VARCHAR(20) NOT NULL
);

CREATE TABLE members (
  member_id INT PRIMARY KEY AUTO_INCREMENT,
  nickname VARCHAR(50) NOT NULL,
  points INT NOT NULL,
  team_id INT,
  FOREIGN KEY (team_id) REFERENCES teams(team_id)
);"""
QUESTIONS = ("팀은 몇 개인가요?", "포인트가 100보다 많은 멤버의 닉네임은?", "서울에 있는 팀의 이름을 알려 주세요.",
             "각 도시별 팀 수는?")


def test_schema_of_reads_tables_and_columns():
    schema = schema_of(DDL)
    assert dict(schema.tables) == {"teams": ("team_id", "team_name", "city"),
                                   "members": ("member_id", "nickname", "points", "team_id")}
    assert not schema_of("this is not DDL")
    assert sql_grammar("this is not DDL") is None


@pytest.fixture(scope="module")
def constraints(model_home):
    from transformers import AutoTokenizer

    from studio.settings import DEFAULT_MODEL

    tokenizer = AutoTokenizer.from_pretrained(model_home / "models" / DEFAULT_MODEL)
    return tokenizer, SchemaConstraints(tokenizer, frozenset([tokenizer.eos_token_id]))


def test_llguidance_reads_every_token_as_the_tokenizer_does(constraints):
    """The GGUF tokenizer's decoder chain would make llguidance read `Ġ` literally: the byte-level view it is
    given must agree with the tokenizer's own byte-level alphabet on every token."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    tokenizer, rules = constraints
    byte_of = {char: byte for byte, char in bytes_to_unicode().items()}
    special = set(tokenizer.all_special_ids)
    differing = [i for i in range(len(tokenizer)) if i not in special
                 and rules.tokenizer.decode_bytes([i]) != bytes(byte_of[c] for c in tokenizer.convert_ids_to_tokens(i))]
    assert differing == []


def accepts(constraints, sql: str) -> bool:
    tokenizer, rules = constraints
    tokens = tokenizer(sql, add_special_tokens=False)["input_ids"]
    matcher = rules.for_ddl(DDL).matcher
    return matcher.validate_tokens(tokens) == len(tokens) and matcher.try_consume_tokens(tokens) == len(tokens) \
        and matcher.is_accepting()


@pytest.mark.parametrize("sql", [
    "SELECT COUNT(*) FROM teams;",
    "SELECT nickname FROM members WHERE points > 100;",
    "\nSELECT city, COUNT(*) FROM teams GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1;",
    "SELECT T2.team_name FROM members AS T1 JOIN teams AS T2 ON T1.team_id = T2.team_id WHERE T1.nickname = '별빛';",
    "SELECT nickname FROM members WHERE team_id NOT IN (SELECT team_id FROM teams WHERE city LIKE '%서%');",
    "SELECT team_name FROM teams WHERE city = '서울' UNION SELECT team_name FROM teams WHERE team_id < 3;",
    "SELECT members.nickname, AVG(points) AS average FROM members WHERE points BETWEEN 1 AND 2.5 GROUP BY "
    "members.nickname HAVING COUNT(DISTINCT team_id) >= 1;",
    "SELECT count(*), max(points) FROM members WHERE strftime('%Y', '2024-01-01') = '2024';",  # any case
])
def test_grammar_accepts_selects_over_the_schema(constraints, sql):
    assert accepts(constraints, sql)


@pytest.mark.parametrize("sql", [
    "SELECT username FROM members;",  # no such column
    "SELECT COUNT(*) FROM players;",  # no such table
    "SELECT T1.city FROM members AS T1 JOIN teams AS T2 ON T1.team_id = T2.team_id;",  # T1 is members: no city
    "SELECT teams.points FROM teams;",  # qualified by a table without that column
    "DELETE FROM teams;",
    "SELECT COUNT(*) FROM teams",  # never ends: the statement needs its `;`
    "SELECT  COUNT(*) FROM teams;",  # a run of blanks (a small model loops on them)
    "SELECT points FROM members WHERE points > 1234567890123456;",  # a literal without end
])
def test_grammar_refuses_what_is_not_a_select_over_the_schema(constraints, sql):
    assert not accepts(constraints, sql)


def test_a_three_table_schema_stays_within_the_parsers_limits(constraints):
    """27 alias copies (3 tables, T1-T3 bound) once made llguidance give up right after SELECT."""
    tokenizer, rules = constraints
    sql = ("SELECT T1.username FROM players AS T1 JOIN player_quests AS T2 ON T1.player_id = T2.player_id "
           "JOIN quests AS T3 ON T2.quest_id = T3.quest_id WHERE T3.title = '용의 시련';")
    tokens = tokenizer(sql, add_special_tokens=False)["input_ids"]
    matcher = rules.for_ddl(GAME_DDL).matcher
    assert matcher.try_consume_tokens(tokens) == len(tokens) and matcher.is_accepting(), matcher.get_error()


def masked_walk(constraints, ddl: str, sql: str):
    """Feed `sql` token by token as the engine does: the mask first, then the token. The row's constraint, and
    the tokens the mask refused."""
    import torch

    tokenizer, rules = constraints
    row, refused = rules.for_ddl(ddl), []
    for token in tokenizer(sql, add_special_tokens=False)["input_ids"]:
        logits = torch.zeros(rules.vocab_size)
        if not row.mask_logits(logits, rules.bitmask()) or logits[token] == float("-inf"):
            refused.append(tokenizer.decode([token]))
            break
        row.take(token)
    return row, refused


WIDE_DDL = """CREATE TABLE shops (
  shop_id INT PRIMARY KEY, shop_name VARCHAR(50), region VARCHAR(20), opened_on DATE, floor_area INT, phone VARCHAR(20)
);
CREATE TABLE orders (
  order_id INT PRIMARY KEY, shop_id INT, item_code VARCHAR(20), quantity INT, unit_price INT, ordered_at DATETIME,
  status VARCHAR(10), FOREIGN KEY (shop_id) REFERENCES shops(shop_id)
);"""


@pytest.mark.parametrize("ddl, sql", [
    (WIDE_DDL, "SELECT COUNT(*) FROM shops AS T1 JOIN orders AS T2 ON T1.shop_id = T2.shop_id WHERE T1.region = '부산';"),
    (WIDE_DDL, "SELECT SUM(T2.quantity) FROM shops AS T1 JOIN orders AS T2 ON T1.shop_id = T2.shop_id;"),
    (GAME_DDL, "SELECT T1.username FROM players AS T1 JOIN player_quests AS T2 ON T1.player_id = T2.player_id "
               "JOIN quests AS T3 ON T2.quest_id = T3.quest_id WHERE T3.title = '용의 시련';"),
])
def test_every_token_of_a_join_gets_its_mask(constraints, ddl, sql):
    """Computing the mask is where llguidance's item limit bites (consuming tokens alone never hits it): with its
    default, the mask after `SELECT COUNT(*) FROM` over two 6-7 column tables failed, and the answer was cut there."""
    row, refused = masked_walk(constraints, ddl, sql)
    assert refused == [] and row.problem == "" and row.matcher.is_accepting(), (refused, row.problem)


def test_a_finished_statement_is_not_a_dead_end(constraints):
    """After its `;` a row's grammar allows nothing more: the engine, checking a drafted token beyond it, ends
    the row there, which is no problem to report."""
    row, refused = masked_walk(constraints, DDL, "SELECT COUNT(*) FROM teams;")
    assert refused == []
    assert row.mask_logits(__import__("torch").zeros(constraints[1].vocab_size), constraints[1].bitmask()) is False
    assert row.problem == ""


def runs_on_schema(sql: str, ddl: str = DDL) -> bool:
    db = sqlite3.connect(":memory:")
    for statement in sqlite_schema(ddl).statements:
        db.execute(statement)
    try:
        db.execute(sql)
        return True
    except sqlite3.Error:
        return False


@pytest.fixture(scope="module")
def base_model(model_home):
    from studio.settings import DEFAULT_MODEL

    return get_generator(model_home / "models" / DEFAULT_MODEL)


def test_the_base_model_writes_selects_that_run_when_constrained(base_model):
    """Unconstrained, the untrained model repeats the DDL; within the grammar every answer is a query that runs
    on the schema, whichever path (shared prefix with prompt lookup, without it, plain generate) computes it."""
    prompts = [make_prompt(DDL, q) for q in QUESTIONS]
    ways = [GenerationOptions(max_new_tokens=40),
            GenerationOptions(max_new_tokens=40, draft_tokens=0),
            GenerationOptions(max_new_tokens=40, prefix_cache=False, batch_size=2)]
    answers = [[c.text for c in base_model.generate(prompts, options, ddls=[DDL] * len(prompts))] for options in ways]
    assert answers[0] == answers[1] == answers[2]
    assert all(text.strip().startswith("SELECT") and runs_on_schema(text) for text in answers[0]), answers[0]


def test_the_playgrounds_first_answer_is_sql_that_runs(base_model):
    """A newcomer's first click: the Playground's example DDL (three tables) and first question."""
    prompt = make_prompt(GAME_DDL, PLAYGROUND_QUESTIONS[0])
    completion = base_model.generate([prompt], GenerationOptions(max_new_tokens=64), ddls=[GAME_DDL])[0]
    assert completion.problem == "" and runs_on_schema(completion.text, GAME_DDL), completion


def test_free_decoding_is_unchanged(base_model):
    """`constrained=False` (or no DDL given) is the engine as it was: the same answers either way."""
    prompts = [make_prompt(DDL, q) for q in QUESTIONS[:2]]
    options = GenerationOptions(max_new_tokens=24, constrained=False)
    with_ddl = base_model.generate(prompts, options, ddls=[DDL, DDL])
    without = base_model.generate(prompts, GenerationOptions(max_new_tokens=24))
    assert [c.text for c in with_ddl] == [c.text for c in without]
    assert not any(runs_on_schema(c.text) and c.text.startswith("SELECT") for c in without)  # it repeats the DDL
    assert all(c.problem == "" for c in with_ddl + without)


def test_an_answer_the_budget_cuts_short_says_so(base_model):
    completion = base_model.generate([make_prompt(DDL, QUESTIONS[1])], GenerationOptions(max_new_tokens=3),
                                     ddls=[DDL])[0]
    assert completion.problem == UNFINISHED
