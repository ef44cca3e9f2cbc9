"""The process that runs a sandbox's SQL (see `evaluation.sandbox`); started as a script, not imported.

It owns one SQLite connection and answers requests on stdin with replies on stdout, each a 4-byte length
and a `marshal` payload (plain values only, so a reply can never run code in the parent). SQL runs here,
not in the caller, because SQLite checks its interrupt flag only between VM steps: one `instr()` over a
megabyte is a single step of a second or more, so the caller enforces the deadline by killing this process.
Requests:
    ("open", uri, limits, mysql)          -> ("ok", [])
    ("build", statements, limits, mysql)  -> ("ok", problems)   an in-memory database from schema statements
    ("run", sql[, keep_rows])             -> ("rows", columns, rows) | ("error", message, timed_out)
                                             (rows is [] when keep_rows is False: only whether it runs)
    ("close",)                            -> no reply; the worker waits for the next "open" or "build"
`limits` is the tuple of `_limits_tuple` in `evaluation.sandbox`; `mysql` (True/False) adds `MYSQL_FUNCTIONS`.
This file runs under `python -I -S` and imports only the standard library, so everything it needs is here.
"""

import marshal
import resource
import sqlite3
import struct
import sys
import time

_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
_DENIED_FUNCTIONS = frozenset({"load_extension"})
_PROGRESS_EVERY = 1000  # SQLite VM instructions between deadline checks
_FETCH_CHUNK = 1000
_UNDECODABLE = "Could not decode to UTF-8"  # sqlite3's message when `str` meets invalid UTF-8
_HEADER = struct.Struct("<I")
# Limits no Text2SQL query comes near; each turns an abuse into a clear error instead of work.
_FIXED_LIMITS = {
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 250,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1000,
    sqlite3.SQLITE_LIMIT_WORKER_THREADS: 0,
}


def _date_part(start, end):
    return lambda value: int(str(value)[start:end]) if value else None


# A few MySQL functions that data sets' MySQL-flavoured SQL uses (the book's answers), as SQLite functions:
# name -> (number of arguments, deterministic, function). Dates are ISO text, as MySQL dumps hold them.
MYSQL_FUNCTIONS = {
    "YEAR": (1, True, _date_part(0, 4)),
    "MONTH": (1, True, _date_part(5, 7)),
    "DAY": (1, True, _date_part(8, 10)),
    "CONCAT": (-1, True, lambda *parts: None if None in parts else "".join(map(str, parts))),
    "NOW": (0, False, lambda: time.strftime("%Y-%m-%d %H:%M:%S")),
    "CURDATE": (0, False, lambda: time.strftime("%Y-%m-%d")),
}


