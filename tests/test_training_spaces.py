"""Training on a Hugging Face Space (the spaces-* backends), against the Hub stand-in through the real
huggingface_hub client. The studio uploads the data and starts the Space the way AutoTrain's SpaceRunner
does, then follows it; the tests play the Space's part: they move its stage and push the adapter."""

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from studio import registry
from studio.errors import StudioError
from studio.settings import load_settings
from studio.training import cancel, get_run, list_runs, submit
from studio.training.config import TrainingConfig
from studio.training.jobs import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from studio.training.monitor import current_job, find_job, job_view, jobs_overview, log_tail
from studio.training.spaces_backend import DOCKERFILE, SECRET_NAMES, FollowOptions, clean_up
from studio.training.worker import Worker, settle_orphans
from studio.ui.i18n import say
from studio.ui.train import _progress_html
from tests.test_hub_push import make_adapter, tiny_base  # noqa: F401
from tests.test_hub_standin import ALICE, BOB, standin_hub
from tests.training_fixtures import support
from tests.training_fixtures.support import REAL_AUTOTRAIN_PYTHON, tiny_dataset, wait_for

hub = pytest.fixture(standin_hub)
fake_autotrain, fake_python = support.fake_autotrain, support.fake_python  # the local stand-in trainer
FAST = FollowOptions(poll_s=0.02, hub_poll_s=0.02, timeout_s=120)
FAKE_ADAPTER = {"adapter_model.safetensors": b"weights", "adapter_config.json": b"{}"}


def space_config(**changes) -> TrainingConfig:
    return TrainingConfig(backend="spaces-t4-small", hub_username=ALICE, project_name="space", block_size=64,
                          **changes)


@pytest.fixture
def data(tmp_path) -> Path:
    return tiny_dataset(tmp_path / "data")


def worker_thread(*job_ids: int, options: FollowOptions = FAST) -> threading.Thread:
    """A worker running the queue in the background until the jobs are over (as the app's thread does)."""
    settings = load_settings()
    worker = Worker(settings, poll_s=0.02, space=options)
    thread = threading.Thread(target=worker.run, kwargs={
        "until": lambda: not any(find_job(job_id, settings).active for job_id in job_ids)})
    thread.start()
    return thread


def launched(hub, job_id: int, stage: str = "BUILDING"):
    """The job once the worker has launched its Space and seen `stage`."""
    def seen():
        job = find_job(job_id)
        assert job.active, f"the job ended before its Space was {stage}: {job.status}: {job.error}"
        return job.remote.stage == stage and job

    return wait_for(seen, timeout=60)


def finished(thread: threading.Thread, job_id: int):
    thread.join(timeout=60)
    assert not thread.is_alive(), "the worker did not finish the job"
    return find_job(job_id)


