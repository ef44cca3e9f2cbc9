"""The Playground tab: a DDL and a Korean question in, the generated SQL out; or a prepared database and a
question in, the SQL and the first rows of its result out (also the `text2sql_answer` API endpoint). Guests on
a shared deployment get capped answers at a limited rate (studio.access.playground_tokens) from the listed
models, runs and databases only (studio.access.require_offered); locally and for admins, no limits and any
model, folder or Hub id."""

from __future__ import annotations

import json

import gradio as gr
import pandas as pd

from studio.access import (
    ADAPTER,
    DATABASE,
    MODEL,
    USE_SERVERS,
    RateLimited,
    playground_tokens,
    require_admin,
    require_offered,
)
from studio.data.versions import listed_databases
from studio.errors import StudioError
from studio.inference import GenerationOptions
from studio.server_engine import ServerConfig, server_from_fields
from studio.settings import DEFAULT_MODEL
from studio.text2sql import ask, ask_database
from studio.ui.choices import database_names, model_names, refresh_on_focus, run_names
from studio.ui.errors import user_errors
from studio.ui.examples import GAME_DDL, QUESTIONS
from studio.ui.i18n import say, t


def build() -> None:
    """Lay out the tab's widgets and wire them; call inside a `gr.Tab`."""
    gr.Markdown(t("playground.intro"))
    with gr.Row():
        with gr.Column(scale=1):
            model = gr.Dropdown(model_names(), value=DEFAULT_MODEL, allow_custom_value=True,
                                label=t("playground.model"), info=t("playground.model_info"),
                                elem_id="playground-model")
            adapter = gr.Dropdown(run_names(), value=None, allow_custom_value=True,
                                  label=t("playground.adapter"), info=t("playground.adapter_info"),
                                  elem_id="playground-adapter")
            max_new_tokens = gr.Slider(16, 512, value=GenerationOptions.max_new_tokens, step=16,
                                       label=t("playground.max_new_tokens"), elem_id="playground-max-new-tokens")
            constrained = gr.Checkbox(GenerationOptions.constrained, label=t("playground.constrained"),
                                      elem_id="playground-constrained")
            ddl = gr.Code(GAME_DDL, language="sql", label=t("playground.ddl"), lines=14,
                          interactive=True, elem_id="playground-ddl")
        with gr.Column(scale=1):
            question = gr.Textbox(QUESTIONS[0], label=t("playground.question"), lines=2,
                                  elem_id="playground-question")
            gr.Examples([[q] for q in QUESTIONS], inputs=[question], label=t("playground.examples"))
            generate = gr.Button(t("playground.generate"), variant="primary", elem_id="playground-generate")
            sql = gr.Code(language="sql", label=t("playground.sql"), interactive=False, elem_id="playground-sql")
            status = gr.Markdown(elem_id="playground-status")
            with gr.Accordion(t("playground.details"), open=False):
                completion = gr.Textbox(label=t("playground.completion"), lines=4, interactive=False,
                                        elem_id="playground-completion")
                prompt = gr.Textbox(label=t("playground.prompt"), lines=8, interactive=False,
                                    elem_id="playground-prompt")
            with gr.Accordion(t("playground.server"), open=False):
                server_url = gr.Textbox("", label=t("evaluate.server_urls"), placeholder="http://127.0.0.1:8000/v1",
                                        elem_id="playground-server-url")
                server_model = gr.Textbox("", label=t("evaluate.server_model"),
                                          info=t("evaluate.server_model_info"), elem_id="playground-server-model")
            with gr.Accordion(t("playground.database_section"), open=False):
                database = gr.Dropdown(database_names(), value=None, label=t("playground.database"),
                                       info=t("playground.database_info"), elem_id="playground-database")
                ask_db = gr.Button(t("playground.ask_database"), elem_id="playground-ask-database")
                result = gr.Dataframe(label=t("playground.result"), interactive=False, max_height=320,
                                      elem_id="playground-result")
    refresh_on_focus(model, model_names)
    refresh_on_focus(adapter, run_names)
    refresh_on_focus(database, database_names)
    inputs = [model, adapter, ddl, question, max_new_tokens, constrained, server_url, server_model]
    outputs = [sql, status, completion, prompt]
    # One model generates at a time (CPU-bound); both triggers share the endpoint and its queue slot.
    gr.on([generate.click, question.submit], generate_sql, inputs, outputs,
          api_name="generate_sql", concurrency_limit=1, concurrency_id="generate")
    ask_db.click(answer_on_database, [model, adapter, database, question, max_new_tokens, constrained],
                 [sql, status, result, ddl], api_name="playground_ask_database", concurrency_limit=1,
                 concurrency_id="generate")
    gr.api(text2sql_answer, api_name="text2sql_answer", concurrency_limit=1, concurrency_id="generate")


