"""Preparing a data set version: split, filter, take a fraction, render prompts, write the files.

The steps follow the book (held-out game domain, `dropna`, shuffle with seed 42, `make_prompt`) and add
what it lacked: the gold SQL must run on its database (or, for DDL-only data, on an empty database built
from the DDL), an optional judge filter, and a content-addressed version so the same input and options
always give the same version id, and a training run can name exactly the data it used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from evaluation.schema import create_schema, sqlite_schema
from studio.data.execution import DDL_DIALECT, GoldChecker
from studio.data.sample import EVAL_DB_ID, SCHEMA_CHOICES, SYNTHESIZED_DB_IDS
from studio.data.sources import LoadedData, Progress, SourceSpec, load_source
from studio.data.validation import short_list
from studio.data.versions import (
    STAGING_PREFIX, DatasetVersion, find_version, save_version, version_dir, writing_versions,
)
from studio.errors import StudioError
from studio.names import check_name, join_inside
from studio.prompts import BOOK_TEMPLATE, PromptTemplate
from studio.retrieval import ExampleIndex, add_examples, prompt_questions
from studio.settings import Settings, load_settings

# A judge filter sees the candidate training rows and says which to keep (the Evaluation issue's judge
# plugs in here); its `__name__` is recorded in the version.
JudgeFilter = Callable[[pd.DataFrame], Sequence[bool]]
FRACTIONS = (0.2, 0.4, 0.6, 0.8, 1.0)  # the book's data-size experiment
SEED_MAX = 2**32 - 1  # numpy's (and so pandas' sample()) range of seeds
EXEC_TIMEOUT_MAX_S = 600.0  # per gold query; the default is 2 s
BLOCK_SIZE_MAX = 1 << 20  # tokens; far beyond any model's context
ROW_COLUMNS = ("id", "db_id", "context", "question", "answer", "difficulty")


@dataclass(frozen=True)
class PrepareOptions:
    holdout_db_ids: tuple[str, ...] = (EVAL_DB_ID,)  # evaluation rows: these databases (the book's split)
    eval_fraction: float | None = None  # instead: a random share of rows, chosen with `seed`
    fraction: float = 1.0  # share of the (filtered, shuffled) training rows to keep
    seed: int = 42
    exec_filter: bool = True
    exec_timeout_s: float = 2.0
    prompt_template: str = BOOK_TEMPLATE
    name: str = ""
    schemas: str = "all"  # the sample's schemas to keep: all, hand (written) or synthesized (SCHEMA_CHOICES)
    # Each row's prompt shows the nearest training example of another database (studio.retrieval): the
    # model adapts a retrieved SQL shape instead of recalling one. False: the book's prompt exactly.
    examples: bool = True
    # Databases whose rows take their example from their own database instead (an adapted version: the
    # user's database, whose synthesized pairs show the model its real table and column names).
    own_examples: tuple[str, ...] = ()

    def check(self) -> None:
        if self.schemas not in SCHEMA_CHOICES:
            raise StudioError("schemas must be one of {choices}, not '{schemas}'", key="prep_bad_schemas",
                              choices=", ".join(SCHEMA_CHOICES), schemas=self.schemas)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= SEED_MAX:
            raise StudioError("the seed must be a whole number from 0 to {limit}, not {seed}",
                              key="prep_bad_seed", limit=SEED_MAX, seed=self.seed)
        # `not 0 < t <= max` is also true for NaN: a NaN deadline would never pass, a negative one always
        if not 0 < self.exec_timeout_s <= EXEC_TIMEOUT_MAX_S:
            raise StudioError("the execution timeout must be more than 0 and at most {limit:g} seconds, not "
                              "{timeout}", key="prep_bad_exec_timeout", limit=EXEC_TIMEOUT_MAX_S,
                              timeout=self.exec_timeout_s)
        if not 0 < self.fraction <= 1:
            raise StudioError("the fraction must be in (0, 1], not {fraction}", key="prep_bad_fraction",
                              fraction=self.fraction)
        if self.eval_fraction is not None and not 0 < self.eval_fraction < 1:
            raise StudioError("the random evaluation share must be in (0, 1), not {share}",
                              key="prep_bad_eval_share", share=self.eval_fraction)
        if self.eval_fraction is None and not self.holdout_db_ids:
            raise StudioError("choose held-out databases or a random evaluation share", key="prep_no_split")
        try:
            PromptTemplate(self.prompt_template)
        except ValueError as exc:
            raise StudioError("{error}", key="prep_bad_template", error=exc) from None

    @property
    def split(self) -> str:
        if self.eval_fraction is not None:
            return f"random:{self.eval_fraction:g}"
        return "holdout:" + ",".join(self.holdout_db_ids)

    def to_dict(self) -> dict:
        data = {**asdict(self), "holdout_db_ids": list(self.holdout_db_ids), "split": self.split,
                "own_examples": list(self.own_examples)}
        if not self.own_examples:  # versions prepared before the option existed keep their content hash
            del data["own_examples"]
        return data


def choose_schemas(loaded: LoadedData, options: PrepareOptions) -> pd.DataFrame:
    """The loaded rows of the chosen schemas: the sample's hand-written or synthesized domains (the
    held-out ones stay either way), or all rows."""
    frame = loaded.frame
    if options.schemas == "all":
        return frame
    if loaded.source.kind != "sample":
        raise StudioError("only the bundled sample has synthesized schemas: choose 'all' for {source}",
                          key="prep_schemas_not_sample", source=loaded.source.label())
    synthesized = frame["db_id"].isin(SYNTHESIZED_DB_IDS)
    held = frame["db_id"].isin(options.holdout_db_ids) if options.eval_fraction is None else False
    return frame[(synthesized if options.schemas == "synthesized" else ~synthesized) | held]


def split_rows(frame: pd.DataFrame, options: PrepareOptions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, eval): by held-out db_id like the book, or a seeded random share."""
    if options.eval_fraction is not None:
        shuffled = frame.sample(frac=1, random_state=options.seed)
        n_eval = max(1, round(len(frame) * options.eval_fraction))
        return shuffled.iloc[n_eval:], shuffled.iloc[:n_eval].sort_index()
    held = frame["db_id"].isin(options.holdout_db_ids)
    if not held.any():
        present = short_list(sorted(frame["db_id"].unique()))
        raise StudioError(
            "held-out database(s) {held} not in the data (databases: {present}); "
            "choose another or a random split",
            key="prep_holdout_absent", held=", ".join(options.holdout_db_ids), present=present,
        )
    if held.all():
        raise StudioError("every row belongs to the held-out database(s): nothing is left to train on",
                          key="prep_all_held_out")
    return frame[~held], frame[held]


