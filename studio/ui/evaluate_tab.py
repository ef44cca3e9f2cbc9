"""The Evaluate tab: pick runs, Hub adapters and base models and an evaluation set, see the judge's cost first, evaluate
with a progress bar, then read the summary, the agreement table and the rows, base and fine-tuned side by side.

Results come from the registry, so earlier evaluations can be reopened after a reload. Logic: studio.evaluate.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pandas as pd

from studio.access import (
    ADAPTER,
    DATA_SET,
    MODEL,
    RUN_EVALUATIONS,
    require_admin,
    require_offered,
)
from studio.evaluate import (
    MAX_CANDIDATES,
    MODES,
    ROW_FILTERS,
    EvalOptions,
    base_candidate,
    estimate_judge_cost,
    eval_set_from_file,
    eval_set_from_version,
    evaluate,
    evaluation_rows,
    filter_rows,
    hub_candidate,
    list_evaluations,
    open_judge,
    run_candidate,
    server_candidate,
    side_by_side,
)
from studio.data import get_version
from studio.hub import notify_results_changed
from studio.models import list_model_choices
from studio.server_engine import APIS, MAX_CONCURRENCY, ServerConfig, server_from_fields
from studio.settings import DEFAULT_MODEL, load_settings
from studio.ui.choices import refresh_on_focus, run_names
from studio.ui.errors import user_errors
from studio.ui.i18n import say, t

# adapted_to: the database whose synthesized pairs the run trained on, when these rows ask about it (in-domain).
SUMMARY_COLUMNS = ["evaluation", "candidate", "eval_set", "adapted_to", "mode", "rows", "EX", "judge", "accuracy",
                   "agreement", "judge_calls", "cost_usd", "decoding"]
ROW_COLUMNS = ["candidate", "question", "gold_sql", "pred_sql", "match", "reason", "decided_by", "judge_verdict"]


def build() -> None:
    """Lay out the tab's widgets and wire them; call inside a `gr.Tab`."""
    gr.Markdown(t("evaluate.intro"))
    with gr.Row():
        with gr.Column(scale=1):
            runs = gr.Dropdown(run_names(), multiselect=True, label=t("evaluate.runs"), elem_id="evaluate-runs")
            bases = gr.Dropdown(list_model_choices(), value=[DEFAULT_MODEL], multiselect=True,
                                allow_custom_value=True, label=t("evaluate.bases"), elem_id="evaluate-bases")
            hubs = gr.Textbox("", label=t("evaluate.hub"), info=t("evaluate.hub_info"),
                              placeholder="owner/text2sql-lora", elem_id="evaluate-hub")
            versions = _version_ids()
            dataset = gr.Dropdown(versions, value=versions[0] if versions else None, allow_custom_value=True,
                                  label=t("evaluate.dataset"), elem_id="evaluate-dataset")
            upload = gr.File(label=t("evaluate.upload"), elem_id="evaluate-upload",
                             file_types=[".csv", ".tsv", ".json", ".jsonl", ".parquet"])
            refresh = gr.Button(t("evaluate.refresh"), size="sm", elem_id="evaluate-refresh")
        with gr.Column(scale=1):
            mode = gr.Radio(list(MODES), value="hybrid", label=t("evaluate.mode"), info=t("evaluate.mode_info"),
                            elem_id="evaluate-mode")
            server = _server_section()
            with gr.Accordion(t("evaluate.judge"), open=False):
                judge_model = gr.Textbox(label=t("evaluate.judge_model"), placeholder="gpt-4-turbo-preview")
                judge_url = gr.Textbox(label=t("evaluate.judge_url"), placeholder="https://api.openai.com/v1")
                judge_key = gr.Textbox(label=t("evaluate.judge_key"), type="password",
                                       info=t("evaluate.judge_key_info"))
            with gr.Row():
                max_new_tokens = gr.Number(128, precision=0, minimum=8, maximum=1024,
                                           label=t("evaluate.max_new_tokens"),
                                           elem_id="evaluate-max-new-tokens")
                limit = gr.Number(0, precision=0, minimum=0, label=t("evaluate.limit"), elem_id="evaluate-limit")
            constrained = gr.Checkbox(EvalOptions.constrained, label=t("evaluate.constrained"),
                                      elem_id="evaluate-constrained")
            candidate_count = gr.Slider(1, MAX_CANDIDATES, value=EvalOptions.candidates, step=1,
                                        label=t("evaluate.candidates"), info=t("evaluate.candidates_info"),
                                        elem_id="evaluate-candidates")
            with gr.Row():
                estimate = gr.Button(t("evaluate.estimate"), elem_id="evaluate-estimate")
                start = gr.Button(t("evaluate.start"), variant="primary", elem_id="evaluate-start")
            notice = gr.Markdown(elem_id="evaluate-notice")
    summary = gr.Dataframe(headers=SUMMARY_COLUMNS, label=t("evaluate.summary"), interactive=False,
                           elem_id="evaluate-summary")
    agreement = gr.Markdown(elem_id="evaluate-agreement")
    with gr.Row():
        stored = gr.Dropdown(_stored_choices(), multiselect=True, label=t("evaluate.stored"),
                             info=t("evaluate.stored_info"), elem_id="evaluate-stored")
        row_filter = gr.Radio(list(ROW_FILTERS), value="all", label=t("evaluate.filter"),
                              elem_id="evaluate-filter")
    rows = gr.Dataframe(headers=ROW_COLUMNS, label=t("evaluate.rows"), interactive=False, wrap=True,
                        elem_id="evaluate-rows")
    compare = gr.Dataframe(headers=["question", "gold_sql"], label=t("evaluate.side_by_side"), interactive=False,
                           wrap=True)

    refresh_on_focus(runs, run_names)
    refresh_on_focus(dataset, _version_ids)
    # `hubs`, `constrained` and `candidate_count` last: API callers that predate them keep working (they
    # default).
    inputs = [runs, bases, dataset, upload, mode, judge_model, judge_url, judge_key, max_new_tokens, limit,
              hubs, constrained, candidate_count, server.urls, server.model, server.key, server.api,
              server.concurrency]
    estimate.click(estimate_cost, inputs, notice, api_name="evaluate_estimate")
    start.click(run_evaluations, inputs, [notice, summary, agreement, stored], api_name="evaluate",
                concurrency_limit=1, concurrency_id="generate").then(
        show_rows, [stored, row_filter], [rows, compare], api_visibility="private")
    gr.on([stored.change, row_filter.change], show_rows, [stored, row_filter], [rows, compare],
          api_name="evaluate_rows")
    refresh.click(refresh_choices, None, [runs, dataset, stored], api_name="evaluate_refresh")


