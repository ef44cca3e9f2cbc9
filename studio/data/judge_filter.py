"""The book's data filtering (6.3.4) as an action on a prepared data set version: a judge reads each of the
version's training rows (DDL, question, gold SQL), says whether the SQL answers the question, and a new
version holds those rows less the "no" rows; the evaluation rows stay as they are.

An answer the judge could not give (an error) keeps the row: it is not a "no". But when the judge cannot
answer the first row at all (a bad key, an unreachable server, an unknown model), nothing more is asked and
no version is saved, so a typo costs one request and gets a clear message instead of a copy of the data.

The new version is prepared again from the chosen version's recorded source, options and databases, so it
is a content-addressed version like any other with the same split and execution filter. Only the chosen
version's own training rows are asked about: a version that keeps a share of the data costs that share,
and its rows are the ones kept (the new version's `fraction` is 1 of those; the name says where it came from).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

import pandas as pd

from evaluation.judge import CostEstimate, Judge, JudgeItem, JudgeVerdict
from studio.data.prepare import PrepareOptions, prepare_dataset, with_ids
from studio.data.sources import LoadedData, SourceSpec, load_source
from studio.data.versions import DatasetVersion, get_version
from studio.errors import StudioError
from studio.settings import Settings, load_settings

FILTER_TEMPLATE = """Based on below DDL and Question, evaluate whether gen_sql resolves Question. \
If gen_sql answers Question correctly, return "yes" else return "no". Output JSON Format: {"resolve_yn": ""}

DDL: {context}
Question: {question}
gen_sql: {gen_sql}"""

Progress = Callable[[float, str], None]
# prepare_dataset reports 0.75 when its judge filter starts and 0.9 when it writes the files after it
JUDGE_PROGRESS = (0.75, 0.9)


def training_items(frame: pd.DataFrame) -> list[JudgeItem]:
    """What the judge reads per row: the gold SQL is the SQL under judgement (the template's gen_sql)."""
    rows = frame.to_dict("records")
    return [JudgeItem(r["context"], r["question"], r["answer"], r["answer"]) for r in rows]


def estimate_filter(version_id: str, judge: Judge, settings: Settings | None = None) -> CostEstimate:
    """What judging the version's training rows would cost now (verdicts already cached are free)."""
    version = get_version(version_id, settings or load_settings())
    return judge.estimate(training_items(version.train_frame()))


@dataclass
class JudgeRowFilter:
    """A `prepare_dataset` judge filter that remembers what it asked, dropped and spent.

    With `only`, it asks about the candidate rows with those ids and leaves the others out."""

    judge: Judge
    only: frozenset[str] | None = None
    progress: Progress | None = None
    asked: int = 0
    dropped: int = 0
    errors: int = 0
    cost_usd: float | None = 0.0
    verdicts: list[str | None] = field(default_factory=list)

    @property
    def __name__(self) -> str:  # recorded in the new version's options
        return f"judge:{self.judge.config.model}"

    def __call__(self, train: pd.DataFrame) -> list[bool]:
        wanted = [True] * len(train) if self.only is None else list(with_ids(train)["id"].isin(self.only))
        results = self._ask(training_items(train[wanted]))
        self.verdicts = [r.verdict for r in results]
        self.asked = len(results)
        self.dropped = sum(v == "no" for v in self.verdicts)
        self.errors = sum(v is None for v in self.verdicts)
        costs = [r.cost_usd for r in results if not r.cached]
        self.cost_usd = None if any(c is None for c in costs) else round(sum(costs), 6)
        answers = iter(self.verdicts)
        return [asked and next(answers) != "no" for asked in wanted]

    def _ask(self, items: list[JudgeItem]) -> list[JudgeVerdict]:
        """The first row alone, then the rest: a judge that cannot answer at all stops the run at once."""
        if not items:
            return []
        first = self.judge.judge_many(items[:1])
        if first[0].verdict is None and not first[0].answer:  # no answer at all (an unreadable one is kept)
            raise StudioError(f"the judge could not answer ({first[0].error}): check the judge model, the "
                              "base URL and the API key; no data set was saved")
        return first + self.judge.judge_many(items[1:], progress=self._report)

    def _report(self, done: int, total: int) -> None:
        if self.progress:
            start, end = JUDGE_PROGRESS
            self.progress(start + (end - start) * done / total,
                          f"asking the judge: {done + 1}/{total + 1} rows")


def filter_version(version_id: str, judge: Judge, settings: Settings | None = None,
                   progress: Progress | None = None) -> tuple[DatasetVersion, JudgeRowFilter]:
    """A new version: `version_id`'s training rows less those the judge says "no" to."""
    settings = settings or load_settings()
    version = get_version(version_id, settings)
    loaded = _reload_source(version, settings, progress)
    row_filter = JudgeRowFilter(judge, only=frozenset(version.train_frame()["id"]), progress=progress)
    filtered = prepare_dataset(loaded, _recipe(version), judge=row_filter, settings=settings,
                               progress=progress)
    return filtered, row_filter


def _reload_source(version: DatasetVersion, settings: Settings, progress: Progress | None) -> LoadedData:
    """The version's source as it was, with the version's own databases (so the execution filter agrees)."""
    spec = SourceSpec(**{k: version.source.get(k) for k in ("kind", "ref", "config", "split")})
    try:
        loaded = load_source(spec, version.mapping or None, db_dir=version.databases_dir, settings=settings,
                             progress=progress)
    except StudioError as exc:
        raise StudioError(f"cannot read the source of {version.id} ({spec.label()}) again: {exc}") from None
    if loaded.fingerprint != version.source.get("fingerprint"):
        raise StudioError(f"the source of {version.id} ({spec.label()}) has changed since the version was "
                          "prepared: load it again in the Data tab, save a new version and filter that one")
    return loaded


def _recipe(version: DatasetVersion) -> PrepareOptions:
    known = {f.name for f in fields(PrepareOptions)}
    options = {k: v for k, v in version.options.items() if k in known}
    options["holdout_db_ids"] = tuple(options.get("holdout_db_ids", ()))
    # The version's rows are already its share of the data: keep every row the judge keeps.
    options["fraction"] = 1.0
    options["name"] = f"{version.name or version.id}-judged"
    return PrepareOptions(**options)
