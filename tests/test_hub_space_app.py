"""The studio served as a Space would serve it (`python -m studio serve` with SPACE_ID and OAUTH_CLIENT_ID
set, STUDIO_ADMINS=alice), against the stand-in Hub, over real HTTP:

- the page has a Sign in button, and Gradio's Hugging Face sign-in works (off a real Space Gradio signs in the
  user whose HF_TOKEN it finds; here alice's, an admin);
- the results mirrored to STUDIO_RESULTS_REPO are on the leaderboard at start, and a push is mirrored back;
- pushing to the Hub is refused to an anonymous caller, allowed to the signed-in admin;
- guests get Playground answers capped in length and in number per minute; the admin has no limits.

Starting the server and the model takes a while on a small machine: one server serves every test here.
"""

import os
import subprocess
import sys
import time

import httpx
import pytest
from gradio_client import Client

from studio.hub import push_results
from studio.settings import DEFAULT_MODEL, REPO_ROOT, load_settings
from studio.testing.hub_standin import HubStandin
from studio.ui.examples import GAME_DDL, QUESTIONS
from tests.app_support import free_port
from tests.test_hub_push import make_adapter, tiny_base  # noqa: F401 - the tiny model fixture
from tests.test_hub_push_ui import register_run
from tests.test_hub_standin import ALICE
from tests.test_leaderboard import Registry
from tests.training_fixtures.support import wait_for

RESULTS = f"{ALICE}/studio-results"
PER_MINUTE, MAX_TOKENS = 2, 8
NO_FILTERS = ["", "accuracy", "", [], [], [], [], True, "", "", "", ["run", "eval_set", "EX"]]


@pytest.fixture(scope="module")
def space(tmp_path_factory, model_home, tiny_base):  # noqa: F811
    """The served studio (its URL), the stand-in Hub, and alice's token."""
    root = tmp_path_factory.mktemp("space")
    with HubStandin() as hub, pytest.MonkeyPatch.context() as patch:
        import huggingface_hub.constants

        token = hub.add_user(ALICE)
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        for name, value in {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": token, "STUDIO_RESULTS_REPO": RESULTS,
                            "STUDIO_HOME": str(root / "laptop")}.items():
            patch.setenv(name, value)
        laptop = Registry(load_settings())  # results made elsewhere, already in the mirror
        laptop.run("laptop-r4", lora_r=4, dataset="folder")
        laptop.evaluation("laptop-r4", [1, 1, 0, 0])
        push_results()

        home = root / "space-home"
        (home / "models").mkdir(parents=True)
        (home / "models" / DEFAULT_MODEL).symlink_to(model_home / "models" / DEFAULT_MODEL)
        patch.setenv("STUDIO_HOME", str(home))
        register_run("space-r8", make_adapter(tiny_base, root / "adapter"), tiny_base)

        port = free_port()
        env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": hub.endpoint, "HF_TOKEN": token,
               "STUDIO_HOME": str(home), "STUDIO_RESULTS_REPO": RESULTS, "SPACE_ID": f"{ALICE}/studio",
               "OAUTH_CLIENT_ID": "client-id", "STUDIO_ADMINS": ALICE,
               "STUDIO_PLAYGROUND_PER_MINUTE": str(PER_MINUTE),
               "STUDIO_PLAYGROUND_MAX_TOKENS": str(MAX_TOKENS)}
        log = root / "server.log"  # a file, not a pipe: a full pipe would block the server
        with open(log, "w") as output:
            server = subprocess.Popen([sys.executable, "-m", "studio", "serve", "--port", str(port)],
                                      cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait_until_served(server, url, log)
            yield url, hub, token
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_served(server: subprocess.Popen, url: str, log, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the studio exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError("the studio did not start")


def signed_in(url: str) -> dict[str, str]:
    """The session cookie of Gradio's Hugging Face sign-in (the Secure cookie is sent by hand over http)."""
    answer = httpx.get(f"{url}login/callback", params={"_target_url": "/"}, follow_redirects=False,
                       timeout=30)
    assert answer.status_code in (302, 307) and answer.cookies.get("session")
    return {"Cookie": f"session={answer.cookies['session']}"}


def client(url: str, headers: dict | None = None) -> Client:
    return Client(url, verbose=False, headers={"Accept-Language": "en-US", **(headers or {})})


def test_the_space_has_a_sign_in_button_and_the_mirrored_results(space):
    url, _hub, _token = space
    components = httpx.get(f"{url}config", timeout=30).json()["components"]
    login = [c for c in components if c.get("props", {}).get("elem_id") == "login"]
    assert len(login) == 1 and login[0]["props"]["value"] == "Sign in with Hugging Face"
    _count, table, *_ = client(url).predict(*NO_FILTERS, api_name="/leaderboard")
    assert ["laptop-r4", "ds-eval", 0.5] in table["data"]  # imported at start
    assert any(row[0] == "space-r8" for row in table["data"])


def test_only_the_signed_in_admin_may_push_and_the_push_is_mirrored(space):
    url, hub, _token = space
    inputs = ("space-r8", "space-r8", True, False, "")
    with pytest.raises(Exception, match="only the studio's admins may push to the Hugging Face Hub.*sign in"):
        client(url).predict(*inputs, api_name="/hub_push")
    assert (ALICE + "/space-r8") not in {repo_id for _kind, repo_id in hub.repos}

    message = client(url, signed_in(url)).predict(*inputs, api_name="/hub_push")
    commit = hub.repo(f"{ALICE}/space-r8").head.oid
    assert message.startswith("✅ Pushed run **space-r8**") and commit in message

    def mirrored() -> bool:  # the run's Hub link reaches the results repo in the background
        files = hub.repo(RESULTS, "dataset").head.files
        return any(path.startswith("runs/space-r8-") and commit.encode() in content
                   for path, content in files.items())

    wait_for(mirrored, timeout=120, every=0.5)


def ask(api: Client, tokens: int, model: str = DEFAULT_MODEL):
    return api.predict(model, "", GAME_DDL, QUESTIONS[0], tokens, api_name="/generate_sql")


@pytest.mark.slow
def test_guests_get_capped_answers_at_a_limited_rate_and_the_admin_does_not(space):
    url, _hub, _token = space
    admin = client(url, signed_in(url))  # first: loading the model must not eat the guests' minute
    for _ in range(PER_MINUTE + 1):
        _sql, status, _completion, _prompt = ask(admin, 16)
        assert "capped" not in status

    guest = client(url)
    _sql, status, _completion, _prompt = ask(guest, 64)
    assert f"Guest answers are capped at {MAX_TOKENS} new tokens." in status
    assert int(status.split("Done: ")[1].split(" tokens")[0]) <= MAX_TOKENS
    # A model the studio does not list is refused before anything is loaded, and costs the guest no answer.
    with pytest.raises(Exception, match="Guests may only use the models listed here: ‘no-such-model’"):
        ask(guest, 64, model="no-such-model")
    ask(guest, 16)  # the second answer of the minute
    with pytest.raises(Exception, match=f"Guests get at most {PER_MINUTE} answers a minute. Try again in"):
        ask(client(url), 64)  # a new session from the same address is the same guest
    korean = Client(url, verbose=False, headers={"Accept-Language": "ko-KR"})
    with pytest.raises(Exception, match=f"게스트는 1분에 답변을 {PER_MINUTE}개까지"):
        ask(korean, 16)