def _version_ids() -> list[str]:
    from studio.data import list_versions

    return [version.id for version in list_versions()]


def _stored_choices() -> list[tuple[str, int]]:
    stored = list_evaluations(limit=200)
    return [(f"#{r.id} {r.candidate} · {r.eval_set} · {r.mode}{'' if r.decoding == 'free' else '+' + r.decoding}",
             int(r.id)) for r in stored.itertuples()]


@user_errors
def refresh_choices(request: gr.Request):  # the request: a failure's language
    return (gr.update(choices=run_names()), gr.update(choices=_version_ids()),
            gr.update(choices=_stored_choices()))


def _hub_ids(text: str | None) -> list[str]:
    """Repo ids from the textbox: separated by commas, spaces or lines."""
    return [repo for repo in re.split(r"[\s,]+", text or "") if repo]


def _options(mode, judge_model, judge_url, max_new_tokens, limit, constrained=True,
             candidate_count=1) -> EvalOptions:
    return EvalOptions(mode=mode, max_new_tokens=int(max_new_tokens or 128), limit=int(limit) if limit else None,
                       judge_model=(judge_model or "").strip() or None,
                       judge_base_url=(judge_url or "").strip() or None, constrained=bool(constrained),
                       candidates=int(candidate_count or 1))


def _server_section() -> SimpleNamespace:
    """An OpenAI-compatible server as one more candidate: its base URLs, the model it serves, how to ask it."""
    with gr.Accordion(t("evaluate.server"), open=False):
        gr.Markdown(t("evaluate.server_info"))
        urls = gr.Textbox("", label=t("evaluate.server_urls"), placeholder="http://127.0.0.1:8000/v1",
                          info=t("evaluate.server_urls_info"), elem_id="evaluate-server-urls")
        model = gr.Textbox("", label=t("evaluate.server_model"), info=t("evaluate.server_model_info"),
                           elem_id="evaluate-server-model")
        key = gr.Textbox("", label=t("evaluate.server_key"), type="password", info=t("evaluate.judge_key_info"))
        with gr.Row():
            api = gr.Radio(list(APIS), value="auto", label=t("evaluate.server_api"),
                           info=t("evaluate.server_api_info"))
            concurrency = gr.Number(ServerConfig.concurrency, precision=0, minimum=1, maximum=MAX_CONCURRENCY,
                                    label=t("evaluate.server_concurrency"))
    return SimpleNamespace(urls=urls, model=model, key=key, api=api, concurrency=concurrency)


