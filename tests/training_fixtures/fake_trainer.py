"""A stand-in for AutoTrain's trainer, for the queue tests: the same command line, log format and output
files as `python -m autotrain.trainers.clm --training_config FILE`, in a second and without a model.

Like AutoTrain it exits 0 even when "training" fails. It also starts a helper process in its process group,
as accelerate or data loader workers would, so tests can check that a cancel stops the whole group.
Behaviour from the environment: FAKE_TRAINER_STEPS (3), FAKE_TRAINER_STEP_S (0.05), FAKE_TRAINER_FAIL=1,
FAKE_TRAINER_NO_OUTPUT=1, FAKE_TRAINER_HELPER_PIDS (a file to append the helper's pid to).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

STAMP = "2026-11-23 10:00:00 | autotrain.trainers.common"
PREFIX = f"INFO     | {STAMP}:on_log:367 - "


def main() -> int:
    params = json.loads(Path(sys.argv[sys.argv.index("--training_config") + 1]).read_text())
    steps = int(os.environ.get("FAKE_TRAINER_STEPS", "3"))
    step_s = float(os.environ.get("FAKE_TRAINER_STEP_S", "0.05"))
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    if os.environ.get("FAKE_TRAINER_HELPER_PIDS"):
        with open(os.environ["FAKE_TRAINER_HELPER_PIDS"], "a") as handle:
            handle.write(f"{helper.pid}\n")
    try:
        print(f"INFO     | {STAMP}:on_train_begin:386 - Starting to train...")
        for step in range(1, steps + 1):
            time.sleep(step_s)
            left = steps - step
            bar = f"{100 * step // steps:3d}%|##| {step}/{steps} [00:{step:02d}<00:{left:02d}, 1.00s/it]"
            print(bar, end="", flush=True)  # the real log: the record follows the bar on the same line
            record = {"loss": round(3.0 - step / steps, 4), "grad_norm": 0.5, "learning_rate": 1e-4,
                      "epoch": step / steps}
            print(PREFIX + str(record), flush=True)
        if os.environ.get("FAKE_TRAINER_FAIL") == "1":
            print(f"ERROR    | {STAMP}:wrapper:215 - train has failed due to an exception: Traceback "
                  "(most recent call last):\n  File \"x.py\", line 1, in train\n"
                  "ValueError: boom in the fake trainer", flush=True)
            return 0
        print(PREFIX + str({"train_runtime": steps * step_s, "train_samples_per_second": 2.0,
                            "train_steps_per_second": 1.0, "train_loss": 2.5, "epoch": 1.0}), flush=True)
        if os.environ.get("FAKE_TRAINER_NO_OUTPUT") != "1":
            out = Path(params["project_name"])
            out.mkdir(exist_ok=True)
            (out / "adapter_config.json").write_text(json.dumps({"r": params["lora_r"]}))
            (out / "adapter_model.safetensors").write_bytes(b"fake")
        return 0
    finally:
        helper.kill()


if __name__ == "__main__":
    sys.exit(main())
