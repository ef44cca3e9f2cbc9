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


# --- The handlers hold the policy on a shared deployment (passwords: alice is the admin, bob a guest) ------

PASSWORDS = {"STUDIO_AUTH": "alice:pw-alice,bob:pw-bob", "STUDIO_ADMINS": "alice"}
SECRET_LINE = "secret-line-of-a-server-file"
NO_MAPPING = ("",) * 5


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A shared deployment with the sample, a data set version prepared from a file at a server path, and a
    model folder under STUDIO_HOME/models; yields (url, home, the server folder a guest must not read)."""
    import pandas as pd

    from studio import access
    from studio.data import PrepareOptions, prepare_dataset
    from tests.app_support import served_app
    from tests.data_fixtures import BOOK_DDL, install_sample

    home, server = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("server-folder")
    (server / "notes.txt").write_text(SECRET_LINE + "\n")
    rows = [("g", BOOK_DDL, f"{i}번 플레이어는?", f"SELECT username FROM players WHERE player_id = {i};")
            for i in range(10)]
    pd.DataFrame(rows, columns=["db_id", "context", "question", "answer"]).to_csv(server / "private.csv")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_HOME", str(home))
        for name, value in PASSWORDS.items():
            patch.setenv(name, value)
        patch.setattr(access, "_policy", None)
        install_sample(home)
        prepare_dataset(str(server / "private.csv"), PrepareOptions(eval_fraction=0.2, exec_filter=False))
        model = home / "models" / "my-model"
        model.mkdir(parents=True)
        (model / "config.json").write_text("{}")
        access.configure("0.0.0.0")
        with served_app(auth=access.password_logins()) as url:
            yield url, home, server


def _client(url, user):
    from gradio_client import Client

    return Client(url, auth=(user, f"pw-{user}"), verbose=False, headers={"Accept-Language": "en-US"})


def _refused(call, message):
    with pytest.raises(Exception, match=message) as refusal:
        call()
    assert "Traceback" not in str(refusal.value)
    return str(refusal.value)


def test_a_guest_reads_no_server_folder_through_the_hub_source(shared):
    url, _home, server = shared
    hub = ("hub", None, str(server), "", "", *NO_MAPPING)
    refusal = _refused(lambda: _client(url, "bob").predict(*hub, api_name="/data_load"),
                       "only the studio's admins may load data sets from the Hugging Face Hub")
    assert SECRET_LINE not in refusal
    # The admin too: the page takes no server paths (the CLI does).
    _refused(lambda: _client(url, "alice").predict(*hub, api_name="/data_load"), "the page takes no server paths")


def _signed_in(url: str, user: str):
    """A plain HTTP opener holding `user`'s sign-in cookie."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    opener.open(urllib.request.Request(url + "login", data=f"username={user}&password=pw-{user}".encode()))
    return opener


def test_a_server_path_sent_as_an_upload_is_refused(shared):
    """Gradio's client would upload a local file named this way; plain HTTP sends the server's path as is,
    and Gradio accepts only files in its upload folder."""
    import json
    import urllib.request

    url, _home, server = shared
    bob = _signed_in(url, "bob")
    upload = {"path": str(server / "private.csv"), "meta": {"_type": "gradio.FileData"}}
    body = json.dumps({"data": ["file", upload, "", "", "", *NO_MAPPING]}).encode()
    call = urllib.request.Request(url + "gradio_api/call/data_load", data=body,
                                  headers={"Content-Type": "application/json"})
    event = json.loads(bob.open(call).read())["event_id"]
    stream = bob.open(f"{url}gradio_api/call/data_load/{event}").read().decode()
    assert stream.startswith("event: error") and "SELECT username" not in stream


@pytest.mark.parametrize("model", ["owner/any", "/etc", "../models/my-model"])
def test_a_guest_tokenizes_with_listed_models_only(shared, model):
    url, *_ = shared
    bob = _client(url, "bob")
    bob.predict("sample", None, "", "", "", *NO_MAPPING, api_name="/data_load")
    _refused(lambda: bob.predict(model, 1024, api_name="/data_tokens"), "Guests may only use the models listed")


