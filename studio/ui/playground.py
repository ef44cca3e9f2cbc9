"""The Playground tab: a DDL and a Korean question in, the generated SQL out. Guests on a shared deployment
get capped answers at a limited rate (studio.access.playground_tokens) from the listed models and runs only
(studio.access.require_offered); locally and for admins, no limits and any model, folder or Hub id."""

from __future__ import annotations

import gradio as gr

from studio.access import ADAPTER, MODEL, RateLimited, playground_tokens, require_offered
from studio.inference import GenerationOptions
from studio.settings import DEFAULT_MODEL
from studio.text2sql import ask
from studio.ui.choices import model_names, refresh_on_focus, run_names
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
    refresh_on_focus(model, model_names)
    refresh_on_focus(adapter, run_names)
    inputs = [model, adapter, ddl, question, max_new_tokens, constrained]
    outputs = [sql, status, completion, prompt]
    # One model generates at a time (CPU-bound); both triggers share the endpoint and its queue slot.
    gr.on([generate.click, question.submit], generate_sql, inputs, outputs,
          api_name="generate_sql", concurrency_limit=1, concurrency_id="generate")


@user_errors
def generate_sql(model: str, adapter: str, ddl: str, question: str, max_new_tokens: float,
                 constrained: bool, request: gr.Request, profile: gr.OAuthProfile | None, progress=gr.Progress()):
    if not (question or "").strip():
        raise gr.Error(say("empty_question", request))
    if not (ddl or "").strip():
        raise gr.Error(say("empty_ddl", request))
    _require_listed(model, adapter, request, profile)
    try:  # on the server: an API caller gets the same limits as the page
        tokens = playground_tokens(int(max_new_tokens), request, profile)
    except RateLimited as exc:
        raise gr.Error(say("pg_rate_limited", request, limit=exc.limit, seconds=exc.retry_after)) from None
    progress(0.1, desc=say("loading", request))
    answer = ask(model, ddl, question, adapter=(adapter or "").strip() or None,
                 generation=GenerationOptions(max_new_tokens=tokens, constrained=bool(constrained)))
    status = say("generated", request, tokens=answer.new_tokens,
                 seconds=answer.load_seconds + answer.generate_seconds, load=answer.load_seconds)
    if not answer.sql:
        status = say("no_sql", request)
    elif answer.runs_on_schema:
        status += "  \n" + say("runs_on_schema", request)
    else:
        status += "  \n" + say("fails_on_schema", request, message=answer.schema_message)
    if adapter and answer.model != model:
        status += "  \n" + say("pg_run_model", request, run=adapter.strip(), model=answer.model, chosen=model)
    if tokens < int(max_new_tokens):
        status += "  \n" + say("pg_capped", request, tokens=tokens)
    return answer.sql, status, answer.completion, answer.prompt


def _require_listed(model: str, adapter: str, request: gr.Request, profile: gr.OAuthProfile | None) -> None:
    """A guest picks from the lists: the boxes take any text, and so does the API, so the handler checks
    before anything is resolved (a Hub id would be downloaded). Refusals cost no rate-limit slot."""
    require_offered(model, model_names, request, profile, kind=MODEL)
    require_offered(adapter, run_names, request, profile, kind=ADAPTER)
