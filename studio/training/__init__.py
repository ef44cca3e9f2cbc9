"""Training: AutoTrain LLM SFT jobs with LoRA, queued, watched live, and recorded as runs.

The app talks to AutoTrain only through files (a YAML / training_params.json in, an adapter and a log out)
and a subprocess in the AutoTrain environment. What other parts of the studio use:

    from studio.training import list_runs, get_run
    for run in list_runs():            # newest first
        run.name, run.base_model_path, run.adapter_path, run.dataset_version, run.final_loss
"""

from studio.training.config import ConfigError, TrainingConfig
from studio.training.jobs import Job
from studio.training.presets import list_presets, load_configs, load_sweep
from studio.training.runs import Run, get_run, list_runs
from studio.training.submit import cancel, reproduce, submit
from studio.training.worker import Worker, ensure_background_worker

__all__ = [
    "ConfigError", "Job", "Run", "TrainingConfig", "Worker", "cancel", "ensure_background_worker", "get_run",
    "list_presets", "list_runs", "load_configs", "load_sweep", "reproduce", "submit",
]
