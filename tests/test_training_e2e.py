"""Real AutoTrain jobs on the CPU, through the CLI as a user runs it: SmolLM2-135M, 16 rows, 64-token
blocks, LoRA r 4."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio.inference import GenerationOptions, Generator, LoadOptions
from studio.prompts import make_prompt
from studio.settings import REPO_ROOT
from studio.text2sql import ask
from studio.training import get_run
from studio.training.monitor import find_job
from tests.training_fixtures.support import tiny_dataset

SECRET = "hf_studioTestTokenThatMustNeverBeWritten"
TINY = ["--config", "cpu-lora", "--set", "block_size=256", "--set", "lora_r=4", "--set", "lora_alpha=8"]


def train(*args: str) -> subprocess.CompletedProcess:
    # One torch thread: on 2 cores shared with other processes, two threads spin-wait on each other and run
    # 4-6x slower than one (measured); the trainer inherits OMP_NUM_THREADS from the studio's environment.
    env = {**os.environ, "HF_TOKEN": SECRET, "HUGGING_FACE_HUB_TOKEN": SECRET, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "studio", "train", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def files_holding(home: Path, secret: bytes) -> list[Path]:
    return [path for path in home.rglob("*") if path.is_file() and secret in path.read_bytes()]


@pytest.mark.slow
def test_a_real_lora_job_becomes_a_run_whose_adapter_loads_and_generates(offline_model, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    done = train(*TINY, "--set", "project_name=e2e-cpu", "--dataset", str(data), "--wait")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert any(re.search(r"running · step \d+/\d+ \(\d+%\) · loss \d", line) for line in lines)  # live
    assert "succeeded" in lines[-1]
    run = get_run(lines[-1].split(": run ")[1].split(",")[0])

    assert run.base_model == "smollm2-135m-instruct" and run.base_model_path == offline_model
    assert run.train_rows == 16 and run.dataset_ref == str(data) and not run.merged
    assert run.final_loss is not None and 0 < run.final_loss < 10 and run.tokens_per_s > 0
    assert run.software["transformers"] == "4.48.0" and run.hardware["cpu_count"] >= 1
    assert run.duration_s >= run.train_runtime_s > 0

    generator = Generator(run.base_model_path, LoadOptions(adapter=run.adapter_path))
    lora_b = [p for name, p in generator.model.named_parameters() if "lora_B" in name]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # trained: LoRA's B starts at zero
    spec_ddl = "CREATE TABLE players (player_id INT PRIMARY KEY, username VARCHAR(255), level INT);"
    [completion] = generator.generate([make_prompt(spec_ddl, "플레이어는 모두 몇 명인가요?")],
                                      GenerationOptions(max_new_tokens=8), ddls=[spec_ddl])  # as the Playground
    assert completion.new_tokens > 0 and completion.text
    # The Playground takes the run by name and answers with the same adapter.
    answer = ask(run.base_model, spec_ddl, "플레이어는 모두 몇 명인가요?", adapter=run.name,
                 generation=GenerationOptions(max_new_tokens=8))
    assert answer.completion == completion.text

    assert files_holding(offline_model.parent.parent, SECRET.encode()) == []


@pytest.mark.slow
def test_a_real_job_with_a_bad_configuration_fails_with_its_reason(offline_model, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    done = train(*TINY, "--set", "project_name=e2e-bad", "--set", "target_modules=no_such_proj",
                 "--dataset", str(data), "--wait")
    assert done.returncode == 1
    reason = "training failed: ValueError: Target modules {'no_such_proj'} not found in the base model"
    assert f"failed: {reason}" in done.stderr
    assert "Traceback" in done.stderr or "ERROR" in done.stderr  # the log tail follows the reason
    job = find_job(done.stdout.split("queued job ")[1].split(":")[0])
    assert job.status == "failed" and job.error.startswith(reason) and job.run_name is None
