"""The Data tab: load a source (the bundled sample, an uploaded file, a Hub data set), see what validation
kept and dropped, preview the rows and their token lengths, then split, filter and save a data set version;
optionally let a judge drop the training rows whose SQL does not answer the question (the book's GPT filter).

The loaded rows live in the browser session's `gr.State`; all the work is done by studio.data.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pandas as pd

from evaluation.judge import BOOK_MODEL
from studio.access import (
    DATA_SET,
    LOAD_HUB_DATA,
    MODEL,
    SAVE_DATA,
    SPEND_JUDGE_CREDITS,
    require_admin,
    require_offered,
)
from studio.data import (
    BOOK_DATASET,
    FRACTIONS,
    MAPPED,
    SCHEMA_CHOICES,
    PrepareOptions,
    SourceSpec,
    choose_schemas,
    list_versions,
    load_source,
    prepare_dataset,
    split_rows,
    take_fraction,
    token_stats,
    versions_table,
)
from studio.data.judge_filter import FILTER_TEMPLATE, estimate_filter, filter_version
from studio.data.tokens import BLOCK_SIZES
from studio.errors import StudioError
from studio.evaluate import EvalOptions, open_judge
from studio.models import list_model_choices, resolve_model
from studio.settings import DEFAULT_MODEL, load_settings
from studio.ui import adapt_section
from studio.ui.choices import refresh_on_focus
from studio.ui.errors import user_errors
from studio.ui.i18n import error_text, say, t
from studio.ui.llm_fields import llm_fields

PREVIEW_ROWS = 20
HISTOGRAM_BINS = 30
DEFAULT_BLOCK_SIZE = 1024
DEFAULTS = PrepareOptions()
# Headers for the tables before anything is loaded (Gradio shows columns 1, 2, 3 otherwise).
NO_COUNTS = pd.DataFrame(columns=["db_id", "total"])
NO_ROWS = pd.DataFrame(columns=list(MAPPED))
NO_TOKENS = pd.DataFrame(columns=["series"])


def build() -> None:
    """Lay out the tab's widgets and wire them; call inside a `gr.Tab`."""
    loaded = gr.State()  # LoadedData of this browser session
    stats = gr.State()  # TokenStats of the loaded rows
    gr.Markdown(t("data.intro"))
    src, shown = _source_section(), _loaded_section()
    gr.Markdown("### " + t("data.tokens"))
    tok = _token_section()
    gr.Markdown("### " + t("data.prepare"))
    prep = _prepare_section()
    gr.Markdown("### " + t("data.judge"))
    judge = _judge_section()
    gr.Markdown("### " + t("adapt.title"))
    adapt_section.build(prep.versions)

    src.kind.change(lambda kind: _shown(kind, "file", "hub"), src.kind, [src.upload, src.hub],
                    api_name=False, queue=False)
    prep.split.change(lambda kind: _shown(kind, "holdout", "random"), prep.split,
                      [prep.holdout, prep.eval_fraction], api_name=False, queue=False)
    split_inputs = [prep.split, prep.holdout, prep.eval_fraction, prep.fraction, prep.seed]
    # Schemas come last in each event's inputs: API calls written before the choice existed still fit.
    token_outputs = [stats, tok.summary, tok.histogram, tok.truncation]
    loading = src.load.click(
        load_data, [src.kind, src.upload, src.hub_id, src.hub_config, src.hub_split, *src.mapping],
        [loaded, src.report, shown.preview, shown.counts, shown.counts_plot], api_name="data_load")
    # New rows: the old token counts no longer apply, and the split preview counts the new rows.
    loading.success(lambda: (None, NO_TOKENS, None, ""), None, token_outputs, api_name=False).then(
        preview_split, [loaded, *split_inputs, prep.schemas], prep.summary, api_name=False)
    gr.on([prep.split.change, prep.holdout.submit, prep.holdout.blur, prep.eval_fraction.release,
           prep.fraction.release, prep.seed.submit, prep.schemas.change],
          preview_split, [loaded, *split_inputs, prep.schemas], prep.summary, api_name="data_split")
    tok.count.click(count_tokens, [loaded, tok.model, tok.block_size], token_outputs, api_name="data_tokens",
                    concurrency_limit=1, concurrency_id="data-tokens")
    tok.block_size.change(truncated, [stats, tok.block_size], tok.truncation, api_name="data_truncation")
    prep.save.click(save_version,
                    [loaded, *split_inputs, prep.exec_filter, prep.name, prep.schemas, prep.examples],
                    [prep.saved, prep.versions], api_name="data_save", concurrency_limit=1,
                    concurrency_id="data-save")
    prep.refresh.click(saved_versions, None, prep.versions, api_name="data_versions")
    _wire_judge(judge, prep.versions)