@user_errors
def generate_sql(model: str, adapter: str, ddl: str, question: str, max_new_tokens: float,
                 constrained: bool, server_url: str, server_model: str, request: gr.Request,
                 profile: gr.OAuthProfile | None, progress=gr.Progress()):
    if not (question or "").strip():
        raise gr.Error(say("empty_question", request))
    if not (ddl or "").strip():
        raise gr.Error(say("empty_ddl", request))
    server = _server(server_url, server_model, request, profile)
    _require_listed(model, adapter, request, profile)
    tokens = _capped_tokens(max_new_tokens, request, profile)
    progress(0.1, desc=say("loading", request))
    answer = ask(model, ddl, question, adapter=(adapter or "").strip() or None,
                 generation=GenerationOptions(max_new_tokens=tokens, constrained=bool(constrained)), server=server)
    status = say("generated", request, tokens=answer.new_tokens,
                 seconds=answer.load_seconds + answer.generate_seconds, load=answer.load_seconds)
    if not answer.sql:
        status = say("no_sql", request)
    elif answer.runs_on_schema:
        status += "  \n" + say("runs_on_schema", request)
    else:
        status += "  \n" + say("fails_on_schema", request, message=answer.schema_message)
    if adapter and answer.model != model and server is None:
        status += "  \n" + say("pg_run_model", request, run=adapter.strip(), model=answer.model, chosen=model)
    if tokens < int(max_new_tokens):
        status += "  \n" + say("pg_capped", request, tokens=tokens)
    return answer.sql, status, answer.completion, answer.prompt


def _server(url: str | None, model: str | None, request: gr.Request,
            profile: gr.OAuthProfile | None) -> ServerConfig | None:
    """The OpenAI-compatible server the answer comes from, if the fields name one: a URL the server connects
    to, so admins only on a shared deployment."""
    if not (url or "").strip() and not (model or "").strip():
        return None
    require_admin(request, profile, action=USE_SERVERS)  # before the URL is even read
    return server_from_fields(url, model, concurrency=1)


def _capped_tokens(max_new_tokens: float, request: gr.Request, profile: gr.OAuthProfile | None) -> int:
    """The answer's token budget, and a rate-limit slot taken (on the server: an API caller gets the same limits
    as the page)."""
    try:
        return playground_tokens(int(max_new_tokens), request, profile)
    except RateLimited as exc:
        raise gr.Error(say("pg_rate_limited", request, limit=exc.limit, seconds=exc.retry_after)) from None


def _require_listed(model: str, adapter: str, request: gr.Request, profile: gr.OAuthProfile | None) -> None:
    """A guest picks from the lists: the boxes take any text, and so does the API, so the handler checks
    before anything is resolved (a Hub id would be downloaded). Refusals cost no rate-limit slot."""
    require_offered(model, model_names, request, profile, kind=MODEL)
    require_offered(adapter, run_names, request, profile, kind=ADAPTER)


@user_errors
def answer_on_database(model: str, adapter: str, database: str, question: str, max_new_tokens: float,
                       constrained: bool, request: gr.Request, profile: gr.OAuthProfile | None,
                       progress=gr.Progress()):
    """The question asked about the chosen database: its SQL, whether it ran, the first rows, its schema."""
    progress(0.1, desc=say("loading", request))
    done, tokens = _database_answer(model, adapter, database, question, max_new_tokens, constrained, request,
                                    profile)
    if not done.answer.sql:
        status = say("no_sql", request)
    elif done.error:
        status = say("db_failed", request, message=done.error)
    else:
        status = say("db_rows", request, count=done.row_count if done.row_count is not None else "10,000+",
                     shown=len(done.rows))
    if tokens < int(max_new_tokens):
        status += "  \n" + say("pg_capped", request, tokens=tokens)
    return done.answer.sql, status, pd.DataFrame(done.rows, columns=list(done.columns)), done.ddl


@user_errors
def text2sql_answer(database: str, question: str, model: str = DEFAULT_MODEL, adapter: str = "",
                    max_new_tokens: int = 128, request: gr.Request = None,
                    profile: gr.OAuthProfile | None = None) -> str:
    """Write SQL for a Korean question about one of the studio's databases, check it, and run it read-only.

    Args:
        database: a database as the studio lists it, "<data set version>/<db_id>" (see the Playground).
        question: the question, in Korean or English.
        model: the base model (a built-in name, or a prepared model folder's name).
        adapter: a run trained here (optional): answers with its adapter on its own base model.
        max_new_tokens: the most tokens the answer may take (guests on a shared deployment get fewer).

    Returns:
        A JSON object: sql, runs_on_schema and schema_message (the check against the schema), columns and the
        first rows of the result, row_count (null past 10,000), error (why it did not run), and the model.
    """
    done = _database_answer(model, adapter, database, question, max_new_tokens, True, request, profile)[0]
    return json.dumps(done.to_dict(), ensure_ascii=False, default=str)  # JSON text: MCP clients read it as is


def _database_answer(model, adapter, database, question, max_new_tokens, constrained, request, profile):
    """Checks first (what a guest may name, the rate, the cap), then the answer on the database. A database is
    named as the studio lists it, for everyone: no name is ever taken as a path."""
    _require_listed(model, adapter, request, profile)
    listed = listed_databases()  # read once: it lists every version's folder
    require_offered(database, lambda: listed, request, profile, kind=DATABASE, hub=False)
    if not (question or "").strip():
        raise gr.Error(say("empty_question", request))
    if not (database or "").strip():
        raise gr.Error(say("db_none", request))
    path = listed.get(database.strip())
    if path is None:
        raise StudioError("{name!r} is not one of the studio's databases: pick one as the Playground lists it "
                          "(<data set version>/<db_id>)", key="db_unknown", name=database[:200])
    tokens = _capped_tokens(max_new_tokens, request, profile)
    done = ask_database(model or DEFAULT_MODEL, path, question, adapter=(adapter or "").strip() or None,
                        generation=GenerationOptions(max_new_tokens=tokens, constrained=bool(constrained)))
    return done, tokens
