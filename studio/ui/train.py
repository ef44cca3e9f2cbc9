"""The Train tab: a configuration form (presets, the book's values shown), a YAML preview, the queue, and the
live progress of one job (progress bar, loss curve, log tail).

Everything shown comes from the registry and the job's log on each timer tick, not from the browser
session, so a reloaded page re-attaches to running jobs. Logic lives in studio.training.
"""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr
import pandas as pd

from studio.access import (
    CANCEL_TRAINING,
    DATA_SET,
    MODEL,
    PRESET,
    START_TRAINING,
    require_admin,
    require_offered,
)
from studio.errors import StudioError
from studio.models import list_model_choices, resolve_model
from studio.settings import load_settings
from studio.training import cancel, ensure_background_worker, list_presets, load_sweep, submit
from studio.training.config import (
    BACKENDS,
    LOCAL_BACKEND,
    MIXED_PRECISIONS,
    OPTIMIZERS,
    QUANTIZATIONS,
    SCHEDULERS,
    TrainingConfig,
)
from studio.training.data_input import list_dataset_choices, resolve_training_data
from studio.training.environment import AutoTrainEnv, autotrain_env
from studio.training.jobs import RUNNING, SUCCEEDED, Job
from studio.training.monitor import clock, current_job, job_row, job_view, jobs_overview, log_tail
from studio.training.presets import expand, grid_text
from studio.training.spaces_backend import hardware_flavor, is_space_backend
from studio.training.estimate import estimate_jobs
from studio.training.truncation import (
    MAX_CUT_SHARE,
    WHOLE_PERCENT,
    BlockSizeNote,
    TokenLengths,
    training_lengths,
)
from studio.ui.choices import model_names, refresh_on_focus
from studio.ui.errors import user_errors
from studio.ui.i18n import error_text, say, t, translated

DEFAULT_PRESET = "cpu-full.yml"
BOOK_PRESET = "book-qlora-gpu.yml"
# The form's parameters, in display order (base_model has its own picker). Where the job trains (backend,
# hub_username) and then the newer max_train_rows and peft come last, so API calls that pass the form by position
# from before they existed still line up.
FORM_FIELDS = (
    "lr", "epochs", "batch_size", "gradient_accumulation", "block_size", "warmup_ratio",
    "lora_r", "lora_alpha", "lora_dropout", "target_modules", "weight_decay", "max_grad_norm",
    "quantization", "mixed_precision", "optimizer", "scheduler", "seed", "logging_steps",
    "data_fraction", "merge_adapter", "gradient_checkpointing", "project_name", "backend", "hub_username",
    "max_train_rows", "peft",
)
CHOICES = {"quantization": QUANTIZATIONS, "mixed_precision": MIXED_PRECISIONS, "optimizer": OPTIMIZERS,
           "scheduler": SCHEDULERS, "backend": BACKENDS}
QUEUE_COLUMNS = ["id", "name", "status", "base_model", "dataset", "rows", "lora", "created", "duration",
                 "run", "error"]
REFRESH_S = 2.0


