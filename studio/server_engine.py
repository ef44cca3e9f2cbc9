"""Generation through OpenAI-compatible servers: vLLM, TGI, llama.cpp's server, Ollama, `transformers serve`.

Evaluate (and `studio eval --server-url`) sends each prompt, the book's prompt as it is, to the completions
endpoint, greedy (temperature 0), and falls back to chat where a server offers only that (`api="auto"`).
Requests run concurrently, at most `concurrency` in flight per server; rows go to whichever server is free,
so several base URLs spread one evaluation over several machines. The `openai` client retries 429 and 5xx
answers with backoff (`max_retries`); what still fails stops the evaluation with the server's message.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from evaluation.sql import extract_sql
from studio.errors import StudioError
from studio.inference import Completion
from studio.settings import Secret

APIS = ("auto", "completions", "chat")
MAX_SERVERS = 16
MAX_CONCURRENCY = 64
SQL_STOPS = ["\n\n"]  # the book's answers are one statement; a blank line ends what the model means to say


@dataclass(frozen=True)
class ServerConfig:
    """Where answers come from: OpenAI-compatible base URLs (…/v1) serving `model`, and how to ask them."""

    base_urls: tuple[str, ...]
    model: str
    api: str = "auto"  # auto: completions, or chat where the server has no completions endpoint
    concurrency: int = 4  # requests in flight per base URL
    max_retries: int = 4  # for 429 and 5xx answers, with the client's backoff
    timeout_s: float = 300.0
    api_key: Secret | None = field(default=None, compare=False)  # in memory only; `Secret` never prints
    name: str = ""  # the leaderboard's name for what is served, when the model id is a long path

    def __post_init__(self):
        object.__setattr__(self, "base_urls", tuple(url.strip().rstrip("/") for url in self.base_urls if url.strip()))
        object.__setattr__(self, "model", (self.model or "").strip())
        if not self.base_urls or len(self.base_urls) > MAX_SERVERS:
            raise StudioError("give 1 to {most} server base URLs", key="server_url_count", most=MAX_SERVERS)
        for url in self.base_urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise StudioError("{url!r} is not a server base URL: give http(s)://host:port/v1",
                                  key="server_bad_url", url=url)
        if not self.model:
            raise StudioError("name the model the server serves (its id in /v1/models)", key="server_no_model")
        if self.api not in APIS:
            raise StudioError("api must be one of {apis}", key="server_bad_api", apis=", ".join(APIS))
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise StudioError("concurrency must be between 1 and {most}", key="server_bad_concurrency",
                              most=MAX_CONCURRENCY)
        if not 0 <= self.max_retries <= 10 or not 1 <= self.timeout_s <= 3600:
            raise StudioError("retries must be 0 to 10 and the timeout 1 to 3600 s", key="server_bad_limits")

    @property
    def label(self) -> str:
        """The candidate's name on the leaderboard: the model, whichever servers answered."""
        return f"server:{self.name or self.model}"


def server_from_fields(urls: str | Sequence[str] | None, model: str | None, *, api: str | None = None,
                       concurrency: float | None = None, key: str | None = None) -> ServerConfig | None:
    """The server that loosely typed fields (a form, an API call, the CLI) name; None when they name neither a
    URL nor a model. `urls` may be one text holding several, separated by commas, spaces or lines."""
    texts = [urls] if isinstance(urls, str) else list(urls or [])
    found = tuple(url for text in texts for url in re.split(r"[\s,]+", text or "") if url)
    if not found and not (model or "").strip():
        return None
    return ServerConfig(found, model or "", api=api or "auto",
                        concurrency=int(concurrency) if concurrency is not None else ServerConfig.concurrency,
                        api_key=Secret(key.strip()) if (key or "").strip() else None)


@dataclass
class ServerAnswers:
    completions: list[Completion]
    api: str  # the endpoint that answered: completions | chat
    per_server: dict[str, int]  # base URL → rows it answered


