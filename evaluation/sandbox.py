"""Running untrusted SQL against SQLite: read-only, bounded in time, rows, sizes and memory.

Model output is executed as-is, so every sandbox is guarded five ways:
- its SQL runs in a separate process (`sandbox_worker.py`), killed when a statement overruns its deadline
  by `_KILL_GRACE_S`: SQLite checks for interrupts only between VM steps, and a single step (one `instr()`
  over a megabyte) can take seconds, so neither a progress handler nor `interrupt()` can stop it;
- database files are opened with `mode=ro`, so SQLite itself refuses to write them;
- an authorizer allows reading only (no INSERT/UPDATE/DELETE/DDL, ATTACH, pragmas, transactions,
  `load_extension`), which also protects in-memory schema databases;
- in the worker, a progress handler stops loops at the deadline (runaway joins, endless CTEs) without
  the cost of a new process;
- SQLite limits (value and SQL length, expression depth, compound SELECTs, LIKE patterns), a heap limit,
  a row cap and a result-size cap stop results that would exhaust memory before the deadline does.
"""

from __future__ import annotations

import marshal
import math
import os
import select
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from evaluation.sql import leading_keyword

_READ_ONLY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES"})
_WORKER = Path(__file__).with_name("sandbox_worker.py")
_HEADER = struct.Struct("<I")
_KILL_GRACE_S = 0.5  # the worker's own check stops loops at the deadline; this is for single long steps
MAX_TIMEOUT_S = 600.0
_MAX_IDLE = 4  # idle workers kept for later sandboxes
# Requests sent ahead of their replies: at most one pipe page of them, so writing a batch into the (empty)
# request pipe never blocks while the worker may be blocked writing replies nobody reads yet.
_PIPELINE_BYTES = 4096
_PIPELINE_MAX = 64
_IDLE: list[subprocess.Popen] = []
_IDLE_LOCK = threading.RLock()  # re-entrant: a finalizer may run during garbage collection under it


class LimitsError(ValueError):
    """A limit that cannot work (not a number, not finite, out of range)."""


def check_number(name: str, value, low: float, high: float, *, integer: bool = False, low_open: bool = False):
    """`value` if it is a finite number in [low, high] ((low, high] with `low_open`); else LimitsError."""
    is_number = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value):
        kind = "a whole number" if integer else "a finite number"
        raise LimitsError(f"{name} must be {kind}, not {value!r}".lstrip())
    if value > high or value < low or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise LimitsError(f"{name} must be in {bracket}{_show(low)}, {_show(high)}], not {value!r}".lstrip())
    return value


def _show(bound: float) -> str:
    return f"{int(bound):,}" if bound == int(bound) else f"{bound:g}"


@dataclass(frozen=True)
class Limits:
    """Bounds for one query; checked when made, so no caller can pass a deadline that never comes."""

    timeout_s: float = 3.0
    max_rows: int = 100_000
    max_value_bytes: int = 1_000_000  # one string or blob, enforced by SQLite
    max_result_bytes: int = 50_000_000  # all strings and blobs of a result together
    max_sql_bytes: int = 100_000  # the statement's text
    max_memory_bytes: int = 1_000_000_000  # SQLite's heap in the worker (sorting, CTEs, grouping)

    def __post_init__(self):
        check_number("timeout_s", self.timeout_s, 0, MAX_TIMEOUT_S, low_open=True)
        check_number("max_rows", self.max_rows, 1, 10_000_000, integer=True)
        check_number("max_value_bytes", self.max_value_bytes, 1000, 1_000_000_000, integer=True)
        check_number("max_result_bytes", self.max_result_bytes, 1000, 2_000_000_000, integer=True)
        check_number("max_sql_bytes", self.max_sql_bytes, 1000, 10_000_000, integer=True)
        check_number("max_memory_bytes", self.max_memory_bytes, 50_000_000, 16_000_000_000, integer=True)


