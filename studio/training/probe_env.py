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
            "system": platform.system(), "gpu": None, "gpu_count": 0, "gpu_memory_gib": None}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(device="cuda", gpu=props.name, gpu_count=torch.cuda.device_count(),
                    gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    bf16=torch.cuda.is_bf16_supported())
    return info


if __name__ == "__main__":
    print(json.dumps({"software": versions(), "hardware": hardware(), "executable": sys.executable}))
