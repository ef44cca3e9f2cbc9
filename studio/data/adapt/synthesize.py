"""Checked Korean question/SQL pairs for a user's database, saved as a data set version.

The bundled sample's templates and phrasings are filled with the database's real values (`adapt_schema`),
every gold SQL runs read-only in the evaluation sandbox, and a pair is dropped when its result is empty,
a lone NULL or 0, tied at its LIMIT, an error or a timeout, or when its question repeats another's. The
version keeps the database (so evaluation can execute against it), and records where its rows came from:
the database, the glossary's hash and the drops by reason. A share of the bundled sample's rows can be
mixed in, so the model keeps what it knows about other schemas.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

import pandas as pd

from evaluation.sandbox import Limits, Sandbox, check_number
from studio.data.adapt.domain import AdaptedSchema, adapt_schema, draft
from studio.data.adapt.glossary import Glossary, glossary_from_ddl
from studio.data.adapt.schema import DatabaseInfo, read_database
from studio.data.files import DEFAULT_LIMITS
from studio.data.prepare import PrepareOptions, prepare_dataset
from studio.data.sample import EVAL_DB_ID, ensure_sample
from studio.data.sample.binding import candidates
from studio.data.sample.generate import GeneratedDomain, QuestionMaker, answer_problem
from studio.data.sample.templates import TEMPLATES
from studio.data.sources import LoadedData, Progress, SourceSpec
from studio.data.validation import clean_frame
from studio.data.versions import DatasetVersion
from studio.errors import StudioError
from studio.names import check_name
from studio.settings import Settings, load_settings

MAX_PAIRS = 20_000
ATTEMPTS_PER_PAIR = 8


@dataclass(frozen=True)
class SynthesisOptions:
    pairs: int = 1000  # pairs wanted (fewer when the schema offers fewer distinct questions)
    seed: int = 0
    name: str = ""  # the database's db_id and the version's name; default: the file's name
    sample_share: float = 0.0  # share of the training rows drawn from the bundled sample (0 to 0.9)
    eval_fraction: float = 0.1  # synthesized pairs kept for the version's evaluation rows
    exec_timeout_s: float = 2.0

    def check(self) -> None:
        try:
            check_number("pairs", self.pairs, 10, MAX_PAIRS, integer=True)
            check_number("seed", self.seed, 0, 2**32 - 1, integer=True)
            check_number("sample share", self.sample_share, 0.0, 0.9)
            check_number("evaluation fraction", self.eval_fraction, 0.0, 0.5, low_open=True)
            check_number("exec timeout", self.exec_timeout_s, 0.0, 60.0, low_open=True)
        except ValueError as error:
            raise StudioError("{problem}", key="adapt_bad_option", problem=str(error)) from None


@dataclass
class Synthesis:
    """The pairs made for one database, and what was dropped or left out on the way."""

    db_id: str
    database: Path
    frame: pd.DataFrame  # db_id, context, question, answer, difficulty, template
    schema: AdaptedSchema
    dropped: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        by = ", ".join(f"{n} {reason}" for reason, n in self.dropped.most_common())
        tables = len(self.schema.domain.tables)
        return (f"{len(self.frame)} pairs over {tables} table(s) of {self.database.name}"
                + (f"; dropped: {by}" if by else "")
                + (f"; left out: {len(self.schema.left_out)} (see the report)" if self.schema.left_out else ""))


def synthesize(database: str | Path, glossary: Glossary, options: SynthesisOptions = SynthesisOptions(),
               progress: Progress | None = None) -> Synthesis:
    """Pairs for a SQLite file. Its own DDL comments give words the glossary lacks; a glossary naming a
    table or column the database does not have is refused before anything runs."""
    options.check()
    database = Path(database)
    db_id = check_name(options.name or database.stem, "db_id")
    info = read_database(database)
    words = _words(info, glossary)
    if progress:
        progress(0.05, "reading the database")
    schema = adapt_schema(info, words, db_id, options.pairs)
    if not schema.domain.tables:
        raise StudioError("no table of {file} has a Korean word: give a glossary ({left_out})",
                          key="adapt_no_words", file=database.name, left_out="; ".join(schema.left_out[:5]))
    with Sandbox.open_file(database, Limits(timeout_s=options.exec_timeout_s)) as sandbox:
        frame, dropped = _pairs(schema, sandbox, options, progress)
    if frame.empty:
        raise StudioError("no question over {file} gave a usable answer ({dropped})", key="adapt_no_pairs",
                          file=database.name, dropped=", ".join(f"{n} {r}" for r, n in dropped.most_common()))
    return Synthesis(db_id, database, frame, schema, dropped)


def draft_glossary(database: str | Path, glossary: Glossary = Glossary(), proposed: Glossary = Glossary()
                   ) -> Glossary:
    """Every table and column of a database with its Korean word where one is known (the glossary, else
    the DDL's comments, else an LLM's proposal) and its inferred role: a glossary to complete and edit."""
    info = read_database(database)
    return draft(info, proposed.merged(_words(info, glossary)))


def _words(info: DatabaseInfo, glossary: Glossary) -> Glossary:
    """The DDL's comments with `glossary` over them; a glossary naming what the database lacks is refused."""
    unknown = glossary.unknown({t.name: tuple(c.name for c in t.columns) for t in info.tables})
    if unknown:
        raise StudioError("the glossary names what {file} does not have: {names}", key="adapt_unknown_names",
                          file=info.path.name, names=", ".join(unknown[:10]))
    return glossary_from_ddl("\n;\n".join(t.sql for t in info.tables)).merged(glossary)


