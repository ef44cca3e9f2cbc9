"""Answer one question: resolve the model, build the book's prompt, generate, extract the SQL, and check
that the SQL runs against the schema (an empty SQLite database built from the DDL). `ask_database` asks about
a database instead: its schema is the DDL, and the SQL runs on it, read-only, for the first rows.

The Playground tab and `python -m studio infer` both call `ask`, so they give the same answer; the
`text2sql_answer` API endpoint calls `ask_database`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from evaluation.execution import check_against_ddl
from evaluation.sandbox import Limits, Sandbox
from evaluation.schema import schema_ddl
from studio.errors import StudioError
from studio.inference import GenerationOptions, LoadOptions, get_generator
from studio.models import resolve_adapter, resolve_model
from studio.prompts import PromptTemplate
from studio.retrieval import run_index, with_example
from studio.server_engine import ServerConfig, ServerEngine
from studio.settings import load_settings


def _model_and_adapter(model: str, adapter: str | Path | None) -> tuple[str, Path | None]:
    """The model reference and adapter folder to load. A run, by name, loads as Evaluate loads it: its
    adapter (here, or its pushed Hub copy) on the base model it was trained on, or its own folder when it
    was merged. Any other adapter (a folder or a Hub repo id) loads on `model`."""
    if not adapter:
        return model, None
    from studio.training.runs import find_run, run_model

    run = find_run(str(adapter))
    return run_model(run) if run is not None else (model, resolve_adapter(str(adapter)))


def question_prompt(ddl: str, question: str, adapter: str | Path | None = None,
                    template: PromptTemplate = PromptTemplate(), db_id: str | None = None) -> str:
    """The prompt a question is asked with: the book's, and, for a run trained on prompts with examples,
    the nearest of its own training rows after the question (as in its training: from another database
    than `db_id`, or from `db_id`'s own pairs for a run adapted to it; from any database when unknown)."""
    index = run_index(str(adapter), load_settings()) if adapter else None
    example = index.nearest(question, db_id) if index is not None else None
    return template.render(ddl, with_example(question, example))


@dataclass(frozen=True)
class Answer:
    model: str  # the model reference that answered: a run's own base model (or folder, when merged)
    sql: str
    completion: str
    prompt: str
    new_tokens: int
    runs_on_schema: bool  # the SQL executes against an empty database built from the DDL
    schema_message: str  # why not, when it does not
    load_seconds: float
    generate_seconds: float


def ask(
    model: str,
    ddl: str,
    question: str,
    adapter: str | Path | None = None,
    generation: GenerationOptions = GenerationOptions(),
    template: PromptTemplate = PromptTemplate(),
    server: ServerConfig | None = None,
    db_id: str | None = None,
) -> Answer:
    """The answer of `model` (with `adapter`), or of the model `server` serves (greedy, unconstrained: a
    server has no schema grammar). `db_id`: the database asked about, when known (it picks the example)."""
    ddl, question = ddl.strip(), question.strip()
    if not ddl:
        raise StudioError("the DDL is empty: paste the CREATE TABLE statements the question is about",
                          key="generate_no_ddl")
    if not question:
        raise StudioError("the question is empty", key="generate_no_question")
    started = time.perf_counter()
    if server is not None:
        model, prompt = server.label, question_prompt(ddl, question, None, template, db_id)
        loaded = time.perf_counter()
        completion = ServerEngine(server).generate([prompt], generation.max_new_tokens).completions[0]
    else:
        model, adapter_folder = _model_and_adapter(model, adapter)
        prompt = question_prompt(ddl, question, adapter, template, db_id)
        generator = get_generator(resolve_model(model), LoadOptions(adapter=adapter_folder))
        loaded = time.perf_counter()
        completion = generator.generate([prompt], generation, ddls=[ddl])[0]
    generated = time.perf_counter()
    runs, message = check_against_ddl(ddl, completion.sql) if completion.sql else (False, "no SQL statement")
    if completion.problem:
        message = f"{message}; {completion.problem}" if message else completion.problem
    return Answer(
        model=model,
        sql=completion.sql,
        completion=completion.text,
        prompt=prompt,
        new_tokens=completion.new_tokens,
        runs_on_schema=runs,
        schema_message=message,
        load_seconds=loaded - started,
        generate_seconds=generated - loaded,
    )


PREVIEW_ROWS = 20  # the rows an answer shows
COUNTED_ROWS = 10_000  # a larger result is not counted exactly ("more than")
QUERY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class DatabaseAnswer:
    answer: Answer
    ddl: str  # the database's schema, as the prompt showed it
    columns: tuple[str, ...]
    rows: list[tuple]  # the first PREVIEW_ROWS rows of the result
    row_count: int | None  # how many rows the result has; None: more than COUNTED_ROWS
    error: str  # why the SQL did not run on the database ("" when it did)

    def to_dict(self) -> dict:
        return {"sql": self.answer.sql, "runs_on_schema": self.answer.runs_on_schema,
                "schema_message": self.answer.schema_message, "columns": list(self.columns),
                "rows": [list(row) for row in self.rows], "row_count": self.row_count, "error": self.error,
                "model": self.answer.model}


def ask_database(model: str, database: Path, question: str, adapter: str | Path | None = None,
                 generation: GenerationOptions = GenerationOptions()) -> DatabaseAnswer:
    """Ask about a SQLite database: its schema is the prompt's DDL, and the answer runs on it, read-only."""
    ddl = schema_ddl(database)
    answer = ask(model, ddl, question, adapter, generation, db_id=database.stem)  # databases are <db_id>.sqlite
    if not answer.sql:
        return DatabaseAnswer(answer, ddl, (), [], None, answer.schema_message)
    columns, rows, count, error = run_preview(database, answer.sql)
    return DatabaseAnswer(answer, ddl, columns, rows, count, error)


def run_preview(database: Path, sql: str) -> tuple[tuple[str, ...], list[tuple], int | None, str]:
    """(columns, the first PREVIEW_ROWS rows, the row count or None past COUNTED_ROWS, error) of `sql` run
    read-only on `database` in the evaluation sandbox (a worker process with a deadline and a row cap)."""
    sandbox = Sandbox.open_file(database, Limits(timeout_s=QUERY_TIMEOUT_S, max_rows=COUNTED_ROWS),
                                mysql_functions=True)
    try:
        result = sandbox.run(sql)
        counted = result.ok
        if not result.ok and f"exceeds {COUNTED_ROWS} rows" in (result.error or ""):  # too many: the first ones
            result = sandbox.run(f"SELECT * FROM ({sql.strip().rstrip(';')}) LIMIT {PREVIEW_ROWS}")
    finally:
        sandbox.close()
    if not result.ok:
        return (), [], None, result.error or ""
    return result.columns, result.rows[:PREVIEW_ROWS], len(result.rows) if counted else None, ""
