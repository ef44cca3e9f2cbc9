"""The Leaderboard tab: every run, base model and Hub adapter evaluated here with its scores (sort, search,
filter, choose columns), plots of score against the LoRA and data settings, overlaid loss curves, a
two-candidate comparison, CSV export, and reproducing or deleting a run, and pushing a run to the Hub
(studio.ui.hub_push). Only runs trained here are offered for loss curves, reproducing and deleting; a base
model or Hub adapter typed in is refused.

The board is read from the registry on every change, so it is always current. Logic: studio.leaderboard.
"""

from __future__ import annotations

import time

import gradio as gr
import pandas as pd

from studio import leaderboard as lb
from studio.access import DELETE_RUNS, EXPORT_MODELS, START_TRAINING, require_admin
from studio.export import FORMATS as EXPORT_FORMATS
from studio.export import export_run
from studio.settings import load_settings
from studio.training import ensure_background_worker, reproduce
from studio.ui import hub_push
from studio.ui.errors import user_errors
from studio.ui.i18n import say, t

# Headers for the comparison tables before any comparison (Gradio shows "1 2 3" for an empty table).
NO_CONFIG_DIFF = pd.DataFrame(columns=["parameter", "A", "B"])
NO_SCORE_DIFF = pd.DataFrame(columns=["eval_set", "mode", "metric", "A", "B", "diff"])
NO_DIFFERING = pd.DataFrame(columns=["question", "gold_sql", "A", "B"])
RANGE_EXAMPLES = {"lora_r": "8-32", "lora_alpha": "16-", "fraction": "0.2-0.6"}


