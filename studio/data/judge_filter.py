"""The book's data filtering (6.3.4) as an action on a prepared data set version: a judge reads each of the
version's training rows (DDL, question, gold SQL), says whether the SQL answers the question, and a new
version holds those rows less the "no" rows; the evaluation rows stay as they are.

An answer the judge could not give (an error) keeps the row: it is not a "no". But when the judge cannot
answer the first row at all (a bad key, an unreachable server, an unknown model), nothing more is asked and
no version is saved, so a typo costs one request and gets a clear message instead of a copy of the data.

The new version is prepared again from the chosen version's recorded source, options and databases, so it
is a content-addressed version like any other with the same split and execution filter. Only the chosen
version's own training rows are asked about: a version that keeps a share of the data costs that share,
and its rows are the ones kept. It takes every row the judge kept, yet records the chosen version's
`fraction` (the share of the source's training rows the data was drawn from, what the leaderboard plots
against), and beside it what the judge did: `judged_from` (the chosen version), `judged_rows` and
`judge_dropped`; the name says where it came from too.
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
# filter_version asks the judge first, then prepares the new version (its progress scaled into the rest)
ASKING_PROGRESS = (0.05, 0.8)


@dataclass(frozen=True)
class JudgedOptions(PrepareOptions):
    """A judged version's recipe: the chosen version's options, taking every row the judge kept (`fraction`
    1, since those rows are already the chosen version's share of the data).

    What it records (and what its id is made from) keeps the chosen version's `fraction`, the share of the
    source's training rows the data was drawn from, and says what the judge did beside it. All of it follows
    from the chosen version and the rows kept, so the same rows kept give the same version."""

    judged_from: str = ""  # the chosen version's id
    parent_fraction: float = 1.0  # the chosen version's recorded `fraction`, recorded as this one's
    judged_rows: int = 0  # the chosen version's training rows, each read by the judge
    judge_dropped: int = 0  # those the judge said "no" to

    def to_dict(self) -> dict:
        recorded = super().to_dict()
        recorded["fraction"] = recorded.pop("parent_fraction")
        return recorded


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
    """A judge filter over training rows (a `prepare_dataset` judge) that remembers what it asked, dropped
    and spent."""

    judge: Judge
    progress: Progress | None = None
    span: tuple[float, float] = JUDGE_PROGRESS  # where in `progress` the questions are reported
    asked: int = 0
    dropped: int = 0
    errors: int = 0
    cost_usd: float | None = 0.0
    verdicts: list[str | None] = field(default_factory=list)

    @property
    def __name__(self) -> str:  # recorded in the new version's options
        return f"judge:{self.judge.config.model}"

    def __call__(self, train: pd.DataFrame) -> list[bool]:
        results = self._ask(training_items(train))
        self.verdicts = [r.verdict for r in results]
        self.asked = len(results)
        self.dropped = sum(v == "no" for v in self.verdicts)
        self.errors = sum(v is None for v in self.verdicts)
        costs = [r.cost_usd for r in results if not r.cached]
        self.cost_usd = None if any(c is None for c in costs) else round(sum(costs), 6)
        return [verdict != "no" for verdict in self.verdicts]

    def _ask(self, items: list[JudgeItem]) -> list[JudgeVerdict]:
        """The first row alone, then the rest: a judge that cannot answer at all stops the run at once."""
        if not items:
            return []
        first = self.judge.judge_many(items[:1])
        if first[0].verdict is None and not first[0].answer:  # no answer at all (an unreadable one is kept)
            raise StudioError("the judge could not answer ({error}): check the judge model, the base URL and "
                              "the API key; no data set was saved", key="judge_no_answer",
                              error=first[0].error)
        return first + self.judge.judge_many(items[1:], progress=self._report)

    def _report(self, done: int, total: int) -> None:
        if self.progress:
            start, end = self.span
            self.progress(start + (end - start) * done / total,
                          f"asking the judge: {done + 1}/{total + 1} rows")


def filter_version(version_id: str, judge: Judge, settings: Settings | None = None,
                   progress: Progress | None = None) -> tuple[DatasetVersion, JudgeRowFilter]:
    """A new version: `version_id`'s training rows less those the judge says "no" to.

    The judge reads the rows first (so what it did is known when the version is recorded), then the version
    is prepared from the source again, keeping the rows it kept."""
    settings = settings or load_settings()
    version = get_version(version_id, settings)
    loaded = _reload_source(version, settings, progress)
    rows = version.train_frame()
    row_filter = JudgeRowFilter(judge, progress=progress, span=ASKING_PROGRESS)
    kept = KeptRows(frozenset(rows["id"][row_filter(rows)]), row_filter.__name__, row_filter.dropped)
    filtered = prepare_dataset(loaded, _recipe(version, row_filter), judge=kept, settings=settings,
                               progress=_after_asking(progress))
    return filtered, row_filter


@dataclass(frozen=True)
class KeptRows:
    """The `prepare_dataset` judge filter of a judged version: the rows with these ids, the judge's name.

    It also removes the source's rows outside the chosen version's share, which the judge never read, so it
    says how many the judge itself rejected (`dropped`, what the version's counts record)."""

    ids: frozenset[str]
    judge_name: str
    dropped: int

    @property
    def __name__(self) -> str:  # recorded in the new version's options
        return self.judge_name

    def __call__(self, train: pd.DataFrame) -> list[bool]:
        return list(with_ids(train)["id"].isin(self.ids))


def _after_asking(progress: Progress | None) -> Progress | None:
    if progress is None:
        return None
    start = ASKING_PROGRESS[1]
    return lambda done, message: progress(start + (1 - start) * done, message)


def _reload_source(version: DatasetVersion, settings: Settings, progress: Progress | None) -> LoadedData:
    """The version's source as it was, with the version's own databases (so the execution filter agrees)."""
    spec = SourceSpec(**{k: version.source.get(k) for k in ("kind", "ref", "config", "split")})
    try:
        loaded = load_source(spec, version.mapping or None, db_dir=version.databases_dir, settings=settings,
                             progress=progress)
    except StudioError as exc:
        raise StudioError("cannot read the source of {version} ({source}) again: {error}",
                          key="judge_source_unreadable", version=version.id, source=spec.label(),
                          error=exc) from None
    if loaded.fingerprint != version.source.get("fingerprint"):
        raise StudioError("the source of {version} ({source}) has changed since the version was prepared: "
                          "load it again in the Data tab, save a new version and filter that one",
                          key="judge_source_changed", version=version.id, source=spec.label())
    return loaded


def _recipe(version: DatasetVersion, judged: JudgeRowFilter) -> JudgedOptions:
    known = {f.name for f in fields(PrepareOptions)}
    options = {k: v for k, v in version.options.items() if k in known}
    options["holdout_db_ids"] = tuple(options.get("holdout_db_ids", ()))
    # The version's rows are already its share of the data: keep every row the judge keeps, and record
    # that share (a version prepared before `fraction` was recorded had all of it).
    parent_fraction = float(options.pop("fraction", 1.0))
    options["name"] = f"{version.name or version.id}-judged"
    return JudgedOptions(**options, fraction=1.0, judged_from=version.id, parent_fraction=parent_fraction,
                         judged_rows=judged.asked, judge_dropped=judged.dropped)
