"""Generation through OpenAI-compatible servers (studio.server_engine): the real `openai` client against a real
`transformers serve` on the offline model, and against the stand-in where a server must misbehave (429s, no
completions endpoint, failures)."""

from __future__ import annotations

import pytest

from evaluation.sql import extract_sql
from evaluation.testing.openai_standin import OpenAIStandin
from studio.errors import StudioError
from studio.evaluate import (
    EvalOptions,
    base_candidate,
    candidate_prompts,
    eval_set_from_version,
    evaluate,
    list_evaluations,
    server_candidate,
)
from studio.inference import GenerationOptions, LoadOptions, get_generator
from studio.leaderboard import load_board
from studio.server_engine import ServerConfig, ServerEngine
from studio.settings import DEFAULT_MODEL, Secret, load_settings
from studio.export.serve import TransformersServer
from tests.test_app import running_app  # noqa: F401 - the launched app fixture

ROWS, TOKENS = 3, 24


@pytest.mark.parametrize("values, key", [
    ({"base_urls": (), "model": "m"}, "server_url_count"),
    ({"base_urls": ("ftp://x/v1",), "model": "m"}, "server_bad_url"),
    ({"base_urls": ("http:///v1",), "model": "m"}, "server_bad_url"),
    ({"base_urls": ("http://h/v1",), "model": " "}, "server_no_model"),
    ({"base_urls": ("http://h/v1",), "model": "m", "api": "grpc"}, "server_bad_api"),
    ({"base_urls": ("http://h/v1",), "model": "m", "concurrency": 0}, "server_bad_concurrency"),
    ({"base_urls": ("http://h/v1",) * 17, "model": "m"}, "server_url_count"),
    ({"base_urls": ("http://h/v1",), "model": "m", "timeout_s": float("nan")}, "server_bad_limits"),
])
def test_a_server_configuration_is_checked_when_made(values, key):
    with pytest.raises(StudioError) as caught:
        ServerConfig(**values)
    assert caught.value.key == key


def test_the_key_never_prints():
    config = ServerConfig(("http://127.0.0.1:1/v1",), "m", api_key=Secret("sk-very-secret"))
    assert "sk-very-secret" not in repr(config) and config.label == "server:m"


# --- misbehaving servers: the stand-in ----------------------------------------------------------------

def test_a_server_with_chat_only_is_asked_through_chat_and_429s_are_retried():
    with OpenAIStandin(reply=lambda prompt: "SELECT name FROM players;") as server:
        config = ServerConfig((server.base_url,), "standin", concurrency=2, max_retries=3)
        engine = ServerEngine(config)
        prompts = ["first [[fail:429:2]]", "second", "third"]
        answers = engine.generate(prompts, 16)
        assert answers.api == "chat"  # the probe found no completions endpoint (404)
        assert [c.text for c in answers.completions] == ["SELECT name FROM players;"] * 3
        assert [c.prompt for c in answers.completions] == prompts  # in order
        tries = [r for r in server.requests if r.body and "first" in str(r.body.get("messages"))]
        assert len(tries) == 3  # two 429s, then the answer


def test_requests_run_concurrently_within_the_bound_and_rows_spread_over_the_servers():
    with OpenAIStandin(reply=lambda prompt: "SELECT 1;") as one, OpenAIStandin(reply=lambda p: "SELECT 1;") as two:
        config = ServerConfig((one.base_url, two.base_url), "standin", api="chat", concurrency=2)
        answers = ServerEngine(config).generate([f"question {i} [[sleep:0.2]]" for i in range(12)], 8)
        assert set(answers.per_server) == {one.base_url, two.base_url} and sum(answers.per_server.values()) == 12
        assert all(count > 0 for count in answers.per_server.values())
        assert 1 < one.max_in_flight <= 2 and 1 < two.max_in_flight <= 2


@pytest.mark.parametrize("prompt, key", [("broken [[fail:500]]", "server_failed"),
                                         ("refused [[fail:401]]", "server_key_refused")])
def test_a_failing_server_stops_with_its_reason(prompt, key):
    with OpenAIStandin() as server:
        engine = ServerEngine(ServerConfig((server.base_url,), "standin", api="chat", max_retries=1))
        with pytest.raises(StudioError) as caught:
            engine.generate(["fine", prompt], 8)
        assert caught.value.key == key and server.base_url in str(caught.value)