def build() -> None:
    """Lay out the tab's widgets and wire them; call inside a `gr.Tab`."""
    gr.Markdown(t("leaderboard.intro"))
    with gr.Row():
        search = gr.Textbox("", label=t("leaderboard.search"), scale=3, elem_id="leaderboard-search")
        metric = gr.Radio(list(lb.METRICS), value="accuracy", label=t("leaderboard.metric"),
                          info=t("leaderboard.metric_info"), scale=2, elem_id="leaderboard-metric")
        best_per = gr.Dropdown([(t("leaderboard.all_rows"), ""), *lb.GROUP_COLUMNS], value="",
                               label=t("leaderboard.best_per"), info=t("leaderboard.best_per_info"), scale=2,
                               elem_id="leaderboard-best-per")
        with gr.Column(scale=0, min_width=150):
            refresh = gr.Button(t("leaderboard.refresh"), size="sm", elem_id="leaderboard-refresh")
            export = gr.Button(t("leaderboard.export"), size="sm", elem_id="leaderboard-export")
    with gr.Accordion(t("leaderboard.filters"), open=False):
        with gr.Row():
            base_models = _picker("leaderboard.base_models", "leaderboard-base-models", multiselect=True)
            datasets = _picker("leaderboard.datasets", "leaderboard-datasets", multiselect=True)
            eval_sets = _picker("leaderboard.eval_sets", "leaderboard-eval-sets", multiselect=True)
            modes = _picker("leaderboard.modes", "leaderboard-modes", multiselect=True)
        with gr.Row():
            ranges = [gr.Textbox("", label=column, placeholder=RANGE_EXAMPLES[column],
                                 info=t("leaderboard.range_info"), elem_id=f"leaderboard-range-{column}")
                      for column in lb.RANGE_COLUMNS]
            include_base = gr.Checkbox(True, label=t("leaderboard.include_base"),
                                       info=t("leaderboard.include_base_info"),
                                       elem_id="leaderboard-include-base")
    with gr.Accordion(t("leaderboard.columns"), open=False):
        columns = gr.CheckboxGroup(list(lb.COLUMNS), value=list(lb.DEFAULT_COLUMNS), show_label=False,
                                   elem_id="leaderboard-columns")
    count = gr.Markdown(elem_id="leaderboard-count")
    csv = gr.File(label=t("leaderboard.csv"), visible=False, elem_id="leaderboard-csv")
    table = gr.Dataframe(interactive=False, pinned_columns=1, max_height=520, buttons=["fullscreen", "copy"],
                         label=t("leaderboard.table"), show_label=False, elem_id="leaderboard-table")

    gr.Markdown("### " + t("leaderboard.plots"))
    with gr.Row():
        plots = [gr.ScatterPlot(x=p, y="score", color="base_model", y_lim=[0, 1],
                                tooltip=["run", "eval_set", "mode", p, "score"],
                                label=t(f"leaderboard.plot.{p}"), elem_id=f"leaderboard-plot-{p}")
                 for p in lb.PLOT_PARAMETERS]
    with gr.Row():
        loss_runs = _picker("leaderboard.loss_runs", "leaderboard-loss-runs", multiselect=True, scale=1)
        loss = gr.LinePlot(x="step", y="loss", color="run", label=t("leaderboard.loss"), scale=2,
                           elem_id="leaderboard-loss")

    gr.Markdown("### " + t("leaderboard.compare"))
    with gr.Row():
        first = _picker("leaderboard.compare_a", "leaderboard-compare-a", scale=2)
        second = _picker("leaderboard.compare_b", "leaderboard-compare-b", scale=2)
        compare = gr.Button(t("leaderboard.compare_button"), variant="primary", scale=1,
                            elem_id="leaderboard-compare")
    compared = gr.Markdown(elem_id="leaderboard-compared")
    with gr.Row():
        config_diff = gr.Dataframe(NO_CONFIG_DIFF, label=t("leaderboard.config_diff"), interactive=False,
                                   elem_id="leaderboard-config-diff")
        score_diff = gr.Dataframe(NO_SCORE_DIFF, label=t("leaderboard.score_diff"), interactive=False,
                                  scale=2, elem_id="leaderboard-score-diff")
    differing = gr.Dataframe(NO_DIFFERING, label=t("leaderboard.differing_rows"), interactive=False,
                             wrap=True, max_chars=120, max_height=400, elem_id="leaderboard-differing")

    gr.Markdown("### " + t("leaderboard.manage"))
    with gr.Row():
        run = _picker("leaderboard.run", "leaderboard-run", scale=2)
        again = gr.Button(t("leaderboard.reproduce"), scale=1, elem_id="leaderboard-reproduce")
        with gr.Column(scale=1):
            export_format = gr.Dropdown(list(EXPORT_FORMATS), value="gguf", label=t("leaderboard.export_format"),
                                        info=t("leaderboard.export_format_info"), elem_id="leaderboard-export-format")
            export_model = gr.Button(t("leaderboard.export_model"), size="sm", elem_id="leaderboard-export-model")
        with gr.Column(scale=1):
            confirm = gr.Checkbox(False, label=t("leaderboard.confirm"), elem_id="leaderboard-confirm")
            delete = gr.Button(t("leaderboard.delete"), variant="stop", size="sm",
                               elem_id="leaderboard-delete")
    status = gr.Markdown(elem_id="leaderboard-status")
    hub_push.build()

    filters = [search, metric, best_per, base_models, datasets, eval_sets, modes, include_base, *ranges]
    pickers = [base_models, datasets, eval_sets, modes, loss_runs, first, second, run]
    redraws, loss_redraw = gr.State([]), gr.State({})  # the plots' second step (see `redraw`)
    board_inputs, board_outputs = [*filters, columns], [count, table, *plots, redraws]

    def show(event):
        """Chain the board (and its plots' redraw) after `event`."""
        return event.then(show_board, board_inputs, board_outputs, api_name=False).then(
            redraw, redraws, plots, api_name=False)

    gr.on(None, show_board, board_inputs, board_outputs, api_name="leaderboard", trigger_mode="always_last",
          show_progress="hidden").then(redraw, redraws, plots, api_name=False)  # on load and filter changes
    gr.on(None, refresh_pickers, None, pickers, api_name="leaderboard_choices")  # on page load
    show(refresh.click(refresh_pickers, None, pickers, api_name=False))
    export.click(export_csv, filters, csv, api_name="leaderboard_export")
    loss_runs.change(loss_curves, loss_runs, [loss, loss_redraw], api_name="leaderboard_loss").then(
        redraw, loss_redraw, loss, api_name=False)
    compare.click(compare_runs, [first, second], [compared, config_diff, score_diff, differing],
                  api_name="leaderboard_compare")
    again.click(reproduce_run, run, status, api_name="leaderboard_reproduce")
    export_model.click(export_model_files, [run, export_format], status, api_name="leaderboard_export_model",
                       concurrency_limit=1, concurrency_id="export")
    show(delete.click(delete_run, [run, confirm], [status, confirm], api_name="leaderboard_delete").success(
        refresh_pickers, None, pickers, api_name=False))


