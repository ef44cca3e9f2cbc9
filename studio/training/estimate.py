"""How long a training job may take, shown before it is queued: an estimate from one measurement, not a
promise.

AutoTrain packs the training rows into blocks, so the work is the tokens it sees: rows used × mean tokens per
row × epochs. The rates are the ones `make bench` measured side by side (README, Benchmarks: SmolLM2-135M-
Instruct on 2 CPU cores, LoRA or full fine-tuning, fp32 or bf16), plus the few seconds every job spends
loading the model and saving it. Nothing else was measured, so the studio says "cannot be estimated" for a
GPU, a Space backend or another base model rather than invent a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.settings import DEFAULT_MODEL
from studio.training.config import LOCAL_BACKEND, TrainingConfig, resolve_mixed_precision
from studio.training.data_input import job_rows
from studio.training.truncation import TokenLengths

# Training tokens/s, SmolLM2-135M on 2 idle CPU cores (2 torch threads), by (LoRA, precision), measured side
# by side: benchmarks/results/training.json "speeds" (bf16 where the CPU multiplies it natively: AVX512-BF16).
CPU_TOKENS_PER_SECOND = {(True, "none"): 143.4, (False, "none"): 155.6, (True, "bf16"): 227.3,
                         (False, "bf16"): 217.1}
STARTUP_S = 15.0  # the tiny-job benchmark (4 rows): start, load the model, save the adapter
CHECKPOINTING_FACTOR = 1.3  # gradient checkpointing recomputes activations: ~30 % more time on a CPU
MEASURED_MODEL = DEFAULT_MODEL

# Why there is no estimate.
ON_SPACE, ON_GPU, OTHER_MODEL = "space", "gpu", "model"


@dataclass(frozen=True)
class TrainingEstimate:
    rows: int  # training rows the job uses (its data_fraction of the data set's, at most max_train_rows)
    tokens: int  # training tokens over all epochs
    seconds: float | None  # None: not estimated, see `unknown`
    unknown: str | None = None  # ON_SPACE, ON_GPU or OTHER_MODEL
    rate: float | None = None  # the training tokens/s the seconds assume


def estimate_training(config: TrainingConfig, lengths: TokenLengths, *, gpu: bool,
                      bf16: bool = False) -> TrainingEstimate:
    """The job's training tokens and, on this 2-core-measured CPU path only, its wall-clock seconds.
    `bf16`: the CPU multiplies bfloat16 natively (what `mixed_precision: auto` then chooses)."""
    rows = job_rows(lengths.rows, config.data_fraction, config.max_train_rows)  # as write_job_data takes them
    tokens = round(float(lengths.lengths.mean()) * rows * config.epochs)
    unknown = (ON_SPACE if config.backend != LOCAL_BACKEND else ON_GPU if gpu
               else OTHER_MODEL if config.base_model != MEASURED_MODEL else None)
    precision = resolve_mixed_precision(config, has_gpu=gpu, bf16=bf16).mixed_precision
    rate = CPU_TOKENS_PER_SECOND.get((config.peft, precision))
    if unknown or rate is None:  # no rate: a precision check_runnable refuses on a CPU
        return TrainingEstimate(rows, tokens, None, unknown or ON_GPU)
    seconds = tokens / rate
    if config.gradient_checkpointing:
        seconds *= CHECKPOINTING_FACTOR
    return TrainingEstimate(rows, tokens, STARTUP_S + seconds, rate=rate)


def estimate_jobs(configs: list[TrainingConfig], lengths: TokenLengths, *, gpu: bool,
                  bf16: bool = False) -> TrainingEstimate:
    """The jobs of a form and its sweep grid together: their tokens, and their time where every one of them
    can be estimated (at the first job's rate, for the line people read)."""
    each = [estimate_training(config, lengths, gpu=gpu, bf16=bf16) for config in configs]
    unknown = next((e.unknown for e in each if e.unknown), None)
    seconds = None if unknown else sum(e.seconds for e in each)
    return TrainingEstimate(sum(e.rows for e in each), sum(e.tokens for e in each), seconds, unknown,
                            rate=None if unknown else each[0].rate)
