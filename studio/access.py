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
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import os
from dataclasses import dataclass

from studio.errors import StudioError
from studio.settings import DEFAULT_HOST, Settings, load_settings

log = logging.getLogger("studio.access")

OAUTH, PASSWORD = "oauth", "password"


class AccessDenied(StudioError):
    """The caller may not do this on a shared deployment."""


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

    def refusal(self, user: str | None, action: str) -> str:
        start = f"only the studio's admins may {action} on this shared deployment"
        if user is None:
            how = "with Hugging Face (the Sign in button)" if self.sign_in == OAUTH else "first"
            return f"{start}: sign in {how}"
        if not self.admins:
            return f"{start}, and it has none: its operator sets STUDIO_ADMINS"
        return f"{start}, and {user} is not one of them (STUDIO_ADMINS)"


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
            f"refusing to serve the studio on {policy.where} without sign-in: anyone reaching it could start "
            "training, push to your Hub account and spend judge credits. Set STUDIO_AUTH=user:password "
            "(and STUDIO_ADMINS=user), or deploy it as a Space with hf_oauth: true, or serve on 127.0.0.1")
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
        raise StudioError(f"Hugging Face sign-in needs {' and '.join(missing)}: install gradio[oauth] "
                          "(add it to requirements.in and re-lock)")


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


def require_admin(*identities, action: str = "do this") -> str:
    """Call first in every handler that trains, pushes, deletes or spends credits: returns the user's
    name ("local" on a local app), or raises AccessDenied with a message for people."""
    policy = current_policy()
    user = signed_in_user(*identities)
    if policy.allows(user):
        return user or "local"
    log.warning("refused to let %s %s", user or "an anonymous caller", action)
    raise AccessDenied(policy.refusal(user, action))


def password_logins(settings: Settings | None = None) -> list[tuple[str, str]]:
    """STUDIO_AUTH as gradio's `auth=` list of (user, password)."""
    secret = (settings or load_settings()).basic_auth
    if not secret:
        return []
    logins = []
    for entry in secret.reveal().split(","):
        user, _, password = entry.strip().partition(":")
        if not user or not password:
            raise StudioError("STUDIO_AUTH must be user:password, several separated by commas")
        logins.append((user, password))
    return logins


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0-like address: assume others can reach it
