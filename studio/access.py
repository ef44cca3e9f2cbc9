"""Who may do what: the local laptop, and a shared deployment.

Locally (bound to loopback, no share link) the person at the keyboard may do everything. On a shared
deployment (a Space, `--host` other than loopback, or `--share`), only signed-in users listed in
STUDIO_ADMINS may start training, push to the Hub, delete runs or spend judge credits; everyone else may
browse and use the Playground. Handlers call `require_admin` themselves, on the server, so the rule also
holds when Gradio's API is called without the UI.

Sign-in is Hugging Face OAuth on a Space (`hf_oauth: true` in the Space card; the Space sets
OAUTH_CLIENT_ID) or passwords (STUDIO_AUTH=user:password[,user:password], for gradio's `auth=`; with
passwords and no STUDIO_ADMINS, every signed-in user is an admin). Exposing the app without either is
refused. This module imports no Gradio: it reads `.username` from what handlers pass (a `gr.Request`
under password sign-in, a `gr.OAuthProfile` under OAuth).

The Playground is open to guests, but on a shared deployment a guest's answers are capped (new tokens per
answer, answers per minute; `playground_tokens`) so one visitor cannot keep the machine busy for everyone.
Every field that names a model, tokenizer, adapter, preset or data source accepts only what the app lists
(`require_offered`): a Hub id typed in would make the server download it (admins may), and a server path
would let the page read the server's disk (the command line takes paths; the page on a shared deployment
takes none, from anyone). studio.guest_policy decides each endpoint's policy.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from studio.errors import Phrase, StudioError
from studio.models import is_hub_id
from studio.settings import DEFAULT_HOST, Settings, load_settings

log = logging.getLogger("studio.access")

OAUTH, PASSWORD = "oauth", "password"


class AccessDenied(StudioError):
    """The caller may not do this on a shared deployment."""


# What only admins may do on a shared deployment, as a refusal names it (pieces of its sentence, translated
# with it in the UI).
START_TRAINING = Phrase("start training", key="action_start_training")
CANCEL_TRAINING = Phrase("cancel training", key="action_cancel_training")
DELETE_RUNS = Phrase("delete runs", key="action_delete_runs")
SPEND_JUDGE_CREDITS = Phrase("spend judge credits", key="action_spend_judge_credits")
PUSH_TO_HUB = Phrase("push to the Hugging Face Hub", key="action_push_to_hub")
RUN_EVALUATIONS = Phrase("run evaluations", key="action_run_evaluations")
SAVE_DATA = Phrase("save data set versions", key="action_save_data")
LOAD_HUB_DATA = Phrase("load data sets from the Hugging Face Hub", key="action_load_hub_data")
EXPORT_MODELS = Phrase("export models", key="action_export_models")
USE_SERVERS = Phrase("generate through a server of your choice", key="action_use_servers")

# What a field names, as a refusal says it.
MODEL = Phrase("model", key="kind_model")
ADAPTER = Phrase("adapter", key="kind_adapter")
DATA_SET = Phrase("data set", key="kind_data_set")
PRESET = Phrase("preset", key="kind_preset")
DATABASE = Phrase("database", key="kind_database")


class RateLimited(StudioError):
    """A guest asked for more Playground answers than a minute allows."""

    def __init__(self, limit: int, retry_after: int):
        super().__init__(f"guests may get at most {limit} answers a minute on this shared deployment: "
                         f"try again in {retry_after} s, or sign in")
        self.limit, self.retry_after = limit, retry_after


def not_offered(kind: Phrase, ref: str) -> AccessDenied:
    """A guest asked for a model, adapter, preset or data set the app does not list."""
    return AccessDenied("Guests may only use the {kind}s listed here: ‘{ref}’ is not one of them. Pick one from "
                        "the list, or sign in as an admin.", key="guest_not_offered", kind=kind, ref=ref)


def path_refused(kind: Phrase, ref: str) -> AccessDenied:
    """A server path given to the page of a shared deployment: the command line takes paths, the page not."""
    return AccessDenied("On a shared deployment the page takes no server paths (‘{ref}’ as the {kind}): pick a "
                        "listed {kind} (admins may also give a Hub id), or use the command line on the server.",
                        key="shared_no_paths", kind=kind, ref=ref)


@dataclass(frozen=True)
class AccessPolicy:
    shared: bool  # reachable by others: a Space, a non-loopback host or a share link
    sign_in: str | None  # OAUTH | PASSWORD | None
    admins: tuple[str, ...]
    where: str  # for messages: "this Space", "0.0.0.0:7860", ...

    def allows(self, user: str | None) -> bool:
        if not self.shared:
            return True
        if user is None:
            return False
        if self.sign_in == PASSWORD and not self.admins:
            return True  # STUDIO_AUTH alone: the operator gave a password to trusted people only
        return user.casefold() in {admin.casefold() for admin in self.admins}

    def refusal(self, user: str | None, action: Phrase) -> AccessDenied:
        if user is None and self.sign_in == OAUTH:
            return AccessDenied("only the studio's admins may {action} on this shared deployment: sign in "
                                "with Hugging Face (the Sign in button)", key="admin_only_sign_in_hf",
                                action=action)
        if user is None:
            return AccessDenied("only the studio's admins may {action} on this shared deployment: sign in "
                                "first", key="admin_only_sign_in", action=action)
        if not self.admins:
            return AccessDenied("only the studio's admins may {action} on this shared deployment, and it has "
                                "none: its operator sets STUDIO_ADMINS", key="admin_only_none", action=action)
        return AccessDenied("only the studio's admins may {action} on this shared deployment, and {user} is "
                            "not one of them (STUDIO_ADMINS)", key="admin_only_not_admin", action=action,
                            user=user)


_policy: AccessPolicy | None = None  # set once by `configure` when the app starts


def policy_for(host: str = DEFAULT_HOST, share: bool = False, settings: Settings | None = None) -> AccessPolicy:
    settings = settings or load_settings()
    on_space = bool(os.environ.get("SPACE_ID"))
    if on_space and os.environ.get("OAUTH_CLIENT_ID"):
        sign_in = OAUTH
    elif settings.basic_auth:
        sign_in = PASSWORD
    else:
        sign_in = None
    where = "this Space" if on_space else "a public share link" if share else f"{host} (not loopback)"
    return AccessPolicy(shared=on_space or share or not is_loopback(host), sign_in=sign_in,
                        admins=settings.admins, where=where)


def check_exposure(policy: AccessPolicy) -> None:
    """Refuse to serve others without sign-in: they could train, push to your Hub account, spend credits."""
    if policy.shared and policy.sign_in is None:
        raise StudioError(
            "refusing to serve the studio on {where} without sign-in: anyone reaching it could start "
            "training, push to your Hub account and spend judge credits. Set STUDIO_AUTH=user:password "
            "(and STUDIO_ADMINS=user), or deploy it as a Space with hf_oauth: true, or serve on 127.0.0.1",
            key="access_no_sign_in", where=policy.where)
    if policy.shared and not policy.admins and policy.sign_in == OAUTH:
        log.warning("STUDIO_ADMINS is empty: nobody may train or push on this Space")


def configure(host: str = DEFAULT_HOST, share: bool = False, settings: Settings | None = None) -> AccessPolicy:
    """Decide the policy for this process when the app starts; StudioError if the exposure is refused."""
    global _policy
    policy = policy_for(host, share, settings)
    check_exposure(policy)
    _policy = policy
    return policy


def check_oauth_support() -> None:
    """Gradio's Hugging Face sign-in (gr.LoginButton) needs its `oauth` extra installed."""
    missing = [name for name in ("authlib", "itsdangerous") if importlib.util.find_spec(name) is None]
    if missing:
        raise StudioError("Hugging Face sign-in needs {missing}: install gradio[oauth] "
                          "(add it to requirements.in and re-lock)", key="access_oauth_missing",
                          missing=" and ".join(missing))