def build() -> None:
    """Lay out the tab's widgets and wire them; call inside a `gr.Tab`."""
    gr.Markdown(t("train.intro"))
    environment = gr.Markdown(elem_id="train-env")
    sweep = load_sweep(DEFAULT_PRESET)
    book = load_sweep(BOOK_PRESET).base
    with gr.Row():
        with gr.Column(scale=1):
            preset = gr.Dropdown(list_presets(), value=DEFAULT_PRESET, label=t("train.preset"),
                                 info=t("train.preset_info"), elem_id="train-preset")
            datasets = list_dataset_choices(load_settings())
            dataset = gr.Dropdown(datasets, value=datasets[0] if datasets else None, allow_custom_value=True,
                                  label=t("train.dataset"), info=t("train.dataset_info"),
                                  elem_id="train-dataset")
            base_model = gr.Dropdown(list_model_choices(), value=sweep.base.base_model,
                                     allow_custom_value=True, label=t("train.base_model"),
                                     elem_id="train-base-model")
            with gr.Accordion(t("train.params"), open=True):
                fields, token_lengths = _parameter_fields(sweep.base, book)
            grid = gr.Code(grid_text(sweep.grid), language="yaml", label=t("train.grid"), lines=4,
                           interactive=True, elem_id="train-grid")
            estimate = gr.Markdown(elem_id="train-estimate")
            start = gr.Button(t("train.start"), variant="primary", elem_id="train-start")
            status = gr.Markdown(elem_id="train-status")
            text, path = render_yaml(None, sweep.base.base_model,
                                     *(getattr(sweep.base, f) for f in FORM_FIELDS))
            preview = gr.Code(text, language="yaml", label=t("train.yaml"), interactive=False,
                              elem_id="train-yaml")
            download = gr.DownloadButton(t("train.download"), value=path, elem_id="train-download")
        with gr.Column(scale=1):
            job = gr.Dropdown([], value=None, allow_custom_value=True, label=t("train.job"),
                              info=t("train.job_info"), elem_id="train-job")
            progress = gr.HTML(elem_id="train-progress")
            loss = gr.LinePlot(_loss_frame([]), x="step", y="loss", label=t("train.loss_curve"), height=260,
                               elem_id="train-loss")
            stop = gr.Button(t("train.cancel"), variant="stop", elem_id="train-cancel")
            log = gr.Textbox(label=t("train.log"), lines=12, max_lines=12, interactive=False, autoscroll=True,
                             elem_id="train-log")
            queue = gr.Dataframe(pd.DataFrame(columns=QUEUE_COLUMNS), label=t("train.queue"),
                                 interactive=False, wrap=True, elem_id="train-queue")

    form = [base_model, *fields]
    placement = [fields[FORM_FIELDS.index("backend")], fields[FORM_FIELDS.index("hub_username")]]
    preset.change(load_preset, [preset, *placement], [*form, grid], api_name="train_load_preset").then(
        render_yaml, form, [preview, download], api_name=False)
    gr.on([c.input for c in form] + [grid.input], render_yaml, form, [preview, download],
          api_name="train_preview", trigger_mode="always_last")
    refresh_on_focus(dataset, lambda: list_dataset_choices(load_settings()))
    # No triggers: on page load and whenever the data, the model or the block size changes.
    block_size = fields[FORM_FIELDS.index("block_size")]
    gr.on(None, show_token_lengths, [dataset, base_model, block_size], token_lengths,
          api_name="train_token_lengths", trigger_mode="always_last", show_progress="minimal")
    # No triggers: on page load and whenever the data, the form or the grid changes.
    gr.on(None, show_estimate, [dataset, grid, *form], estimate, api_name="train_estimate",
          trigger_mode="always_last", show_progress="hidden")
    start.click(start_jobs, [dataset, grid, *form], [status], api_name="train_start")
    stop.click(cancel_job, [job], [status], api_name="train_cancel")
    # The environment line says where the next job trains: at once on a change, and on every refresh.
    gr.on([c.change for c in placement], environment_line, placement, environment,
          api_name="train_environment", show_progress="hidden")
    gr.Timer(REFRESH_S).tick(refresh, [job, *placement], [environment, queue, job, progress, loss, log],
                             api_name="train_refresh", show_progress="hidden")


def _parameter_fields(config: TrainingConfig,
                      book: TrainingConfig) -> tuple[list[gr.components.Component], gr.Markdown]:
    """One widget per parameter, three to a row, each showing the book's value; under block_size's row, the
    training rows' token lengths to choose it by."""
    widgets, token_lengths = [], None
    for start in range(0, len(FORM_FIELDS), 3):
        names = FORM_FIELDS[start: start + 3]
        with gr.Row():
            for name in names:
                widgets.append(_field(name, getattr(config, name), getattr(book, name)))
        if "block_size" in names:
            token_lengths = gr.Markdown(elem_id="train-token-lengths")
    return widgets, token_lengths