def _server_candidates(urls: str | None, model: str | None, key: str | None, api: str | None,
                       concurrency) -> list:
    """The server candidate the form describes (none when both the URLs and the model are empty)."""
    config = server_from_fields(urls, model, api=api, concurrency=concurrency, key=key)
    return [server_candidate(config)] if config else []


def _require_listed(runs, bases, dataset, hubs, request: gr.Request, profile: gr.OAuthProfile | None) -> None:
    """Every candidate and the data set from the lists before anything is resolved: on a shared deployment
    a Hub id downloads (admins only) and a path would read the server's disk (nobody; the CLI takes them)."""
    for run in runs or []:
        require_offered(run, run_names, request, profile, kind=ADAPTER, hub=False)
    for base in bases or []:
        require_offered(base, list_model_choices, request, profile, kind=MODEL)
    for repo in _hub_ids(hubs):
        require_offered(repo, lambda: (), request, profile, kind=ADAPTER)
    require_offered(dataset, _version_ids, request, profile, kind=DATA_SET, hub=False)


def _eval_set(dataset, upload, request):
    """The chosen version's evaluation rows; or an uploaded file's rows, run on the chosen version's databases
    where their db_id has one (your own questions about a database you synthesized pairs for), else DDL-only."""
    if upload:
        db_dir = get_version(dataset).databases_dir if dataset else None
        return eval_set_from_file(Path(upload if isinstance(upload, str) else upload.name), db_dir)
    if not dataset:
        raise gr.Error(say("no_eval_set", request))
    return eval_set_from_version(dataset)


@user_errors
def estimate_cost(runs, bases, dataset, upload, mode, judge_model, judge_url, judge_key, max_new_tokens, limit,
                  hubs, constrained, candidate_count, server_urls, server_model, server_key, server_api,
                  server_concurrency, request: gr.Request, profile: gr.OAuthProfile | None):
    _require_listed(runs, bases, dataset, hubs, request, profile)
    options = _options(mode, judge_model, judge_url, max_new_tokens, limit)
    judge = open_judge(options, load_settings(), api_key=(judge_key or "").strip() or None)
    if judge is None:
        return say("no_judge", request)
    eval_set = _eval_set(dataset, upload, request)
    with judge:
        cost = estimate_judge_cost(eval_set, options, judge)
    candidates = (len(runs or []) + len(bases or []) + len(_hub_ids(hubs))
                  + len(_server_candidates(server_urls, server_model, None, server_api, server_concurrency)))
    return say("estimate", request, requests=cost["requests"] * max(candidates, 1), cached=cost["cached"],
               tokens=cost["prompt_tokens"] + cost["completion_tokens"],
               cost="?" if cost["cost_usd"] is None else f"{cost['cost_usd'] * max(candidates, 1):.3f}")


