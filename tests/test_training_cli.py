"""`python -m studio train` and `runs` as a user runs them (real subprocesses), with the stand-in trainer."""

import json
import os
import subprocess
import sys

from studio.settings import REPO_ROOT
from tests.training_fixtures.support import fake_autotrain, fake_python  # noqa: F401


def studio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def test_train_wait_runs_show_and_reproduce(fake_autotrain):
    model, data = str(fake_autotrain["model"]), str(fake_autotrain["data"])
    done = studio("train", "--config", "cpu-lora", "--dataset", data, "--set", f"base_model={model}",
                  "--set", "block_size=64", "--set", "project_name=cli", "--wait")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("queued job 1: cli-1 (16 rows")
    assert any(line.startswith("[cli-1] running") for line in lines)  # progress lines while it runs
    assert lines[-1].startswith("[cli-1] succeeded in ") and ": run cli-1, final loss 2.0000" in lines[-1]

    shown = json.loads(studio("runs", "show", "cli-1").stdout)
    assert shown["config"]["block_size"] == 64 and shown["dataset"] == data and shown["train_rows"] == 16
    assert shown["adapter_path"].endswith("jobs/cli-1/cli-1")

    again = studio("train", "--from-run", "cli-1", "--wait")
    assert again.returncode == 0 and "run cli-2," in again.stdout
    listed = studio("runs", "list").stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["cli-2", "cli-1"]  # newest first, nothing overwritten

    job = studio("train", "show", "1").stdout
    assert job.startswith("[cli-1] succeeded") and "folder: " in job and "Starting to train" in job


def test_train_errors_are_one_line(fake_autotrain):
    done = studio("train", "--config", "cpu-lora", "--dataset", str(fake_autotrain["data"]), "--set", "lora_r=0")
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: invalid training configuration: lora_r must be in [1, 1024] "
                                   "(the rank of the LoRA matrices), got 0")
    assert studio("train", "cancel", "99").stderr.startswith("error: no job '99'")
    assert studio("train", "--config", "cpu-lora").stderr.startswith("error: give --dataset")