def test_a_guests_evaluation_and_data_version_are_refused(shared):
    url, *_ = shared
    bob, alice = _client(url, "bob"), _client(url, "alice")
    version = alice.predict(api_name="/data_versions")["data"][0][0]
    evaluate = ([], ["smollm2-135m-instruct"], version, None, "execution", "", "", "", 32, 2, "")
    _refused(lambda: bob.predict(*evaluate, api_name="/evaluate"), "only the studio's admins may run evaluations")
    for field, value in ((1, ["owner/any"]), (10, "owner/any"), (2, "/etc")):
        hostile = list(evaluate)
        hostile[field] = value
        _refused(lambda: bob.predict(*hostile, api_name="/evaluate_estimate"), "Guests may only use the")
        _refused(lambda: bob.predict(*hostile, api_name="/evaluate"), "only the studio's admins may run")
    admin_path = list(evaluate)
    admin_path[1] = ["/etc"]
    _refused(lambda: alice.predict(*admin_path, api_name="/evaluate"), "the page takes no server paths")
    bob.predict("sample", None, "", "", "", *NO_MAPPING, api_name="/data_load")
    _refused(lambda: bob.predict("random", "", 0.2, 1.0, 7, False, "", api_name="/data_save"),
             "only the studio's admins may save data set versions")


def test_a_guest_picks_listed_presets_data_sets_and_models_in_the_train_tab(shared):
    url, *_ = shared
    bob = _client(url, "bob")
    _refused(lambda: bob.predict("/etc/passwd", "local", "", api_name="/train_load_preset"),
             "not in the list of choices")  # Gradio's own check, before the handler's (require_offered)
    version = bob.predict(api_name="/data_versions")["data"][0][0]
    for dataset, model in ((version, "/etc"), (version, "owner/any"), ("/tmp", "smollm2-135m-instruct")):
        line = bob.predict(dataset, model, 1024, api_name="/train_token_lengths")
        assert "Guests may only use the" in line


def test_the_page_config_shows_no_server_paths(shared):
    url, home, server = shared
    config = _signed_in(url, "bob").open(url + "config").read().decode()
    assert "private.csv" in config and "my-model" in config  # listed, by name
    assert str(server) not in config and str(home) not in config


# --- Upload limits ---------------------------------------------------------------------------------------

def _post_upload(url: str, size: int) -> tuple[int, str]:
    """POST a file of `size` bytes to Gradio's upload route as the page does: (status, body)."""
    import urllib.error
    import urllib.request

    boundary = "studio-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + b"a" * size + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "gradio_api/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_an_upload_over_the_limit_is_refused_whole_with_a_message(monkeypatch, studio_home):
    from studio import access
    from studio.ui.app import guarded_launch_options
    from tests.app_support import served_app

    for name in PASSWORDS:  # the module's shared deployment sets them while it runs
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STUDIO_MAX_UPLOAD_MB", "1")
    monkeypatch.setattr(access, "_policy", None)
    policy = access.configure("127.0.0.1")
    with served_app(**guarded_launch_options(policy)) as url:
        status, body = _post_upload(url, 2 * 1024 * 1024)
        assert status == 413 and "maximum" in body.lower()
        assert not list((studio_home.parent).rglob("big.csv"))  # nothing kept of it
        status, body = _post_upload(url, 512 * 1024)
        assert status == 200 and "big.csv" in body


@pytest.mark.parametrize("env, shared, megabytes", [({}, False, 200), ({}, True, 50),
                                                     ({"STUDIO_MAX_UPLOAD_MB": "7"}, True, 7)])
def test_the_upload_limit_is_200_mb_locally_and_50_mb_shared_unless_set(monkeypatch, env, shared, megabytes):
    from studio import access
    from studio.settings import load_settings

    monkeypatch.delenv("STUDIO_MAX_UPLOAD_MB", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    policy = access.AccessPolicy(shared=shared, sign_in=access.PASSWORD if shared else None, admins=(),
                                 where="here")
    assert access.max_upload_bytes(policy, load_settings()) == megabytes * 1024 * 1024
