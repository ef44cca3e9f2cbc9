"""The Data tab's section for adapting to the user's own database (issue #19): upload a SQLite file (and,
optionally, a glossary CSV or commented DDL), read its schema into an editable glossary table (Korean words,
roles, units), then synthesize checked question/SQL pairs saved as a data set version.

The work is done by studio.data.adapt; this module only wires widgets to it.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from studio.access import SAVE_DATA, SPEND_JUDGE_CREDITS, require_admin
from studio.data import versions_table
from studio.data.adapt.glossary import COLUMNS, Glossary, glossary_from_rows, read_glossary
from studio.data.adapt.propose import estimate_proposal, propose_glossary
from studio.data.adapt.schema import read_database
from studio.data.adapt.synthesize import SynthesisOptions, draft_glossary, save_synthesis, synthesize
from studio.ui.errors import user_errors
from studio.ui.i18n import adapt_phrases, say, t
from studio.ui.llm_fields import llm_fields

PREVIEW_PAIRS = 20
NO_GLOSSARY = pd.DataFrame(columns=list(COLUMNS))
NO_PAIRS = pd.DataFrame(columns=["question", "answer", "difficulty"])
DEFAULTS = SynthesisOptions()
PROPOSE_MODEL = "gpt-4o-mini"


def build(versions: gr.Dataframe) -> None:
    """Lay out and wire the section; `versions` is the tab's table of saved versions (refreshed on save)."""
    gr.Markdown(t("adapt.info"))
    with gr.Row():
        database = gr.File(label=t("adapt.db"), file_types=[".sqlite", ".sqlite3", ".db"], elem_id="adapt-db")
        words = gr.File(label=t("adapt.glossary_file"), file_types=[".csv", ".sql"], elem_id="adapt-words")
    read = gr.Button(t("adapt.read"), elem_id="adapt-read")
    with gr.Accordion(t("adapt.propose"), open=False):
        gr.Markdown(t("adapt.propose_info"))
        with gr.Row():
            model, url, key = llm_fields(PROPOSE_MODEL, "adapt-propose")
        with gr.Row():
            estimate = gr.Button(t("data.judge_estimate"), elem_id="adapt-propose-estimate")
            propose = gr.Button(t("adapt.propose_run"), interactive=False, elem_id="adapt-propose-run")
    glossary = gr.Dataframe(NO_GLOSSARY, label=t("adapt.glossary"), interactive=True, column_count=len(COLUMNS),
                            max_height=360, elem_id="adapt-glossary")
    with gr.Row():
        pairs = gr.Number(DEFAULTS.pairs, precision=0, label=t("adapt.pairs"), elem_id="adapt-pairs")
        seed = gr.Number(DEFAULTS.seed, precision=0, label=t("data.seed"), elem_id="adapt-seed")
        name = gr.Textbox(label=t("adapt.name"), info=t("adapt.name_info"), elem_id="adapt-name")
        share = gr.Slider(0.0, 0.9, value=0.3, step=0.1, label=t("adapt.sample_share"),
                          info=t("adapt.sample_share_info"), elem_id="adapt-share")
    run = gr.Button(t("adapt.run"), variant="primary", elem_id="adapt-run")
    report = gr.Markdown(elem_id="adapt-report")
    preview = gr.Dataframe(NO_PAIRS, label=t("adapt.preview"), interactive=False, max_chars=80,
                           elem_id="adapt-preview")
    read.click(read_schema, [database, words], [glossary, report], api_name="data_adapt_schema")
    gr.on([database.change, model.input, url.input], lambda: gr.update(interactive=False), None, propose,
          api_visibility="private", queue=False, show_progress="hidden")  # a new estimate first
    estimate.click(estimate_words, [database, model], [report, propose], api_name="data_adapt_propose_estimate")
    propose.click(propose_words, [database, glossary, model, url, key], [glossary, report],
                  api_name="data_adapt_propose", concurrency_limit=1, concurrency_id="data-judge")
    run.click(synthesize_version, [database, glossary, pairs, seed, name, share], [report, preview, versions],
              api_name="data_adapt_synthesize", concurrency_limit=1, concurrency_id="data-save")