class Worker:
    def __init__(self):
        self.connection = None
        self.timeout_s = self.max_rows = self.max_value_bytes = self.max_result_bytes = 0
        self.deadline = float("inf")
        self.interrupted = False

    def open(self, uri, limits, mysql=False):
        self.close()
        self._guard(sqlite3.connect(uri, uri=True), limits, mysql)
        return ("ok", [])

    def build(self, statements, limits, mysql=False):
        self.close()
        connection = sqlite3.connect(":memory:")
        problems = []
        for statement in statements:
            try:
                connection.execute(statement)
            except sqlite3.Error as error:
                problems.append(f"{error} in {statement[:80]!r}")
        self._guard(connection, limits, mysql)
        return ("ok", problems)

    def close(self):
        """Between sandboxes: forget the database (no reply, so the next sandbox's replies stay in step)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _guard(self, connection, limits, mysql):
        self.timeout_s, self.max_rows, self.max_value_bytes, self.max_result_bytes, max_sql, memory = limits
        # Memory: SQLite's own allocations fail cleanly at the heap limit, sorting stays in that heap
        # instead of spilling to disk, and the address-space limit catches what Python itself holds.
        connection.execute(f"PRAGMA hard_heap_limit = {int(memory)}")
        connection.execute("PRAGMA temp_store = MEMORY")
        # Soft limit only: a lowered hard limit could not be raised again for the next sandbox.
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = 2 * memory + 512 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
        for limit, value in _FIXED_LIMITS.items():
            connection.setlimit(limit, value)
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, self.max_value_bytes)
        connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, max_sql)
        if mysql:
            for name, (arguments, deterministic, function) in MYSQL_FUNCTIONS.items():
                connection.create_function(name, arguments, function, deterministic=deterministic)
        connection.set_authorizer(_authorize)
        # Loops are stopped here, cheaply; the caller's kill is for single steps that never reach a check.
        connection.set_progress_handler(self._check_deadline, _PROGRESS_EVERY)
        self.connection = connection

    def run(self, sql, keep_rows=True):
        self.interrupted = False
        self.deadline = time.monotonic() + self.timeout_s
        try:
            # Text is decoded in C (`str`); only a database holding invalid UTF-8 pays for a Python call per
            # value, on a second run within the same deadline. Rows that are not returned need no text.
            try:
                return self._execute(sql, str if keep_rows else bytes, keep_rows)
            except sqlite3.OperationalError as error:
                if not (keep_rows and str(error).startswith(_UNDECODABLE)):
                    raise
                return self._execute(sql, _decode_text, keep_rows)
        except (sqlite3.Error, ValueError, OverflowError, MemoryError) as error:
            if self.interrupted:
                return ("error", f"timeout after {self.timeout_s:g} s", True)
            return ("error", self._message(error), False)
        finally:
            self.deadline = float("inf")

    def _execute(self, sql, text_factory, keep_rows):
        self.connection.text_factory = text_factory
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description or ()]
            return self._fetch(cursor, columns, keep_rows)
        finally:
            cursor.close()

    def _fetch(self, cursor, columns, keep_rows):
        rows = []
        count = size = 0
        while chunk := cursor.fetchmany(_FETCH_CHUNK):
            count += len(chunk)
            if count > self.max_rows:
                return ("error", f"result exceeds {self.max_rows} rows", False)
            if not keep_rows:
                continue  # nothing is held, so only the row cap applies
            rows.extend(chunk)
            size += sum(len(value) for row in chunk for value in row if isinstance(value, (str, bytes)))
            if size > self.max_result_bytes:
                return ("error", f"result exceeds {self.max_result_bytes} bytes", False)
        return ("rows", columns, rows)

    def _check_deadline(self):
        if time.monotonic() > self.deadline:
            self.interrupted = True
            return 1  # non-zero: SQLite aborts the statement with "interrupted"
        return 0


    def _message(self, error):
        text = _message(error)
        if text == "string or blob too big":  # SQLite's words; say which limit
            return f"{text}: a value over the sandbox's {self.max_value_bytes:,}-byte limit"
        return text


def _message(error):
    text = str(error) or type(error).__name__
    if isinstance(error, MemoryError) or text == "out of memory":
        return "out of memory (the query needs more than the sandbox allows)"
    return text


def _authorize(action, _arg1, arg2, _db, _trigger):
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _decode_text(raw):
    # Some databases hold invalid UTF-8; a replacement character beats failing the whole query.
    return raw.decode("utf-8", "replace")


def _read(stream):
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    return marshal.loads(stream.read(_HEADER.unpack(header)[0]))


def _write(stream, reply):
    try:
        payload = marshal.dumps(reply)
    except (ValueError, MemoryError):  # a value marshal cannot hold, or no memory left to hold it
        payload = marshal.dumps(("error", "the result cannot be returned", False))
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def main():
    worker = Worker()
    inbox, outbox = sys.stdin.buffer, sys.stdout.buffer
    while (request := _read(inbox)) is not None:
        try:
            if request[0] == "close":
                worker.close()
                continue
            reply = {"open": worker.open, "build": worker.build, "run": worker.run}[request[0]](*request[1:])
        except (sqlite3.Error, MemoryError, ValueError) as error:
            reply = ("error", _message(error), False)
        _write(outbox, reply)


if __name__ == "__main__":
    main()
