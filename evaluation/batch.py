"""The OpenAI Batch API for large judge runs: upload a JSONL of requests, create a batch, poll, download.

Half the price of synchronous calls, results within the 24 h completion window. Each request carries a
`custom_id` (the judge's cache key) that comes back with its response or its error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

_FINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
_ENDPOINT = "/v1/chat/completions"


@dataclass(frozen=True)
class BatchOutcome:
    """The answer to one request of a batch, or why there is none."""

    content: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


def run_batch(
    client,
    bodies: dict[str, dict],
    *,
    poll_s: float,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, BatchOutcome]:
    """Run chat-completion request bodies (keyed by custom id) as one batch; wait for its end.

    Raises TimeoutError when the batch is not finished after `timeout_s`; SDK errors propagate.
    """
    lines = [
        json.dumps({"custom_id": key, "method": "POST", "url": _ENDPOINT, "body": body})
        for key, body in bodies.items()
    ]
    upload = client.files.create(
        file=("judge-batch.jsonl", "\n".join(lines).encode("utf-8")), purpose="batch"
    )
    batch = client.batches.create(input_file_id=upload.id, endpoint=_ENDPOINT, completion_window="24h")
    deadline = clock() + timeout_s
    while batch.status not in _FINAL_STATUSES:
        if clock() > deadline:
            raise TimeoutError(f"batch {batch.id} still {batch.status} after {timeout_s:g} s")
        sleep(poll_s)
        batch = client.batches.retrieve(batch.id)
    outcomes: dict[str, BatchOutcome] = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            outcomes.update(_read_results(client.files.content(file_id).text))
    missing = BatchOutcome(error=f"no result in batch {batch.id} (status {batch.status})")
    return {key: outcomes.get(key, missing) for key in bodies}


def _read_results(text: str) -> dict[str, BatchOutcome]:
    results = {}
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            results[record.get("custom_id")] = _outcome(record)
    return results


def _outcome(record: dict) -> BatchOutcome:
    response = record.get("response") or {}
    body = response.get("body") or {}
    if record.get("error") or response.get("status_code") != 200:
        error = record.get("error") or body.get("error") or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        return BatchOutcome(error=f"HTTP {response.get('status_code')}: {message}")
    usage = body.get("usage") or {}
    choices = body.get("choices") or [{}]
    return BatchOutcome(
        content=(choices[0].get("message") or {}).get("content"),
        prompt_tokens=usage.get("prompt_tokens", 0),
        completion_tokens=usage.get("completion_tokens", 0),
    )
