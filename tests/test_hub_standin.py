"""The Hub stand-in answers the real huggingface_hub client like the Hub does; its fixtures serve the other
Hub tests (test_hub_*.py and test_spaces_*.py make `standin_hub` their `hub` fixture)."""

import pytest

from studio.testing.hub_standin import HubStandin

ALICE, BOB, LAB = "alice", "bob", "text2sql-lab"


def standin_hub(monkeypatch, studio_home):
    """A Hub stand-in the studio is configured for: HF_ENDPOINT points at it, HF_TOKEN is alice's
    (write access, member of text2sql-lab). The other Hub test modules make it their `hub` fixture."""
    import huggingface_hub.constants

    # conftest sets HF_HUB_OFFLINE=1 for the session, read by huggingface_hub at import; these tests may
    # reach 127.0.0.1 (the network guard still refuses anything else).
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with HubStandin() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("HF_TOKEN", server.add_user(ALICE, orgs=(LAB,)))
        yield server


hub = pytest.fixture(standin_hub)


def test_private_repos_are_invisible_to_others(hub):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    alice = HfApi(endpoint=hub.endpoint, token=hub.add_user(ALICE, orgs=(LAB,)))
    alice.create_repo(f"{ALICE}/secret", private=True)
    assert alice.repo_info(f"{ALICE}/secret").private
    for token in (hub.add_user(BOB), False):
        with pytest.raises(RepositoryNotFoundError):
            HfApi(endpoint=hub.endpoint, token=token).repo_info(f"{ALICE}/secret")


def test_read_tokens_and_foreign_namespaces_may_not_write(hub):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    reader = HfApi(endpoint=hub.endpoint, token=hub.add_user(ALICE, role="read"))
    bob = HfApi(endpoint=hub.endpoint, token=hub.add_user(BOB))
    for api, repo in ((reader, f"{ALICE}/x"), (bob, f"{ALICE}/x"), (bob, f"{LAB}/x")):
        with pytest.raises(HfHubHTTPError) as raised:
            api.create_repo(repo)
        assert raised.value.response.status_code == 403
    assert not hub.repos
