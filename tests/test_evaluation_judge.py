"""The judge through the real `openai` SDK against a real HTTP server on 127.0.0.1 (the stand-in)."""

import logging
import sqlite3
from dataclasses import replace

import pytest

from evaluation.judge import (
    BOOK_TEMPLATE,
    Judge,
    JudgeConfig,
    JudgeConfigError,
    JudgeItem,
    parse_verdict,
    render,
)
from evaluation.pricing import cost_usd, estimate_tokens, price_for
from evaluation.ratelimit import RateLimiter
from evaluation.testing.openai_standin import OpenAIStandin

KEY = "sk-test-0123456789abcdef"
DDL = "CREATE TABLE players (player_id INT, username VARCHAR(50), level INT)"


@pytest.fixture
def server():
    with OpenAIStandin() as standin:
        yield standin


def item(
    question="레벨이 10 이상인 플레이어의 이름은?",
    gold="SELECT username FROM players WHERE level >= 10",
    pred=None,
):
    return JudgeItem(DDL, question, gold, gold if pred is None else pred)


def make_judge(server, **overrides):
    config = JudgeConfig(
        model="gpt-4o-mini", base_url=server.base_url, backoff_s=0.01, max_attempts=3, timeout_s=5
    )
    return Judge(replace(config, **overrides), api_key=KEY)


def test_book_prompt_is_sent_as_the_system_message_at_temperature_zero(server):
    with make_judge(server) as judge:
        verdicts = judge.judge_many([item(), item(pred="SELECT username FROM players")])
    assert [v.verdict for v in verdicts] == ["yes", "no"]
    assert all(v.error is None and v.attempts == 1 and not v.cached for v in verdicts)
    body = next(
        r.body for r in server.requests if r.body["messages"][0]["content"] == render(BOOK_TEMPLATE, item())
    )
    assert body["temperature"] == 0
    assert body["messages"][0]["role"] == "system"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert server.requests[0].authorization == f"Bearer {KEY}"


def test_book_template_is_the_books_prompt():
    prompt = render(BOOK_TEMPLATE, JudgeItem("DDL!", "Q?", "GOLD", "PRED"))
    assert prompt.splitlines() == [
        "Based on below DDL and Question, evaluate gen_sql can resolve Question. "
        'If gen_sql and gt_sql do equal job, return "yes" else return "no". '
        'Output JSON Format: {"resolve_yn": ""}',
        "",
        "DDL: DDL!",
        "Question: Q?",
        "gt_sql: GOLD",
        "gen_sql: PRED",
    ]


def test_book_model_uses_json_mode(server):
    with make_judge(server, model="gpt-4-turbo-preview") as judge:
        assert judge.judge(item()).verdict == "yes"
    assert server.requests[0].body["response_format"] == {"type": "json_object"}


def test_rate_limited_once_then_answered(server):
    with make_judge(server) as judge:
        verdict = judge.judge(item(question="q [[fail:429:1]]"))
    assert verdict.verdict == "yes" and verdict.attempts == 2
    assert server.count() == 2


def test_server_error_is_an_error_not_a_no(server):
    with make_judge(server) as judge:
        verdict = judge.judge(item(question="q [[fail:500]]"))
        assert judge.stats.errors == 1
    assert verdict.verdict is None and not verdict.yes
    assert verdict.error == "HTTP 500: stand-in failure 500 (attempt 3)"
    assert server.count() == 3


def test_client_errors_are_not_retried(server):
    with make_judge(server) as judge:
        verdict = judge.judge(item(question="q [[fail:404]]"))
    assert verdict.verdict is None and verdict.error.startswith("HTTP 404")
    assert server.count() == 1


def test_timeout_is_retried_then_an_error(server):
    with make_judge(server, timeout_s=0.3, max_attempts=2) as judge:
        verdict = judge.judge(item(question="q [[sleep:1]]"))
    assert verdict.verdict is None
    assert verdict.error == "timeout after 0.3 s (attempt 2)"
    assert server.count() == 2


@pytest.mark.parametrize(
    "answer, verdict, error",
    [
        ("I think the answer is yes", None, "unparseable answer: 'I think the answer is yes'"),
        ('{"resolve_yn": "maybe"}', None, "unparseable answer: resolve_yn='maybe'"),
        ('{"verdict": "yes"}', None, "unparseable answer: resolve_yn=None"),
        ('```json\n{"resolve_yn": "Yes."}\n```', "yes", None),
    ],
)
def test_garbage_answers_are_errors(server, answer, verdict, error):
    with make_judge(server) as judge:
        result = judge.judge(item(question=f"q [[answer:{answer}]]"))
    assert (result.verdict, result.error) == (verdict, error)
    assert result.answer == answer


