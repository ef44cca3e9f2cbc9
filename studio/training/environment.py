"""What the AutoTrain environment is: its package versions and the hardware it trains on.

Found by running `probe_env.py` in that environment (the app never imports AutoTrain), once per process.
Runs record it; validation uses it (no GPU, no quantization); the Train tab shows it.
"""

from __future__ import annotations

import functools
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.settings import Settings, load_settings
from studio.training.logparse import loss_scale

PROBE = Path(__file__).with_name("probe_env.py")


@dataclass(frozen=True)
class AutoTrainEnv:
    python: Path
    software: dict[str, str | None]
    hardware: dict[str, Any]

    @property
    def has_gpu(self) -> bool:
        return self.hardware.get("device") == "cuda"

    @property
    def bf16(self) -> bool:
        """The device multiplies bfloat16 natively (a CPU with AVX512-BF16/AMX, an Ampere+ GPU)."""
        return bool(self.hardware.get("bf16"))

    def describe(self) -> str:
        """One line for people: 'GPU: NVIDIA H100 (79.2 GiB)' or 'CPU: 2 cores (x86_64)'."""
        hw = self.hardware
        if self.has_gpu:
            return f"GPU: {hw['gpu']} ({hw['gpu_memory_gib']} GiB)" + (
                f" × {hw['gpu_count']}" if hw.get("gpu_count", 1) > 1 else "")
        return f"CPU: {hw.get('cpu_count')} cores ({hw.get('machine')}{', native bf16' if self.bf16 else ''})"

    def loss_scale(self, gradient_accumulation: int) -> float:
        """By how much this environment's trainer over-reports the loss (see logparse.loss_scale)."""
        return loss_scale(self.software.get("transformers"), gradient_accumulation)


def autotrain_env(settings: Settings | None = None) -> AutoTrainEnv:
    settings = settings or load_settings()
    return _probe(str(settings.autotrain_python))


@functools.lru_cache(maxsize=4)
def _probe(python: str) -> AutoTrainEnv:
    if not Path(python).exists():
        raise StudioError("the AutoTrain environment ({python}) is missing; run `make envs`",
                          key="autotrain_env_missing", python=python)
    done = subprocess.run([python, str(PROBE)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise StudioError("the AutoTrain environment ({python}) does not work: {error}",
                          key="autotrain_env_broken", python=python, error=last)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return AutoTrainEnv(python=Path(python), software=found["software"], hardware=found["hardware"])