def _field(name: str, value, book_value) -> gr.components.Component:
    # The frontend translates one i18n piece per string: the book's value is appended as plain text
    # (none for hub_username, which the book never sets).
    info = t(f"train.help.{name}") + (f" ({book_value})" if book_value != "" else "")
    common = {"label": name, "info": info, "elem_id": f"train-{name.replace('_', '-')}"}
    if name in CHOICES:
        return gr.Dropdown(list(CHOICES[name]), value=value, **common)
    if isinstance(value, bool):
        return gr.Checkbox(value=value, **common)
    if isinstance(value, int):
        return gr.Number(value=value, precision=0, **common)
    if isinstance(value, float):
        return gr.Number(value=value, **common)
    return gr.Textbox(value=value, **common)


def _values(base_model: str, *fields) -> dict:
    values = {"base_model": base_model, **dict(zip(FORM_FIELDS, fields))}
    # A cleared textbox may arrive as None, which the configuration would read as the name "none".
    if "hub_username" in values:
        values["hub_username"] = values["hub_username"] or ""
    return values


@user_errors
def environment_line(backend: str, hub_username: str, request: gr.Request) -> str:
    """Where the form's job would train: this machine (its hardware and AutoTrain), or a Space."""
    if is_space_backend(backend):
        return _space_line(backend, (hub_username or "").strip(), request)
    return _local_line(request)


def _space_line(backend: str, owner: str, request: gr.Request | None) -> str:
    hardware = hardware_flavor(backend)
    if owner:
        line = say("train_env_space", request, hardware=hardware, owner=owner)
    else:
        line = say("train_env_space_no_user", request, hardware=hardware)
    if not load_settings().hf_token:  # said now, not only when the job is refused at the start
        line += "  \n" + say("train_env_no_token", request)
    return line


def _local_line(request: gr.Request | None) -> str:
    try:
        env = autotrain_env()
    except StudioError as exc:
        return say("train_env_missing", request, error=error_text(exc, request))
    versions = env.software
    return say("train_env", request, hardware=env.describe(), autotrain=versions.get("autotrain-advanced"),
               transformers=versions.get("transformers"))


@user_errors
def load_preset(name: str, backend: str, hub_username: str, request: gr.Request,
                profile: gr.OAuthProfile | None):
    """The preset's values and grid. Where to train is the user's choice more than the preset's: a preset
    that trains locally (all shipped ones do) keeps the backend and hub_username already in the form.
    The request gives an error its language. On a shared deployment: a listed preset, never a file path."""
    require_offered(name, list_presets, request, profile, kind=PRESET, hub=False)
    sweep = load_sweep(name)
    values = {f: getattr(sweep.base, f) for f in FORM_FIELDS}
    if sweep.base.backend == LOCAL_BACKEND:
        values.update(backend=backend or LOCAL_BACKEND, hub_username=hub_username or "")
    return (sweep.base.base_model, *values.values(), grid_text(sweep.grid))


@user_errors
def render_yaml(request: gr.Request | None, base_model: str, *fields):
    """The YAML of the form's configuration, and a file to download; the problems if it is invalid. The
    request (the problems' language) comes first: Gradio places it by position, which *fields would
    swallow."""
    try:
        config = TrainingConfig.from_dict(_values(base_model, *fields))
    except StudioError as exc:
        return "# " + error_text(exc, request).replace("; ", "\n# "), None
    path = load_settings().home / "cache" / "yaml" / f"{config.project_name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config.to_yaml(), encoding="utf-8")
    return config.to_yaml(), str(path)


@user_errors
def start_jobs(request: gr.Request, profile: gr.OAuthProfile | None, dataset: str, grid: str,
               base_model: str, *fields):
    # The request and profile come first: Gradio places them by position, which *fields would swallow.
    require_admin(request, profile, action=START_TRAINING)
    if not (dataset or "").strip():
        raise gr.Error(say("train_no_dataset", request))
    _require_listed_data(dataset, request, profile)
    configs = expand(_values(base_model, *fields), grid)
    for config in configs:  # the grid may name base models too
        require_offered(config.base_model, model_names, request, profile, kind=MODEL)
    jobs = submit(configs, dataset.strip())
    ensure_background_worker()
    queued = say("train_queued", request, count=len(jobs), names=", ".join(j.name for j in jobs))
    notes = [_note_text(note, request) for note in jobs.notes]
    return "  \n".join([queued, *_where_lines(jobs, request), *notes])


