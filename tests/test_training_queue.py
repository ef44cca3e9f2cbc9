"""The queue, the worker, cancel and restart, with a stand-in trainer (training_fixtures/fake_trainer.py)
that writes AutoTrain's log format and output files in a second; the real trainer is tested in
test_training_e2e.py."""

import os
import signal
import subprocess
import sys
import threading

import pytest

from studio import registry
from studio.settings import REPO_ROOT, load_settings
from studio.training import cancel, list_runs, load_configs, submit
from studio.training.config import TrainingConfig
from studio.training.jobs import CANCELLED, FAILED, INTERRUPTED, RUNNING, SUCCEEDED
from studio.training.monitor import find_job, job_view, jobs_overview
from studio.training.process import trainer_env
from studio.training.runs import unique_run_name
from studio.training.worker import Worker
from tests.training_fixtures.support import fake_autotrain, fake_python, pid_alive, wait_for  # noqa: F401


def config(setup, **changes) -> TrainingConfig:
    values = {"gradient_accumulation": 1, **changes}
    return TrainingConfig(base_model=str(setup["model"]), block_size=64, project_name="queue-test", **values)


def drain(job_ids, poll_s=0.05):
    settings = load_settings()
    finished = Worker(settings, poll_s=poll_s).run(
        until=lambda: all(not find_job(i, settings).active for i in job_ids))
    assert finished, "another worker held the lock"
    return [find_job(i, settings) for i in job_ids]


def test_a_2x2_sweep_queues_four_jobs_that_run_one_after_another(fake_autotrain):
    configs = [c.replace(base_model=str(fake_autotrain["model"]), block_size=64)
               for c in load_configs("sweep-lora-r-alpha.yml")]
    jobs = submit(configs, str(fake_autotrain["data"]))
    assert [j.status for j in jobs] == ["queued"] * 4 and len({j.sweep for j in jobs}) == 1
    assert len({j.folder for j in jobs}) == 4 and all((j.folder / "config.yml").is_file() for j in jobs)
    done = drain([j.id for j in jobs])
    assert [j.status for j in done] == [SUCCEEDED] * 4
    for earlier, later in zip(done, done[1:]):
        assert later.started_at >= earlier.finished_at  # one trainer at a time, oldest first
    runs = {run.name: run for run in list_runs()}
    assert set(runs) == {j.name for j in done} == {j.run_name for j in done}
    assert [(runs[j.name].config.lora_r, runs[j.name].config.lora_alpha) for j in done] == [
        (8, 16), (8, 32), (16, 16), (16, 32)]


def test_a_run_records_what_the_job_did(fake_autotrain):
    [first] = drain([submit([config(fake_autotrain, lora_r=8)], str(fake_autotrain["data"]))[0].id])
    run = list_runs()[0]
    assert run.name == first.name == first.run_name and run.job_id == first.id and first.status == SUCCEEDED
    assert run.base_model_path == fake_autotrain["model"] and run.duration_s > 0 and not run.merged
    assert run.adapter_path == first.output_dir and (run.adapter_path / "adapter_model.safetensors").is_file()
    assert run.config.lora_r == 8 and run.train_rows == 16 and run.dataset_ref == str(fake_autotrain["data"])
    assert run.final_loss == pytest.approx(2.0) and run.train_loss == pytest.approx(2.5)
    assert run.tokens_per_s == pytest.approx(2.0 * 64)  # packed samples/s × block size
    assert run.software["autotrain-advanced"] == "0.8.36" and run.hardware["device"] in ("cpu", "cuda")
    assert job_view(first).progress.points[-1].loss == pytest.approx(2.0)


def test_run_names_are_never_reused(studio_home):
    with registry.session(load_settings().registry_path) as db:
        for suffix in ("", "-2"):
            db.execute("INSERT INTO runs (name, created_at, base_model, base_model_path, dataset_ref, "
                       "train_rows, adapter_path, config, duration_s, hardware, software) "
                       "VALUES (?, '', '', '', '', 0, '', ?, 0, '{}', '{}')",
                       (f"taken{suffix}", TrainingConfig().to_json()))
        assert unique_run_name(db, "taken") == "taken-3"
        assert unique_run_name(db, "free") == "free"


def test_a_fraction_of_the_data_is_a_seeded_sample(fake_autotrain):
    half, whole = submit([config(fake_autotrain, data_fraction=0.5), config(fake_autotrain)],
                         str(fake_autotrain["data"]))
    assert (half.train_rows, whole.train_rows) == (8, 16)
    assert (half.loss_scale, submit([config(fake_autotrain, gradient_accumulation=4)],
                                    str(fake_autotrain["data"]))[0].loss_scale) == (1.0, 4.0)
    assert len((half.data_dir / "train.csv").read_text().split("### SQL:")) == 9