def _wire_judge(judge: SimpleNamespace, versions_table: gr.Dataframe) -> None:
    """Estimate first: the run button opens only once the cost of the current settings has been shown."""
    inputs = [judge.version, judge.model, judge.url, judge.key]
    refresh_on_focus(judge.version, _version_ids)
    gr.on([c.input for c in inputs], lambda: gr.update(interactive=False), None, judge.run,
          api_visibility="private", queue=False, show_progress="hidden")
    judge.estimate.click(estimate_judge_filter, inputs, [judge.report, judge.run],
                         api_name="data_judge_estimate")
    judge.run.click(run_judge_filter, inputs, [judge.report, versions_table, judge.version],
                    api_name="data_judge_filter", concurrency_limit=1, concurrency_id="data-judge")


def _source_section() -> SimpleNamespace:
    """Source picker, upload or Hub fields, column mapping, the load button; the report beside them."""
    with gr.Row():
        with gr.Column(scale=2):
            kind = gr.Radio([(t("data.source_sample"), "sample"), (t("data.source_file"), "file"),
                             (t("data.source_hub"), "hub")], value="sample", label=t("data.source"),
                            elem_id="data-source")
            upload = gr.File(label=t("data.file"), visible=False, elem_id="data-file")
            with gr.Row(visible=False) as hub:
                hub_id = gr.Textbox(BOOK_DATASET, label=t("data.hub_id"), scale=2, elem_id="data-hub-id")
                hub_config = gr.Textbox("clean", label=t("data.hub_config"), elem_id="data-hub-config")
                hub_split = gr.Textbox(label=t("data.hub_split"), elem_id="data-hub-split")
            with gr.Accordion(t("data.mapping"), open=False):
                gr.Markdown(t("data.mapping_info"))
                with gr.Row():
                    mapping = [gr.Textbox(label=c, min_width=100, elem_id=f"data-map-{c}") for c in MAPPED]
            load = gr.Button(t("data.load"), variant="primary", elem_id="data-load")
        report = gr.Markdown(elem_id="data-report")
    return SimpleNamespace(kind=kind, upload=upload, hub=hub, hub_id=hub_id, hub_config=hub_config,
                           hub_split=hub_split, mapping=mapping, load=load, report=report)


def _loaded_section() -> SimpleNamespace:
    """Rows per database × difficulty (table and bar plot) and the first rows."""
    with gr.Row():
        counts = gr.Dataframe(NO_COUNTS, label=t("data.counts"), interactive=False, scale=2,
                              elem_id="data-counts")
        counts_plot = gr.BarPlot(x="db_id", y="rows", color="difficulty", label=t("data.counts_plot"),
                                 scale=3, elem_id="data-counts-plot")
    preview = gr.Dataframe(NO_ROWS, label=t("data.preview"), interactive=False, max_chars=60, max_height=320,
                           elem_id="data-preview")
    return SimpleNamespace(counts=counts, counts_plot=counts_plot, preview=preview)


def _token_section() -> SimpleNamespace:
    """The tokenizer's model, the block size, and the token lengths: summary, truncation, histogram."""
    with gr.Row():
        with gr.Column(scale=2):
            model = gr.Dropdown(list_model_choices(), value=DEFAULT_MODEL, allow_custom_value=True,
                                label=t("data.model"), info=t("playground.model_info"), elem_id="data-model")
            block_size = gr.Dropdown(list(BLOCK_SIZES), value=DEFAULT_BLOCK_SIZE, allow_custom_value=True,
                                     label=t("data.block_size"), info=t("data.block_size_info"),
                                     elem_id="data-block-size")
            count = gr.Button(t("data.count_tokens"), elem_id="data-count-tokens")
            truncation = gr.Markdown(elem_id="data-truncation")
            summary = gr.Dataframe(NO_TOKENS, label=t("data.token_summary"), interactive=False,
                                   elem_id="data-token-summary")
        with gr.Column(scale=3):
            histogram = gr.LinePlot(x="start", y="count", color="series", x_title="tokens", y_title="rows",
                                    label=t("data.histogram"), elem_id="data-histogram")
    return SimpleNamespace(model=model, block_size=block_size, count=count, truncation=truncation,
                           summary=summary, histogram=histogram)


