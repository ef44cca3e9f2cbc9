"""Publishing a training run to the Hub: what its model card says (its configuration, data, results and
latest evaluation), and, once the push succeeded, the repo and commit recorded with the run.

The Hub layer (`studio.hub.push`) knows no runs: it pushes a `PushSource`. This module, on the training
side, builds that source from a run and writes the result back to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studio.evaluate import latest_summary
from studio.hub import PushResult, PushSource, push_run
from studio.retrieval import run_index
from studio.settings import Secret, Settings, load_settings
from studio.training.runs import get_run, record_hub_push

HIDDEN_PARAMETERS = ("project_name", "backend", "hub_username")  # say nothing about the model


def push_registered_run(
    run_ref: str,
    repo: str | None = None,
    *,
    private: bool = True,
    merged: bool = False,
    evaluation: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    token: Secret | None = None,
) -> PushResult:
    """Push a run of the registry (its latest evaluation on the card unless `evaluation` is given) and record
    the repo and commit with the run. The run is changed only once the push succeeded, so a failed push
    leaves it as it was and can simply be retried."""
    run = get_run(run_ref, settings)
    source = source_from_run(run, evaluation or latest_summary(run.name, settings), settings)
    result = push_run(source, repo, private=private, merged=merged, settings=settings, token=token)
    record_hub_push(run.name, result.url, result.commit, settings)
    return result


def source_from_run(run, evaluation: Mapping[str, Any] | None = None,
                    settings: Settings | None = None) -> PushSource:
    """A PushSource from a training run (studio.training.Run): the one place that reads a run's fields."""
    config = run.config
    return PushSource(
        folder=Path(run.adapter_path),
        name=run.name,
        base_model=run.base_model,
        base_model_path=Path(run.base_model_path),
        is_model=run.merged,
        training_yaml=config.to_yaml(),
        dataset=_hub_dataset(run.dataset_version, settings),
        dataset_version=run.dataset_version or run.dataset_ref,
        examples=run_index(run.name, settings) is not None,
        train_rows=run.train_rows,
        parameters={k: v for k, v in config.to_dict().items() if k not in HIDDEN_PARAMETERS},
        results={
            "final training loss": run.final_loss,
            "mean training loss": run.train_loss,
            "training time (s)": run.train_runtime_s,
            "tokens per second": run.tokens_per_s,
            "hardware": _hardware(run.hardware),
            "autotrain-advanced": (run.software or {}).get("autotrain-advanced"),
        },
        evaluation=evaluation,
    )




def _hub_dataset(version_id: str | None, settings: Settings | None) -> str | None:
    """The Hub id of the data a version was prepared from, if it came from the Hub."""
    from studio.data.versions import find_version

    version = find_version(version_id, settings or load_settings()) if version_id else None
    source = version.source if version else {}
    return source.get("ref") if source.get("kind") == "hub" else None


def _hardware(hardware: Mapping[str, Any] | None) -> str | None:
    if not hardware:
        return None
    if hardware.get("device") == "cuda":
        return str(hardware.get("gpu"))
    return f"CPU, {hardware.get('cpu_count')} cores"
