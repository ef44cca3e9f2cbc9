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
answer, answers per minute; `playground_tokens`) so one visitor cannot keep the machine busy for everyone,
and a guest may only pick the models and adapters the app lists (`require_offered`): a Hub id typed in
would make the server download it.
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

from studio.errors import StudioError
from studio.settings import DEFAULT_HOST, Settings, load_settings

log = logging.getLogger("studio.access")

OAUTH, PASSWORD = "oauth", "password"


class AccessDenied(StudioError):
    """The caller may not do this on a shared deployment."""


# What only admins may do on a shared deployment, as a refusal names it (pieces of its sentence, translated
# with it in the UI).
START_TRAINING = StudioError("start training", key="action_start_training")
CANCEL_TRAINING = StudioError("cancel training", key="action_cancel_training")
DELETE_RUNS = StudioError("delete runs", key="action_delete_runs")
SPEND_JUDGE_CREDITS = StudioError("spend judge credits", key="action_spend_judge_credits")
PUSH_TO_HUB = StudioError("push to the Hugging Face Hub", key="action_push_to_hub")


class RateLimited(StudioError):
    """A guest asked for more Playground answers than a minute allows."""

    def __init__(self, limit: int, retry_after: int):
        super().__init__(f"guests may get at most {limit} answers a minute on this shared deployment: "
                         f"try again in {retry_after} s, or sign in")
        self.limit, self.retry_after = limit, retry_after


class NotOffered(AccessDenied):
    """A guest asked for a model or adapter the app does not list."""

    def __init__(self, kind: str, ref: str):
        super().__init__(f"guests may only use the {kind}s this studio lists on this shared deployment, not "
                         f"{ref!r}: pick one from the list, or sign in as an admin")
        self.kind, self.ref = kind, ref


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

    def refusal(self, user: str | None, action: StudioError) -> AccessDenied:
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


def require_admin(*identities, action: StudioError) -> str:
    """Call first in every handler that trains, pushes, deletes or spends credits: returns the user's
    name ("local" on a local app), or raises AccessDenied with a message for people."""
    policy = current_policy()
    user = signed_in_user(*identities)
    if policy.allows(user):
        return user or "local"
    log.warning("refused to let %s %s", user or "an anonymous caller", action)
    raise policy.refusal(user, action)


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


def require_offered(ref: str | None, offered: Callable[[], Collection[str]], *identities, kind: str) -> None:
    """On a shared deployment a guest may only use a `kind` ("model", "adapter") that `offered()` lists: any
    other reference is resolved on the server, and a Hub id makes it download the repo (its disk, its time,
    and a model nobody chose to host). Raises NotOffered. Locally and for admins: any reference; an empty
    one is left to the caller. `offered` is called for guests only."""
    ref = (ref or "").strip()
    if not ref or is_admin(*identities):
        return
    if ref not in set(offered()):
        log.warning("refused a guest's %s %r", kind, ref)
        raise NotOffered(kind, ref)


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
