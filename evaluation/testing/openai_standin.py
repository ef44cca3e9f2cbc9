"""A small deterministic OpenAI-compatible server on 127.0.0.1, for tests and benchmarks of the judge.

It speaks enough of the API for the real `openai` SDK: chat completions (JSON mode and JSON schema), file
upload and download, batches. Its verdict is deterministic: "yes" when the `gen_sql:` and `gt_sql:` lines of
the prompt hold the same statement up to case, spacing and a final semicolon, "no" otherwise.
Directives inside a prompt make it misbehave on purpose:

    [[fail:429:2]]   the first 2 requests with this prompt get HTTP 429 ([[fail:500]]: every request)
    [[sleep:1.5]]    the answer comes after 1.5 s
    [[answer:TEXT]]  the answer is TEXT verbatim (garbage, "maybe", ...)
    [[raw:BODY]]     the HTTP response body is BODY verbatim, status 200 (not a chat completion at all)

Every request is recorded with its Authorization header (`requests`, `count()`).
Run it alone with `python -m evaluation.testing.openai_standin --port 8011`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from evaluation.testing.server import LocalServer

_FAIL = re.compile(r"\[\[fail:(\d{3})(?::(\d+))?\]\]")
_SLEEP = re.compile(r"\[\[sleep:([\d.]+)\]\]")
_ANSWER = re.compile(r"\[\[answer:(.*?)\]\]", re.DOTALL)
_RAW = re.compile(r"\[\[raw:(.*?)\]\]", re.DOTALL)
_ANSWER_FORMAT = re.compile(r'\{\s*"(\w+)"\s*:\s*""\s*\}')
_GOLD = re.compile(r"^gt_sql:(.*)$", re.MULTILINE)
_PRED = re.compile(r"^gen_sql:(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: dict | None
    authorization: str | None


class OpenAIStandin(LocalServer):
    """The server; `with OpenAIStandin() as server:` runs it on a free port in a background thread."""

    name = "OpenAI stand-in"

    def __init__(self, *, json_schema: bool = True, decide: Callable[[str], bool] | None = None,
                 reply: Callable[[str], str] | None = None):
        self.json_schema = json_schema  # False: reject response_format json_schema like older servers
        self.decide = decide  # a verdict of the test's own from the prompt, instead of comparing the SQL lines
        self.reply = reply  # the whole answer, of the test's own, to a prompt that is not a judge's
        self.requests: list[RecordedRequest] = []
        self.max_in_flight = 0  # the most chat requests handled at once (all handlers share one event loop)
        self._in_flight = 0
        self.port: int | None = None
        self._failures: Counter = Counter()
        self._files: dict[str, tuple[str, bytes]] = {}
        self._batches: dict[str, dict] = {}
        self._lock = threading.Lock()
        self.app = self._build_app()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def count(self, path: str = "/v1/chat/completions") -> int:
        with self._lock:
            return sum(1 for request in self.requests if request.path == path)

    def complete(self, body: dict, api_key: str = "") -> tuple[int, dict]:
        """Status and JSON payload of one chat completion (also used for the lines of a batch)."""
        prompt = _prompt(body)
        failure = self._failure(prompt)
        if failure == 401:  # like OpenAI, whose message quotes the key it got
            return failure, _error(f"Incorrect API key provided: {api_key}", "invalid_request_error")
        if failure:
            return failure, _error(f"stand-in failure {failure}", "server_error")
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema" and not self.json_schema:
            return 400, _error("response_format json_schema is not supported", "invalid_request_error")
        content = self._answer(prompt, response_format)
        return 200, {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": _usage(prompt, content),
        }

    # --- behaviour --------------------------------------------------------------------------------

    def _failure(self, prompt: str) -> int | None:
        directive = _FAIL.search(prompt)
        if not directive:
            return None
        with self._lock:
            self._failures[prompt] += 1
            seen = self._failures[prompt]
        limit = directive.group(2)
        return int(directive.group(1)) if limit is None or seen <= int(limit) else None

    def _answer(self, prompt: str, response_format: dict) -> str:
        scripted = _ANSWER.search(prompt)
        if scripted:
            return scripted.group(1)
        if self.reply is not None:
            return self.reply(prompt)
        if response_format.get("type") == "json_schema":
            key = response_format["json_schema"]["schema"]["required"][0]
        else:
            found = _ANSWER_FORMAT.search(prompt)
            key = found.group(1) if found else "resolve_yn"
        if self.decide is not None:
            return json.dumps({key: "yes" if self.decide(prompt) else "no"})
        gold, pred = _GOLD.search(prompt), _PRED.search(prompt)
        same = bool(gold and pred and _squash(gold.group(1)) == _squash(pred.group(1)))
        return json.dumps({key: "yes" if same else "no"})

    # --- HTTP -------------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def require_key(request: Request, call_next):
            if not request.headers.get("authorization", "").startswith("Bearer "):
                return JSONResponse(_error("missing API key", "invalid_request_error"), status_code=401)
            return await call_next(request)

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = await request.json()
            self._record(request, body)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                delay = _SLEEP.search(_prompt(body))
                if delay:
                    await asyncio.sleep(float(delay.group(1)))
                api_key = request.headers["authorization"].removeprefix("Bearer ")
                status, payload = self.complete(body, api_key)
            finally:
                self._in_flight -= 1
            raw = _RAW.search(_prompt(body))
            if raw:
                return Response(raw.group(1), media_type="application/json")
            return JSONResponse(payload, status_code=status)

        @app.post("/v1/files")
        async def upload(request: Request):
            form = await request.form()
            data = await form["file"].read()
            self._record(request, {"purpose": form.get("purpose")})
            file_id = self._store_file(form["file"].filename or "upload.jsonl", data)
            return _file_object(file_id, form["file"].filename, len(data), form.get("purpose"))

        @app.get("/v1/files/{file_id}/content")
        async def content(file_id: str, request: Request):
            self._record(request, None)
            if file_id not in self._files:
                return JSONResponse(_error("no such file", "invalid_request_error"), status_code=404)
            return Response(self._files[file_id][1], media_type="application/octet-stream")

        @app.post("/v1/batches")
        async def create_batch(request: Request):
            body = await request.json()
            self._record(request, body)
            batch_id = f"batch_{len(self._batches) + 1}"
            self._batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"],
                "completion_window": body["completion_window"],
                "status": "validating",
                "created_at": int(time.time()),
            }
            return self._batches[batch_id]

        @app.get("/v1/batches/{batch_id}")
        async def retrieve_batch(batch_id: str, request: Request):
            self._record(request, None)
            batch = self._batches[batch_id]
            if batch["status"] == "validating":
                batch["status"] = "in_progress"  # one poll in progress, then done
            elif batch["status"] == "in_progress":
                self._finish_batch(batch)
            return batch

        return app

    def _record(self, request: Request, body: dict | None) -> None:
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.url.path, body, request.headers.get("authorization"))
            )

    def _store_file(self, filename: str, data: bytes) -> str:
        with self._lock:
            file_id = f"file-{len(self._files) + 1}"
            self._files[file_id] = (filename, data)
        return file_id

    def _finish_batch(self, batch: dict) -> None:
        done, failed = [], []
        for number, line in enumerate(self._files[batch["input_file_id"]][1].decode().splitlines()):
            request = json.loads(line)
            status, payload = self.complete(request["body"])
            result = {
                "id": f"batch_req_{number}",
                "custom_id": request["custom_id"],
                "response": {"status_code": status, "request_id": f"req_{number}", "body": payload},
                "error": None,
            }
            (done if status == 200 else failed).append(json.dumps(result))
        for kind, lines in (("output_file_id", done), ("error_file_id", failed)):
            batch[kind] = (
                self._store_file(f"{batch['id']}-{kind}.jsonl", "\n".join(lines).encode()) if lines else None
            )
        batch["status"] = "completed"
        batch["request_counts"] = {
            "total": len(done) + len(failed),
            "completed": len(done),
            "failed": len(failed),
        }


def _prompt(body: dict) -> str:
    return "\n".join(m.get("content") or "" for m in body.get("messages", []) if isinstance(m, dict))


def _squash(sql: str) -> str:
    return " ".join(sql.strip().rstrip(";").lower().split())


def _usage(prompt: str, content: str) -> dict:
    prompt_tokens, completion_tokens = max(1, len(prompt) // 3), max(1, len(content) // 3)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _error(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _file_object(file_id: str, filename: str | None, size: int, purpose) -> dict:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": int(time.time()),
        "filename": filename or "upload.jsonl",
        "purpose": purpose or "batch",
        "status": "processed",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the deterministic OpenAI stand-in on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8011)
    port = parser.parse_args().port
    uvicorn.run(OpenAIStandin().app, host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    main()