@user_errors
def run_evaluations(runs, bases, dataset, upload, mode, judge_model, judge_url, judge_key, max_new_tokens, limit,
                    hubs, constrained, candidate_count, server_urls, server_model, server_key, server_api,
                    server_concurrency, request: gr.Request, profile: gr.OAuthProfile | None,
                    progress=gr.Progress()):
    # Minutes of the shared CPU per candidate (and judge credits), stored on the shared leaderboard: admins
    # only on a shared deployment.
    require_admin(request, profile, action=RUN_EVALUATIONS)
    settings = load_settings()
    _require_listed(runs, bases, dataset, hubs, request, profile)
    candidates = ([run_candidate(name, settings) for name in runs or []]
                  + [hub_candidate(repo, settings) for repo in _hub_ids(hubs)]
                  + [base_candidate(b) for b in bases or []]
                  + _server_candidates(server_urls, server_model, server_key, server_api, server_concurrency))
    if not candidates:
        raise gr.Error(say("no_candidates", request))
    eval_set = _eval_set(dataset, upload, request)
    options = _options(mode, judge_model, judge_url, max_new_tokens, limit, constrained, candidate_count)
    judge = open_judge(options, settings, api_key=(judge_key or "").strip() or None)
    results = []
    for number, candidate in enumerate(candidates, start=1):
        def report(stage, done, total, label=candidate.label, number=number):
            progress(done / max(total, 1), desc=f"{number}/{len(candidates)} {label}: {stage} {done}/{total}")
        results.append(evaluate(candidate, eval_set, options, judge=judge, progress=report, settings=settings))
    if judge is not None:
        judge.close()
    notify_results_changed()  # the results mirror (if any) pushes the new evaluations now
    ids = [result.id for result in results]
    return (say("evaluated", request, count=len(results)), _summary_table(results), _agreement_text(results),
            gr.update(choices=_stored_choices(), value=ids))


def _summary_table(results) -> pd.DataFrame:
    return pd.DataFrame([{
        "evaluation": r.id, "candidate": r.candidate.label, "eval_set": r.eval_set, "adapted_to": r.adapted_to or "",
        "mode": r.summary.mode, "decoding": r.decoding,
        "rows": r.summary.total, "EX": _percent(r.summary.ex_score), "judge": _percent(r.summary.judge_score),
        "accuracy": _percent(r.summary.accuracy),
        "agreement": _percent(r.summary.agreement.rate if r.summary.agreement else None),
        "judge_calls": r.summary.judge_calls, "cost_usd": r.summary.cost_usd,
    } for r in results], columns=SUMMARY_COLUMNS)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _agreement_text(results) -> str:
    """The 2×2 table of execution vs judge verdicts, where both exist."""
    parts = []
    for r in results:
        if r.summary.agreement is None or not r.summary.agreement.total:
            continue
        a = r.summary.agreement.to_dict()
        parts.append(f"**{r.candidate.label}**\n\n| | judge yes | judge no |\n|---|---|---|\n"
                     f"| execution ✅ | {a['both_yes']} | {a['ex_yes_judge_no']} |\n"
                     f"| execution ❌ | {a['ex_no_judge_yes']} | {a['both_no']} |")
    return "\n\n".join(parts)


@user_errors
def show_rows(stored, row_filter, request: gr.Request):
    if not stored:
        return pd.DataFrame(columns=ROW_COLUMNS), pd.DataFrame()
    rows = filter_rows(evaluation_rows([int(i) for i in stored]), row_filter)
    return rows[ROW_COLUMNS], side_by_side(rows)

