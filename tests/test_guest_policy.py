"""Guests on a shared deployment: every named endpoint has a decided policy (studio.guest_policy), and the
handlers hold it on the server."""

from __future__ import annotations

import pytest

from studio.guest_policy import ENDPOINTS, POLICIES, policy_of


@pytest.fixture(scope="module")
def named_endpoints(tmp_path_factory) -> set[str]:
    """The app's named endpoints, as /gradio_api/info lists them (without the leading slash)."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path_factory.mktemp("home")))
    from studio.ui.app import build_app

    try:
        return {name.lstrip("/") for name in build_app().get_api_info()["named_endpoints"]}
    finally:
        monkeypatch.undo()


def test_every_named_endpoint_has_a_decided_policy(named_endpoints):
    assert named_endpoints - set(ENDPOINTS) == set(), "decide these endpoints' guest policy in guest_policy.py"
    assert set(ENDPOINTS) - named_endpoints == set(), "guest_policy.py lists endpoints the app no longer has"
    assert {entry.policy for entry in ENDPOINTS.values()} <= set(POLICIES)
    assert policy_of("/evaluate").policy == "admin-only" and policy_of("/nonexistent") is None
