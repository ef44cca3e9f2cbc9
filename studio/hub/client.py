"""The studio's one way to talk to the Hub: an `HfApi` bound to the configured endpoint and token, the
caller's namespaces, one idempotent commit, and Hub failures turned into messages users can act on.

The endpoint is passed explicitly (never read from `huggingface_hub`'s import-time constants), so a
mirror, or a local stand-in in tests, works in the same process.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from studio.errors import Phrase, StudioError
from studio.settings import Secret, Settings, load_settings

try:  # the HTTP library behind huggingface_hub 2.x; 1.x used httpx
    from httpx2 import TransportError
except ImportError:  # pragma: no cover - depends on the installed huggingface_hub
    from httpx import TransportError

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")
TOKENS_PAGE = "https://huggingface.co/settings/tokens"
# What a file in a commit holds: a file on disk, or the bytes themselves (model card, JSON, rewritten config).
Content = Path | bytes


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    repo_type: str
    url: str  # the repo's page
    commit: str  # the commit sha the repo is at after the push
    changed: bool  # False when the Hub already held exactly these files (nothing was committed)
    files: tuple[str, ...]  # the paths pushed


@dataclass(frozen=True)
class HubSession:
    """A checked connection: the token works, and it belongs to `user` (member of `orgs`)."""

    api: object  # huggingface_hub.HfApi, imported lazily (it is slow to import)
    endpoint: str
    user: str
    orgs: tuple[str, ...]

    def full_repo_id(self, repo: str) -> str:
        """`owner/name` as given, or `name` in the user's own namespace."""
        repo_id = repo.strip().strip("/")
        if "/" not in repo_id:
            repo_id = f"{self.user}/{repo_id}"
        if not REPO_ID.match(repo_id):
            raise StudioError("{repo!r} is not a valid repo name: use owner/name with letters, digits, - _ .",
                              key="hub_bad_repo_name", repo=repo)
        return repo_id

    def check_owner(self, repo_id: str) -> None:
        """Refuse before any upload when the namespace is someone else's (the Hub would answer 403)."""
        namespace, name = repo_id.split("/")
        if namespace not in (self.user, *self.orgs):
            raise StudioError(
                "{repo} belongs to {namespace!r}, and your token is {user!r}'s: "
                "choose a name in your own namespace, e.g. {user}/{name}",
                key="hub_not_your_namespace", repo=repo_id, namespace=namespace, user=self.user, name=name)

    def repo_url(self, repo_id: str, repo_type: str = "model") -> str:
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        return f"{self.endpoint}/{prefix}{repo_id}"


def connect(settings: Settings | None = None, token: Secret | None = None) -> HubSession:
    """An authenticated session, or a StudioError saying why not (no token, rejected token, no network)."""
    from huggingface_hub import HfApi

    settings = settings or load_settings()
    token = token or settings.hf_token
    if not token:
        raise StudioError("no Hugging Face token: set HF_TOKEN to a token with write access ({page})",
                          key="hub_no_token", page=TOKENS_PAGE)
    api = HfApi(endpoint=settings.hub_endpoint, token=token.reveal(), library_name="text2sql-lora-studio")
    action = Phrase("checking the Hugging Face token", key="hub_act_check_token")
    with hub_errors(action, settings.hub_endpoint):
        me = api.whoami()
    orgs = tuple(org["name"] for org in me.get("orgs") or [])
    return HubSession(api=api, endpoint=settings.hub_endpoint, user=me["name"], orgs=orgs)


def ensure_repo(session: HubSession, repo_id: str, *, repo_type: str = "model", private: bool = True,
                **options) -> None:
    """Create the repo unless it exists; `private` and `options` apply to a new repo only."""
    session.check_owner(repo_id)
    with hub_errors(Phrase("creating {repo}", key="hub_act_create", repo=repo_id), session.endpoint, repo_id):
        session.api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, **options)


