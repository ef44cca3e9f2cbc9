"""An LLM judge over any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp servers).

By default it asks exactly what the book asks GPT-4 (`BOOK_TEMPLATE`, answer `{"resolve_yn": "yes"|"no"}`),
and fixes the book's weaknesses: temperature 0 and strict JSON output where the endpoint supports it
(JSON mode otherwise); an answer that cannot be parsed is an error, never a "no"; verdicts are cached, so
a re-run costs nothing; requests/min and tokens/min limits, retries with backoff on 429/5xx/timeouts;
token usage and cost are recorded, and estimated before a run. Optionally through the Batch API.

The API key comes from the `api_key` argument or `OPENAI_API_KEY` and stays in memory (the SDK client, and
the redaction of error messages): it is never in the configuration, the cache, logs, reprs or errors.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import openai

from evaluation.batch import BatchOutcome, run_batch
from evaluation.sandbox import LimitsError, check_number
from evaluation.judge_cache import CachedVerdict, JudgeCache, cache_key
from evaluation.pricing import ANSWER_TOKENS, MESSAGE_OVERHEAD_TOKENS, cost_usd, estimate_tokens
from evaluation.ratelimit import RateLimiter

log = logging.getLogger(__name__)

BOOK_MODEL = "gpt-4-turbo-preview"
BOOK_ANSWER_KEY = "resolve_yn"
BOOK_TEMPLATE = """Based on below DDL and Question, evaluate gen_sql can resolve Question. \
If gen_sql and gt_sql do equal job, return "yes" else return "no". Output JSON Format: {"resolve_yn": ""}

DDL: {context}
Question: {question}
gt_sql: {answer}
gen_sql: {gen_sql}"""

# Placeholders a template may use (the book's names and their aliases). Other braces stay as they are,
# so a template can show the JSON answer format literally, as the book's does.
PLACEHOLDERS = {
    "context": "context",
    "ddl": "context",
    "question": "question",
    "answer": "gold_sql",
    "gold_sql": "gold_sql",
    "gen_sql": "pred_sql",
    "pred_sql": "pred_sql",
}
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "none")
# OpenAI models that predate structured outputs: "auto" goes straight to JSON mode for them.
_JSON_MODE_ONLY = re.compile(r"^(gpt-4-turbo|gpt-4-\d{4}|gpt-4-1106|gpt-4-0125|gpt-4$|gpt-4-32k|gpt-3\.5)")
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_*-]{6,}")
_RETRYABLE_STATUS = frozenset({408, 409, 429})
_SDK_PREFIX = re.compile(r"^Error code: \d+ - ")


class JudgeConfigError(ValueError):
    """The judge cannot be set up (no API key, a template without the prediction...)."""


@dataclass(frozen=True)
class JudgeConfig:
    """Everything about a judge except its API key."""

    model: str = BOOK_MODEL
    base_url: str | None = None  # None: OPENAI_BASE_URL, else the OpenAI API
    template: str = BOOK_TEMPLATE
    answer_key: str = BOOK_ANSWER_KEY
    response_format: str = "auto"  # auto | json_schema | json_object | none
    temperature: float = 0.0
    max_tokens: int | None = None
    timeout_s: float = 60.0
    max_attempts: int = 5
    backoff_s: float = 1.0  # first retry delay, doubled each attempt
    max_backoff_s: float = 30.0
    concurrency: int = 8
    requests_per_minute: int | None = 2500  # the book's client limits
    tokens_per_minute: int | None = 100_000
    cache_path: str | Path | None = None  # None: cache in memory for this judge only
    batch: bool = False  # OpenAI Batch API: half price, results within 24 h
    batch_poll_s: float = 30.0
    batch_timeout_s: float = 24 * 3600.0

    def __post_init__(self):
        """Every number finite and in range, so no setting makes a judge that waits, retries or spends
        without end (JudgeConfigError says which and why)."""
        try:
            for name, low, high, integer, low_open in _JUDGE_BOUNDS:
                value = getattr(self, name)
                if value is not None or name not in _OPTIONAL:
                    check_number(name, value, low, high, integer=integer, low_open=low_open)
        except LimitsError as error:
            raise JudgeConfigError(f"judge setting {error}") from None
        initial_response_format(self.model, self.response_format)


_OPTIONAL = {"max_tokens", "requests_per_minute", "tokens_per_minute"}  # None: no limit of the judge's own
# (name, low, high, whole number, low bound excluded): the highs lie far above any sensible setting.
_JUDGE_BOUNDS = (
    ("temperature", 0, 2, False, False),  # OpenAI's range
    ("max_tokens", 1, 100_000, True, False),
    ("timeout_s", 0, 3600, False, True),
    ("max_attempts", 1, 20, True, False),
    ("backoff_s", 0, 600, False, False),
    ("max_backoff_s", 0, 3600, False, False),
    ("concurrency", 1, 64, True, False),
    ("requests_per_minute", 1, 1_000_000, True, False),
    ("tokens_per_minute", 1, 1_000_000_000, True, False),
    ("batch_poll_s", 0, 3600, False, True),
    ("batch_timeout_s", 0, 7 * 24 * 3600, False, False),  # 0: collect what is done, wait no more
)


@dataclass(frozen=True)
class JudgeItem:
    """One question to judge: the schema, the question, the gold SQL and the predicted SQL."""

    context: str
    question: str
    gold_sql: str
    pred_sql: str


@dataclass(frozen=True)
class JudgeVerdict:
    """ "yes" or "no", or an error (verdict None): a failed or unparseable answer is never a "no"."""

    verdict: str | None
    error: str | None = None
    answer: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    cached: bool = False
    attempts: int = 0

    @property
    def yes(self) -> bool:
        return self.verdict == "yes"


@dataclass
class JudgeStats:
    """What this judge has done so far: HTTP requests, cache hits, errors, tokens and cost."""

    requests: int = 0
    cached: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None once a model without a known price has been used


@dataclass(frozen=True)
class CostEstimate:
    """Expected requests, tokens and cost of judging some items (cache hits cost nothing)."""

    items: int
    cached: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def render(template: str, item: JudgeItem) -> str:
    """Fill a template's placeholders ({context}, {question}, {answer}, {gen_sql} and aliases)."""
    values = {
        "context": item.context,
        "question": item.question,
        "gold_sql": item.gold_sql,
        "pred_sql": item.pred_sql,
    }
    return _PLACEHOLDER.sub(lambda m: values[PLACEHOLDERS[m.group(1)]] or "", template)