def _prepare_section() -> SimpleNamespace:
    """Split, fraction, seed, filter and name (the defaults of PrepareOptions), save, the saved versions."""
    with gr.Row():
        split = gr.Radio([(t("data.split_holdout"), "holdout"), (t("data.split_random"), "random")],
                         value="holdout", label=t("data.split"), elem_id="data-split")
        holdout = gr.Textbox(",".join(DEFAULTS.holdout_db_ids), label=t("data.holdout"),
                             elem_id="data-holdout")
        eval_fraction = gr.Slider(0.05, 0.5, value=0.1, step=0.05, label=t("data.eval_fraction"),
                                  visible=False, elem_id="data-eval-fraction")
        fraction = gr.Slider(FRACTIONS[0], FRACTIONS[-1], value=DEFAULTS.fraction, step=FRACTIONS[0],
                             label=t("data.fraction"), elem_id="data-fraction")
    with gr.Row():
        seed = gr.Number(DEFAULTS.seed, precision=0, label=t("data.seed"), elem_id="data-seed")
        name = gr.Textbox(label=t("data.name"), elem_id="data-name")
        exec_filter = gr.Checkbox(DEFAULTS.exec_filter, label=t("data.exec_filter"),
                                  info=t("data.exec_filter_info"), elem_id="data-exec-filter")
        schemas = gr.Radio([(t(f"data.schemas_{c}"), c) for c in SCHEMA_CHOICES], value=DEFAULTS.schemas,
                           label=t("data.schemas"), elem_id="data-schemas")
        examples = gr.Checkbox(DEFAULTS.examples, label=t("data.examples"), info=t("data.examples_info"),
                               elem_id="data-examples")
    summary = gr.Markdown(elem_id="data-split-summary")
    save = gr.Button(t("data.save"), variant="primary", elem_id="data-save")
    saved = gr.Markdown(elem_id="data-saved")
    with gr.Row(equal_height=True):
        gr.Markdown("### " + t("data.versions"))
        refresh = gr.Button(t("data.refresh"), size="sm", scale=0, elem_id="data-refresh")
    versions = gr.Dataframe(saved_versions, interactive=False, elem_id="data-versions")  # read on page load
    return SimpleNamespace(split=split, holdout=holdout, eval_fraction=eval_fraction, fraction=fraction,
                           seed=seed, name=name, exec_filter=exec_filter, schemas=schemas, examples=examples,
                           summary=summary,
                           save=save, saved=saved, refresh=refresh, versions=versions)


def _judge_section() -> SimpleNamespace:
    """A saved version, the judge (model, base URL, a key for this session only), estimate, run, report."""
    gr.Markdown(t("data.judge_info"))
    versions = _version_ids()
    with gr.Row():
        version = gr.Dropdown(versions, value=versions[0] if versions else None, allow_custom_value=True,
                              label=t("data.judge_version"), elem_id="data-judge-version")
        model, url, key = llm_fields(BOOK_MODEL, "data-judge")
    with gr.Row():
        estimate = gr.Button(t("data.judge_estimate"), elem_id="data-judge-estimate")
        run = gr.Button(t("data.judge_run"), variant="primary", interactive=False, elem_id="data-judge-run")
    report = gr.Markdown(elem_id="data-judge-report")
    return SimpleNamespace(version=version, model=model, url=url, key=key, estimate=estimate, run=run,
                           report=report)


def _version_ids() -> list[str]:
    return [version.id for version in list_versions()]


def _shown(choice: str, *options: str) -> tuple:
    """Visibility updates, one per option: only the chosen option's widgets show."""
    return tuple(gr.update(visible=choice == option) for option in options)


