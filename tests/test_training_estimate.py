"""The Train tab's estimated training time (studio.training.estimate): tokens = rows × mean tokens × epochs at
the measured CPU rate; no number where nothing was measured."""

import json

import numpy as np
import pytest

from studio.settings import REPO_ROOT
from studio.training.config import TrainingConfig
from studio.training.estimate import (
    CHECKPOINTING_FACTOR,
    CPU_TOKENS_PER_SECOND,
    ON_GPU,
    ON_SPACE,
    OTHER_MODEL,
    STARTUP_S,
    estimate_jobs,
    estimate_training,
)
from studio.training.truncation import TokenLengths

CPU = TrainingConfig(gradient_checkpointing=False)


def lengths(*values) -> TokenLengths:
    return TokenLengths(np.sort(np.array(values, dtype=float)))


def test_tokens_are_rows_used_times_mean_tokens_times_epochs():
    found = estimate_training(CPU.replace(epochs=3, data_fraction=0.5), lengths(*[10] * 50, *[30] * 50), gpu=False)
    assert (found.rows, found.tokens) == (50, 50 * 20 * 3)
    lora_fp32 = CPU_TOKENS_PER_SECOND[(True, "none")]
    assert found.seconds == pytest.approx(STARTUP_S + 3000 / lora_fp32) and found.rate == lora_fp32
    checkpointed = estimate_training(CPU.replace(gradient_checkpointing=True), lengths(100), gpu=False)
    assert checkpointed.seconds == pytest.approx(STARTUP_S + 100 / lora_fp32 * CHECKPOINTING_FACTOR)


@pytest.mark.parametrize("changes, cpu_bf16, key", [
    ({"peft": False}, False, (False, "none")),
    ({"mixed_precision": "bf16"}, True, (True, "bf16")),
    ({"peft": False, "mixed_precision": "auto"}, True, (False, "bf16")),  # auto: what this CPU would train in
    ({"peft": False, "mixed_precision": "auto"}, False, (False, "none")),
])
def test_the_rate_is_the_one_measured_for_the_fine_tuning_and_the_precision(changes, cpu_bf16, key):
    found = estimate_training(CPU.replace(**changes), lengths(*[100] * 10), gpu=False, bf16=cpu_bf16)
    assert found.rate == CPU_TOKENS_PER_SECOND[key]
    assert found.seconds == pytest.approx(STARTUP_S + 1000 / CPU_TOKENS_PER_SECOND[key])


def test_the_estimate_counts_the_rows_a_preset_caps():
    found = estimate_training(CPU.replace(max_train_rows=40), lengths(*[10] * 100), gpu=False)
    assert (found.rows, found.tokens) == (40, 400)
    assert estimate_training(CPU.replace(max_train_rows=40, data_fraction=0.2), lengths(*[10] * 100),
                             gpu=False).rows == 20  # the share is smaller than the cap


def test_the_estimate_is_near_the_benchmarked_job():
    """The README's cpu-lora benchmark (9990 tokens, 32 rows): the estimate is within 15 % of its wall time."""
    measured = json.loads((REPO_ROOT / "benchmarks" / "results" / "training.json").read_text())
    job = measured["throughput_job"]
    rows = job["rows"]
    config = TrainingConfig.from_dict({**job["config"], "base_model": measured["model"]})  # it gave the folder
    found = estimate_training(config, lengths(*[job["tokens"] / rows] * rows), gpu=False)
    assert found.seconds == pytest.approx(job["wall_s"], rel=0.15)


@pytest.mark.parametrize("config, gpu, why", [
    (CPU.replace(backend="spaces-t4-small", hub_username="alice"), False, ON_SPACE),
    (CPU, True, ON_GPU),
    (CPU.replace(base_model="owner/bigger-model"), False, OTHER_MODEL),
])
def test_what_was_not_measured_is_not_estimated(config, gpu, why):
    found = estimate_training(config, lengths(10, 20), gpu=gpu)
    assert (found.seconds, found.unknown, found.tokens) == (None, why, 30)


def test_a_sweep_adds_its_jobs_up():
    configs = [CPU.replace(lora_r=r) for r in (8, 16)]
    found = estimate_jobs(configs, lengths(90), gpu=False)
    each = STARTUP_S + 90 / CPU_TOKENS_PER_SECOND[(True, "none")]
    assert (found.rows, found.tokens) == (2, 180) and found.seconds == pytest.approx(2 * each)
    assert estimate_jobs([*configs, CPU.replace(base_model="owner/x")], lengths(90), gpu=False).seconds is None