def validate_template(template: str) -> None:
    used = {PLACEHOLDERS[name] for name in _PLACEHOLDER.findall(template)}
    if "pred_sql" not in used:
        raise JudgeConfigError("the judge template must contain {gen_sql} (the predicted SQL)")


def parse_verdict(content: str | None, answer_key: str) -> tuple[str | None, str | None]:
    """("yes" | "no", None) from a JSON answer, or (None, why it could not be read)."""
    text = (content or "").strip()
    if not text:
        return None, "empty answer"
    data = _load_json_object(text)
    if data is None:
        return None, f"unparseable answer: {text[:120]!r}"
    value = data.get(answer_key)
    word = value.strip().strip(".!").lower() if isinstance(value, str) else None
    if word in ("yes", "no"):
        return word, None
    return None, f"unparseable answer: {answer_key}={value!r}"


def initial_response_format(model: str, setting: str) -> str:
    if setting not in RESPONSE_FORMATS:
        raise JudgeConfigError(f"response_format must be one of {', '.join(RESPONSE_FORMATS)}")
    if setting != "auto":
        return setting
    return "json_object" if _JSON_MODE_ONLY.match(model) else "json_schema"


class Judge:
    """Judges (question, gold SQL, predicted SQL) triples with an LLM. Thread-safe; close() when done."""

    def __init__(self, config: JudgeConfig = JudgeConfig(), *, api_key: str | None = None):
        validate_template(config.template)
        self.config = config
        key = api_key or os.environ.get("OPENAI_API_KEY")
        base_url = config.base_url or os.environ.get("OPENAI_BASE_URL") or None
        if not key:
            if base_url is None:
                raise JudgeConfigError(
                    "no API key: set OPENAI_API_KEY (or give a base URL for a local server)"
                )
            key = "not-needed"  # local OpenAI-compatible servers accept any key
        self._secret = key
        self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=config.timeout_s, max_retries=0)
        self._format = initial_response_format(config.model, config.response_format)
        self._cache = JudgeCache(config.cache_path)
        self._limiter = RateLimiter(config.requests_per_minute, config.tokens_per_minute)
        self._lock = threading.Lock()
        self.stats = JudgeStats()

    def __repr__(self) -> str:
        return f"Judge(model={self.config.model!r}, base_url={str(self._client.base_url)!r})"

    def judge(self, item: JudgeItem) -> JudgeVerdict:
        return self.judge_many([item])[0]

    def judge_many(
        self, items: Sequence[JudgeItem], progress: Callable[[int, int], None] | None = None
    ) -> list[JudgeVerdict]:
        """Verdicts in the order of `items`: from the cache where possible, the rest from the endpoint."""
        prompts = {self._key(item): render(self.config.template, item) for item in items}
        results = {key: hit for key in prompts if (hit := self._cached(key)) is not None}
        pending = {key: prompt for key, prompt in prompts.items() if key not in results}
        if pending:
            fresh = self._ask_batch(pending) if self.config.batch else self._ask_all(pending, progress)
            for key, verdict in fresh.items():
                self._remember(key, verdict)
            results.update(fresh)
        return [results[self._key(item)] for item in items]

    def estimate(self, items: Sequence[JudgeItem]) -> CostEstimate:
        """What judging `items` would cost now (approximate tokens; cached items are free)."""
        prompts = {self._key(item): render(self.config.template, item) for item in items}
        pending = [prompt for key, prompt in prompts.items() if self._cache.get(key) is None]
        prompt_tokens = sum(estimate_tokens(prompt) + MESSAGE_OVERHEAD_TOKENS for prompt in pending)
        completion_tokens = ANSWER_TOKENS * len(pending)
        return CostEstimate(
            items=len(items),
            cached=len(prompts) - len(pending),
            requests=len(pending),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd(self.config.model, prompt_tokens, completion_tokens, batch=self.config.batch),
        )

    def close(self) -> None:
        self._client.close()
        self._cache.close()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- synchronous requests ---------------------------------------------------------------------

    def _ask_all(self, pending: dict[str, str], progress) -> dict[str, JudgeVerdict]:
        results: dict[str, JudgeVerdict] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.config.concurrency)) as pool:
            futures = {pool.submit(self._ask, prompt): key for key, prompt in pending.items()}
            for done, future in enumerate(as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if progress:
                    progress(done, len(futures))
        return results

    def _ask(self, prompt: str) -> JudgeVerdict:
        """One verdict, retrying rate limits, server errors and timeouts with exponential backoff."""
        error = "no attempt made"
        for attempt in range(1, self.config.max_attempts + 1):
            self._limiter.acquire(estimate_tokens(prompt) + MESSAGE_OVERHEAD_TOKENS + ANSWER_TOKENS)
            response_format = self._format
            try:
                with self._lock:
                    self.stats.requests += 1
                response = self._client.chat.completions.create(**self._body(prompt, response_format))
            except openai.APIError as exc:
                error = self._describe(exc)
                if self._fall_back_to_json_mode(exc, response_format):
                    continue
                if not _retryable(exc) or attempt == self.config.max_attempts:
                    return JudgeVerdict(None, error=f"{error} (attempt {attempt})", attempts=attempt)
                log.info("judge request failed (%s); retrying", error)
                time.sleep(self._backoff(attempt, exc))
                continue
            except ValueError as exc:  # a response body that is not JSON at all
                return JudgeVerdict(None, error=self._redact(f"malformed response: {exc}"), attempts=attempt)
            return self._response_verdict(response, prompt, attempt)
        return JudgeVerdict(None, error=error, attempts=self.config.max_attempts)

    def _response_verdict(self, response, prompt: str, attempt: int) -> JudgeVerdict:
        """The verdict in a chat completion; servers that answer something else get an error, not a crash."""
        choices = getattr(response, "choices", None)
        message = getattr(choices[0], "message", None) if isinstance(choices, list) and choices else None
        if message is None:
            return JudgeVerdict(None, error="malformed response: no message", attempts=attempt)
        usage = getattr(response, "usage", None)
        return self._verdict(
            message.content,
            getattr(usage, "prompt_tokens", None) or estimate_tokens(prompt),
            getattr(usage, "completion_tokens", None) or 0,
            attempts=attempt,
        )

    def _body(self, prompt: str, response_format: str) -> dict:
        body: dict = {
            "model": self.config.model,
            "messages": [{"role": "system", "content": prompt}],  # as the book sends it
            "temperature": self.config.temperature,
        }
        if response_format == "json_schema":
            body["response_format"] = _json_schema_format(self.config.answer_key)
        elif response_format == "json_object":
            body["response_format"] = {"type": "json_object"}
        if self.config.max_tokens:
            body["max_completion_tokens"] = self.config.max_tokens
        return body

    def _fall_back_to_json_mode(self, exc: openai.APIError, used: str) -> bool:
        """An endpoint that rejects a JSON schema (HTTP 400) gets JSON mode from now on."""
        if (
            self.config.response_format == "auto"
            and used == "json_schema"
            and isinstance(exc, openai.BadRequestError)
        ):
            log.info("the endpoint rejected a JSON schema; using JSON mode")
            self._format = "json_object"
            return True
        return False

    def _backoff(self, attempt: int, exc: openai.APIError) -> float:
        delay = self.config.backoff_s * 2 ** (attempt - 1)
        retry_after = getattr(getattr(exc, "response", None), "headers", {}).get("retry-after")
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            delay = max(delay, float(retry_after))
        return min(self.config.max_backoff_s, delay) * random.uniform(1.0, 1.1)  # jitter spreads workers

    # --- Batch API --------------------------------------------------------------------------------

    def _ask_batch(self, pending: dict[str, str]) -> dict[str, JudgeVerdict]:
        bodies = {key: self._body(prompt, self._format) for key, prompt in pending.items()}
        try:
            outcomes = run_batch(
                self._client, bodies, poll_s=self.config.batch_poll_s, timeout_s=self.config.batch_timeout_s
            )
        except (openai.APIError, TimeoutError, ValueError) as exc:  # ValueError: a malformed result file
            error = self._describe(exc) if isinstance(exc, openai.APIError) else str(exc)
            outcomes = {key: BatchOutcome(error=f"batch failed: {error}") for key in bodies}
        with self._lock:
            self.stats.requests += len(bodies)
        return {key: self._batch_verdict(outcome) for key, outcome in outcomes.items()}

    def _batch_verdict(self, outcome: BatchOutcome) -> JudgeVerdict:
        if outcome.error:
            return JudgeVerdict(None, error=self._redact(outcome.error), attempts=1)
        return self._verdict(
            outcome.content, outcome.prompt_tokens, outcome.completion_tokens, attempts=1, batch=True
        )

    # --- verdicts, cache, stats -------------------------------------------------------------------

    def _verdict(
        self,
        content: str | None,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        attempts: int,
        batch: bool = False,
    ) -> JudgeVerdict:
        verdict, error = parse_verdict(content, self.config.answer_key)
        return JudgeVerdict(
            verdict,
            error=error,
            answer=content or "",
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd(self.config.model, prompt_tokens, completion_tokens, batch=batch),
            attempts=attempts,
        )

    def _key(self, item: JudgeItem) -> str:
        inputs = {
            "context": item.context,
            "question": item.question,
            "gold_sql": item.gold_sql,
            "pred_sql": item.pred_sql,
        }
        return cache_key(self.config.model, self.config.template + "\n" + self.config.answer_key, inputs)

    def _cached(self, key: str) -> JudgeVerdict | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        with self._lock:
            self.stats.cached += 1
        return JudgeVerdict(
            hit.verdict,
            answer=hit.answer,
            prompt_tokens=hit.prompt_tokens,
            completion_tokens=hit.completion_tokens,
            cost_usd=0.0,
            cached=True,
        )

    def _remember(self, key: str, verdict: JudgeVerdict) -> None:
        with self._lock:
            stats = self.stats
            stats.errors += verdict.error is not None
            stats.prompt_tokens += verdict.prompt_tokens
            stats.completion_tokens += verdict.completion_tokens
            if verdict.cost_usd is None:
                stats.cost_usd = None  # unknown price: a partial sum would mislead
            elif stats.cost_usd is not None:
                stats.cost_usd += verdict.cost_usd
        if verdict.verdict is not None:
            entry = CachedVerdict(
                verdict.verdict, verdict.answer, verdict.prompt_tokens, verdict.completion_tokens
            )
            self._cache.put(key, self.config.model, entry)

    def _describe(self, exc: openai.APIError) -> str:
        if isinstance(exc, openai.APITimeoutError):
            return f"timeout after {self.config.timeout_s:g} s"
        if isinstance(exc, openai.APIStatusError):
            message = _SDK_PREFIX.sub("", exc.message)
            return self._redact(f"HTTP {exc.status_code}: {message}")
        return self._redact(f"{type(exc).__name__}: {exc}")

    def _redact(self, text: str) -> str:
        if len(self._secret) >= 8:
            text = text.replace(self._secret, "***")
        return _KEY_LIKE.sub("sk-***", text)[:300]


def _retryable(exc: openai.APIError) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError)  # timeouts included


def _json_schema_format(answer_key: str) -> dict:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "verdict",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {answer_key: {"type": "string", "enum": ["yes", "no"]}},
                "required": [answer_key],
                "additionalProperties": False,
            },
        },
    }


def _load_json_object(text: str) -> dict | None:
    """A JSON object from an answer, also when a model wraps it in prose or a code fence."""
    candidates = [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None