def test_an_answer_that_is_not_a_completion_stops_the_rows_instead_of_losing_one():
    with OpenAIStandin(reply=lambda prompt: "SELECT 1;") as server:
        engine = ServerEngine(ServerConfig((server.base_url,), "standin", api="chat", concurrency=3))
        with pytest.raises(StudioError) as caught:
            engine.generate(["one", "two [[raw:this is not JSON]]", "three"], 8)
    assert caught.value.key in ("server_failed", "server_no_text") and server.base_url in str(caught.value)


def test_a_server_that_is_not_there_is_named():
    engine = ServerEngine(ServerConfig(("http://127.0.0.1:9/v1",), "m", max_retries=0, timeout_s=5))
    with pytest.raises(StudioError) as caught:
        engine.generate(["anything"], 8)
    assert caught.value.key == "server_unreachable" and "127.0.0.1:9" in str(caught.value)


# --- a real server: transformers serve on the offline model -----------------------------------------------

@pytest.fixture(scope="module")
def served(model_home):
    with TransformersServer(model_home / "models" / DEFAULT_MODEL) as server:
        yield server


@pytest.fixture
def sample_rows(offline_model, sample_version_id):
    eval_set = eval_set_from_version(sample_version_id)
    return eval_set, eval_set.rows.head(ROWS)


def test_the_servers_greedy_answers_are_the_built_in_engines(served, sample_rows, offline_model):
    eval_set, rows = sample_rows
    prompts = candidate_prompts(base_candidate(DEFAULT_MODEL), rows, eval_set.template, load_settings())
    ours = get_generator(offline_model, LoadOptions()).generate(
        prompts, GenerationOptions(max_new_tokens=TOKENS, constrained=False))
    theirs = ServerEngine(ServerConfig((served.base_url,), served.model)).generate(prompts, TOKENS)
    assert theirs.api == "completions"

    def statement(text: str) -> str:
        return " ".join(extract_sql(text).split())

    assert [statement(c.text) for c in theirs.completions] == [statement(c.text) for c in ours]


def test_an_evaluation_through_the_server_is_stored_as_its_own_leaderboard_row(served, sample_rows):
    eval_set, _ = sample_rows
    candidate = server_candidate(ServerConfig((served.base_url,), served.model, concurrency=2))
    result = evaluate(candidate, eval_set, EvalOptions(mode="execution", limit=ROWS, max_new_tokens=TOKENS,
                                                       candidates=3))
    assert result.summary.total == ROWS and result.new_generations == ROWS
    stored = list_evaluations().set_index("id").loc[result.id]
    assert (stored.candidate, stored.decoding) == (f"server:{served.model}", "server-completions")
    board = load_board()
    row = board[board["run"] == f"server:{served.model}"].iloc[0]
    assert row["mode"] == "execution+server-completions" and row["rows"] == ROWS
    again = evaluate(candidate, eval_set, EvalOptions(mode="execution", limit=ROWS, max_new_tokens=TOKENS))
    assert again.new_generations == 0  # remembered: re-scoring never asks the server again


def test_the_cli_evaluates_through_a_server(model_home, sample_version_id):
    import json

    from tests.test_cli import run_cli

    with OpenAIStandin(reply=lambda prompt: "SELECT username FROM players;") as server:
        done = run_cli("eval", "--server-url", server.base_url, "--server-model", "standin-sql", "--dataset",
                       sample_version_id, "--mode", "execution", "--limit", "2", home=model_home)
        bad = run_cli("eval", "--server-url", "file:///etc/passwd", "--server-model", "m", "--dataset",
                      sample_version_id, home=model_home)
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert (line["candidate"], line["decoding"], line["total"]) == ("server:standin-sql", "server-chat", 2)
    assert bad.returncode != 0 and "not a server base URL" in bad.stderr and "Traceback" not in bad.stderr


def test_the_playground_answers_through_a_server(running_app):  # noqa: F811
    from gradio_client import Client

    from studio.ui.examples import GAME_DDL, QUESTIONS

    client = Client(running_app, verbose=False, headers={"Accept-Language": "en-US"})
    with OpenAIStandin(reply=lambda prompt: "SELECT username FROM players WHERE level >= 10;") as server:
        sql, status, completion, prompt = client.predict(
            "smollm2-135m-instruct", "", GAME_DDL, QUESTIONS[0], 32, True, server.base_url, "standin-sql",
            api_name="/generate_sql")
        asked = [r.body for r in server.requests if r.path == "/v1/chat/completions"]
    assert sql == "SELECT username FROM players WHERE level >= 10" and "runs against the schema" in status.lower()
    assert QUESTIONS[0] in asked[0]["messages"][0]["content"] and QUESTIONS[0] in prompt
