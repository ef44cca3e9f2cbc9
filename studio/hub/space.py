"""Deploy the studio as a Hugging Face Space (Docker SDK): create or update the Space, set its secrets
and variables from this environment, upload the project, and request hardware.

The Space's repo mirrors the project: `spaces/README.md` becomes its README.md (the Space card) and
`spaces/Dockerfile` its Dockerfile; files the project no longer has are deleted from the Space.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from studio.errors import Phrase, StudioError
from studio.hub.client import PushResult, commit_files, connect, ensure_repo, hub_errors
from studio.settings import REPO_ROOT, Secret, Settings, load_settings

# What the Space needs to build and run: the app, the AutoTrain configs and the environment recipe.
PROJECT_PATHS = ("app.py", "studio", "evaluation", "autotrain_configs", "scripts", "spaces/start.sh",
                 "requirements.txt", "requirements-autotrain.txt", "requirements.in", "pyproject.toml",
                 "Makefile")
SPACE_FILES = {"README.md": "spaces/README.md", "Dockerfile": "spaces/Dockerfile"}  # in the Space: here
SKIPPED = ("__pycache__", "*.pyc", ".DS_Store", "*.egg-info")


@dataclass(frozen=True)
class DeployResult:
    push: PushResult
    secrets: tuple[str, ...]  # names of the secrets set (values are never returned)
    variables: dict[str, str]
    hardware: str | None


def space_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Path in the Space -> file in the project."""
    files: dict[str, Path] = {}
    for entry in PROJECT_PATHS:
        path = root / entry
        if not path.exists():
            raise StudioError("{path} is missing: deploy from a complete checkout of the project",
                              key="deploy_file_missing", path=path)
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in candidates:
            relative = file.relative_to(root)
            if not any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in SKIPPED):
                files[relative.as_posix()] = file
    files.update({target: root / source for target, source in SPACE_FILES.items()})
    return files


def deploy_space(
    space: str,
    *,
    hardware: str | None = None,
    private: bool = False,
    settings: Settings | None = None,
    token: Secret | None = None,
    root: Path = REPO_ROOT,
) -> DeployResult:
    """Create or update the Space `space` (owner/name, or name in the token's namespace)."""
    settings = settings or load_settings()
    files = space_files(root)
    session = connect(settings, token)
    space_id = session.full_repo_id(space)
    ensure_repo(session, space_id, repo_type="space", private=private, space_sdk="docker")
    secrets = _secrets(settings)
    # Without admins nobody could train on the Space: the person deploying it is the default admin.
    variables = {"STUDIO_ADMINS": ",".join(settings.admins) or session.user}
    if settings.openai_base_url:
        variables["OPENAI_BASE_URL"] = settings.openai_base_url
    if settings.results_repo:  # the Space mirrors its leaderboard where this studio does
        variables["STUDIO_RESULTS_REPO"] = settings.results_repo
    api = session.api
    with hub_errors(Phrase("configuring the Space {space}", key="hub_act_configure_space", space=space_id),
                    session.endpoint, space_id):
        for key, secret in secrets.items():  # before the upload, so the first build already has them
            api.add_space_secret(space_id, key, secret.reveal())
        for key, value in variables.items():
            api.add_space_variable(space_id, key, value)
    push = commit_files(session, space_id, files, message="Deploy Text2SQL LoRA Studio", repo_type="space",
                        stale=lambda path: path != ".gitattributes")
    if hardware:
        with hub_errors(Phrase("requesting {hardware} for {space}", key="hub_act_request_hardware",
                               hardware=hardware, space=space_id), session.endpoint, space_id):
            api.request_space_hardware(space_id, hardware)
    return DeployResult(push=push, secrets=tuple(secrets), variables=variables, hardware=hardware)


def _secrets(settings: Settings) -> dict[str, Secret]:
    found = {"HF_TOKEN": settings.hf_token, "OPENAI_API_KEY": settings.openai_api_key}
    return {key: value for key, value in found.items() if value}