def test_the_job_uploads_its_data_and_starts_a_private_space_as_autotrain_does(hub, data):
    [job] = submit([space_config(lora_r=8)], str(data))
    data_repo = f"{ALICE}/autotrain-data-{job.name}"
    assert (job.remote.space_id, job.remote.model_repo, job.remote.dataset_repo) == (
        f"{ALICE}/autotrain-{job.name}", f"{ALICE}/{job.name}", data_repo)
    assert not hub.repos  # named when queued, created when the worker launches the job
    thread = worker_thread(job.id)
    launched(hub, job.id)

    dataset = hub.repo(data_repo, "dataset")
    assert dataset.private and dataset.head.files["train.csv"] == (job.data_dir / "train.csv").read_bytes()
    space = hub.repo(job.remote.space_id, "space")
    assert space.private and (space.sdk, space.hardware, space.sleep_time) == ("docker", "t4-small", 604800)
    assert sorted(space.secrets) == sorted(SECRET_NAMES) and not space.variables
    params = json.loads(space.secrets["PARAMS"])
    assert (params["push_to_hub"], params["username"], params["data_path"]) == (True, ALICE, data_repo)
    assert (params["project_name"], params["lora_r"], params["text_column"]) == (job.name, 8, "text")
    assert params["model"] == space.secrets["MODEL"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert (space.secrets["TASK_ID"], space.secrets["DATA_PATH"]) == ("9", data_repo)
    assert space.head.files["Dockerfile"] == DOCKERFILE.encode()

    # AutoTrain itself: the same Space files and hardware, and the Space's `autotrain api` accepts PARAMS.
    files = space.head.files
    sent = {"PARAMS": space.secrets["PARAMS"], "backend": job.config.backend,
            "Dockerfile": files["Dockerfile"].decode(), "README": files["README.md"].decode()}
    assert autotrain_reads(sent) == {
        "dockerfile": True, "readme": True, "space_id": job.remote.space_id, "hardware": "t4-small",
        "task_id": 9, "data_path": data_repo, "push_to_hub": True, "username": ALICE, "lora_r": 8,
        "train_split": "train"}
    hub.set_space_stage(job.remote.space_id, "RUNTIME_ERROR")
    assert finished(thread, job.id).status == FAILED


def autotrain_reads(sent: dict) -> dict:
    """What AutoTrain 0.8.36 makes of the Space the studio set up: its SpaceRunner's Dockerfile and README,
    and PARAMS parsed as `autotrain api` does (autotrain.utils.run_training). Sent on stdin: it holds the
    token."""
    script = """
import json, sys
from autotrain.backends.spaces import _DOCKERFILE, SpaceRunner
from autotrain.trainers.clm.params import LLMTrainingParams
sent = json.load(sys.stdin)
raw = json.loads(sent["PARAMS"])
params = LLMTrainingParams(**(json.loads(raw) if isinstance(raw, str) else raw))
runner = SpaceRunner(params=params, backend=sent["backend"])
print(json.dumps({"dockerfile": _DOCKERFILE == sent["Dockerfile"],
                  "readme": runner._create_readme().read().decode() == sent["README"],
                  "space_id": f"{runner.username}/autotrain-{params.project_name}",
                  "hardware": runner.available_hardware[sent["backend"]], "task_id": runner.task_id,
                  "data_path": params.data_path, "push_to_hub": params.push_to_hub,
                  "username": params.username, "lora_r": params.lora_r, "train_split": params.train_split}))
"""
    done = subprocess.run([str(REAL_AUTOTRAIN_PYTHON), "-c", script], input=json.dumps(sent),
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_adapter_the_space_pushes_becomes_a_run_with_its_hub_link(hub, data, studio_home, tiny_base,
                                                                       tmp_path):
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    [job] = submit([space_config()], str(data))
    model_repo = job.remote.model_repo
    hub.put_files(model_repo, FAKE_ADAPTER, title="an older push under the same name")
    thread = worker_thread(job.id)
    space_id = launched(hub, job.id).remote.space_id
    hub.set_space_stage(space_id, "RUNNING")
    running = launched(hub, job.id, "RUNNING")
    assert running.status == RUNNING  # the adapter that was there before the launch is not this job's
    assert say("train_space_log_wait") in _progress_html(running, job_view(running), None)  # no log yet
    # AutoTrain on the Space logs as it does here; the worker copies the log into the job's, token masked
    hub.write_space_log(space_id, *SPACE_TRAINING_LOG, f"PARAMS token={os.environ['HF_TOKEN']}")
    running = wait_for(lambda: (view := job_view(find_job(job.id))).progress.last_loss is not None and view)
    scale = running.job.loss_scale  # the Space installs the same AutoTrain release: the same correction
    line = running.line()  # the CLI's progress line
    assert f"Space {space_id} (t4-small): RUNNING · step 1/4 (25%) · loss {2.5578 / scale:.4f}" in line
    tab = _progress_html(running.job, running, None)  # the Train tab's
    assert f"Space {space_id} (t4-small): RUNNING" in tab and f"{2.5578 / scale:.4f}" in tab
    assert say("train_space_log_wait") not in tab
    hub.write_space_log(space_id, " 50%|█████     | 2/4 [00:06<00:06,  3.13s/it]",
                        SPACE_TRAINING_LOG[1].replace("2.5578", "2.1"))
    # the Hub replays the whole log at every look: each line is copied once
    assert wait_for(lambda: [(p.step, p.loss) for p in job_view(find_job(job.id)).progress.points]
                    == [(1, 2.5578 / scale), (2, 2.1 / scale)])
    assert "PARAMS token=***" in log_tail(find_job(job.id))

    adapter = make_adapter(tiny_base, tmp_path / "trained", seed=3)  # with AutoTrain's training_params.json
    commit = hub.put_files(model_repo, {p.name: p.read_bytes() for p in adapter.iterdir()})
    hub.set_space_stage(space_id, "PAUSED")  # AutoTrain pauses the Space once it has pushed
    done = finished(thread, job.id)
    assert done.status == SUCCEEDED and f"Space {space_id}: RUNNING" in log_tail(done)

    run = get_run(done.run_name)
    assert run.adapter_path == done.output_dir and run.hardware["gpu"] == "Hugging Face Space t4-small"
    assert run.final_loss == 2.1 / scale  # from the Space's log
    assert sorted(p.name for p in run.adapter_path.iterdir()) == [
        "adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    with registry.session(load_settings().registry_path) as db:
        link = db.execute("SELECT hub_url, hub_commit FROM runs WHERE name = ?", (run.name,)).fetchone()
    assert tuple(link) == (f"{hub.endpoint}/{model_repo}", commit)

    # Loadable, and it is the adapter the Space pushed: its (non-zero) LoRA B weights, loaded by PEFT.
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base), run.adapter_path)
    loaded = dict(model.named_parameters())
    pushed = {k: v for k, v in load_file(adapter / "adapter_model.safetensors").items() if "lora_B" in k}
    assert pushed and all(v.abs().sum() > 0 for v in pushed.values())
    assert all(torch.equal(loaded[k.replace(".weight", ".default.weight")], v) for k, v in pushed.items())
    assert files_holding(studio_home, os.environ["HF_TOKEN"].encode()) == []


SPACE_TRAINING_LOG = (
    "INFO     | 2026-11-23 10:38:10 | autotrain.trainers.clm.train_clm_sft:train:95 - Starting to train...",
    "INFO     | 2026-11-23 10:38:13 | autotrain.trainers.common:on_log:367 - {'loss': 2.5578, 'grad_norm': 2.0,"
    " 'learning_rate': 0.0002, 'epoch': 0.25}",
    " 25%|██▌       | 1/4 [00:03<00:09,  3.13s/it]",
)


def files_holding(home: Path, secret: bytes) -> list[Path]:
    return [path for path in home.rglob("*") if path.is_file() and secret in path.read_bytes()]


@pytest.mark.parametrize("stage, error, reason", [
    ("RUNTIME_ERROR", "Exit code: 1. Reason: CUDA out of memory",
     "stopped with RUNTIME_ERROR: Exit code: 1. Reason: CUDA out of memory (logs: "),
    ("PAUSED", None, "is PAUSED and pushed no adapter to "),
    (None, None, "timed out: no adapter in "),
], ids=["runtime-error", "paused-without-adapter", "timeout"])
def test_a_space_that_ends_without_an_adapter_fails_the_job_with_the_reason(hub, data, stage, error, reason):
    [job] = submit([space_config()], str(data))
    timeout_s = 120 if stage else 1.5  # no stage change: the Space never ends, the studio gives up
    thread = worker_thread(job.id, options=FollowOptions(poll_s=0.02, hub_poll_s=0.02, timeout_s=timeout_s))
    space_id = launched(hub, job.id).remote.space_id
    if stage:
        hub.set_space_stage(space_id, stage, error)
    done = finished(thread, job.id)
    assert done.status == FAILED and reason in done.error and space_id in done.error and list_runs() == []
    assert hub.repo(space_id, "space").stage == "PAUSED"  # nothing left running, nothing billed


def test_a_failure_on_the_space_is_explained_by_its_log(hub, data):
    """AutoTrain catches the exception, logs it and pauses the Space: its log says why, the Hub does not."""
    [job] = submit([space_config()], str(data))
    thread = worker_thread(job.id)
    space_id = launched(hub, job.id).remote.space_id
    hub.set_space_stage(space_id, "RUNNING")
    hub.write_space_log(space_id, SPACE_TRAINING_LOG[0], "ERROR | train has failed due to an exception: "
                        "Traceback (most recent call last):", "torch.OutOfMemoryError: CUDA out of memory.")
    launched(hub, job.id, "RUNNING")
    hub.set_space_stage(space_id, "PAUSED")
    done = finished(thread, job.id)
    assert done.status == FAILED and "pushed no adapter" in done.error
    assert "its log says: out of memory: torch.OutOfMemoryError: CUDA out of memory." in done.error


def test_cleanup_deletes_what_ended_space_jobs_left_on_the_hub_and_nothing_else(hub, data, capsys):
    """The Space and the data repo go; the model repo (the run's adapter) and a running job's repos stay."""
    from studio.cli import main

    ended, running = submit([space_config(), space_config()], str(data))
    thread = worker_thread(ended.id, running.id)
    for job in (ended, running):
        hub.set_space_stage(launched(hub, job.id).remote.space_id, "RUNNING")
    hub.put_files(ended.remote.model_repo, FAKE_ADAPTER)
    hub.set_space_stage(ended.remote.space_id, "PAUSED")
    assert wait_for(lambda: find_job(ended.id).status == SUCCEEDED)
    with pytest.raises(StudioError, match=f"job {running.name} is running on its Space: cancel it before"):
        clean_up(load_settings(), running.name)

    assert main(["train", "cleanup"]) == 0
    assert capsys.readouterr().out == (f"[{ended.name}] deleted {ended.remote.space_id}, "
                                       f"{ended.remote.dataset_repo}\n")
    assert {(t, r) for t, r in hub.repos if r.endswith(ended.name)} == {("model", ended.remote.model_repo)}
    assert find_job(ended.id).remote.stage == "DELETED" and get_run(find_job(ended.id).run_name)
    assert all(hub.repo(r, t) for r, t in ((running.remote.space_id, "space"),
                                          (running.remote.dataset_repo, "dataset")))
    assert clean_up(load_settings()) == {}  # nothing left to do: the Hub is not asked again
    assert cancel(running.name).status == CANCELLED
    finished(thread, running.id)
    hub.repos.pop(("dataset", running.remote.dataset_repo))  # deleted on the Hub meanwhile: no error
    assert clean_up(load_settings(), running.name) == {running.name: [running.remote.space_id]}


def test_a_space_deleted_on_the_hub_fails_the_job(hub, data):
    from huggingface_hub import HfApi

    [job] = submit([space_config()], str(data))
    thread = worker_thread(job.id)
    space_id = launched(hub, job.id).remote.space_id
    HfApi(endpoint=hub.endpoint, token=os.environ["HF_TOKEN"]).delete_repo(space_id, repo_type="space")
    done = finished(thread, job.id)
    assert done.status == FAILED and f"the Space {space_id} no longer exists on the Hub" in done.error


def test_cancel_pauses_the_space(hub, data):
    [job] = submit([space_config()], str(data))
    thread = worker_thread(job.id)
    space_id = launched(hub, job.id).remote.space_id
    hub.set_space_stage(space_id, "RUNNING")
    assert cancel(job.name).status == CANCELLED
    assert hub.repo(space_id, "space").stage == "PAUSED" and finished(thread, job.id).status == CANCELLED


def local_config(setup) -> TrainingConfig:
    """A job for this machine's stand-in trainer (tests/training_fixtures/fake_trainer.py)."""
    return TrainingConfig(base_model=str(setup["model"]), block_size=64, gradient_accumulation=1,
                          project_name="local")


def test_a_local_job_runs_while_a_space_job_trains(hub, data, fake_autotrain):
    [space_job] = submit([space_config()], str(data))
    [local_job] = submit([local_config(fake_autotrain)], str(fake_autotrain["data"]))  # queued behind it
    thread = worker_thread(space_job.id, local_job.id)
    space_id = launched(hub, space_job.id).remote.space_id
    hub.set_space_stage(space_id, "RUNNING")  # training, for hours: no adapter yet

    local = wait_for(lambda: (job := find_job(local_job.id)).status not in (QUEUED, RUNNING) and job)
    assert local.status == SUCCEEDED, local.error
    assert get_run(local.run_name).hardware["device"] in ("cpu", "cuda")
    still = find_job(space_job.id)
    assert (still.status, still.remote.stage) == (RUNNING, "RUNNING")  # followed on, not given up

    hub.put_files(space_job.remote.model_repo, FAKE_ADAPTER)
    hub.set_space_stage(space_id, "PAUSED")
    done = finished(thread, space_job.id)
    assert done.status == SUCCEEDED and done.finished_at > local.finished_at
    assert get_run(done.run_name).hardware["space"] == space_id


def test_a_space_job_queued_behind_a_local_job_launches_while_it_trains(hub, data, fake_autotrain,
                                                                         monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER_STEPS", "2000")  # the local job trains on until cancelled
    [local_job] = submit([local_config(fake_autotrain)], str(fake_autotrain["data"]))
    [space_job] = submit([space_config()], str(data))
    thread = worker_thread(local_job.id, space_job.id)
    space_id = launched(hub, space_job.id).remote.space_id
    # Both running, the Space job the newer: the Train tab follows the local job (it has a live loss curve).
    assert find_job(local_job.id).status == find_job(space_job.id).status == RUNNING
    assert current_job(jobs_overview()).id == local_job.id
    hub.put_files(space_job.remote.model_repo, FAKE_ADAPTER)
    hub.set_space_stage(space_id, "PAUSED")
    assert wait_for(lambda: find_job(space_job.id).status == SUCCEEDED)
    assert find_job(local_job.id).status == RUNNING
    assert cancel(local_job.id).status == CANCELLED and finished(thread, local_job.id).status == CANCELLED


def test_several_space_jobs_train_at_the_same_time(hub, data):
    jobs = submit([space_config(lora_r=8), space_config(lora_r=16)], str(data))
    thread = worker_thread(*(job.id for job in jobs))
    for job in jobs:  # both launched while neither has ended
        hub.set_space_stage(launched(hub, job.id).remote.space_id, "RUNNING")
    last, first = jobs  # they end in any order
    hub.put_files(first.remote.model_repo, FAKE_ADAPTER)
    hub.set_space_stage(first.remote.space_id, "PAUSED")
    assert wait_for(lambda: find_job(first.id).status == SUCCEEDED) and find_job(last.id).status == RUNNING
    hub.set_space_stage(last.remote.space_id, "RUNTIME_ERROR", "boom")
    assert finished(thread, last.id).status == FAILED and "RUNTIME_ERROR: boom" in find_job(last.id).error


class Crash(BaseException):
    """The worker's process dies (a Ctrl+C in `train --wait`, an app restart)."""


def test_a_new_worker_follows_the_space_the_last_one_left(hub, data):
    [job] = submit([space_config()], str(data))
    settings = load_settings()

    def die_once_running(current):
        if current.remote.stage == "BUILDING":
            hub.set_space_stage(current.remote.space_id, "RUNNING")
        elif current.remote.stage == "RUNNING":
            raise Crash

    with pytest.raises(Crash):
        Worker(settings, poll_s=0.02, on_poll=die_once_running, space=FAST).run()
    settle_orphans(settings)
    assert find_job(job.id).status == RUNNING  # the Space trains on: not "interrupted"
    hub.put_files(job.remote.model_repo, FAKE_ADAPTER)
    hub.set_space_stage(job.remote.space_id, "PAUSED")
    assert finished(worker_thread(job.id), job.id).status == SUCCEEDED
    created = [call.body["type"] for call in hub.calls("POST", "/api/repos/create")]
    assert created == ["dataset", "space"]  # followed again, not launched again


def test_without_a_usable_token_nothing_is_queued_or_created(hub, data, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(StudioError, match="on a Hugging Face Space, which needs a token: set HF_TOKEN"):
        submit([space_config()], str(data))
    assert not hub.requests
    monkeypatch.setenv("HF_TOKEN", hub.add_user(BOB))
    with pytest.raises(StudioError, match=f"belongs to '{ALICE}', and your token is '{BOB}'"):
        submit([space_config()], str(data))
    monkeypatch.setenv("HF_TOKEN", hub.add_user(ALICE))
    with pytest.raises(StudioError, match="cannot load .*: give a Hub id"):
        submit([space_config(base_model=str(tmp_path))], str(data))
    assert jobs_overview() == [] and not hub.repos