def _source(kind: str, upload: str | None, hub_id: str, config: str, split: str, request: gr.Request,
            profile: gr.OAuthProfile | None) -> SourceSpec:
    """The source the form names. An upload is a file Gradio received through the page (Gradio refuses an
    API caller's path outside its upload folder). On a shared deployment a Hub data set downloads: admins
    only, and the Hub field takes no server folder from anyone (the command line does)."""
    if kind == "file":
        if not upload:
            raise gr.Error(say("data_no_file", request))
        return SourceSpec("file", upload)
    if kind == "hub":
        if not (hub_id or "").strip():
            raise gr.Error(say("data_no_hub_id", request))
        require_admin(request, profile, action=LOAD_HUB_DATA)
        require_offered(hub_id, lambda: (), request, profile, kind=DATA_SET)  # a Hub id, not a folder
        return SourceSpec("hub", hub_id.strip(), (config or "").strip() or None, (split or "").strip() or None)
    return SourceSpec("sample")


def _require(loaded, request: gr.Request):
    if loaded is None:
        raise gr.Error(say("data_not_loaded", request))
    return loaded


def _options(split: str, holdout: str, eval_fraction: float, fraction: float, seed: float,
             exec_filter: bool = DEFAULTS.exec_filter, name: str = "", schemas: str = DEFAULTS.schemas,
             examples: bool = DEFAULTS.examples) -> PrepareOptions:
    return PrepareOptions(
        holdout_db_ids=tuple(d.strip() for d in holdout.split(",") if d.strip()),
        eval_fraction=float(eval_fraction) if split == "random" else None,
        fraction=float(fraction), seed=int(seed or 0), exec_filter=bool(exec_filter), name=name.strip(),
        schemas=schemas or DEFAULTS.schemas, examples=bool(examples))


@user_errors
def load_data(kind: str, upload: str | None, hub_id: str, hub_config: str, hub_split: str, db_id: str,
              context: str, question: str, answer: str, difficulty: str, request: gr.Request,
              profile: gr.OAuthProfile | None, progress=gr.Progress()):
    columns = dict(zip(MAPPED, (db_id, context, question, answer, difficulty)))
    mapping = {ours: theirs.strip() for ours, theirs in columns.items() if theirs and theirs.strip()}
    source = _source(kind, upload, hub_id, hub_config, hub_split, request, profile)  # checked before loading
    progress(0, desc=say("data_loading", request))
    data = load_source(source, mapping, progress=progress)
    table = data.counts()
    return data, _report(data.report, request), data.frame.head(PREVIEW_ROWS), table, _counts_long(table)


def _report(report, request: gr.Request) -> str:
    """The validation report as Markdown bullets: kept, dropped and why, the source, the notes."""
    r = report.to_dict()
    # Files (the only sources with an encoding) by name: an upload's path is a temporary folder.
    source = f"{Path(r['source']).name} ({r['format']}, {r['encoding']})" if r["encoding"] else r["source"]
    lines = [say("data_report_rows", request, **r), say("data_report_source", request, source=source)]
    if r["dropped"]:
        lines.append(say("data_report_reasons", request, **r["dropped_by_reason"]))
    if r["missing_by_column"]:
        lines.append(say("data_report_missing", request,
                         columns=", ".join(f"{c} {n}" for c, n in r["missing_by_column"].items())))
    notes = [say(f"data_note_{note.key}", request, **note.params) for note in report.notes]
    return "\n".join(f"- {line}" for line in [*lines, *notes])


def _counts_long(table: pd.DataFrame) -> pd.DataFrame:
    """The rows per database × difficulty (without the totals) as db_id, difficulty, rows: a bar plot's."""
    body = table[table["db_id"] != "total"].drop(columns="total")
    return body.melt(id_vars="db_id", var_name="difficulty", value_name="rows")


@user_errors
def preview_split(loaded, split: str, holdout: str, eval_fraction: float, fraction: float, seed: float,
                  schemas: str, request: gr.Request):
    """How many rows each side of the split gets (before the execution filter); a problem as a warning."""
    if loaded is None:
        return ""
    options = _options(split, holdout, eval_fraction, fraction, seed, schemas=schemas)
    try:
        options.check()
        train, evaluation = split_rows(choose_schemas(loaded, options), options)
    except StudioError as exc:  # shown inline: a toast on every slider move would nag
        return f"⚠️ {error_text(exc, request)}"
    used = len(take_fraction(train, options.fraction, options.seed))
    return say("data_split", request, train=len(train), used=used, eval=len(evaluation))