def current_policy() -> AccessPolicy:
    return _policy or policy_for()


def signed_in_user(*identities) -> str | None:
    """The user name carried by a gr.Request (password sign-in) or a gr.OAuthProfile, if any."""
    for identity in identities:
        name = getattr(identity, "username", None)
        if name:
            return str(name)
    return None


def is_admin(*identities) -> bool:
    """Whether the caller may do protected things (to show or hide controls; handlers still check)."""
    return current_policy().allows(signed_in_user(*identities))


def require_admin(*identities, action: Phrase) -> str:
    """Call first in every handler that trains, pushes, deletes or spends credits: returns the user's
    name ("local" on a local app), or raises AccessDenied with a message for people."""
    policy = current_policy()
    user = signed_in_user(*identities)
    if policy.allows(user):
        return user or "local"
    log.warning("refused to let %s %s", user or "an anonymous caller", action)
    raise policy.refusal(user, action)


LOCAL_UPLOAD_MB, SHARED_UPLOAD_MB = 200, 50


def max_upload_bytes(policy: AccessPolicy, settings: Settings | None = None) -> int:
    """The largest file the page accepts (Gradio's `max_file_size`; a larger upload is refused whole with a
    413, before the app sees it): STUDIO_MAX_UPLOAD_MB, else 200 MB locally and 50 MB on a shared
    deployment, where a guest's upload fills the server's disk for everyone."""
    settings = settings or load_settings()
    megabytes = settings.max_upload_mb or (SHARED_UPLOAD_MB if policy.shared else LOCAL_UPLOAD_MB)
    return megabytes * 1024 * 1024