def _database(upload: str | None, request: gr.Request) -> str:
    """The uploaded database (Gradio refuses an API caller's path outside its upload folder)."""
    if not upload:
        raise gr.Error(say("adapt_no_db", request))
    return upload


@user_errors
def read_schema(upload: str | None, words: str | None, request: gr.Request):
    """The database's tables and columns as an editable glossary: known words, inferred roles and units."""
    draft = draft_glossary(_database(upload, request), read_glossary(words) if words else Glossary())
    tables = [term for term in draft.terms if not term.column]
    missing = [term for term in draft.terms if not term.korean]
    message = say("adapt_read", request, tables=len(tables), columns=len(draft.terms) - len(tables),
                  missing=len(missing))
    return pd.DataFrame(draft.rows(), columns=list(COLUMNS)), message


@user_errors
def estimate_words(upload: str | None, model: str, request: gr.Request):
    """What asking the model for the missing words would cost (nothing is sent); opens the propose button."""
    cost = estimate_proposal(read_database(_database(upload, request)), _model(model, request))
    message = say("adapt_propose_estimate", request, tokens=cost.prompt_tokens + cost.completion_tokens,
                  cost="?" if cost.cost_usd is None else f"{cost.cost_usd:.4f}")
    return message, gr.update(interactive=True)


@user_errors
def propose_words(upload: str | None, table: pd.DataFrame | None, model: str, url: str, key: str,
                  request: gr.Request, profile: gr.OAuthProfile | None):
    """The model's words fill what the table leaves empty (admins only when shared: it spends credits); the
    typed key lives in this call only."""
    require_admin(request, profile, action=SPEND_JUDGE_CREDITS)
    database = _database(upload, request)
    proposal = propose_glossary(read_database(database), _model(model, request), base_url=(url or "").strip() or None,
                                api_key=(key or "").strip() or None)
    draft = draft_glossary(database, glossary_from_rows(_rows(table)), proposal.glossary)
    message = say("adapt_proposed", request, words=len(proposal.glossary.terms), dropped=proposal.dropped,
                  cost="?" if proposal.cost_usd is None else f"{proposal.cost_usd:.4f}")
    return pd.DataFrame(draft.rows(), columns=list(COLUMNS)), message


def _model(model: str, request: gr.Request) -> str:
    if not (model or "").strip():
        raise gr.Error(say("data_judge_no_model", request))
    return model.strip()


def _rows(table) -> list:
    return table.values.tolist() if isinstance(table, pd.DataFrame) else []


@user_errors
def synthesize_version(upload: str | None, table: pd.DataFrame | None, pairs, seed, name: str, share: float,
                       request: gr.Request, profile: gr.OAuthProfile | None, progress=gr.Progress()):
    """Pairs for the database worded by the table, saved as a version (admins only when shared)."""
    require_admin(request, profile, action=SAVE_DATA)  # writes into the shared studio
    database = _database(upload, request)
    rows = _rows(table)
    options = SynthesisOptions(pairs=int(pairs or 0), seed=int(seed or 0), name=(name or "").strip(),
                               sample_share=float(share or 0))
    synthesis = synthesize(database, glossary_from_rows(rows), options, progress=progress)
    version = save_synthesis(synthesis, options, progress=progress)
    dropped = ", ".join(f"{reason} {n}" for reason, n in synthesis.dropped.most_common()) or "-"
    message = say("adapt_saved", request, id=version.id, db_id=synthesis.db_id, pairs=len(synthesis.frame),
                  train=version.train_rows, eval=version.eval_rows, dropped=adapt_phrases(dropped, request),
                  left_out=adapt_phrases("; ".join(synthesis.schema.left_out) or "-", request))
    shown = synthesis.frame[list(NO_PAIRS.columns)].head(PREVIEW_PAIRS)
    return message, shown, versions_table()
