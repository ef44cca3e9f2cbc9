"""A persistent cache of judge verdicts, so that scoring the same pairs again costs nothing.

Keyed by a hash of the model, the prompt template and the inputs. Only parsed verdicts are stored (errors
are asked again next time). Rows hold no credentials: the API key never reaches this module.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judge_cache (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    verdict TEXT NOT NULL,
    answer TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class CachedVerdict:
    verdict: str
    answer: str
    prompt_tokens: int
    completion_tokens: int


def cache_key(model: str, template: str, inputs: dict[str, str]) -> str:
    payload = json.dumps(
        {"model": model, "template": template, "inputs": inputs}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class JudgeCache:
    """SQLite-backed verdict cache; `path=None` keeps it in memory for the life of the object. Thread-safe."""

    def __init__(self, path: str | Path | None = None):
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._connection:
            self._connection.execute(_SCHEMA)

    def get(self, key: str) -> CachedVerdict | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT verdict, answer, prompt_tokens, completion_tokens FROM judge_cache WHERE key = ?",
                (key,),
            ).fetchone()
        return CachedVerdict(*row) if row else None

    def put(self, key: str, model: str, entry: CachedVerdict) -> None:
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT OR REPLACE INTO judge_cache VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    model,
                    entry.verdict,
                    entry.answer,
                    entry.prompt_tokens,
                    entry.completion_tokens,
                    time.time(),
                ),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT COUNT(*) FROM judge_cache").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._connection.close()
