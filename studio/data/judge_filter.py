"""The book's data filtering (6.3.4) as an action on a prepared data set: a judge reads each training row's
DDL, question and gold SQL, says whether the SQL answers the question, and the "no" rows are dropped into a
new data set version. An answer the judge could not give (an error) keeps the row: it is not a "no".
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

from evaluation.judge import Judge, JudgeItem
from studio.data.prepare import PrepareOptions, prepare_dataset
from studio.data.sources import SourceSpec
from studio.data.versions import DatasetVersion, get_version
from studio.settings import Settings, load_settings

FILTER_TEMPLATE = """Based on below DDL and Question, evaluate whether gen_sql resolves Question. \
If gen_sql answers Question correctly, return "yes" else return "no". Output JSON Format: {"resolve_yn": ""}

DDL: {context}
Question: {question}
gen_sql: {gen_sql}"""


@dataclass
class JudgeRowFilter:
    """A `prepare_dataset` judge filter that remembers what it asked, dropped and spent."""

    judge: Judge
    asked: int = 0
    dropped: int = 0
    errors: int = 0
    cost_usd: float | None = 0.0
    verdicts: list[str | None] = field(default_factory=list)

    @property
    def __name__(self) -> str:  # recorded in the new version's options
        return f"judge:{self.judge.config.model}"

    def __call__(self, train: pd.DataFrame) -> list[bool]:
        items = [JudgeItem(r["context"], r["question"], r["answer"], r["answer"]) for r in train.to_dict("records")]
        results = self.judge.judge_many(items)
        self.verdicts = [r.verdict for r in results]
        self.asked = len(results)
        self.dropped = sum(v == "no" for v in self.verdicts)
        self.errors = sum(v is None for v in self.verdicts)
        costs = [r.cost_usd for r in results if not r.cached]
        self.cost_usd = None if any(c is None for c in costs) else round(sum(costs), 6)
        return [v != "no" for v in self.verdicts]


def filter_version(version_id: str, judge: Judge, settings: Settings | None = None,
                   progress=None) -> tuple[DatasetVersion, JudgeRowFilter]:
    """Prepare `version_id` again from its recorded source and options, with the judge filter on."""
    settings = settings or load_settings()
    version = get_version(version_id, settings)
    spec = SourceSpec(**{k: version.source.get(k) for k in ("kind", "ref", "config", "split")})
    known = {f.name for f in fields(PrepareOptions)}
    options = {k: v for k, v in version.options.items() if k in known}
    options["holdout_db_ids"] = tuple(options.get("holdout_db_ids", ()))
    options["name"] = f"{version.name or version.id}-judged"
    row_filter = JudgeRowFilter(judge)
    filtered = prepare_dataset(spec, PrepareOptions(**options), mapping=version.mapping or None, judge=row_filter,
                               settings=settings, progress=progress)
    return filtered, row_filter