@dataclass(frozen=True)
class QueryResult:
    """Rows and column names of a query, or why there are none."""

    rows: list[tuple] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    error: str | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class Sandbox:
    """One guarded SQLite connection in a worker process. Use it from one thread; close it when done."""

    def __init__(self, setup: tuple, limits: Limits = Limits()):
        """`setup` is the worker's first request (see `open_file` and `from_statements`)."""
        self.limits = limits
        self._setup = setup
        self._process: subprocess.Popen | None = None
        self._finalizer = None
        self.problems: list[str] = self._start()

    @classmethod
    def open_file(
        cls, path: str | Path, limits: Limits = Limits(), *, mysql_functions: bool = False
    ) -> Sandbox:
        """Open an existing database file read-only (the file is never modified).

        `mysql_functions` adds SQLite versions of a few MySQL functions (YEAR, MONTH, DAY, CONCAT, NOW,
        CURDATE: `sandbox_worker.MYSQL_FUNCTIONS`), so MySQL-flavoured SQL can run as written."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no database file at {path}")
        uri = path.resolve().as_uri() + "?mode=ro"
        return cls(("open", uri, _limits_tuple(limits), bool(mysql_functions)), limits)

    @classmethod
    def from_statements(
        cls, statements: list[str], limits: Limits = Limits(), *, mysql_functions: bool = False
    ) -> tuple[Sandbox, list[str]]:
        """An empty in-memory database built from schema statements; returns it and the statements' errors."""
        sandbox = cls(("build", list(statements), _limits_tuple(limits), bool(mysql_functions)), limits)
        return sandbox, sandbox.problems

    def run(self, sql: str, *, keep_rows: bool = True) -> QueryResult:
        """Execute one read-only statement within the limits; errors are returned, never raised.

        With `keep_rows=False` the statement still runs to its last row (counted against the row cap),
        but no rows come back: cheaper when only whether it runs matters."""
        return self.run_many([sql], keep_rows=keep_rows)[0]

    def run_many(self, statements: Sequence[str], *, keep_rows: bool = True) -> list[QueryResult]:
        """`run` for each statement, in order, each within the limits on its own (see `stream`)."""
        return list(self.stream(statements, keep_rows=keep_rows))

    def stream(self, statements: Sequence[str], *, keep_rows: bool = True) -> Iterator[QueryResult]:
        """`run_many`'s results one by one, as they are ready.

        Statements go to the worker a few at a time, ahead of their replies, so it goes on to the next
        without waiting for this process: on a busy machine, waking either process costs more than a
        short statement does. The next few are sent before these results are yielded, so the worker runs
        them while the caller looks at these (two cores, not one after the other). A stream left unfinished
        stops its worker: replies still under way would otherwise answer the next statements."""
        results = [_refused(sql) for sql in statements]
        queue = deque(i for i, result in enumerate(results) if result is None)
        flight = self._send(queue, statements, keep_rows)
        done = 0
        try:
            while flight:
                replies = self._collect(len(flight), self.limits.timeout_s + _KILL_GRACE_S)
                for i, reply in zip(flight, replies):
                    results[i] = _result(reply)
                if len(replies) < len(flight):  # overran, or its worker died: that worker is stopped
                    results[flight[len(replies)]] = QueryResult(
                        error=f"timeout after {self.limits.timeout_s:g} s", timed_out=True
                    )
                    queue.extendleft(reversed(flight[len(replies) + 1 :]))
                flight = self._send(queue, statements, keep_rows)
                ready = flight[0] if flight else len(results)
                while done < ready:
                    yield results[done]
                    done += 1
        finally:
            if flight:
                self._stop_worker()
        yield from results[done:]

    def close(self) -> None:
        """Done with the database: its worker waits, idle, for the next sandbox (starting one costs ~20 ms)."""
        if self._finalizer is not None:
            self._finalizer()
        self._process = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> list[str]:
        """A fresh worker with the database set up; returns the setup's problems (schema statements)."""
        process = _idle_worker() or subprocess.Popen(
            [sys.executable, "-I", "-S", str(_WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self._process = process
        self._finalizer = weakref.finalize(self, _park, process)
        # Building a large schema is trusted work, so it gets a generous deadline of its own.
        reply = (self._exchange([_framed(self._setup)], 60.0) or [None])[0]
        if reply is None or reply[0] != "ok":
            raise OSError(f"the SQL sandbox could not start: {reply[1] if reply else 'no answer'}")
        return list(reply[1])

    def _exchange(self, requests: list[bytes], wait_s: float) -> list[tuple]:
        """Send framed requests and read their replies (see `_collect`)."""
        self._write(requests)
        return self._collect(len(requests), wait_s)

    def _send(self, queue: deque[int], statements: Sequence[str], keep_rows: bool) -> list[int]:
        """Send the next statements of `queue` (taken from it), as many as fit in the pipe; their indexes."""
        if not queue:
            return []
        if self._process is None:
            self._start()  # the last statement overran and its worker was killed
        frames = _batch([_framed(("run", statements[i], keep_rows)) for i in islice(queue, _PIPELINE_MAX)])
        flight = [queue.popleft() for _ in frames]
        self._write(frames)
        return flight

    def _write(self, requests: list[bytes]) -> None:
        try:
            self._process.stdin.write(b"".join(requests))
        except OSError:
            pass  # the worker is gone: reading its replies finds that out and stops it

    def _collect(self, count: int, wait_s: float) -> list[tuple]:
        """The replies to the `count` requests sent, each due `wait_s` after the one before (the worker
        starts on a request once it has answered the last). Stops at the first reply that is late or lost:
        that worker is then stopped, never reused."""
        replies, buffered = [], b""
        try:
            while len(replies) < count:
                payload, buffered = _receive(self._process.stdout, time.monotonic() + wait_s, buffered)
                replies.append(marshal.loads(payload))
        except (OSError, EOFError, TimeoutError, ValueError):
            pass
        finally:
            if len(replies) < count:  # also on KeyboardInterrupt: unread replies would answer others
                self._stop_worker()
        return replies

    def _stop_worker(self) -> None:
        self._finalizer.detach()
        _stop(self._process)
        self._process = self._finalizer = None


def _limits_tuple(limits: Limits) -> tuple:
    return (
        limits.timeout_s,
        limits.max_rows,
        limits.max_value_bytes,
        limits.max_result_bytes,
        limits.max_sql_bytes,
        limits.max_memory_bytes,
    )


def _refused(sql: str) -> QueryResult | None:
    """Why a statement may not run at all, before any worker sees it; None when it may."""
    if not sql.strip():
        return QueryResult(error="empty statement")
    keyword = leading_keyword(sql)
    if keyword not in _READ_ONLY_KEYWORDS:
        return QueryResult(error=f"only SELECT queries may run, not {keyword or 'this statement'}")
    return None


def _result(reply: tuple) -> QueryResult:
    if reply[0] == "rows":
        return QueryResult(rows=[tuple(row) for row in reply[2]], columns=tuple(reply[1]))
    return QueryResult(error=reply[1], timed_out=bool(reply[2]))


def _framed(request: tuple) -> bytes:
    payload = marshal.dumps(request)
    return _HEADER.pack(len(payload)) + payload


def _batch(frames: list[bytes]) -> list[bytes]:
    """The first frames, as many as fit in `_PIPELINE_BYTES` (at least one)."""
    size = 0
    for count, frame in enumerate(frames):
        size += len(frame)
        if size > _PIPELINE_BYTES and count:
            return frames[:count]
    return frames


def _receive(stream, deadline: float, data: bytes = b"") -> tuple[bytes, bytes]:
    """One reply's payload from a pipe (after the bytes already read, `data`) and the bytes read past it,
    waiting no later than `deadline` (TimeoutError); EOFError if the pipe closed."""
    while True:
        end = _HEADER.size + _HEADER.unpack_from(data)[0] if len(data) >= _HEADER.size else None
        if end is not None and len(data) >= end:
            return data[_HEADER.size : end], data[end:]
        if not select.select([stream], [], [], max(0.0, deadline - time.monotonic()))[0]:
            raise TimeoutError
        chunk = os.read(stream.fileno(), 1 << 20)
        if not chunk:
            raise EOFError
        data += chunk


def _idle_worker() -> subprocess.Popen | None:
    with _IDLE_LOCK:
        while _IDLE:
            process = _IDLE.pop()
            if process.poll() is None:
                return process
    return None


def _park(process: subprocess.Popen) -> None:
    """Keep a worker that finished its statements for the next sandbox; it closes its database first."""
    with _IDLE_LOCK:
        if len(_IDLE) < _MAX_IDLE and process.poll() is None:
            try:
                process.stdin.write(_framed(("close",)))
            except OSError:
                pass
            else:
                _IDLE.append(process)
                return
    _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """End a worker: kill it (it may be inside a long step) and reap it so no zombie is left."""
    for stream in (process.stdin, process.stdout):
        stream.close()
    if process.poll() is None:
        process.kill()
    process.wait()