def _where_lines(jobs: list[Job], request: gr.Request) -> list[str]:
    """Where the queued jobs train: this machine, or each its own Space (named when queued)."""
    lines = [say("train_where_local", request)] if any(j.remote is None for j in jobs) else []
    return lines + [say("train_where_space", request, name=j.name, space=j.remote.space_id,
                        hardware=hardware_flavor(j.config.backend)) for j in jobs if j.remote is not None]


def _note_text(note: BlockSizeNote, request: gr.Request) -> str:
    if note.unchecked:
        return say("train_block_unchecked", request, block=note.block_size,
                   reason=translated(note.unchecked, request))
    return say("train_block_cuts", request, block=note.block_size, cut=note.cut, rows=note.rows,
               share=note.share, whole=note.whole, percent=WHOLE_PERCENT, longest=note.longest)


@user_errors
def show_token_lengths(dataset: str, base_model: str, block_size, request: gr.Request,
                       profile: gr.OAuthProfile | None) -> str:
    """The training rows' token lengths (p50, p99, longest) with the base model's tokenizer, and what
    block_size cuts; problems are shown in place (this runs on page load, where a toast would nag)."""
    lengths = _token_lengths(dataset, base_model, request, profile)
    if isinstance(lengths, str):
        return lengths
    summary = say("train_tokens", request, rows=lengths.rows, p50=lengths.percentile(50),
                  p99=lengths.percentile(WHOLE_PERCENT), longest=lengths.longest)
    return f"{summary}  \n{_cut_line(lengths, block_size, request)}"


@user_errors
def show_estimate(request: gr.Request, profile: gr.OAuthProfile | None, dataset: str, grid: str,
                  base_model: str, *fields) -> str:
    """How long the form's jobs may train (studio.training.estimate), before they are queued; empty while
    the form or the data cannot say. The request and profile come first (see start_jobs)."""
    lengths = _token_lengths(dataset, base_model, request, profile)
    try:
        configs = expand(_values(base_model, *fields), grid)
    except StudioError:
        return ""  # the YAML preview shows the form's problems
    if isinstance(lengths, str):
        return ""
    hardware = _hardware()
    found = estimate_jobs(configs, lengths, gpu=hardware.has_gpu, bf16=hardware.bf16)
    values = {"jobs": len(configs), "rows": found.rows, "tokens": found.tokens,
              "rate": round(found.rate or 0), "model": base_model}
    if found.unknown:
        return say(f"train_estimate_{found.unknown}", request, **values)
    return say("train_estimate", request, clock=clock(found.seconds), **values)


def _hardware() -> AutoTrainEnv:
    try:
        return autotrain_env()
    except StudioError:  # no AutoTrain environment: nothing trains, and the environment line says why
        return AutoTrainEnv(python=Path(), software={}, hardware={})


def _token_lengths(dataset: str, base_model: str, request: gr.Request,
                   profile: gr.OAuthProfile | None) -> TokenLengths | str:
    """The training rows' token lengths with the base model's tokenizer, or the line that says why not."""
    ref = (base_model or "").strip()
    if not (dataset or "").strip():
        return say("train_tokens_no_data", request)
    try:
        _require_listed_data(dataset, request, profile)
        require_offered(ref, model_names, request, profile, kind=MODEL)
    except StudioError as exc:
        return say("train_tokens_unavailable", request, error=error_text(exc, request))
    if ref not in model_names() and not Path(ref).expanduser().is_dir():
        return say("train_tokens_later", request, model=ref)  # a Hub model: counted once it is downloaded
    try:
        settings = load_settings()
        data = resolve_training_data(dataset, settings)
        return training_lengths(data.train_csv, resolve_model(ref, settings))
    except StudioError as exc:
        return say("train_tokens_unavailable", request, error=error_text(exc, request))


def _require_listed_data(dataset: str, request: gr.Request, profile: gr.OAuthProfile | None) -> None:
    """A prepared version by id on a shared deployment: the command line also takes a folder with train.csv."""
    require_offered(dataset, lambda: list_dataset_choices(load_settings()), request, profile, kind=DATA_SET,
                    hub=False)


