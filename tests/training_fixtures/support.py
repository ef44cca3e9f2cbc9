"""Shared helpers of the training tests: tiny data, a stand-in model folder, a stand-in AutoTrain trainer."""

from __future__ import annotations

import csv
import json
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.prompts import make_prompt
from studio.settings import REPO_ROOT

FIXTURES = Path(__file__).resolve().parent
REAL_AUTOTRAIN_PYTHON = REPO_ROOT / ".venv-autotrain" / "bin" / "python"


def tiny_dataset(folder: Path, column: str = "text") -> Path:
    """16 Korean Text2SQL rows as the book's prompts, in `folder/train.csv`."""
    spec = json.loads((FIXTURES / "tiny_text2sql.json").read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([column])
        writer.writerows([make_prompt(spec["ddl"], question, sql)] for question, sql in spec["pairs"])
    return folder


def fake_model(folder: Path, context: int = 512) -> Path:
    """A model folder as far as the studio's checks go (config.json); only the stand-in trainer 'loads' it."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {"model_type": "llama", "max_position_embeddings": context}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def fake_autotrain_python(folder: Path) -> Path:
    """An interpreter for STUDIO_AUTOTRAIN_PYTHON: the trainer command runs the stand-in trainer; anything
    else (the environment probe) runs in the real AutoTrain environment."""
    script = folder / "fake-autotrain-python"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "autotrain.trainers.clm" ]; then\n'
        f'  exec "{sys.executable}" "{FIXTURES / "fake_trainer.py"}" "$@"\n'
        "fi\n"
        f'exec "{REAL_AUTOTRAIN_PYTHON}" "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(scope="session")
def fake_python(tmp_path_factory) -> Path:
    """One stand-in interpreter per session (the environment probe is cached per interpreter path)."""
    return fake_autotrain_python(tmp_path_factory.mktemp("fake-autotrain"))


@pytest.fixture
def fake_autotrain(studio_home, fake_python, tmp_path, monkeypatch):
    """STUDIO_HOME with a stand-in model and data, and the stand-in trainer as AutoTrain."""
    monkeypatch.setenv("STUDIO_AUTOTRAIN_PYTHON", str(fake_python))
    monkeypatch.setenv("FAKE_TRAINER_HELPER_PIDS", str(tmp_path / "helper-pids"))
    for name in ("FAKE_TRAINER_STEPS", "FAKE_TRAINER_STEP_S", "FAKE_TRAINER_FAIL", "FAKE_TRAINER_NO_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    return {"model": fake_model(tmp_path / "model"), "data": tiny_dataset(tmp_path / "data"),
            "helper_pids": tmp_path / "helper-pids"}