def save_synthesis(synthesis: Synthesis, options: SynthesisOptions = SynthesisOptions(),
                   settings: Settings | None = None, progress: Progress | None = None) -> DatasetVersion:
    """The pairs (with a share of the bundled sample, when asked) as a data set version."""
    settings = settings or load_settings()
    frame, databases = synthesis.frame.drop(columns=["template"]), {synthesis.db_id: synthesis.database}
    if options.sample_share > 0:
        sample = ensure_sample(settings.home, progress)
        mixed = _sample_rows(sample.frame(), synthesis.db_id, len(frame), options)
        databases |= {d: sample.databases[d] for d in mixed["db_id"].unique()}
        frame = pd.concat([frame, mixed], ignore_index=True)
    cleaned, report = clean_frame(frame, f"synthesized for {synthesis.database.name}", None, DEFAULT_LIMITS)
    report.dropped_by_reason.update({f"synthesis: {r}": n for r, n in synthesis.dropped.items()})
    # The provenance: the database (by its name), the glossary's hash, the drops by reason ("dropped on load").
    source = SourceSpec("synthesized", synthesis.db_id, synthesis.schema.glossary.digest)
    loaded = LoadedData(cleaned, report, source, databases)
    # Every gold SQL already ran in the sandbox (the sample's rows are checked when it is built).
    # The database's own rows take examples from its own pairs: at inference, a question about the user's
    # database is shown the most alike synthesized pair, with the real table and column names.
    prepare = PrepareOptions(holdout_db_ids=(), eval_fraction=options.eval_fraction, seed=options.seed,
                             exec_filter=False, name=options.name or synthesis.db_id,
                             own_examples=(synthesis.db_id,))
    return prepare_dataset(loaded, prepare, settings=settings, progress=progress)


def _pairs(schema: AdaptedSchema, sandbox: Sandbox, options: SynthesisOptions,
           progress: Progress | None) -> tuple[pd.DataFrame, Counter]:
    """Every usable template filled about evenly, in a seeded order, up to `options.pairs`."""
    generated = GeneratedDomain(schema.domain, schema.rows, connection=None)
    maker = QuestionMaker(generated, check=_sandbox_check(sandbox), ddl=schema.ddl)
    usable = [t for t in TEMPLATES if candidates(t, maker.data)]
    Random(f"adapt:{options.seed}").shuffle(usable)
    made: list[dict] = []
    for round_ in range(ATTEMPTS_PER_PAIR):  # later rounds top up from templates that still find new questions
        before = len(made)
        quota = max(1, math.ceil((options.pairs - len(made)) / max(1, len(usable))))
        for template in usable:
            if len(made) >= options.pairs:
                break
            made += maker.make(template, min(quota, options.pairs - len(made)), salt=f"{options.seed}:{round_}")
            if progress:
                progress(0.1 + 0.8 * len(made) / options.pairs, f"{len(made)} of {options.pairs} pairs")
        if len(made) >= options.pairs or len(made) == before:
            break
    return pd.DataFrame(made, columns=["db_id", "context", "question", "answer", "difficulty", "template"]), \
        maker.dropped


def _sandbox_check(sandbox: Sandbox):
    def check(sql: str, _template_id: str) -> str:
        result = sandbox.run(sql)
        if not result.ok:
            return "timeout" if result.timed_out else "SQL error"
        return answer_problem(result.rows, lambda probe: sandbox.run(probe).rows, sql)

    return check


def _sample_rows(sample: pd.DataFrame, db_id: str, synthesized: int, options: SynthesisOptions) -> pd.DataFrame:
    """Bundled rows so that they make `sample_share` of the training rows: never the held-out game, nor a
    sample database of the adapted one's name (adapting to the sample's bank replaces its rows)."""
    wanted = round(synthesized * options.sample_share / (1 - options.sample_share))
    pool = sample[~sample["db_id"].isin([EVAL_DB_ID, db_id])]
    return pool.sample(n=min(wanted, len(pool)), random_state=options.seed)[list(pool.columns)]