@user_errors
def count_tokens(loaded, model: str, block_size, request: gr.Request, profile: gr.OAuthProfile | None,
                 progress=gr.Progress()):
    data = _require(loaded, request)
    require_offered(model, list_model_choices, request, profile, kind=MODEL)  # the tokenizer's model
    progress(0, desc=say("loading", request))
    folder = resolve_model(model)
    progress(0.3, desc=say("data_tokenizing", request, rows=len(data.frame)))
    result = token_stats(data.frame, folder, _block(block_size, request))
    histogram = result.histogram(HISTOGRAM_BINS)
    return result, result.summary(), histogram, _truncation(result, block_size, request)


@user_errors
def truncated(stats, block_size, request: gr.Request):
    return _truncation(stats, block_size, request) if stats is not None else ""


def _block(block_size, request: gr.Request) -> int:
    try:
        block = int(block_size)
    except (TypeError, ValueError):
        block = 0
    if block <= 0:
        raise gr.Error(say("data_bad_block_size", request, value=block_size))
    return block


def _truncation(stats, block_size, request: gr.Request) -> str:
    block = _block(block_size, request)
    rows = len(stats.total)
    cut = stats.truncated_at(block)
    return say("data_truncated", request, block=block, cut=cut, rows=rows, share=cut / rows,
               longest=int(stats.total.max()))


@user_errors
def save_version(loaded, split: str, holdout: str, eval_fraction: float, fraction: float, seed: float,
                 exec_filter: bool, name: str, schemas: str, examples: bool, request: gr.Request,
                 profile: gr.OAuthProfile | None, progress=gr.Progress()):
    require_admin(request, profile, action=SAVE_DATA)  # writes into the shared studio
    data = _require(loaded, request)
    options = _options(split, holdout, eval_fraction, fraction, seed, exec_filter, name, schemas, examples)
    version = prepare_dataset(data, options, progress=progress)
    dropped = version.counts.get("exec_filter", {})
    message = say("data_saved", request, id=version.id, train=version.train_rows, eval=version.eval_rows,
                  train_dropped=sum(dropped.get("train_dropped", {}).values()),
                  eval_dropped=sum(dropped.get("eval_dropped", {}).values()), path=version.path)
    return message, versions_table()


@user_errors
def saved_versions(request: gr.Request | None = None) -> pd.DataFrame:  # None: when the page is built
    return versions_table()


def _open_judge(model: str, url: str, key: str, request: gr.Request):
    """The filter's judge; a typed key lives in this call only, else OPENAI_API_KEY is used."""
    if not (model or "").strip():
        raise gr.Error(say("data_judge_no_model", request))
    options = EvalOptions(judge_model=model.strip(), judge_base_url=(url or "").strip() or None)
    return open_judge(options, load_settings(), api_key=(key or "").strip() or None, template=FILTER_TEMPLATE)


def _chosen_version(version_id: str | None, request: gr.Request) -> str:
    if not (version_id or "").strip():
        raise gr.Error(say("data_judge_no_version", request))
    return version_id.strip()


def _dollars(cost: float | None) -> str:
    return "?" if cost is None else f"{cost:.4f}"  # None: a model without a known price


@user_errors
def estimate_judge_filter(version_id: str, model: str, url: str, key: str, request: gr.Request):
    """What the filter would ask and cost (nothing is sent); opens the run button."""
    version_id = _chosen_version(version_id, request)
    with _open_judge(model, url, key, request) as judge:
        cost = estimate_filter(version_id, judge)
    message = say("data_judge_estimate", request, version=version_id, rows=cost.items, requests=cost.requests,
                  cached=cost.cached, tokens=cost.prompt_tokens + cost.completion_tokens,
                  cost=_dollars(cost.cost_usd))
    return message, gr.update(interactive=True)


@user_errors
def run_judge_filter(version_id: str, model: str, url: str, key: str, request: gr.Request,
                     profile: gr.OAuthProfile | None, progress=gr.Progress()):
    """Judge the version's training rows and save the rest as a new version (admins only when shared)."""
    require_admin(request, profile, action=SPEND_JUDGE_CREDITS)
    version_id = _chosen_version(version_id, request)
    with _open_judge(model, url, key, request) as judge:
        version, result = filter_version(version_id, judge, progress=progress)
    message = say("data_judged", request, asked=result.asked, dropped=result.dropped, errors=result.errors,
                  cost=_dollars(result.cost_usd), id=version.id, train=version.train_rows,
                  eval=version.eval_rows)
    return message, versions_table(), gr.update(choices=_version_ids())
