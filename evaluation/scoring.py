"""Scoring prediction pairs: execution decides where it can, the judge where it cannot; and the summary.

Modes:
- execution: execution match only; rows it cannot decide (no database, broken gold) count as misses.
- judge:     the book's way, every row is judged (no execution).
- hybrid:    (default) execution where it decides — match, wrong result, prediction error, timeout, empty —
             and the judge only for the rest (no database, gold fails, DDL-only rows whose prediction
             runs); a prediction identical to the gold after normalisation needs no judge either.
- both:      execution and judge on every row: the final verdict is hybrid's, and the summary compares
             the two (agreement table).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from evaluation.execution import ExecutionConfig, ExecutionMatcher, ExecutionVerdict, find_databases
from evaluation.judge import Judge, JudgeItem, JudgeVerdict
from evaluation.pairs import Pair, PairsError
from evaluation.paths import UnsafeName
from evaluation.schema import schema_ddl
from evaluation.sql import SqlParseError, extract_sql, normalize_sql

MODES = ("execution", "judge", "hybrid", "both")
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class ScoringConfig:
    mode: str = "hybrid"
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)


@dataclass(frozen=True)
class ScoredPair:
    """The final verdict on a pair, who decided it, and the execution and judge verdicts behind it."""

    pair: Pair
    match: bool
    reason: str
    decided_by: str  # execution | exact | judge | none
    execution: ExecutionVerdict | None = None
    judge: JudgeVerdict | None = None

    def to_row(self) -> dict:
        """The input row with the verdict added (`match`, `reason` and details)."""
        row = dict(self.pair.row) or {
            "id": self.pair.id,
            "db_id": self.pair.db_id,
            "question": self.pair.question,
            "gold_sql": self.pair.gold_sql,
            "pred_sql": self.pair.pred_sql,
        }
        row.update(
            match=self.match,
            reason=self.reason,
            decided_by=self.decided_by,
            execution=self.execution.status if self.execution else None,
            judge=self.judge.verdict if self.judge else None,
            judge_error=self.judge.error if self.judge else None,
        )
        return row


@dataclass(frozen=True)
class Agreement:
    """Execution match against judge verdict on the rows that have both (a 2×2 table)."""

    both_yes: int = 0
    ex_yes_judge_no: int = 0
    ex_no_judge_yes: int = 0
    both_no: int = 0

    @property
    def total(self) -> int:
        return self.both_yes + self.ex_yes_judge_no + self.ex_no_judge_yes + self.both_no

    @property
    def rate(self) -> float | None:
        return (self.both_yes + self.both_no) / self.total if self.total else None

    def to_dict(self) -> dict:
        return {**asdict(self), "total": self.total, "rate": self.rate}


@dataclass(frozen=True)
class Summary:
    """Scores of a run. EX counts rows executed on a database; the judge score counts parsed verdicts."""

    mode: str
    total: int
    matches: int
    ex_evaluated: int
    ex_matches: int
    judge_yes: int
    judge_no: int
    judge_errors: int
    agreement: Agreement | None
    decided_by: dict[str, int]
    execution_statuses: dict[str, int]
    judge_calls: int
    judge_cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.matches, self.total)

    @property
    def ex_score(self) -> float | None:
        return _ratio(self.ex_matches, self.ex_evaluated)

    @property
    def judge_score(self) -> float | None:
        return _ratio(self.judge_yes, self.judge_yes + self.judge_no)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["agreement"] = self.agreement.to_dict() if self.agreement else None
        data.update(accuracy=self.accuracy, ex_score=self.ex_score, judge_score=self.judge_score)
        return data


@dataclass(frozen=True)
class ScoreReport:
    rows: list[ScoredPair]
    summary: Summary


@dataclass(frozen=True)
class ScoringPlan:
    """Pairs after execution, with the questions still to ask the judge (see `judge_items`)."""

    pairs: Sequence[Pair]
    mode: str
    executions: list[ExecutionVerdict | None]
    exact: frozenset[int]  # rows decided by identical normalised SQL
    to_judge: list[int]  # row indexes, in the order of judge_items
    judge_items: list[JudgeItem]


def score_pairs(
    pairs: Sequence[Pair],
    *,
    db_dir: str | Path | None = None,
    config: ScoringConfig = ScoringConfig(),
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> ScoreReport:
    """Score pairs by `config.mode`: databases `DIR/<db_id>.sqlite` (or `DIR/<db_id>/*.sqlite`), DDL, judge.

    In hybrid mode without a judge, rows execution cannot decide are misses with the execution's reason.
    """
    if config.mode in ("judge", "both") and judge is None:
        raise ValueError(f"mode {config.mode!r} needs a judge")
    return finish_scoring(
        plan_scoring(pairs, db_dir=db_dir, config=config, progress=progress), judge, progress
    )


def plan_scoring(
    pairs: Sequence[Pair],
    *,
    db_dir: str | Path | None = None,
    config: ScoringConfig = ScoringConfig(),
    progress: Progress | None = None,
) -> ScoringPlan:
    """Run the execution part and find what the judge must decide (for a cost estimate before asking it)."""
    if config.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    databases = [_databases(db_dir, pair) for pair in pairs]
    executions = (
        _execute(pairs, databases, config, progress) if config.mode != "judge" else [None] * len(pairs)
    )
    wanted = [i for i, verdict in enumerate(executions) if _wants_judge(config.mode, verdict)]
    exact = {
        i for i in wanted if config.mode == "hybrid" and _same_sql(pairs[i], databases[i], config.execution)
    }
    to_judge = [i for i in wanted if i not in exact]
    items = _judge_items([pairs[i] for i in to_judge], [databases[i] for i in to_judge])
    return ScoringPlan(pairs, config.mode, executions, frozenset(exact), to_judge, items)


def _databases(db_dir: str | Path | None, pair: Pair) -> list[Path]:
    try:
        return find_databases(db_dir, pair.db_id)
    except UnsafeName as error:  # a db_id such as ../../x would name a file outside the database folder
        raise PairsError(f"pair {pair.id}: db_id {error}") from None


def finish_scoring(
    plan: ScoringPlan, judge: Judge | None = None, progress: Progress | None = None
) -> ScoreReport:
    """Ask the judge what the plan leaves open (when there is a judge) and combine the verdicts."""
    verdicts: dict[int, JudgeVerdict] = {}
    if judge is not None and plan.judge_items:
        report = (lambda done, total: progress("judge", done, total)) if progress else None
        verdicts = dict(zip(plan.to_judge, judge.judge_many(plan.judge_items, progress=report), strict=True))
    rows = [
        _decide(pair, plan.executions[i], verdicts.get(i), i in plan.exact)
        for i, pair in enumerate(plan.pairs)
    ]
    return ScoreReport(rows, summarize(rows, plan.mode))


def summarize(rows: Sequence[ScoredPair], mode: str = "hybrid") -> Summary:
    executed = [row for row in rows if row.execution and row.execution.decided and row.execution.databases]
    judged = [row.judge for row in rows if row.judge]
    fresh = [verdict for verdict in judged if not verdict.cached]
    costs = [verdict.cost_usd for verdict in fresh]
    return Summary(
        mode=mode,
        total=len(rows),
        matches=sum(row.match for row in rows),
        ex_evaluated=len(executed),
        ex_matches=sum(row.execution.match for row in executed),
        judge_yes=sum(verdict.verdict == "yes" for verdict in judged),
        judge_no=sum(verdict.verdict == "no" for verdict in judged),
        judge_errors=sum(verdict.verdict is None for verdict in judged),
        agreement=_agreement(executed),
        decided_by=dict(Counter(row.decided_by for row in rows)),
        execution_statuses=dict(Counter(row.execution.status for row in rows if row.execution)),
        judge_calls=len(fresh),
        judge_cached=len(judged) - len(fresh),
        prompt_tokens=sum(verdict.prompt_tokens for verdict in fresh),
        completion_tokens=sum(verdict.completion_tokens for verdict in fresh),
        cost_usd=None if None in costs else sum(costs),
    )


_EXECUTION_CHUNK = 64  # pairs sent to the sandbox workers at once: fewer wake-ups, progress still moves


def _execute(
    pairs: Sequence[Pair], databases: list[list[Path]], config: ScoringConfig, progress: Progress | None
) -> list[ExecutionVerdict]:
    verdicts: list[ExecutionVerdict] = []
    with ExecutionMatcher(config.execution) as matcher:
        for start in range(0, len(pairs), _EXECUTION_CHUNK):
            chunk = list(zip(pairs[start : start + _EXECUTION_CHUNK], databases[start : start + _EXECUTION_CHUNK],
                             strict=True))
            on_files = matcher.match_many([(p.gold_sql, p.pred_sql, found) for p, found in chunk
                                           if found or not p.context])
            answers = iter(on_files)
            verdicts += [next(answers) if found or not pair.context
                         else matcher.match_schema(pair.context, pair.gold_sql, pair.pred_sql)
                         for pair, found in chunk]
            if progress:
                progress("execution", len(verdicts), len(pairs))
    return verdicts


def _wants_judge(mode: str, execution: ExecutionVerdict | None) -> bool:
    if mode in ("judge", "both"):
        return True
    return mode == "hybrid" and not execution.decided


def _same_sql(pair: Pair, databases: list[Path], config: ExecutionConfig) -> bool:
    """Whether the prediction is the gold statement up to case, quoting and spacing."""
    dialect = config.dialect if databases or not pair.context else config.ddl_dialect
    try:
        return normalize_sql(extract_sql(pair.pred_sql), dialect) == normalize_sql(pair.gold_sql, dialect)
    except SqlParseError:
        return False


def _judge_items(pairs: Sequence[Pair], databases: Sequence[list[Path]]) -> list[JudgeItem]:
    schemas: dict[Path, str] = {}  # one schema read per database, not per row
    items = []
    for pair, found in zip(pairs, databases, strict=True):
        context = pair.context
        if context is None and found:
            if found[0] not in schemas:
                schemas[found[0]] = schema_ddl(found[0])
            context = schemas[found[0]]
        items.append(JudgeItem(context or "", pair.question, pair.gold_sql, extract_sql(pair.pred_sql)))
    return items


def _decide(
    pair: Pair, execution: ExecutionVerdict | None, judge: JudgeVerdict | None, exact: bool
) -> ScoredPair:
    if execution is not None and execution.decided:
        return ScoredPair(pair, execution.match, execution.reason, "execution", execution, judge)
    if exact:
        return ScoredPair(pair, True, "same SQL as the gold after normalisation", "exact", execution, judge)
    if judge is not None and judge.verdict is not None:
        why = f" ({execution.reason})" if execution else ""
        return ScoredPair(pair, judge.yes, f"judge: {judge.verdict}{why}", "judge", execution, judge)
    if judge is not None:
        return ScoredPair(pair, False, f"judge error: {judge.error}", "none", execution, judge)
    reason = execution.reason if execution else "not scored"
    return ScoredPair(pair, False, reason, "none", execution, judge)


def _agreement(executed: Sequence[ScoredPair]) -> Agreement | None:
    cells = Counter(
        (row.execution.match, row.judge.yes)
        for row in executed
        if row.judge and row.judge.verdict is not None
    )
    if not cells:
        return None
    return Agreement(
        both_yes=cells[True, True],
        ex_yes_judge_no=cells[True, False],
        ex_no_judge_yes=cells[False, True],
        both_no=cells[False, False],
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