def test_a_failure_the_log_reports_fails_the_job_despite_exit_code_0(fake_autotrain, monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER_FAIL", "1")
    [job] = drain([submit([config(fake_autotrain)], str(fake_autotrain["data"]))[0].id])
    assert job.status == FAILED and job.run_name is None
    assert job.error == "training failed: ValueError: boom in the fake trainer"
    assert list_runs() == []


def test_no_adapter_means_failure(fake_autotrain, monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER_NO_OUTPUT", "1")
    [job] = drain([submit([config(fake_autotrain)], str(fake_autotrain["data"]))[0].id])
    assert job.status == FAILED and "without writing an adapter" in job.error


def test_bad_data_is_refused_before_anything_is_queued(fake_autotrain, tmp_path):
    from tests.training_fixtures.support import tiny_dataset

    with pytest.raises(Exception, match="has no `text` column"):
        submit([config(fake_autotrain)], str(tiny_dataset(tmp_path / "bad", column="prompt")))
    with pytest.raises(Exception, match="block_size 1024 is longer than the model can take"):
        submit([config(fake_autotrain), config(fake_autotrain).replace(block_size=1024)],
               str(fake_autotrain["data"]))
    assert jobs_overview() == []  # a sweep is queued whole or not at all


def test_cancel_a_queued_job(fake_autotrain):
    job = submit([config(fake_autotrain)], str(fake_autotrain["data"]))[0]
    assert cancel(job.name).status == CANCELLED
    with pytest.raises(Exception, match="is cancelled: only queued or running jobs"):
        cancel(job.id)


def test_cancel_a_running_job_stops_its_whole_process_group(fake_autotrain, monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER_STEPS", "2000")
    job = submit([config(fake_autotrain)], str(fake_autotrain["data"]))[0]
    worker = threading.Thread(target=drain, args=([job.id],))
    worker.start()
    running = wait_for(lambda: (j := find_job(job.id)).pid and j.status == RUNNING and j)
    helper = int(wait_for(lambda: fake_autotrain["helper_pids"].exists()
                          and fake_autotrain["helper_pids"].read_text().split()[0]))
    assert pid_alive(running.pid) and pid_alive(helper)
    cancel(job.id)
    worker.join(timeout=30)
    assert find_job(job.id).status == CANCELLED
    assert not pid_alive(running.pid) and wait_for(lambda: not pid_alive(helper), timeout=10)


def cli(*args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "studio", *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.parametrize("trainer_survives", [False, True], ids=["machine-restart", "runner-restart"])
def test_killing_the_runner_leaves_no_running_ghost(fake_autotrain, monkeypatch, trainer_survives):
    """The runner (`train work`) is killed mid-job. If the trainer died too (a machine restart), the job is
    interrupted; if it outlived the runner, the next worker follows it to its end."""
    monkeypatch.setenv("FAKE_TRAINER_STEPS", "40")
    monkeypatch.setenv("FAKE_TRAINER_STEP_S", "0.1")
    job = submit([config(fake_autotrain)], str(fake_autotrain["data"]))[0]
    runner = cli("train", "work", env=dict(os.environ))
    running = wait_for(lambda: (j := find_job(job.id)).pid and j, timeout=60)
    os.killpg(runner.pid, signal.SIGKILL)  # the runner and nothing else: the trainer has its own session
    runner.wait()
    assert pid_alive(running.pid)
    if not trainer_survives:
        os.killpg(running.pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(running.pid), timeout=10)
    assert find_job(job.id).status == RUNNING  # nobody has looked yet
    if trainer_survives:
        assert drain([job.id])[0].status == SUCCEEDED
    else:
        listed = subprocess.run([sys.executable, "-m", "studio", "train", "list"], cwd=REPO_ROOT,
                                capture_output=True, text=True, timeout=60)
        assert f"{job.name}\t{INTERRUPTED}" in listed.stdout, listed.stderr
        assert "the trainer process is gone" in find_job(job.id).error


def test_the_trainer_gets_no_secrets_and_no_space_identity(monkeypatch):
    base = {"HF_TOKEN": "hf_x", "HUGGING_FACE_HUB_TOKEN": "hf_y", "OPENAI_API_KEY": "sk-z",
            "SPACE_ID": "me/app", "PATH": "/usr/bin", "LANG": "C.UTF-8"}
    env = trainer_env(load_settings(), base)
    assert {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY", "SPACE_ID"}.isdisjoint(env)
    assert env["PATH"] == "/usr/bin" and env["HF_HUB_OFFLINE"] == "1"
