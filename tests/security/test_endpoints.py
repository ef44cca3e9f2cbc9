"""Every named endpoint of the shared deployment, called as an anonymous visitor, a guest and an admin:
each outcome matches the endpoint's decided policy (studio.guest_policy), a refusal changes nothing, and no
response holds a secret or a server path."""

from __future__ import annotations

import pytest

from studio.guest_policy import ADMIN_ONLY, ENDPOINTS, GUEST_CAPPED, OPEN
from studio.settings import DEFAULT_MODEL, REPO_ROOT
from tests.security.conftest import rows_csv
from tests.security.snapshots import registry_dump

ADMIN_REFUSAL = "only the studio's admins may"  # studio.access.AccessPolicy.refusal (English)
ADMIN_REFUSAL_KO = "스튜디오 관리자만"


def _info(deployment) -> dict[str, list[dict]]:
    """The named endpoints and their parameters, as /gradio_api/info lists them to a signed-in user."""
    caller = deployment.caller("guest")
    try:
        endpoints = caller.get("gradio_api/info").json()["named_endpoints"]
    finally:
        caller.close()
    return {name.strip("/"): spec["parameters"] for name, spec in endpoints.items()}


@pytest.fixture(scope="module")
def endpoints(deployment) -> dict[str, list[dict]]:
    return _info(deployment)


def default_args(parameters: list[dict]) -> list:
    """What the page would send untouched: each parameter's default, else an empty value of its type."""
    args = []
    for parameter in parameters:
        if parameter.get("parameter_has_default"):
            args.append(parameter.get("parameter_default"))
            continue
        kind = parameter.get("python_type", {}).get("type", "")
        args.append([] if kind.startswith("list") else None if kind == "filepath" else
                    False if kind == "bool" else 0 if kind in ("int", "float") else "")
    return args


def with_args(parameters: list[dict], **given) -> list:
    """The defaults, with some parameters (by name) replaced."""
    names = [p["parameter_name"] for p in parameters]
    unknown = set(given) - set(names)
    assert not unknown, f"no such parameters {unknown}: the endpoint changed, update this table"
    return [given.get(name, default) for name, default in zip(names, default_args(parameters))]


# What a guest tries on each admin-only endpoint: arguments that would do the real thing for an admin (the
# seeded data set and run). The refusal must come first, with nothing done.
def guest_tries(deployment) -> dict[str, dict]:
    d = deployment
    return {
        "data_save": {"split": "random", "eval_fraction": 0.3, "name": "guest-version"},
        "data_judge_filter": {"version_id": d.dataset, "model": "gpt-4o-mini"},
        "data_adapt_synthesize": {"pairs": 50, "name": "guest-db"},  # with the guest's own upload (below)
        "data_adapt_propose": {"model": "gpt-4o-mini"},  # with the guest's own upload (below)
        "train_start": {"dataset": d.dataset, "base_model": DEFAULT_MODEL},
        "train_cancel": {"job_name": d.run},
        "evaluate": {"runs": [d.run], "bases": [DEFAULT_MODEL], "dataset": d.dataset, "mode": "execution",
                     "limit": 1},
        "leaderboard_reproduce": {"name": d.run},
        "leaderboard_delete": {"name": d.run, "confirmed": True},
        "leaderboard_export_model": {"name": d.run, "format": "gguf"},
        "hub_push": {"run": d.run},
    }


# What an admin sends to show the access check lets them through: calls that stop at a later check (or only
# describe), so the test starts no training, download, push or judge call.
ADMIN_TRIES = {
    "data_save": {},  # nothing loaded in this session: "load data first"
    "data_judge_filter": {"version_id": ""},
    "data_adapt_synthesize": {},  # no database uploaded: "upload a SQLite database file first"
    "data_adapt_propose": {},  # no database uploaded: "upload a SQLite database file first"
    "train_start": {"dataset": ""},
    "train_cancel": {"job_name": "no-such-job"},
    "evaluate": {"runs": [], "bases": []},
    "leaderboard_reproduce": {"name": "no-such-run"},
    "leaderboard_delete": {"name": "no-such-run", "confirmed": False},
    "leaderboard_export_model": {"name": "no-such-run", "format": "gguf"},
    "hub_push": {"run": "no-such-run"},
}


def test_every_named_endpoint_has_a_decided_policy_and_a_place_here(endpoints, deployment):
    """A new endpoint fails here until its guest policy is decided (studio.guest_policy) and this suite
    knows how to attack it (admin-only: what a guest tries; guest-capped: which fields name things)."""
    from tests.security.test_names import NAME_FIELDS

    assert set(endpoints) - set(ENDPOINTS) == set(), "decide these endpoints' guest policy"
    assert set(ENDPOINTS) - set(endpoints) == set(), "studio.guest_policy lists endpoints the app lacks"
    admin_only = {name for name, entry in ENDPOINTS.items() if entry.policy == ADMIN_ONLY}
    assert admin_only == set(guest_tries(deployment)) == set(ADMIN_TRIES), "say what a guest tries"
    capped = {name for name, entry in ENDPOINTS.items() if entry.policy == GUEST_CAPPED}
    assert capped <= set(NAME_FIELDS), "say which fields of these guest-capped endpoints name things"