@pytest.mark.parametrize(
    "body, error",
    [
        ("garbage{", "malformed response: Expecting value: line 1 column 1 (char 0)"),
        ('{"object": "chat.completion"}', "malformed response: no message"),
        ('"just a string"', "malformed response: no message"),
    ],
)
def test_a_response_that_is_not_a_chat_completion_is_an_error(server, body, error):
    with make_judge(server) as judge:
        verdict = judge.judge(item(question=f"q [[raw:{body}]]"))
    assert (verdict.verdict, verdict.error) == (None, error)
    assert server.count() == 1


def test_parse_verdict_never_turns_garbage_into_no():
    assert parse_verdict('{"resolve_yn": "no"}', "resolve_yn") == ("no", None)
    assert parse_verdict("", "resolve_yn") == (None, "empty answer")
    assert parse_verdict("[1, 2]", "resolve_yn")[0] is None


def test_rerun_is_served_from_the_cache_without_requests(server, tmp_path):
    cache = tmp_path / "judge.sqlite"
    items = [item(), item(pred="SELECT level FROM players"), item(question="q [[fail:500]]")]
    with make_judge(server, cache_path=cache) as judge:
        first = judge.judge_many(items)
    sent = server.count()
    with make_judge(server, cache_path=cache) as judge:
        assert judge.estimate(items[:2]).requests == 0
        second = judge.judge_many(items[:2])
        assert judge.stats.requests == 0 and judge.stats.cached == 2
    assert server.count() == sent  # zero requests the second time
    assert [v.verdict for v in second] == [v.verdict for v in first[:2]]
    assert all(v.cached and v.cost_usd == 0 for v in second)
    assert first[2].error  # errors are not cached: they are asked again next time
    with make_judge(server, cache_path=cache) as judge:
        judge.judge(items[2])
    assert server.count() > sent


def test_cache_key_covers_model_and_template(server, tmp_path):
    cache = tmp_path / "judge.sqlite"
    with make_judge(server, cache_path=cache) as judge:
        judge.judge(item())
    with make_judge(server, cache_path=cache, model="other-model") as judge:
        judge.judge(item())
    with make_judge(server, cache_path=cache, template=BOOK_TEMPLATE + "\nBe strict.") as judge:
        judge.judge(item())
    assert server.count() == 3


