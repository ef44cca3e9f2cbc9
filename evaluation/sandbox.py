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
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.sql import leading_keyword

_READ_ONLY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES"})
_WORKER = Path(__file__).with_name("sandbox_worker.py")
_HEADER = struct.Struct("<I")
_KILL_GRACE_S = 0.5  # the worker's own check stops loops at the deadline; this is for single long steps
MAX_TIMEOUT_S = 600.0
_MAX_IDLE = 4  # idle workers kept for later sandboxes
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
    def open_file(cls, path: str | Path, limits: Limits = Limits()) -> Sandbox:
        """Open an existing database file read-only (the file is never modified)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no database file at {path}")
        return cls(("open", path.resolve().as_uri() + "?mode=ro", _limits_tuple(limits)), limits)

    @classmethod
    def from_statements(cls, statements: list[str], limits: Limits = Limits()) -> tuple[Sandbox, list[str]]:
        """An empty in-memory database built from schema statements; returns it and the statements' errors."""
        sandbox = cls(("build", list(statements), _limits_tuple(limits)), limits)
        return sandbox, sandbox.problems

    def run(self, sql: str) -> QueryResult:
        """Execute one read-only statement within the limits; errors are returned, never raised."""
        if not sql.strip():
            return QueryResult(error="empty statement")
        keyword = leading_keyword(sql)
        if keyword not in _READ_ONLY_KEYWORDS:
            return QueryResult(error=f"only SELECT queries may run, not {keyword or 'this statement'}")
        if self._process is None:
            self._start()  # the last statement overran and its worker was killed
        reply = self._ask(("run", sql), time.monotonic() + self.limits.timeout_s + _KILL_GRACE_S)
        if reply is None:
            return QueryResult(error=f"timeout after {self.limits.timeout_s:g} s", timed_out=True)
        if reply[0] == "rows":
            return QueryResult(rows=[tuple(row) for row in reply[2]], columns=tuple(reply[1]))
        return QueryResult(error=reply[1], timed_out=bool(reply[2]))

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
        reply = self._ask(self._setup, time.monotonic() + 60.0)
        if reply is None or reply[0] != "ok":
            raise OSError(f"the SQL sandbox could not start: {reply[1] if reply else 'no answer'}")
        return list(reply[1])

    def _ask(self, request: tuple, deadline: float) -> tuple | None:
        """The worker's reply, or None when it missed the deadline or died (it is then stopped)."""
        process = self._process
        try:
            payload = marshal.dumps(request)
            process.stdin.write(_HEADER.pack(len(payload)) + payload)
            reply = marshal.loads(_receive(process.stdout, deadline))
        except (OSError, EOFError, TimeoutError, ValueError):
            self._finalizer.detach()  # a worker that overran or died is never reused
            _stop(process)
            self._process = self._finalizer = None
            return None
        return reply


def _limits_tuple(limits: Limits) -> tuple:
    return (
        limits.timeout_s,
        limits.max_rows,
        limits.max_value_bytes,
        limits.max_result_bytes,
        limits.max_sql_bytes,
        limits.max_memory_bytes,
    )


def _receive(stream, deadline: float) -> bytes:
    """One reply's payload from a pipe, waiting no later than `deadline` (TimeoutError); EOFError if it closed."""
    data, size = b"", None
    while size is None or len(data) < _HEADER.size + size:
        if not select.select([stream], [], [], max(0.0, deadline - time.monotonic()))[0]:
            raise TimeoutError
        chunk = os.read(stream.fileno(), 1 << 20)
        if not chunk:
            raise EOFError
        data += chunk
        if size is None and len(data) >= _HEADER.size:
            size = _HEADER.unpack_from(data)[0]
    return data[_HEADER.size :]


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
                payload = marshal.dumps(("close",))
                process.stdin.write(_HEADER.pack(len(payload)) + payload)
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
