"""How long a training job may take, shown before it is queued: an estimate from one measurement, not a
promise.

AutoTrain packs the training rows into blocks, so the work is the tokens it sees: rows used × mean tokens per
row × epochs. The rate is the one `make bench` measured (README, Benchmarks: ~90 training tokens/s for
SmolLM2-135M-Instruct with LoRA r16, fp32, on 2 CPU cores), plus the few seconds every job spends loading
the model and saving the adapter. Nothing else was measured, so the studio says "cannot be estimated" for a
GPU, a Space backend or another base model rather than invent a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.settings import DEFAULT_MODEL
from studio.training.config import LOCAL_BACKEND, TrainingConfig
from studio.training.data_input import job_rows
from studio.training.truncation import TokenLengths

CPU_TOKENS_PER_SECOND = 90.0  # benchmarks/results: training speed, SmolLM2-135M, LoRA r16, fp32, 2 cores
STARTUP_S = 15.0  # the tiny-job benchmark (4 rows): start, load the model, save the adapter
CHECKPOINTING_FACTOR = 1.3  # gradient checkpointing recomputes activations: ~30 % more time on a CPU
MEASURED_MODEL = DEFAULT_MODEL

# Why there is no estimate.
ON_SPACE, ON_GPU, OTHER_MODEL, FULL = "space", "gpu", "model", "full"


@dataclass(frozen=True)
class TrainingEstimate:
    rows: int  # training rows the job uses (its data_fraction of the data set's, at most max_train_rows)
    tokens: int  # training tokens over all epochs
    seconds: float | None  # None: not estimated, see `unknown`
    unknown: str | None = None  # ON_SPACE, ON_GPU or OTHER_MODEL


def estimate_training(config: TrainingConfig, lengths: TokenLengths, *, gpu: bool) -> TrainingEstimate:
    """The job's training tokens and, on this 2-core-measured CPU path only, its wall-clock seconds."""
    rows = job_rows(lengths.rows, config.data_fraction, config.max_train_rows)  # as write_job_data takes them
    tokens = round(float(lengths.lengths.mean()) * rows * config.epochs)
    unknown = (ON_SPACE if config.backend != LOCAL_BACKEND else ON_GPU if gpu
               else OTHER_MODEL if config.base_model != MEASURED_MODEL else None if config.peft else FULL)
    if unknown:
        return TrainingEstimate(rows, tokens, None, unknown)
    seconds = tokens / CPU_TOKENS_PER_SECOND
    if config.gradient_checkpointing:
        seconds *= CHECKPOINTING_FACTOR
    return TrainingEstimate(rows, tokens, STARTUP_S + seconds)


def estimate_jobs(configs: list[TrainingConfig], lengths: TokenLengths, *, gpu: bool) -> TrainingEstimate:
    """The jobs of a form and its sweep grid together: their tokens, and their time where every one of them
    can be estimated."""
    each = [estimate_training(config, lengths, gpu=gpu) for config in configs]
    unknown = next((e.unknown for e in each if e.unknown), None)
    seconds = None if unknown else sum(e.seconds for e in each)
    return TrainingEstimate(sum(e.rows for e in each), sum(e.tokens for e in each), seconds, unknown)