def _picker(label: str, elem_id: str, multiselect: bool = False, **layout) -> gr.Dropdown:
    """A dropdown whose choices come from the registry on page load (refresh_pickers); a typed name works
    too, so a run made since is never refused."""
    return gr.Dropdown([], multiselect=multiselect, allow_custom_value=True, label=t(label), min_width=180,
                       elem_id=elem_id, **layout)


def _query(search, metric, best_per, base_models, datasets, eval_sets, modes, include_base,
           *ranges) -> lb.BoardQuery:
    bounds = {column: lb.parse_range(text) for column, text in zip(lb.RANGE_COLUMNS, ranges)}
    return lb.BoardQuery(search=search or "", base_models=base_models or (), datasets=datasets or (),
                         eval_sets=eval_sets or (), modes=modes or (), include_base=bool(include_base),
                         ranges={c: bound for c, bound in bounds.items() if bound != (None, None)},
                         best_per=best_per or None, metric=metric or "accuracy")


@user_errors
def show_board(search, metric, best_per, base_models, datasets, eval_sets, modes, include_base, lora_r,
               lora_alpha, fraction, columns, request: gr.Request):
    """The count line, the board's chosen columns, the three score-vs-parameter plots, and their redraw."""
    query = _query(search, metric, best_per, base_models, datasets, eval_sets, modes, include_base, lora_r,
                   lora_alpha, fraction)
    board = lb.load_board()
    rows = lb.filter_board(board, query)
    count = say("lb_count", request, shown=len(rows), total=len(board))
    plots = [lb.parameter_plot(rows, p, query.metric) for p in lb.PLOT_PARAMETERS]
    redraws = [{"caption": _series(plot, "base_model"), "x_lim": _padded(plot[p])}
               for p, plot in zip(lb.PLOT_PARAMETERS, plots)]
    return count, lb.view(rows, columns or lb.DEFAULT_COLUMNS), *plots, redraws


def _series(plot: pd.DataFrame, column: str) -> str:
    return " · ".join(sorted(plot[column].unique()))


def _padded(values: pd.Series) -> list[float] | None:
    """An x range with room for the markers at both ends."""
    if values.empty:
        return None
    low, high = float(values.min()), float(values.max())
    room = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    return [low - room, high + room]


def redraw(props: list[dict] | dict):
    """Set each plot's caption (its series) and x range in a second step. Gradio 6.31's native plots keep
    the colours of their first data: a new series in a later value is left out until another property
    changes, and the captions change exactly when the colours must."""
    if isinstance(props, dict):
        return gr.update(**props)
    return [gr.update(**one) for one in props]


@user_errors
def refresh_pickers(request: gr.Request):
    """Fresh choices for the filters and the run pickers (after training, evaluating or deleting)."""
    found = lb.choices(lb.load_board())
    names = ("base_models", "datasets", "eval_sets", "modes", "runs", "candidates", "candidates", "runs")
    return tuple(gr.update(choices=found[name]) for name in names)