class ServerEngine:
    """Sends prompts to the configured servers; one engine per evaluation (it learns which API works)."""

    def __init__(self, config: ServerConfig):
        from openai import OpenAI

        self.config = config
        key = config.api_key.reveal() if config.api_key else "none"  # local servers take any key
        self._clients = {url: OpenAI(base_url=url, api_key=key, max_retries=config.max_retries,
                                     timeout=config.timeout_s) for url in config.base_urls}
        self.api = "completions" if config.api == "auto" else config.api
        self._resolved = config.api != "auto"
        self._lock = threading.Lock()

    def resolve_api(self) -> str:
        """The endpoint this evaluation uses: completions, or chat where `auto` finds no completions endpoint
        (asked with a one-token request to the first server)."""
        if not self._resolved:
            try:
                self._ask(self.config.base_urls[0], "SELECT", 1, probing=True)
            except _NoCompletions:
                self.api = "chat"
            self._resolved = True
        return self.api

    def generate(self, prompts: Sequence[str], max_new_tokens: int,
                 progress: Callable[[int, int], None] | None = None) -> ServerAnswers:
        """Each prompt's greedy answer, in order; rows go to whichever server has a free slot."""
        self.resolve_api()
        results: list[Completion | None] = [None] * len(prompts)
        answered = {url: 0 for url in self.config.base_urls}
        work: queue.Queue[int] = queue.Queue()
        for index in range(len(prompts)):
            work.put(index)
        failures: list[StudioError] = []  # the first stops every thread after its current request

        def serve(url: str) -> None:
            while not failures:
                try:
                    index = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = self._ask(url, prompts[index], max_new_tokens)
                except Exception as error:  # noqa: BLE001 - any failure stops all: no answer may go missing
                    failures.append(error if isinstance(error, StudioError) else _failure(url, error))
                    return
                with self._lock:
                    answered[url] += 1
                    if progress:
                        progress(sum(answered.values()), len(prompts))

        threads = [threading.Thread(target=serve, args=(url,), daemon=True)
                   for url in self.config.base_urls for _ in range(self.config.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        return ServerAnswers(list(results), self.api, answered)  # every row answered, or we raised

    def _ask(self, url: str, prompt: str, max_new_tokens: int, probing: bool = False) -> Completion:
        import openai

        client = self._clients[url]
        try:
            if self.api == "completions":
                reply = client.completions.create(model=self.config.model, prompt=prompt, max_tokens=max_new_tokens,
                                                  temperature=0, stop=SQL_STOPS)
                text = reply.choices[0].text if reply.choices else None
            else:
                reply = client.chat.completions.create(model=self.config.model, max_tokens=max_new_tokens,
                                                       temperature=0, stop=SQL_STOPS,
                                                       messages=[{"role": "user", "content": prompt}])
                text = reply.choices[0].message.content if reply.choices else None
        except (openai.NotFoundError, openai.UnprocessableEntityError) as error:
            if probing:
                raise _NoCompletions() from error
            raise _failure(url, error) from None
        except openai.OpenAIError as error:
            raise _failure(url, error) from None
        if not isinstance(text, str):
            raise StudioError("the server at {url} answered without text", key="server_no_text", url=url)
        tokens = getattr(reply.usage, "completion_tokens", 0) if reply.usage else 0
        return Completion(prompt=prompt, text=text, sql=extract_sql(text), new_tokens=tokens or 0)


class _NoCompletions(Exception):
    """The server has no completions endpoint (404/422): ask through chat instead."""


def _failure(url: str, error: Exception) -> StudioError:
    import openai

    if isinstance(error, openai.APIConnectionError):
        return StudioError("the server at {url} cannot be reached ({error}): is it running?",
                           key="server_unreachable", url=url, error=type(error).__name__)
    if isinstance(error, openai.AuthenticationError):
        return StudioError("the server at {url} refused the API key (401)", key="server_key_refused", url=url)
    status = getattr(error, "status_code", None)
    message = str(getattr(error, "message", "") or error)[:300]
    return StudioError("the server at {url} failed ({status}): {message}", key="server_failed", url=url,
                       status=status or "no answer", message=message)
