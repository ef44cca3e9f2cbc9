"""Execution-guided selection (issue 15, lever 2): of several answers to one question, keep the one whose
result most of them agree on.

Each candidate (the greedy answer first, then sampled ones) runs read-only through the evaluation sandbox on
the row's evaluation database: the database execution match uses, or an empty copy of the row's DDL schema
when the set has none (every query that runs then returns no rows, so the first runnable candidate wins).
Two candidates agree when their results are equal the way execution match compares a prediction with the
gold (bags of rows, columns in any order, row order only when both order their rows). The answer is the
candidate whose result the most candidates that ran share (a tie goes to the earliest, the greedy one
first), so with no agreement it is the first that runs, and with none that runs the greedy one. The gold SQL
is never looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evaluation.compare import compare_results
from evaluation.execution import ExecutionMatcher, find_databases
from evaluation.paths import UnsafeName
from evaluation.sandbox import QueryResult
from evaluation.sql import extract_sql, has_top_level_order_by


@dataclass(frozen=True)
class Selection:
    """Which candidate a row keeps, and how many candidates backed it."""

    index: int  # the kept candidate (0: the greedy answer)
    agreed: int  # candidates that ran with the kept one's result, itself included (0: none ran)
    ran: int  # candidates that ran
    total: int

    @property
    def note(self) -> str:
        """For the evaluation row's reason."""
        if not self.ran:
            return f"selection: none of {self.total} candidates ran, the greedy one kept"
        return f"selection: candidate {self.index + 1} of {self.total}, {self.agreed} of {self.ran} that ran agree"


def select(sqls: Sequence[str], outcomes: Sequence[list[QueryResult]]) -> Selection:
    """The majority by result among the candidates that ran (ties: the earliest); the greedy one if none ran.
    `outcomes[i]`: candidate i's results, one per database (see ExecutionMatcher.results)."""
    ran = [i for i, results in enumerate(outcomes) if results and all(r.ok for r in results)]
    if not ran:
        return Selection(0, 0, 0, len(sqls))
    votes = {i: sum(agree(sqls[i], outcomes[i], sqls[j], outcomes[j]) for j in ran) for i in ran}
    best = max(ran, key=lambda i: (votes[i], -i))
    return Selection(best, votes[best], len(ran), len(sqls))


def agree(sql_a: str, a: list[QueryResult], sql_b: str, b: list[QueryResult]) -> bool:
    """Whether two candidates' results are equal on every database, as execution match compares results."""
    ordered = has_top_level_order_by(sql_a) and has_top_level_order_by(sql_b)
    return all(compare_results(x.rows, y.rows, ordered=ordered, gold_width=len(x.columns),
                               pred_width=len(y.columns)).equal for x, y in zip(a, b))


def run_candidates(matcher: ExecutionMatcher, sqls: Sequence[str], databases: Sequence[Path],
                   ddl: str | None) -> list[list[QueryResult]]:
    """Each candidate's results; a statement several candidates wrote runs once."""
    results: dict[str, list[QueryResult]] = {}
    for sql in sqls:
        if sql not in results:
            results[sql] = matcher.results(sql, databases, ddl)
    return [results[sql] for sql in sqls]


def select_answers(candidates: Sequence[Sequence[str]], rows: Sequence[dict], db_dir: Path | None,
                   progress: Callable[[int, int], None] | None = None) -> list[Selection]:
    """For each row (its `db_id` and `context`, the DDL), which of its candidate completions to keep."""
    selections = []
    with ExecutionMatcher() as matcher:  # the configuration execution match scores with
        for done, (completions, row) in enumerate(zip(candidates, rows), start=1):
            sqls = [extract_sql(c) for c in completions]
            outcomes = run_candidates(matcher, sqls, _databases(db_dir, str(row["db_id"])), row.get("context"))
            selections.append(select(sqls, outcomes))
            if progress:
                progress(done, len(rows))
    return selections


def _databases(db_dir: Path | None, db_id: str) -> list[Path]:
    try:
        return find_databases(db_dir, db_id)
    except UnsafeName:  # a name outside db_dir: only the DDL's empty schema; scoring then rejects the row
        return []
