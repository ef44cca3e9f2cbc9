"""Requests-per-minute and tokens-per-minute budgets shared by the judge's worker threads.

Two token buckets refilled continuously: a worker takes one request and its estimated tokens from them,
waiting when either is short. Each bucket starts full, like the per-minute windows of the OpenAI API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class _Bucket:
    def __init__(self, per_minute: float, now: float):
        self.capacity = float(per_minute)
        self.level = float(per_minute)
        self.rate = per_minute / 60.0
        self.updated = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        return max(0.0, (min(amount, self.capacity) - self.level) / self.rate)

    def take(self, amount: float) -> None:
        self.level -= min(amount, self.capacity)


class RateLimiter:
    """Makes callers wait so that at most `requests_per_minute` and `tokens_per_minute` are used.

    A limit of None means no limit.
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        now = clock()
        self._requests = _Bucket(requests_per_minute, now) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute, now) if tokens_per_minute else None
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self, tokens: int = 0) -> float:
        """Take one request and `tokens` from the budgets; returns the seconds spent waiting."""
        waited = 0.0
        while True:
            with self._lock:
                wait = self._try_take(tokens)
            if wait == 0.0:
                return waited
            self._sleep(wait)
            waited += wait

    def _try_take(self, tokens: int) -> float:
        now = self._clock()
        needs = [
            (bucket, amount) for bucket, amount in ((self._requests, 1), (self._tokens, tokens)) if bucket
        ]
        for bucket, _ in needs:
            bucket.refill(now)
        wait = max((bucket.wait_for(amount) for bucket, amount in needs), default=0.0)
        if wait == 0.0:
            for bucket, amount in needs:
                bucket.take(amount)
        return wait