def commit_files(
    session: HubSession,
    repo_id: str,
    files: Mapping[str, Content],
    *,
    message: str,
    repo_type: str = "model",
    stale: Callable[[str], bool] = lambda path: False,
) -> PushResult:
    """Bring the repo to `files` in one commit. Unchanged files are not sent again and nothing is
    committed when nothing changed, so a push can be repeated safely after a failure. Remote files not
    in `files` for which `stale(path)` is true are deleted in the same commit."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    api = session.api
    with hub_errors(Phrase("pushing to {repo}", key="hub_act_push", repo=repo_id), session.endpoint, repo_id):
        before = api.repo_info(repo_id, repo_type=repo_type)
        remote = {sibling.rfilename for sibling in before.siblings or []}
        operations = [CommitOperationAdd(path, _source(content)) for path, content in sorted(files.items())]
        operations += [CommitOperationDelete(path) for path in sorted(remote - set(files)) if stale(path)]
        info = api.create_commit(repo_id, operations, commit_message=message, repo_type=repo_type)
    return PushResult(repo_id=repo_id, repo_type=repo_type, url=session.repo_url(repo_id, repo_type),
                      commit=info.oid, changed=info.oid != before.sha, files=tuple(sorted(files)))


def download_repo(repo_id: str, settings: Settings, *, revision: str | None = None) -> Path:
    """A model repo's files at `revision` (a commit; the newest when None), downloaded once into the Hub cache
    under STUDIO_HOME where studio.models keeps its Hub downloads. A commit's files, once there, are found
    without asking the Hub, so they load offline too."""
    from huggingface_hub import snapshot_download

    token = settings.hf_token.reveal() if settings.hf_token else None
    action = Phrase("downloading {repo}", key="hub_act_download", repo=repo_id)
    with hub_errors(action, settings.hub_endpoint, repo_id):
        return Path(snapshot_download(repo_id, revision=revision, cache_dir=settings.home / "cache" / "hub",
                                      token=token, endpoint=settings.hub_endpoint))


def matches_any(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    return lambda path: any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


def _source(content: Content) -> str | bytes:
    return str(content) if isinstance(content, Path) else content


@contextmanager
def hub_errors(action: Phrase, endpoint: str, repo_id: str | None = None) -> Iterator[None]:
    """Turn the client's exceptions into one StudioError sentence. Nothing is half-done when they happen
    (a commit is atomic on the Hub), so the same call can simply be retried once the cause is fixed."""
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    try:
        yield
    except StudioError:
        raise
    except OfflineModeIsEnabled:
        raise StudioError("{action} failed: HF_HUB_OFFLINE=1 is set, so the Hub may not be contacted",
                          key="hub_offline_mode", action=action) from None
    except RepositoryNotFoundError:
        if not repo_id:
            raise StudioError("{action} failed: the repo was not found, or your token cannot see it",
                              key="hub_repo_not_found_unnamed", action=action) from None
        raise StudioError("{action} failed: {repo} was not found, or your token cannot see it",
                          key="hub_repo_not_found", action=action, repo=repo_id) from None
    except HfHubHTTPError as exc:
        raise StudioError("{action} failed: {reason}", key="hub_http_error", action=action,
                          reason=_explain(exc, repo_id)) from None
    except LocalEntryNotFoundError:
        raise StudioError("{action} failed: it is not cached here and the Hub at {endpoint} cannot be "
                          "reached", key="hub_not_cached", action=action, endpoint=endpoint) from None
    except (TransportError, ConnectionError, TimeoutError) as exc:
        raise StudioError("{action} failed: the Hub at {endpoint} cannot be reached ({error}); "
                          "check the network and retry", key="hub_unreachable", action=action,
                          endpoint=endpoint, error=exc) from None


def _explain(exc, repo_id: str | None) -> StudioError:
    """Why the Hub said no: the end of a message, as a StudioError so that the UI translates it with it."""
    status = exc.response.status_code if exc.response is not None else None
    server = (exc.server_message or "").strip().rstrip(".")
    if status == 401:
        return StudioError("the Hub rejected the token (401): it is invalid or expired; create one at {page}",
                           key="hub_token_rejected", page=TOKENS_PAGE)
    if status == 403:
        return StudioError("the token may not write to {repo} (403: {server}); "
                           "use a token with write access ({page}) in a namespace you own",
                           key="hub_forbidden", repo=repo_id or "this repo", server=server or "forbidden",
                           page=TOKENS_PAGE)
    if status == 402:
        return StudioError("the Hub asks for payment (402: {server}); choose free hardware or add billing",
                           key="hub_payment_required", server=server)
    return StudioError("the Hub answered {status}: {server}", key="hub_http_status", status=status,
                       server=server or exc)
