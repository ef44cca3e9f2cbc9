"""The Hugging Face Hub: push adapters with model cards, mirror results, deploy the studio as a Space.

    from studio.hub import PushSource, push_run
    result = push_run(PushSource(folder=adapter_dir, name="my-run", base_model="smollm2-135m-instruct"),
                      "alice/text2sql-lora")
    result.url, result.commit        # studio.training.publish pushes a run and records them with it

This layer knows no training runs (tests/test_boundaries.py): a run becomes a PushSource on the training side.

With STUDIO_RESULTS_REPO set, the leaderboard's records are mirrored to that data set repo and imported back
at start (studio.hub.results), so a restarted Space or another machine sees the same results.

Loading an adapter or a merged model back by repo id lives in studio.models (`resolve_adapter`,
`resolve_model`). Every function takes the endpoint and token from the settings (HF_ENDPOINT, HF_TOKEN)
and raises StudioError with a message for people when the Hub says no or cannot be reached.
"""

from studio.hub.client import HubSession, PushResult, connect
from studio.hub.mirror import pull_records, push_records
from studio.hub.push import PushSource, push_run, suggest_repo_name
from studio.hub.results import (
    ResultsMirror,
    notify_results_changed,
    pull_results,
    push_results,
    push_results_now,
    start_results_mirror,
)
from studio.hub.space import DeployResult, deploy_space, space_files

__all__ = [
    "DeployResult", "HubSession", "PushResult", "PushSource", "ResultsMirror", "connect", "deploy_space",
    "notify_results_changed", "pull_records", "pull_results", "push_records", "push_results", "push_results_now",
    "push_run", "space_files", "start_results_mirror", "suggest_repo_name",
]
