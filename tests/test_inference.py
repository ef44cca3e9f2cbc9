"""The generation engine with the real offline model (SmolLM2-135M, converted) on CPU."""

import pytest

from studio.errors import StudioError
from studio.inference import (
    GenerationOptions,
    _cut_after_statement,
    _is_finished,
    _length_sorted_batches,
    get_generator,
)
from studio.prompts import make_prompt
from studio.text2sql import ask
from studio.ui.examples import GAME_DDL, QUESTIONS

SHORT_DDL = "CREATE TABLE players (player_id INT PRIMARY KEY, username VARCHAR(255), level INT);"


def test_ask_generates_sql_with_the_offline_model(offline_model):
    answer = ask("smollm2-135m-instruct", GAME_DDL, QUESTIONS[0], generation=GenerationOptions(max_new_tokens=48))
    assert answer.prompt == make_prompt(GAME_DDL, QUESTIONS[0])
    assert 0 < answer.new_tokens <= 48
    assert answer.completion.strip()
    # Untrained, SmolLM2 answers the book's prompt with a statement of its own (it repeats the DDL):
    # the extracted SQL is the completion's first statement.
    assert answer.sql and answer.completion.startswith(answer.sql)


def test_model_is_cached_across_requests(offline_model):
    first = get_generator(offline_model)
    assert get_generator(offline_model) is first


def test_batched_generation_equals_one_at_a_time(offline_model):
    generator = get_generator(offline_model)
    prompts = [make_prompt(SHORT_DDL, q) for q in ("레벨이 가장 높은 플레이어는?", "플레이어 수는?")]
    prompts.append(make_prompt(GAME_DDL, QUESTIONS[1]))  # a longer prompt: left padding in the batch
    options = GenerationOptions(max_new_tokens=24, batch_size=3, max_batch_tokens=10**6)
    batched = generator.generate(prompts, options)
    single = [generator.generate([p], options)[0] for p in prompts]
    assert [c.text for c in batched] == [c.text for c in single]
    assert [c.prompt for c in batched] == prompts


def test_progress_is_reported(offline_model):
    seen = []
    get_generator(offline_model).generate(
        [make_prompt(SHORT_DDL, "플레이어 수는?")] * 2,
        GenerationOptions(max_new_tokens=4, batch_size=1),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)]


def test_progress_counts_each_row_as_it_finishes_within_a_batch(offline_model):
    # Untrained, the model copies the DDL: the one-table DDL ends (`;`) long before the game DDL's copy does.
    seen = []
    prompts = [make_prompt(GAME_DDL, QUESTIONS[0]), make_prompt(SHORT_DDL, "플레이어 수는?")]
    completions = get_generator(offline_model).generate(
        prompts, GenerationOptions(max_new_tokens=64, batch_size=2),
        progress=lambda done, total: seen.append((done, total)))
    assert completions[1].new_tokens < completions[0].new_tokens
    assert seen == [(1, 2), (2, 2)]


def test_adapter_folder_must_hold_an_adapter(offline_model, tmp_path):
    with pytest.raises(StudioError, match="adapter_config.json"):
        ask("smollm2-135m-instruct", SHORT_DDL, "질문", adapter=tmp_path)


@pytest.mark.parametrize("ddl, question, message", [("", "q", "DDL is empty"), (SHORT_DDL, " ", "question is empty")])
def test_empty_inputs_are_rejected_before_loading(ddl, question, message):
    with pytest.raises(StudioError, match=message):
        ask("smollm2-135m-instruct", ddl, question)


def test_generation_options_are_validated():
    with pytest.raises(StudioError, match="max_new_tokens"):
        GenerationOptions(max_new_tokens=0)


def test_stop_rules():
    assert _is_finished("SELECT 1;") and _is_finished("SELECT 1\n###")
    assert not _is_finished("SELECT * FROM t WHERE a = ';")
    assert _cut_after_statement("SELECT 1; -- and more\nSELECT 2") == "SELECT 1;"
    assert _cut_after_statement("SELECT 1\n\n### Question: x") == "SELECT 1"


def test_batches_group_similar_lengths_within_the_budget():
    options = GenerationOptions(max_new_tokens=10, batch_size=2, max_batch_tokens=100)
    batches = _length_sorted_batches([5, 40, 6, 39, 7], options)
    assert batches == [[1, 3], [4, 2], [0]]
    tight = GenerationOptions(max_new_tokens=10, batch_size=8, max_batch_tokens=60)
    assert all(len(b) == 1 for b in _length_sorted_batches([40, 39], tight))


def test_ask_checks_the_sql_against_the_schema(offline_model):
    free = GenerationOptions(max_new_tokens=32, constrained=False)
    answer = ask("smollm2-135m-instruct", SHORT_DDL, "플레이어 수는?", generation=free)
    # Untrained and free, the model writes a CREATE TABLE (not a query): not a valid answer on this schema.
    assert answer.runs_on_schema is False and answer.schema_message
    # Within the schema's grammar (the default), the same model's first answer is a query that runs on it.
    answer = ask("smollm2-135m-instruct", SHORT_DDL, "플레이어 수는?", generation=GenerationOptions(max_new_tokens=32))
    assert answer.sql.startswith("SELECT") and answer.runs_on_schema is True, answer