def take_fraction(train: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """Shuffle with the seed (the book's `sample(frac=1, random_state=42)`) and keep the first share.

    Smaller fractions are prefixes of larger ones, so 20 % ⊂ 40 % ⊂ … ⊂ 100 % for the same seed.
    """
    shuffled = train.sample(frac=1, random_state=seed)
    return shuffled.iloc[: max(1, round(len(shuffled) * fraction))]


def exec_filter(
    frame: pd.DataFrame,
    checker: GoldChecker,
    progress: Progress | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> tuple[pd.Series, Counter]:
    """Which rows' gold SQL runs on their database, and why the others do not."""
    rows = list(frame[["db_id", "context", "answer"]].itertuples(index=False, name=None))
    keep, reasons = [False] * len(rows), Counter()
    # One database's rows together: the checker runs them as batches and keeps few sandboxes open.
    order = sorted(range(len(rows)), key=lambda p: (str(rows[p][0]), str(rows[p][1])))
    for start in range(0, len(order), 250):
        if progress:
            fraction = start / max(1, len(rows))
            progress(span[0] + (span[1] - span[0]) * fraction, f"running gold SQL {start}/{len(rows)}")
        chunk = order[start : start + 250]
        for position, reason in zip(chunk, checker.check_rows([rows[p] for p in chunk])):
            keep[position] = reason is None
            if reason:
                reasons[reason] += 1
    return pd.Series(keep, index=frame.index, dtype=bool), reasons


def with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable row ids (a hash of db_id, question and answer), so runs on different versions compare."""
    ids = [
        hashlib.sha1(f"{d}\0{q}\0{a}".encode()).hexdigest()[:12]
        for d, q, a in zip(frame["db_id"], frame["question"], frame["answer"])
    ]
    rows = frame[[c for c in ROW_COLUMNS[1:] if c in frame]].copy()
    rows.insert(0, "id", ids)
    return rows


def prepare_dataset(
    source: str | Path | SourceSpec | LoadedData,
    options: PrepareOptions = PrepareOptions(),
    *,
    mapping: Mapping[str, str] | None = None,
    db_dir: Path | None = None,
    judge: JudgeFilter | None = None,
    tokenizer=None,
    block_size: int = 1024,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> DatasetVersion:
    """Validate, split, filter and write a data set version; the same inputs give the same version."""
    options.check()
    if tokenizer is not None and not 1 <= block_size <= BLOCK_SIZE_MAX:
        raise StudioError("the block size must be from 1 to {limit} tokens, not {block_size}",
                          key="prep_bad_block_size", limit=BLOCK_SIZE_MAX, block_size=block_size)
    settings = settings or load_settings()
    loaded = (
        source
        if isinstance(source, LoadedData)
        else load_source(source, mapping, db_dir=db_dir, settings=settings, progress=progress)
    )
    counts: dict = {"loaded": len(loaded.frame), "dropped_on_load": loaded.report.dropped_by_reason}
    train, evaluation = split_rows(choose_schemas(loaded, options), options)
    counts["split"] = {"train": len(train), "eval": len(evaluation)}

    if options.exec_filter:
        checker = GoldChecker(loaded.databases, options.exec_timeout_s)
        try:
            keep_train, train_reasons = exec_filter(train, checker, progress, (0.1, 0.6))
            keep_eval, eval_reasons = exec_filter(evaluation, checker, progress, (0.6, 0.75))
        finally:
            checker.close()
        train, evaluation = train[keep_train], evaluation[keep_eval]
        counts["exec_filter"] = {"train_dropped": dict(train_reasons), "eval_dropped": dict(eval_reasons)}
    if judge is not None:
        if progress:
            progress(0.75, "judge filter")
        verdicts = pd.Series(list(judge(train)), index=train.index, dtype=bool)
        # A filter may say how many rows its judge rejected when it also removes others (see KeptRows).
        counts["judge_filter"] = {"train_dropped": getattr(judge, "dropped", int((~verdicts).sum()))}
        train = train[verdicts]
    if train.empty or evaluation.empty:
        raise StudioError("the filters left {train} training and {eval} evaluation rows",
                          key="prep_filtered_out", train=len(train), eval=len(evaluation))

    train = with_ids(take_fraction(train, options.fraction, options.seed))
    evaluation = with_ids(evaluation)
    if options.examples:
        index = ExampleIndex(train["question"], train["answer"], train["db_id"], own_examples=options.own_examples)
        train, evaluation = add_examples(train, index, training=True), add_examples(evaluation, index)
    counts.update(
        train=len(train),
        eval=len(evaluation),
        train_by_db=_by(train, "db_id"),
        eval_by_db=_by(evaluation, "db_id"),
    )
    if "difficulty" in evaluation:
        counts["eval_by_difficulty"] = _by(evaluation, "difficulty")
    if tokenizer is not None:
        from studio.data.tokens import token_stats

        if progress:
            progress(0.8, "counting tokens")
        counts["tokens"] = token_stats(train, tokenizer, block_size, options.prompt_template).to_dict()
    if progress:
        progress(0.9, "writing files")
    version = _write(loaded, options, mapping, judge, train, evaluation, counts, settings)
    if progress:
        progress(1.0, f"saved {version.id}")
    return version


def _by(frame: pd.DataFrame, column: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame[column].value_counts().sort_index().items()}


def _write(
    loaded: LoadedData,
    options: PrepareOptions,
    mapping: Mapping[str, str] | None,
    judge: JudgeFilter | None,
    train: pd.DataFrame,
    evaluation: pd.DataFrame,
    counts: dict,
    settings: Settings,
) -> DatasetVersion:
    template = PromptTemplate(options.prompt_template)
    texts = [template.render(c, q, a) for c, q, a in zip(train["context"], prompt_questions(train), train["answer"])]
    files = {
        "autotrain/train.csv": pd.DataFrame({"text": texts}).to_csv(index=False).encode(),
        "train.jsonl": train.to_json(orient="records", lines=True, force_ascii=False).encode(),
        "eval.jsonl": evaluation.to_json(orient="records", lines=True, force_ascii=False).encode(),
    }
    db_ids = sorted(set(train["db_id"]) | set(evaluation["db_id"]))
    # Validation refused such rows already; checked again before anything is written, for callers that
    # built their rows another way.
    db_files = {db_id: check_name(db_id, "db_id", ".sqlite") for db_id in db_ids}
    ddl_only = {d: _union_ddl(pd.concat([train, evaluation]), d) for d in db_ids if d not in loaded.databases}
    recipe = {
        "options": {k: v for k, v in options.to_dict().items() if k != "name"},
        "mapping": dict(loaded.report.mapping),
        "judge": getattr(judge, "__name__", None) if judge else None,
        "databases": {
            d: loaded.database_fingerprints.get(d) or _file_hash(loaded.databases[d])
            for d in db_ids
            if d in loaded.databases
        },
        "ddl_databases": ddl_only,
    }
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True, ensure_ascii=False).encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    content_hash = digest.hexdigest()
    version_id = f"ds-{content_hash[:12]}"
    existing = find_version(version_id, settings)
    if existing is not None and existing.eval_file.exists():
        return existing  # idempotent: same input and options, same version

    version = DatasetVersion(
        id=version_id,
        name=options.name,
        content_hash=content_hash,
        path=version_dir(version_id, settings),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source={**loaded.source.to_dict(), "label": loaded.source.label(), "fingerprint": loaded.fingerprint},
        mapping=dict(loaded.report.mapping),
        options={**options.to_dict(), "judge": recipe["judge"]},
        counts=counts,
    )
    with writing_versions(settings) as folder:  # recovery leaves this staging folder alone
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
        try:
            for name, data in files.items():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_bytes(data)
            (staging / "databases").mkdir()
            for db_id in db_ids:
                out = join_inside(staging / "databases", db_files[db_id])
                if db_id in loaded.databases:
                    shutil.copyfile(loaded.databases[db_id], out)
                else:
                    create_schema(out, ddl_only[db_id])
            (staging / "version.json").write_text(
                json.dumps(version.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            staging.chmod(0o755)
            _move_into_place(staging, version.path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        save_version(version, settings)
    return version


def _move_into_place(staging: Path, target: Path) -> None:
    """The folder appears whole or not at all."""
    if target.exists() and not (target / "version.json").exists():
        shutil.rmtree(target)  # an interrupted earlier run
    if not target.exists():  # else a concurrent run wrote the same content: keep it
        os.replace(staging, target)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _union_ddl(frame: pd.DataFrame, db_id: str) -> list[str]:
    """The SQLite statements (the evaluation library's empty schema) for every table the rows of `db_id`
    define, the first definition of a name winning."""
    tables: dict[str, str] = {}
    for context in dict.fromkeys(frame.loc[frame["db_id"] == db_id, "context"]):
        schema = sqlite_schema(context or "", DDL_DIALECT)
        for name, statement in zip(schema.names, schema.statements):
            tables.setdefault(name.lower(), statement)
    return [tables[name] for name in sorted(tables)]