def test_anonymous_visitors_get_nothing(endpoints, deployment):
    """Sign-in comes before every endpoint, the API's description, the config and uploads."""
    anonymous = deployment.caller("anonymous")
    try:
        for name, parameters in endpoints.items():
            assert anonymous.call(name, *default_args(parameters)).status == 401, name
        for method, path in (("GET", "gradio_api/info"), ("GET", "config"), ("POST", "gradio_api/upload"),
                             ("POST", "gradio_api/queue/join")):
            response = anonymous.http.request(method, path)
            assert response.status_code == 401, (path, response.status_code)
    finally:
        anonymous.close()


@pytest.mark.parametrize("name", sorted(n for n, e in ENDPOINTS.items() if e.policy == ADMIN_ONLY))
@pytest.mark.parametrize("language, refusal", [("en-US", ADMIN_REFUSAL), ("ko-KR", ADMIN_REFUSAL_KO)])
def test_guests_are_refused_admin_only_endpoints_and_nothing_changes(name, language, refusal, endpoints,
                                                                      deployment, nothing_escapes, tmp_path):
    guest = deployment.caller("guest", language)
    try:
        if name == "data_save":  # something to save: the guest's own upload, loaded in this session
            upload = guest.upload(rows_csv(tmp_path / "up.csv", ["shop", "mall", "store"]))
            loaded = guest.call("data_load", *with_args(endpoints["data_load"], kind="file", upload=upload))
            assert loaded.ok, loaded
        tries = dict(guest_tries(deployment)[name])
        if name in ("data_adapt_synthesize", "data_adapt_propose"):  # the guest's own database, uploaded
            from tests.test_adapt import shop_database

            tries["upload"] = guest.upload(shop_database(tmp_path / "shop.sqlite"))
        before = _state(deployment)
        outcome = guest.call(name, *with_args(endpoints[name], **tries))
        assert not outcome.ok and refusal in (outcome.error or ""), outcome
        assert "Traceback" not in outcome.body
        assert _state(deployment) == before, f"{name} changed the studio for a guest"
    finally:
        guest.close()


@pytest.mark.parametrize("name", sorted(n for n, e in ENDPOINTS.items() if e.policy == ADMIN_ONLY))
def test_admins_pass_the_access_check_of_admin_only_endpoints(name, endpoints, deployment, nothing_escapes):
    admin = deployment.caller("admin")
    try:
        outcome = admin.call(name, *with_args(endpoints[name], **ADMIN_TRIES[name]))
        assert ADMIN_REFUSAL not in (outcome.error or ""), outcome
        assert outcome.ok or outcome.error, f"{name}: an error without a message"
        assert "Traceback" not in outcome.body
    finally:
        admin.close()


@pytest.mark.parametrize("role", ["guest", "admin"])
def test_open_endpoints_answer_everyone_signed_in_without_server_paths(role, endpoints, deployment,
                                                                         nothing_escapes):
    """Called as the page calls them on load: an answer (or a message), never an access refusal, a
    traceback, or a path on the server (STUDIO_HOME, the code)."""
    caller = deployment.caller(role)
    try:
        for name in sorted(n for n, e in ENDPOINTS.items() if e.policy == OPEN):
            outcome = caller.call(name, *default_args(endpoints[name]))
            assert ADMIN_REFUSAL not in (outcome.error or ""), (name, outcome)
            assert outcome.ok or outcome.error, f"{name}: an error without a message"
            assert "Traceback" not in outcome.body
            if role == "guest":
                assert str(deployment.home) not in outcome.body, f"{name} shows STUDIO_HOME to a guest"
                assert str(REPO_ROOT) not in outcome.body, f"{name} shows the code's folder to a guest"
    finally:
        caller.close()


def test_the_guests_config_shows_no_server_paths(deployment):
    guest = deployment.caller("guest")
    try:
        config = guest.get("config").text
    finally:
        guest.close()
    assert str(deployment.home) not in config
    assert str(REPO_ROOT) not in config


def _state(deployment) -> tuple:
    """The registry's rows and the studio's top-level folders' contents: what an endpoint could change."""
    home = deployment.home
    folders = {p.name: sorted(c.name for c in p.iterdir())
               for p in home.iterdir() if p.is_dir() and p.name != "cache"}
    return registry_dump(deployment.registry), folders
