"""Describe the AutoTrain environment: package versions and the hardware its torch sees.

Runs by path inside the AutoTrain environment (never imported by the app, imports nothing from studio);
prints one JSON object.
"""

import importlib.metadata
import json
import os
import platform
import sys

PACKAGES = ("autotrain-advanced", "transformers", "peft", "trl", "torch", "accelerate", "datasets",
            "bitsandbytes")


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def hardware() -> dict:
    import torch

    info = {"device": "cpu", "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "system": platform.system(), "gpu": None, "gpu_count": 0, "gpu_memory_gib": None,
            "bf16": cpu_has_native_bf16()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(device="cuda", gpu=props.name, gpu_count=torch.cuda.device_count(),
                    gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    bf16=torch.cuda.is_bf16_supported())
    return info


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX): only then does bf16 autocast
    make CPU training faster (1.3-1.6x measured on 2 cores); without them torch emulates it, slower."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


if __name__ == "__main__":
    print(json.dumps({"software": versions(), "hardware": hardware(), "executable": sys.executable}))
