"""How an evaluated candidate is named, in the registry and on the leaderboard: a run trained here by its
run name, a base model evaluated alone as `base:<model>`, and a Hub adapter (or merged model) evaluated here
as `hub:<owner/name>@<commit7>`. Run names are letters, digits and hyphens, so neither prefix can be taken
for one. studio.evaluate makes the labels; studio.leaderboard reads them."""

from __future__ import annotations

BASE_PREFIX = "base:"
HUB_PREFIX = "hub:"


def base_label(model: str) -> str:
    return f"{BASE_PREFIX}{model}"


def hub_label(repo_id: str, commit: str) -> str:
    """The commit is part of the name: answers remembered for an older push are never reused for a newer one."""
    return f"{HUB_PREFIX}{repo_id}@{commit[:7]}"


def candidate_kind(name: str) -> str:
    """'base' (a base model evaluated alone), 'hub' (a Hub adapter evaluated here) or 'run' (trained here)."""
    if name.startswith(BASE_PREFIX):
        return "base"
    return "hub" if name.startswith(HUB_PREFIX) else "run"


def hub_source(label: str) -> tuple[str, str]:
    """The repo id and short commit a Hub candidate's label names ('hub:owner/name@abc1234')."""
    repo, _, commit = label.removeprefix(HUB_PREFIX).rpartition("@")
    return (repo, commit) if repo else (commit, "")