@user_errors
def export_csv(request: gr.Request, *filters):
    """The filtered rows, every column, as a CSV file to download (the filters as /leaderboard takes them).
    The request (an error's language) comes first: Gradio places it by position, which *filters would
    swallow."""
    rows = lb.leaderboard(_query(*filters))
    path = load_settings().home / "cache" / "exports" / f"leaderboard-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    return gr.File(str(lb.export_csv(rows, path)), visible=True)


def _require_local_run(name: str, request: gr.Request) -> None:
    """Only a run trained here has a job, a training log and folders; the pickers offer only runs, but a
    typed name or an API call can still ask for a base model or a Hub adapter."""
    kind = lb.candidate_kind(name)
    if kind == "base":
        raise gr.Error(say("lb_base_not_a_run", request, name=name))
    if kind == "hub":
        repo, commit = lb.hub_source(name)
        raise gr.Error(say("lb_hub_not_a_run", request, name=name, repo=repo, commit=commit))


@user_errors
def loss_curves(runs, request: gr.Request):
    """The chosen runs' loss curves, and their legend."""
    for name in runs or []:
        _require_local_run(name, request)
    curves = lb.loss_curves(runs or [])
    return curves, {"caption": _series(curves, "run")}


@user_errors
def compare_runs(first: str, second: str, request: gr.Request):
    if not first or not second:
        raise gr.Error(say("lb_pick_two", request))
    result = lb.compare(first, second)
    if result.key is None:
        summary = say("lb_compare_none", request)
    else:
        eval_set, mode = result.key
        summary = say("lb_compared", request, eval_set=eval_set, mode=mode, count=len(result.rows))
    return summary, result.config, result.scores, result.rows


@user_errors
def reproduce_run(name: str, request: gr.Request, profile: gr.OAuthProfile | None):
    """Queue the run's exact configuration on its data set again (what `train --from-run` does)."""
    require_admin(request, profile, action=START_TRAINING)
    if not name:
        raise gr.Error(say("lb_pick_run", request))
    _require_local_run(name, request)
    job = reproduce(name)[0]
    ensure_background_worker()
    dataset = job.dataset_version or job.dataset_ref
    return say("lb_reproduced", request, run=name, job=job.name, dataset=dataset)


@user_errors
def export_model_files(name: str, format: str, request: gr.Request, profile: gr.OAuthProfile | None,
                       progress=gr.Progress()):
    """The run as a merged folder, a Q8_0 GGUF, or a GGUF with its Ollama Modelfile (`studio export`)."""
    require_admin(request, profile, action=EXPORT_MODELS)  # minutes of CPU and hundreds of MB on the server
    if not name:
        raise gr.Error(say("lb_pick_run", request))
    _require_local_run(name, request)
    done = export_run(name, format, progress=lambda stage, i, n: progress(i / max(n, 1), desc=f"{stage} {i}/{n}"))
    files = "  \n".join(f"`{f['path']}` ({f['bytes'] / 1e6:.0f} MB)" for f in done.to_dict()["files"])
    return say(f"lb_exported_{format}", request, run=name, files=files, seconds=round(done.seconds),
               first=done.files[0])


@user_errors
def delete_run(name: str, confirmed: bool, request: gr.Request, profile: gr.OAuthProfile | None):
    """First click: what would go, and a request to confirm. With the box ticked: delete."""
    require_admin(request, profile, action=DELETE_RUNS)
    if not name:
        raise gr.Error(say("lb_pick_run", request))
    _require_local_run(name, request)
    if not confirmed:
        plan = lb.plan_deletion(name).describe().replace("\n", "  \n")
        return say("lb_confirm_delete", request, plan=plan), False
    done = lb.delete_run(name)
    message = say("lb_deleted", request, run=done.run, evaluations=done.evaluations, folders=len(done.paths))
    return message, False
