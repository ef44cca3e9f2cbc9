"""Mirror result files (the leaderboard, evaluation summaries) to a Hub data set repo and back, so a
restarted Space or another machine sees the same results. Generic on purpose: callers decide what the
files are; values that are not bytes or files are written as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from studio.errors import Phrase
from studio.hub.client import Content, PushResult, commit_files, connect, ensure_repo, hub_errors
from studio.settings import Secret, Settings, load_settings


def push_records(
    repo: str,
    files: Mapping[str, Any],
    *,
    message: str = "Update results from Text2SQL LoRA Studio",
    private: bool = True,
    settings: Settings | None = None,
    token: Secret | None = None,
    stale: Callable[[str], bool] = lambda path: False,
) -> PushResult:
    """Upload `files` (path in repo -> bytes, a file Path, or anything JSON-serialisable) to the data set
    repo `repo` in one commit; unchanged files are not committed again. Other files in the repo stay,
    except those for which `stale(path)` is true: they are deleted in the same commit."""
    session = connect(settings, token)
    repo_id = session.full_repo_id(repo)
    encoded = {path: _encode(value) for path, value in files.items()}
    ensure_repo(session, repo_id, repo_type="dataset", private=private)
    return commit_files(session, repo_id, encoded, message=message, repo_type="dataset", stale=stale)


def pull_records(
    repo: str,
    *,
    patterns: Sequence[str] | None = None,
    settings: Settings | None = None,
    token: Secret | None = None,
    missing_ok: bool = False,
) -> Path | None:
    """Download the data set repo `repo` (owner/name; only `patterns` if given) into STUDIO_HOME's Hub
    cache and return its folder (None when it does not exist and `missing_ok`). A public repo needs no
    token."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError

    settings = settings or load_settings()
    token = token or settings.hf_token
    action = Phrase("downloading {repo}", key="hub_act_download", repo=repo)
    with hub_errors(action, settings.hub_endpoint, repo):
        try:
            path = snapshot_download(repo, repo_type="dataset", cache_dir=settings.home / "cache" / "hub",
                                     allow_patterns=list(patterns) if patterns else None,
                                     token=token.reveal() if token else None, endpoint=settings.hub_endpoint)
        except RepositoryNotFoundError:
            if missing_ok:
                return None
            raise
    return Path(path)


def _encode(value: Any) -> Content:
    if isinstance(value, (bytes, Path)):
        return value
    if isinstance(value, str):
        return value.encode()
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