def _cut_line(lengths, block_size, request: gr.Request) -> str:
    try:
        block = int(block_size)
    except (TypeError, ValueError):
        return ""
    cut = lengths.cut_at(block)
    if not cut:
        return say("train_tokens_fit", request, block=block)
    key = "train_tokens_refused" if cut / lengths.rows > MAX_CUT_SHARE else "train_tokens_cut"
    return say(key, request, block=block, cut=cut, rows=lengths.rows, share=cut / lengths.rows,
               whole=lengths.percentile(WHOLE_PERCENT), percent=WHOLE_PERCENT, limit=MAX_CUT_SHARE)


@user_errors
def cancel_job(job_name: str, request: gr.Request, profile: gr.OAuthProfile | None):
    require_admin(request, profile, action=CANCEL_TRAINING)
    target = (job_name or "").strip() or _running_job_name()
    if not target:
        raise gr.Error(say("train_no_jobs", request))
    job = cancel(target)
    return say("train_cancelled", request, name=job.name, status=say(f"train_status_{job.status}", request))


def _running_job_name() -> str | None:
    job = next((j for j in jobs_overview() if j.status == RUNNING), None)
    return job.name if job else None


@user_errors
def refresh(job_name: str, backend: str, hub_username: str, request: gr.Request):
    """Everything the right-hand side shows, read fresh from the registry and the log; and the
    environment line for the form's backend."""
    ensure_background_worker()  # after an app restart, opening the page resumes the queue
    jobs = jobs_overview()
    queue = pd.DataFrame([job_row(j) for j in jobs], columns=QUEUE_COLUMNS)
    queue["status"] = [say(f"train_status_{j.status}", request) for j in jobs]  # the reader's language
    choices = gr.update(choices=[j.name for j in jobs])
    selected = next((j for j in jobs if j.name == job_name), None) or current_job(jobs)
    environment = environment_line(backend, hub_username, request)
    if selected is None:
        return environment, queue, choices, say("train_no_jobs", request), _loss_frame([]), ""
    view = job_view(selected)
    return (environment, queue, choices, _progress_html(selected, view, request),
            _loss_frame(view.progress.points), log_tail(selected, 40))


def _progress_html(job: Job, view, request: gr.Request) -> str:
    p = view.progress
    done = p.total_steps if job.status == SUCCEEDED and p.total_steps else p.step
    parts = [say(f"train_status_{job.status}", request)]
    if job.remote is not None:
        parts += _space_parts(job, p, request)
    if p.total_steps:
        parts.append(say("train_step", request, step=p.step, total=p.total_steps))
    if p.last_loss is not None:
        parts.append(say("train_loss", request, loss=p.last_loss))
    if p.learning_rate is not None:
        parts.append(f"lr {p.learning_rate:.2e}")
    if view.elapsed_s is not None:
        parts.append(say("train_elapsed", request, clock=clock(view.elapsed_s)))
    if job.status == RUNNING and p.remaining_s is not None:
        parts.append(say("train_remaining", request, clock=clock(p.remaining_s)))
    reason = f"<div>{html.escape(say('train_reason', request, error=job.error))}</div>" if job.error else ""
    return (f"<div><b>{html.escape(job.name)}</b>"
            f"<progress value='{done}' max='{p.total_steps or 1}' style='width:100%'></progress>"
            f"<div>{html.escape(' · '.join(parts))}</div>{reason}</div>")


def _space_parts(job: Job, progress, request: gr.Request) -> list[str]:
    """A job on a Space: its stage, and where its progress comes from until the Space's log shows some."""
    stage = job.remote.stage or say("train_status_queued", request)
    hardware = hardware_flavor(job.config.backend)
    parts = [say("train_space", request, space=job.remote.space_id, hardware=hardware, stage=stage)]
    if job.status == RUNNING and not progress.total_steps and progress.last_loss is None:
        parts.append(say("train_space_log_wait", request))
    return parts


def _loss_frame(points) -> pd.DataFrame:
    return pd.DataFrame({"step": [p.step for p in points], "loss": [p.loss for p in points]})