def test_api_key_is_never_stored_logged_or_shown(server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "judge.sqlite"
    with make_judge(server, cache_path=cache) as judge:
        judge.judge(item())
        rejected = judge.judge(item(question="q [[fail:401]]"))
        shown = repr(judge) + repr(judge.config) + repr(judge.stats)
    assert rejected.verdict is None and "Incorrect API key provided: ***" in rejected.error
    assert KEY not in rejected.error and KEY not in shown and KEY not in caplog.text
    assert KEY.encode() not in cache.read_bytes()
    with sqlite3.connect(cache) as connection:
        dump = "\n".join(connection.iterdump())
    assert KEY not in dump and "yes" in dump


def test_api_key_comes_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment-000")
    with Judge(JudgeConfig(base_url=server.base_url)) as judge:
        judge.judge(item())
    assert server.requests[0].authorization == "Bearer sk-from-environment-000"


def test_no_key_and_no_endpoint_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(JudgeConfigError, match="OPENAI_API_KEY"):
        Judge(JudgeConfig())


def test_endpoint_without_json_schema_falls_back_to_json_mode():
    with OpenAIStandin(json_schema=False) as server:
        config = JudgeConfig(
            model="local-model", base_url=server.base_url, concurrency=1
        )  # one at a time: one 400
        judge = Judge(config, api_key=KEY)
        verdicts = judge.judge_many([item(), item(pred="SELECT 1")])
        judge.close()
        formats = [request.body["response_format"]["type"] for request in server.requests]
    assert [v.verdict for v in verdicts] == ["yes", "no"]
    assert formats.count("json_schema") == 1 and formats.count("json_object") == 2


def test_custom_template_and_answer_key(server):
    template = (
        "Question: {question}\nReference: {answer}\nCandidate: {pred_sql}\nDoes the candidate answer it?"
    )
    with make_judge(server, template=template, answer_key="correct") as judge:
        verdict = judge.judge(item())
    body = server.requests[0].body
    assert body["messages"][0]["content"].startswith("Question: 레벨이")
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["correct"]
    assert verdict.verdict == "no"  # the stand-in only says yes to gt_sql/gen_sql prompts


def test_template_must_contain_the_prediction():
    with pytest.raises(JudgeConfigError, match="gen_sql"):
        Judge(JudgeConfig(template="Question: {question}", base_url="http://127.0.0.1:9/v1"), api_key=KEY)


def test_requests_run_concurrently_up_to_the_limit(server):
    items = [item(question=f"q{i} [[sleep:0.2]]") for i in range(8)]
    with make_judge(server, concurrency=4) as judge:
        verdicts = judge.judge_many(items)
    assert all(v.verdict == "yes" for v in verdicts)
    assert server.max_in_flight == 4


def test_duplicate_items_are_asked_once(server):
    with make_judge(server) as judge:
        verdicts = judge.judge_many([item(), item(), item()])
    assert [v.verdict for v in verdicts] == ["yes"] * 3
    assert server.count() == 1


def test_usage_and_cost_are_recorded_and_estimated(server):
    items = [item(), item(pred="SELECT 2")]
    with make_judge(server) as judge:
        estimate = judge.estimate(items)
        verdicts = judge.judge_many(items)
        stats = judge.stats
    assert estimate.requests == 2 and estimate.cost_usd > 0 and estimate.prompt_tokens > 0
    for verdict in verdicts:
        assert verdict.prompt_tokens > 0 and verdict.completion_tokens > 0
        assert verdict.cost_usd == pytest.approx(
            cost_usd("gpt-4o-mini", verdict.prompt_tokens, verdict.completion_tokens)
        )
    assert stats.requests == 2 and stats.cost_usd == pytest.approx(sum(v.cost_usd for v in verdicts))


def test_unknown_model_has_unknown_cost(server):
    with make_judge(server, model="my-local-llama") as judge:
        verdict = judge.judge(item())
        assert judge.estimate([item(pred="SELECT 3")]).cost_usd is None
        assert judge.stats.cost_usd is None
    assert verdict.verdict == "yes" and verdict.cost_usd is None


def test_price_table():
    assert price_for("gpt-4o-2024-08-06") == price_for("gpt-4o")
    assert price_for("gpt-4o-mini-2024-07-18") == price_for("gpt-4o-mini") != price_for("gpt-4o")
    assert price_for("gpt-4-turbo-preview").input_per_mtok == 10.0
    assert price_for("llama3") is None
    assert cost_usd("gpt-4o", 1_000_000, 0, batch=True) == pytest.approx(1.25)


def test_token_estimate_does_not_undercount_korean():
    assert estimate_tokens("SELECT name FROM players") == 6
    assert estimate_tokens("레벨이 가장 높은 플레이어") >= 10


def test_batch_mode_uploads_creates_polls_and_downloads(server, tmp_path):
    items = [item(), item(pred="SELECT 1"), item(question="q [[fail:500]]")]
    with make_judge(server, batch=True, batch_poll_s=0.01, cache_path=tmp_path / "c.sqlite") as judge:
        verdicts = judge.judge_many(items)
        again = judge.judge_many(items[:2])
    assert [v.verdict for v in verdicts] == ["yes", "no", None]
    assert verdicts[2].error == "HTTP 500: stand-in failure 500"
    assert verdicts[0].cost_usd == pytest.approx(
        cost_usd("gpt-4o-mini", verdicts[0].prompt_tokens, verdicts[0].completion_tokens) / 2
    )
    paths = [request.path for request in server.requests]
    assert paths.count("/v1/files") == 1 and paths.count("/v1/batches") == 1
    assert paths.count("/v1/batches/batch_1") == 2  # in progress, then completed
    assert server.count() == 0  # no synchronous chat requests
    assert all(v.cached for v in again)


def test_rate_limiter_spaces_requests_and_tokens():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(requests_per_minute=60, tokens_per_minute=600, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        assert limiter.acquire(100) == 0.0  # the first minute's budget is available at once
    assert limiter.acquire(300) == pytest.approx(0.0)
    assert limiter.acquire(100) == pytest.approx(10.0)  # 100 tokens at 10 tokens/s
    assert sum(slept) == pytest.approx(10.0)
    unlimited = RateLimiter(clock=lambda: now[0], sleep=sleep)
    assert unlimited.acquire(10**9) == 0.0


def test_batch_that_does_not_finish_in_time_is_an_error(server):
    with make_judge(server, batch=True, batch_poll_s=0.01, batch_timeout_s=0.0) as judge:
        verdict = judge.judge(item())
    assert verdict.verdict is None
    assert verdict.error.startswith("batch failed: batch batch_1 still validating after 0 s")


@pytest.mark.parametrize("setting, message", [
    ({"timeout_s": 0}, "judge setting timeout_s must be in (0, 3,600], not 0"),
    ({"timeout_s": float("inf")}, "timeout_s must be a finite number"),
    ({"max_attempts": 10**9}, "max_attempts must be in [1, 20]"),
    ({"concurrency": 0}, "concurrency must be in [1, 64]"),
    ({"concurrency": 2.5}, "concurrency must be a whole number"),
    ({"temperature": float("nan")}, "temperature must be a finite number"),
    ({"max_tokens": -1}, "max_tokens must be in [1, 100,000]"),
    ({"requests_per_minute": 0}, "requests_per_minute must be in [1, 1,000,000]"),
    ({"batch_timeout_s": 10**9}, "batch_timeout_s must be in [0, 604,800]"),
    ({"response_format": "xml"}, "response_format must be one of"),
])
def test_a_judge_setting_out_of_range_is_refused_when_made(setting, message):
    with pytest.raises(JudgeConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        JudgeConfig(**setting)


def test_optional_judge_limits_may_be_off():
    config = JudgeConfig(max_tokens=None, requests_per_minute=None, tokens_per_minute=None)
    assert config.requests_per_minute is None
