"""Every path, default and secret lookup of the studio, in one place.

Secrets (HF token, OpenAI key) are read from the environment when needed and wrapped in `Secret`, whose
repr never shows the value, so they cannot leak into logs, tracebacks or the UI by accident. Nothing
here writes them anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from studio.errors import StudioError

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MODEL = "smollm2-135m-instruct"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_HUB_ENDPOINT = "https://huggingface.co"


class Secret:
    """A secret value that prints as `Secret(***)` and is only readable through `.reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def _secret(name: str) -> Secret | None:
    value = os.environ.get(name, "").strip()
    return Secret(value) if value else None


@dataclass(frozen=True)
class Settings:
    """The studio's configuration, read from the environment (see README, "Settings")."""

    home: Path
    autotrain_python: Path
    admins: tuple[str, ...] = field(default_factory=tuple)
    openai_base_url: str | None = None
    hub_endpoint: str = DEFAULT_HUB_ENDPOINT  # HF_ENDPOINT: a Hub mirror, or a local stand-in in tests
    # STUDIO_RESULTS_REPO: a Hub data set repo (owner/name) mirroring the leaderboard's records, so a
    # restarted Space or another machine sees the same results; None: results stay on this machine.
    results_repo: str | None = None
    # Anonymous Playground users on a shared deployment: at most this many new tokens per answer, and this
    # many answers per minute each (STUDIO_PLAYGROUND_MAX_TOKENS, STUDIO_PLAYGROUND_PER_MINUTE).
    playground_max_new_tokens: int = 128
    playground_per_minute: int = 6  # the defaults are repeated in load_settings
    # STUDIO_MAX_UPLOAD_MB: the largest file the page accepts; None: the default for the deployment
    # (studio.access.max_upload_bytes: 200 MB locally, 50 MB shared).
    max_upload_mb: int | None = None

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def registry_path(self) -> Path:
        return self.home / "studio.sqlite"

    @property
    def hf_token(self) -> Secret | None:
        return _secret("HF_TOKEN")

    @property
    def openai_api_key(self) -> Secret | None:
        return _secret("OPENAI_API_KEY")

    @property
    def basic_auth(self) -> Secret | None:
        """STUDIO_AUTH, `user:password[,user:password]`: password sign-in when the app is exposed."""
        return _secret("STUDIO_AUTH")

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


def load_settings() -> Settings:
    """Read the settings from the environment; cheap, so call it where needed instead of caching."""
    home = Path(os.environ.get("STUDIO_HOME", "workspace")).expanduser().resolve()
    autotrain_python = Path(
        os.environ.get("STUDIO_AUTOTRAIN_PYTHON", REPO_ROOT / ".venv-autotrain" / "bin" / "python")
    )
    admins = tuple(a.strip() for a in os.environ.get("STUDIO_ADMINS", "").split(",") if a.strip())
    return Settings(
        home=home,
        autotrain_python=autotrain_python,
        admins=admins,
        openai_base_url=os.environ.get("OPENAI_BASE_URL") or None,
        hub_endpoint=(os.environ.get("HF_ENDPOINT") or DEFAULT_HUB_ENDPOINT).rstrip("/"),
        results_repo=os.environ.get("STUDIO_RESULTS_REPO", "").strip().strip("/") or None,
        playground_max_new_tokens=_positive_int("STUDIO_PLAYGROUND_MAX_TOKENS", 128),
        playground_per_minute=_positive_int("STUDIO_PLAYGROUND_PER_MINUTE", 6),
        max_upload_mb=_positive_int("STUDIO_MAX_UPLOAD_MB", None),
    )


def _positive_int(name: str, default: int | None) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise StudioError("{name} must be a whole number of at least 1, not {text!r}",
                          key="setting_not_count", name=name, text=text)
    return int(text)
