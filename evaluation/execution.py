"""Execution match: run the gold and the predicted SQL in a sandbox and compare their results.

In the spirit of Spider's test-suite evaluation: a prediction matches when its result equals the gold
result on every database of the schema (`compare.py` says what "equal" means). Every verdict carries a
status and a human-readable reason. Without a database, the DDL gives an empty SQLite copy of the schema:
that tells whether a prediction runs, not whether it is right.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from evaluation.compare import compare_results
from evaluation.paths import checked_name
from evaluation.sandbox import Limits, QueryResult, Sandbox, check_number
from evaluation.schema import sqlite_schema
from evaluation.sql import SqlParseError, extract_sql, has_top_level_order_by, split_statements, transpile

MATCH = "match"
MISMATCH = "mismatch"
PRED_ERROR = "pred_error"
TIMEOUT = "timeout"
EMPTY = "empty"
GOLD_ERROR = "gold_error"
NO_DATABASE = "no_database"
SCHEMA_ONLY = "schema_only"  # the prediction runs against an empty schema; nothing to compare
DECIDED = frozenset({MATCH, MISMATCH, PRED_ERROR, TIMEOUT, EMPTY})


@dataclass(frozen=True)
class ExecutionConfig:
    """How queries are run and compared.

    `dialect` is the dialect of the SQL run against database files (transpiled to SQLite when it differs);
    `ddl_dialect` that of DDL-only rows, for both their DDL and their queries (the book's data is MySQL).
    `mysql_functions` gives every sandbox a few MySQL functions (see `Sandbox.open_file`).
    """

    timeout_s: float = 3.0
    max_rows: int = 100_000
    dialect: str = "sqlite"
    ddl_dialect: str = "mysql"
    max_permutations: int = 200
    max_open_databases: int = 16
    mysql_functions: bool = False

    def __post_init__(self):
        self.limits  # checks the timeout and the row cap (LimitsError)
        check_number("max_permutations", self.max_permutations, 1, 1_000_000, integer=True)
        check_number("max_open_databases", self.max_open_databases, 1, 1000, integer=True)

    @property
    def limits(self) -> Limits:
        return Limits(timeout_s=self.timeout_s, max_rows=self.max_rows)


@dataclass(frozen=True)
class ExecutionVerdict:
    """The outcome for one pair: a status from this module's constants and a reason for people."""

    status: str
    reason: str
    databases: int = 0  # how many database files took part (0: DDL only or none)

    @property
    def match(self) -> bool:
        return self.status == MATCH

    @property
    def decided(self) -> bool:
        """True when execution settles the pair; otherwise a judge has to (no database, broken gold)."""
        return self.status in DECIDED


def find_databases(db_dir: str | Path | None, db_id: str) -> list[Path]:
    """Databases of one schema: `DIR/<db_id>.sqlite`, or every `*.sqlite` in `DIR/<db_id>/` (Spider's layout,
    test-suite variants included) with `<db_id>.sqlite` first. Empty when there is none.

    A db_id that cannot be a file name (`/abs`, `../x`, see evaluation.paths) raises UnsafeName: it would
    name a file outside DIR. Symlinks inside DIR are followed: the folder is the caller's own."""
    if db_dir is None or not str(db_id):
        return []
    root = Path(db_dir)
    single = root / checked_name(str(db_id), ".sqlite")
    folder = root / checked_name(str(db_id))
    found = sorted(folder.glob("*.sqlite")) if folder.is_dir() else []
    found.sort(key=lambda path: path.stem != str(db_id))
    if single.is_file():
        found.insert(0, single)
    return found


class ExecutionMatcher:
    """Scores many pairs, reusing a sandbox per database. Use from one thread; close when done."""

    def __init__(self, config: ExecutionConfig = ExecutionConfig()):
        self.config = config
        self._sandboxes: OrderedDict[tuple, Sandbox] = OrderedDict()

    def match(self, gold_sql: str, pred_sql: str | None, databases: Sequence[str | Path]) -> ExecutionVerdict:
        """Compare gold and predicted SQL on every database; the first disagreement decides."""
        if not databases:
            return ExecutionVerdict(NO_DATABASE, "no database")
        pred = self._prepare(extract_sql(pred_sql), self.config.dialect)
        if not pred:
            return ExecutionVerdict(EMPTY, "empty prediction", len(databases))
        gold = self._prepare(_first_statement(gold_sql), self.config.dialect)
        ordered = has_top_level_order_by(gold)
        for number, database in enumerate(databases, start=1):
            sandbox = self.file_sandbox(database)
            status, reason = self._compare_on(sandbox, gold, pred, ordered)
            if status != MATCH:
                where = f" (database {number} of {len(databases)})" if len(databases) > 1 else ""
                return ExecutionVerdict(status, reason + where, len(databases))
        return ExecutionVerdict(MATCH, "match", len(databases))

    def match_many(self, items: Sequence[tuple[str, str | None, Sequence[str | Path]]]) -> list[ExecutionVerdict]:
        """`match` for each (gold, prediction, databases), in order. Pairs on one database each go to its
        worker together, pipelined: one wake-up of the worker for many statements, not two per pair."""
        verdicts: list[ExecutionVerdict | None] = [None] * len(items)
        by_database: dict[str, list[tuple[int, str, str]]] = {}
        for i, (gold_sql, pred_sql, databases) in enumerate(items):
            pred = self._prepare(extract_sql(pred_sql), self.config.dialect)
            if len(databases) != 1 or not pred:
                verdicts[i] = self.match(gold_sql, pred_sql, databases)
                continue
            gold = self._prepare(_first_statement(gold_sql), self.config.dialect)
            by_database.setdefault(str(databases[0]), []).append((i, gold, pred))
        for database, pairs in by_database.items():
            # Streamed: this process compares results while the worker runs the next statements.
            results = self.file_sandbox(database).stream([sql for _, gold, pred in pairs for sql in (gold, pred)])
            for i, gold, _pred in pairs:
                gold_result, pred_result = next(results), next(results)
                status, reason = _compare(gold_result, pred_result, has_top_level_order_by(gold),
                                          self.config.max_permutations)
                verdicts[i] = ExecutionVerdict(status, reason, 1)
        return verdicts

    def match_schema(self, ddl: str, gold_sql: str, pred_sql: str | None) -> ExecutionVerdict:
        """Without data: a prediction that fails against the schema is wrong; one that runs is undecided."""
        pred = self._prepare(extract_sql(pred_sql), self.config.ddl_dialect)
        if not pred:
            return ExecutionVerdict(EMPTY, "empty prediction")
        sandbox = self._schema_sandbox(ddl)
        if sandbox is None:
            return ExecutionVerdict(NO_DATABASE, "no database and no usable DDL")
        gold = sandbox.run(self._prepare(_first_statement(gold_sql), self.config.ddl_dialect))
        if not gold.ok:
            return ExecutionVerdict(*_gold_failed(gold))
        result = sandbox.run(pred)
        if result.ok:
            return ExecutionVerdict(SCHEMA_ONLY, "runs against the schema (no rows to compare)")
        if "no such function" in result.error:
            # A dialect gap (a MySQL function SQLite lacks) says nothing about the prediction itself.
            return ExecutionVerdict(
                SCHEMA_ONLY, f"pred error: {result.error} (not decisive without a database)"
            )
        return ExecutionVerdict(*_pred_failed(result))

    def results(self, sql: str | None, databases: Sequence[str | Path], ddl: str | None = None) -> list[QueryResult]:
        """What a statement returns on each database, run as `match` runs a prediction; without databases, on
        an empty copy of the `ddl` schema, as `match_schema` does. One result per database (an empty list
        when there is nothing to run it on); an empty statement gives an error result."""
        dialect = self.config.dialect if databases else self.config.ddl_dialect
        statement = self._prepare(extract_sql(sql), dialect)
        if not statement:
            return [QueryResult(error="empty prediction")]
        if not databases:
            sandbox = self._schema_sandbox(ddl or "")
            return [] if sandbox is None else [sandbox.run(statement)]
        return [self.file_sandbox(database).run(statement) for database in databases]

    def check_schema(self, ddl: str, sql: str | None) -> tuple[bool, str]:
        """Whether a statement runs against an empty copy of the schema, and why not."""
        statement = self._prepare(extract_sql(sql), self.config.ddl_dialect)
        if not statement:
            return False, "empty prediction"
        sandbox = self._schema_sandbox(ddl)
        if sandbox is None:
            return False, "the DDL defines no table"
        result = sandbox.run(statement)
        if not result.ok:
            return False, result.error
        skipped = len(sqlite_schema(ddl, self.config.ddl_dialect).problems)
        note = f" ({skipped} DDL statement(s) could not be read)" if skipped else ""
        return True, f"runs against the schema, {len(result.columns)} column(s){note}"

    def file_sandbox(self, database: str | Path) -> Sandbox:
        """The (cached) sandbox of a database file."""
        limits, mysql = self.config.limits, self.config.mysql_functions
        opener = partial(Sandbox.open_file, database, limits, mysql_functions=mysql)
        return self._sandbox(("file", str(database)), opener)

    def schema_sandbox(self, ddl: str) -> Sandbox:
        """The (cached) sandbox of an empty copy of the schema of `ddl` (no tables when it defines none).

        Its `problems` are the statements SQLite rejected; `sqlite_schema(ddl, ddl_dialect).problems`, those
        that could not be read."""

        def build() -> Sandbox:
            statements = list(sqlite_schema(ddl or "", self.config.ddl_dialect).statements)
            limits, mysql = self.config.limits, self.config.mysql_functions
            return Sandbox.from_statements(statements, limits, mysql_functions=mysql)[0]

        return self._sandbox(("ddl", ddl, self.config.ddl_dialect), build)

    def close(self) -> None:
        while self._sandboxes:
            self._sandboxes.popitem()[1].close()

    def __enter__(self) -> ExecutionMatcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _compare_on(self, sandbox: Sandbox, gold_sql: str, pred_sql: str, ordered: bool) -> tuple[str, str]:
        """(status, reason) on one database."""
        # One exchange with the worker for both (pipelined): waking two processes twice a pair cost more
        # than the statements themselves. A prediction run beside a failed gold is cheap waste.
        gold, pred = sandbox.run_many([gold_sql, pred_sql])
        return _compare(gold, pred, ordered, self.config.max_permutations)

    def _prepare(self, sql: str, dialect: str) -> str:
        """SQL as SQLite runs it; a statement sqlglot cannot read is run unchanged and fails on its own."""
        if not sql or dialect == "sqlite":
            return sql
        try:
            return transpile(sql, dialect, "sqlite")
        except SqlParseError:
            return sql

    def _schema_sandbox(self, ddl: str) -> Sandbox | None:
        if not sqlite_schema(ddl or "", self.config.ddl_dialect).statements:
            return None
        return self.schema_sandbox(ddl)

    def _sandbox(self, key: tuple, open_sandbox) -> Sandbox:
        """A cached sandbox (least recently used ones are closed beyond `max_open_databases`)."""
        if key in self._sandboxes:
            self._sandboxes.move_to_end(key)
            return self._sandboxes[key]
        sandbox = self._sandboxes[key] = open_sandbox()
        while len(self._sandboxes) > self.config.max_open_databases:
            self._sandboxes.popitem(last=False)[1].close()
        return sandbox


def execution_match(
    gold_sql: str,
    pred_sql: str | None,
    databases: Sequence[str | Path],
    config: ExecutionConfig = ExecutionConfig(),
) -> ExecutionVerdict:
    """Execution match of one pair on the given databases (see ExecutionMatcher for many pairs)."""
    with ExecutionMatcher(config) as matcher:
        return matcher.match(gold_sql, pred_sql, databases)


def check_against_ddl(
    ddl: str, sql: str | None, dialect: str = "mysql", timeout_s: float = 3.0
) -> tuple[bool, str]:
    """Whether `sql` (a statement or a raw completion) runs against an empty database built from `ddl`.

    Returns (True, a short note) or (False, the error message). Both are transpiled from `dialect` to SQLite.
    """
    with ExecutionMatcher(ExecutionConfig(timeout_s=timeout_s, ddl_dialect=dialect)) as matcher:
        return matcher.check_schema(ddl, sql)


def _compare(gold: QueryResult, pred: QueryResult, ordered: bool, max_permutations: int) -> tuple[str, str]:
    """(status, reason) of a prediction's result against the gold one's."""
    if not gold.ok:
        return _gold_failed(gold)
    if not pred.ok:
        return _pred_failed(pred)
    comparison = compare_results(gold.rows, pred.rows, ordered=ordered, gold_width=len(gold.columns),
                                 pred_width=len(pred.columns), max_permutations=max_permutations)
    if comparison.equal:
        return MATCH, "match"
    return MISMATCH, f"wrong result: {comparison.detail}"


def _first_statement(sql: str | None) -> str:
    statements = split_statements(sql or "")
    return statements[0] if statements else ""


def _gold_failed(result: QueryResult) -> tuple[str, str]:
    return GOLD_ERROR, f"gold error: {result.error}"


def _pred_failed(result: QueryResult) -> tuple[str, str]:
    if result.timed_out:
        return TIMEOUT, result.error  # "timeout after N s"
    return PRED_ERROR, f"pred error: {result.error}"
