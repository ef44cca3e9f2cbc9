"""The trainer process: started in the AutoTrain environment, in its own process group, logging to a file.

`python -m autotrain.trainers.clm --training_config training_params.json` runs AutoTrain's trainer without
the `accelerate launch` wrapper (a faster start on a CPU). Its environment carries no secrets: no HF or
OpenAI token (AutoTrain writes tokens into files and logs), and no Space variables (AutoTrain pauses the
Space it finds in SPACE_ID, which would be the studio's own).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from studio.settings import Settings

TRAINER_MODULE = "autotrain.trainers.clm"
# Dropped from the trainer's environment: anything secret, and what makes AutoTrain act on a Space/Endpoint.
_SECRET = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|CREDENTIAL", re.IGNORECASE)
_AUTOTRAIN_TRIGGERS = ("SPACE_ID", "ENDPOINT_ID", "AUTOTRAIN_USERNAME", "PARAMS")


def trainer_command(settings: Settings, params_path: Path) -> list[str]:
    return [str(settings.autotrain_python), "-m", TRAINER_MODULE, "--training_config", str(params_path)]


def trainer_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (base if base is not None else os.environ).items()
           if not _SECRET.search(k) and k not in _AUTOTRAIN_TRIGGERS}
    env.update(
        HF_HOME=str(settings.home / "cache" / "autotrain-hf"),  # data set caches stay under STUDIO_HOME
        HF_HUB_OFFLINE="1",  # the base model is a local folder already: a local job needs no network
        HF_DATASETS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        PYTHONUNBUFFERED="1",  # the log is read live
        TOKENIZERS_PARALLELISM="false",
        WANDB_DISABLED="true",
        PAUSE_ON_FAILURE="0",
    )
    return env


def spawn(settings: Settings, params_path: Path, cwd: Path, log_path: Path) -> subprocess.Popen:
    """Start the trainer; output (stdout and stderr) goes to `log_path`. AutoTrain writes under cwd."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            trainer_command(settings, params_path), cwd=cwd, env=trainer_env(settings),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a cancel stops all it started
        )


def is_alive(pid: int | None, marker: str) -> bool:
    """Whether `pid` is still the trainer: running, not a zombie, and its command line holds `marker`
    (a recycled pid belongs to some other program)."""
    if not pid:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.parent.is_dir() and Path("/proc/self").exists():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        return state not in ("Z", "X") and marker in cmdline
    try:  # no /proc (macOS): existence only
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pid: int, marker: str, grace_s: float = 10.0) -> None:
    """SIGTERM the trainer's process group, then SIGKILL what is left after `grace_s`."""
    if not is_alive(pid, marker):
        return
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not is_alive(pid, marker):
            return
        time.sleep(0.2)
    _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the trainer leads its own group (start_new_session)
    except ProcessLookupError:
        pass