def password_logins(settings: Settings | None = None) -> list[tuple[str, str]]:
    """STUDIO_AUTH as gradio's `auth=` list of (user, password)."""
    secret = (settings or load_settings()).basic_auth
    if not secret:
        return []
    logins = []
    for entry in secret.reveal().split(","):
        user, _, password = entry.strip().partition(":")
        if not user or not password:
            raise StudioError("STUDIO_AUTH must be user:password, several separated by commas",
                              key="access_bad_auth")
        logins.append((user, password))
    return logins


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0-like address: assume others can reach it


# --- Playground limits for guests ------------------------------------------------------------------------


class RateLimiter:
    """At most `limit` events per key in any `window_s` seconds: a sliding window, in this process's memory."""

    def __init__(self, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.window_s, self.clock = window_s, clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, limit: int) -> None:
        """Count one event for `key`, or raise RateLimited (counting nothing) when it already had `limit`."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= limit:
                raise RateLimited(limit, max(1, math.ceil(events[0] + self.window_s - now)))
            events.append(now)
            if len(self._events) > 10_000:  # forget callers that have gone quiet
                self._events = {k: v for k, v in self._events.items() if v and v[-1] > now - self.window_s}


_playground = RateLimiter()


def caller_address(request) -> str | None:
    """The network address of a caller (a gr.Request), to tell guests apart. On a Space the app sits behind
    the Hub's proxy: the client is the last X-Forwarded-For entry, the one the proxy added (a client can
    forge the earlier ones)."""
    headers = getattr(request, "headers", None) or {}
    forwarded = headers.get("x-forwarded-for", "") if os.environ.get("SPACE_ID") else ""
    if forwarded.strip():
        return forwarded.split(",")[-1].strip()
    client = getattr(request, "client", None)
    return getattr(client, "host", None)


def require_offered(ref: str | None, offered: Callable[[], Collection[str]], *identities, kind: Phrase,
                    hub: bool = True) -> None:
    """Hold a field that names a `kind` (MODEL, ADAPTER, DATA_SET, PRESET) to what the app lists, on a
    shared deployment; locally any reference passes (the person at the keyboard owns the disk). There:
    - a reference `offered()` lists passes for everyone;
    - a Hub id (owner/name) passes for admins where the field takes one (`hub`), since resolving it
      downloads the repo (the server's disk and time, and a model nobody chose to host): refused for guests;
    - anything else may name a folder or file on the server: refused for admins too (`path_refused`).
    An empty reference is left to the caller. Call it before anything resolves the reference."""
    ref = (ref or "").strip()
    if not ref or not current_policy().shared or ref in set(offered()):
        return
    admin = is_admin(*identities)
    if admin and hub and _is_hub_id(ref):
        return
    log.warning("refused %s's %s %r", "an admin" if admin else "a guest", kind, ref)
    raise path_refused(kind, ref) if admin else not_offered(kind, ref)


def _is_hub_id(ref: str) -> bool:
    """owner/name, and no folder of that name where the server runs (resolve_model would read it first)."""
    return is_hub_id(ref) and not Path(ref).expanduser().exists()


def playground_tokens(requested: int, request, *identities, settings: Settings | None = None) -> int:
    """The new tokens one Playground answer may use, and the answer counted against the caller's rate.
    Locally and for admins: as requested, unlimited. For anyone else on a shared deployment: at most
    STUDIO_PLAYGROUND_MAX_TOKENS, and STUDIO_PLAYGROUND_PER_MINUTE answers a minute (RateLimited beyond),
    counted per signed-in user, else per address."""
    if is_admin(request, *identities):
        return requested
    settings = settings or load_settings()
    user = signed_in_user(request, *identities)
    key = f"user:{user.casefold()}" if user else f"address:{caller_address(request) or 'unknown'}"
    _playground.take(key, settings.playground_per_minute)
    return min(requested, settings.playground_max_new_tokens)
