"""Access control: exposing the app needs sign-in, and protected handlers refuse non-admins on the server,
also when Gradio's API is called without the UI."""

import socket
import subprocess
import sys

import pytest

from studio import access
from studio.errors import StudioError
from studio.settings import REPO_ROOT
from studio.ui.i18n import error_text

ON_SPACE = {"SPACE_ID": "alice/studio", "OAUTH_CLIENT_ID": "client-id"}
PASSWORDS = {"STUDIO_AUTH": "alice:pw-alice,bob:pw-bob", "STUDIO_ADMINS": "alice"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("SPACE_ID", "OAUTH_CLIENT_ID", "STUDIO_AUTH", "STUDIO_ADMINS", "STUDIO_PLAYGROUND_PER_MINUTE",
                 "STUDIO_PLAYGROUND_MAX_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(access, "_policy", None)  # restored after each test


@pytest.mark.parametrize("host, share, env, shared, sign_in", [
    ("127.0.0.1", False, {}, False, None),
    ("localhost", False, {}, False, None),
    ("0.0.0.0", False, PASSWORDS, True, access.PASSWORD),
    ("127.0.0.1", True, PASSWORDS, True, access.PASSWORD),
    ("0.0.0.0", False, ON_SPACE, True, access.OAUTH),
])
def test_allowed_deployments(monkeypatch, host, share, env, shared, sign_in):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    policy = access.configure(host, share)
    assert (policy.shared, policy.sign_in) == (shared, sign_in)


@pytest.mark.parametrize("host, share, env, where", [
    ("0.0.0.0", False, {}, "0.0.0.0"),
    ("192.168.1.20", False, {"STUDIO_ADMINS": "alice"}, "192.168.1.20"),
    ("127.0.0.1", True, {}, "a public share link"),
    ("0.0.0.0", False, {"SPACE_ID": "alice/studio"}, "this Space"),  # a Space without hf_oauth
])
def test_exposure_without_sign_in_is_refused(monkeypatch, host, share, env, where):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StudioError, match=f"refusing to serve the studio on {where}.*without sign-in"):
        access.configure(host, share)


def test_serve_refuses_to_expose_the_app_without_sign_in():
    done = subprocess.run([sys.executable, "-m", "studio", "serve", "--host", "0.0.0.0"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error: refusing to serve the studio on 0.0.0.0") and "STUDIO_AUTH" in done.stderr
    assert "Traceback" not in done.stderr


def test_locally_everyone_may_do_everything():
    access.configure("127.0.0.1")
    assert access.require_admin(None, action=access.START_TRAINING) == "local"


class Identity:  # what gr.Request (password sign-in) and gr.OAuthProfile (OAuth) both carry
    def __init__(self, username):
        self.username = username


def test_on_a_space_only_signed_in_admins_pass(monkeypatch):
    for name, value in {**ON_SPACE, "STUDIO_ADMINS": "Alice,carol"}.items():
        monkeypatch.setenv(name, value)
    access.configure("0.0.0.0")
    alice = access.require_admin(Identity(None), Identity("alice"), action=access.PUSH_TO_HUB)
    assert alice == "alice"  # any case
    with pytest.raises(access.AccessDenied, match="may push to the Hugging Face Hub on this shared "
                                                  "deployment: sign in with Hugging") as refused:
        access.require_admin(Identity(None), None, action=access.PUSH_TO_HUB)
    korean = Identity(None)
    korean.headers = {"accept-language": "ko-KR"}
    assert error_text(refused.value, korean) == ("이 공유 배포에서 ‘Hugging Face Hub에 올리기’는 스튜디오 관리자만 "
                                                 "할 수 있습니다. Hugging Face로 로그인하세요 (Sign in 버튼).")
    with pytest.raises(access.AccessDenied, match="bob is not one of them"):
        access.require_admin(Identity("bob"), action=access.PUSH_TO_HUB)


def oauth_profile(username: str):
    """A gr.OAuthProfile as Gradio builds one from the Hugging Face sign-in's user info."""
    import gradio as gr

    return gr.OAuthProfile({"name": username.title(), "preferred_username": username,
                            "profile": f"https://huggingface.co/{username}", "picture": ""})


def test_the_hugging_face_sign_in_decides_who_is_an_admin(monkeypatch):
    import gradio as gr
    from starlette.requests import Request

    for name, value in {**ON_SPACE, "STUDIO_ADMINS": "alice"}.items():
        monkeypatch.setenv(name, value)
    access.configure("0.0.0.0")
    request = gr.Request(Request({"type": "http", "headers": [], "client": ("10.0.0.1", 5)}))  # no username
    assert access.require_admin(request, oauth_profile("alice"), action=access.PUSH_TO_HUB) == "alice"
    with pytest.raises(access.AccessDenied, match="carol is not one of them"):
        access.require_admin(request, oauth_profile("carol"), action=access.PUSH_TO_HUB)
    with pytest.raises(access.AccessDenied, match="sign in with Hugging Face"):
        access.require_admin(request, None, action=access.PUSH_TO_HUB)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limiter_counts_a_sliding_minute_per_key():
    clock = Clock()
    limiter = access.RateLimiter(window_s=60, clock=clock)
    limiter.take("a", 2)
    clock.now += 30
    limiter.take("a", 2)
    limiter.take("b", 2)  # another caller has its own count
    with pytest.raises(access.RateLimited, match="at most 2 answers a minute.*try again in 30 s") as limited:
        limiter.take("a", 2)
    assert (limited.value.limit, limited.value.retry_after) == (2, 30)
    clock.now += 30  # the first answer left the window
    limiter.take("a", 2)


class Caller:  # what a gr.Request carries: headers, the client's address, a user under password sign-in
    def __init__(self, host="10.0.0.1", forwarded=None, username=None):
        self.headers = {"x-forwarded-for": forwarded} if forwarded else {}
        self.client = type("Client", (), {"host": host})()
        self.username = username


def test_guests_on_a_shared_deployment_get_capped_answers_at_a_limited_rate(monkeypatch):
    for name, value in {**ON_SPACE, "STUDIO_ADMINS": "alice", "STUDIO_PLAYGROUND_PER_MINUTE": "2",
                        "STUDIO_PLAYGROUND_MAX_TOKENS": "64"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(access, "_playground", access.RateLimiter())
    access.configure("0.0.0.0")
    guest = Caller(host="10.0.0.9", forwarded="6.6.6.6, 203.0.113.7")  # the proxy added the last address
    assert access.caller_address(guest) == "203.0.113.7"
    assert [access.playground_tokens(512, guest), access.playground_tokens(32, guest)] == [64, 32]
    with pytest.raises(access.RateLimited):
        access.playground_tokens(32, Caller(host="10.0.0.8", forwarded="1.2.3.4, 203.0.113.7"))  # forged prefix
    assert access.playground_tokens(32, Caller(forwarded="203.0.113.8")) == 32  # another guest
    for _ in range(5):  # the admin: no cap, no count
        assert access.playground_tokens(512, Caller(), oauth_profile("alice")) == 512
    for _ in range(2):  # a signed-in user who is no admin is counted by name, wherever they come from
        assert access.playground_tokens(512, Caller(host="10.0.0.5"), oauth_profile("carol")) == 64
    with pytest.raises(access.RateLimited):
        access.playground_tokens(512, Caller(host="10.0.0.6"), oauth_profile("Carol"))


def test_locally_the_playground_has_no_limits(monkeypatch):
    monkeypatch.setenv("STUDIO_PLAYGROUND_PER_MINUTE", "1")
    monkeypatch.setattr(access, "_playground", access.RateLimiter())
    access.configure("127.0.0.1")
    assert [access.playground_tokens(512, Caller(host="127.0.0.1")) for _ in range(3)] == [512] * 3
    assert access.caller_address(Caller(host="127.0.0.1", forwarded="9.9.9.9")) == "127.0.0.1"  # not a Space


def test_bad_limits_are_clear_errors(monkeypatch):
    from studio.settings import load_settings

    monkeypatch.setenv("STUDIO_PLAYGROUND_PER_MINUTE", "many")
    with pytest.raises(StudioError, match="STUDIO_PLAYGROUND_PER_MINUTE must be a whole number of at least 1"):
        load_settings()


# --- over HTTP, through Gradio's own client ------------------------------------------------------------


def protected_app():
    """A small app with one protected endpoint built like the tabs build theirs, and one open endpoint."""
    import gradio as gr

    from studio.ui.errors import user_errors

    @user_errors
    def start_training(name: str, request: gr.Request, profile: gr.OAuthProfile | None) -> str:
        user = access.require_admin(request, profile, action=access.START_TRAINING)
        return f"{user} started {name}"

    def browse(name: str) -> str:
        return f"browsing {name}"

    with gr.Blocks() as demo:
        name, answer = gr.Textbox(), gr.Textbox()
        gr.Button("train").click(start_training, name, answer, api_name="start_training")
        gr.Button("browse").click(browse, name, answer, api_name="browse")
    return demo


@pytest.fixture
def serve_app():
    """Launch `protected_app` on 127.0.0.1 under the configured policy; yields its URL."""
    launched = []

    def serve(**launch_options) -> str:
        demo = protected_app()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                    **launch_options)
        launched.append(demo)
        return f"http://127.0.0.1:{port}/"

    yield serve
    for demo in launched:
        demo.close()


def test_an_anonymous_api_call_to_a_protected_endpoint_is_refused_on_a_space(monkeypatch, serve_app):
    from gradio_client import Client

    for name, value in {**ON_SPACE, "STUDIO_ADMINS": "alice"}.items():
        monkeypatch.setenv(name, value)
    access.configure("0.0.0.0")
    client = Client(serve_app(), verbose=False)
    assert client.predict("q", api_name="/browse") == "browsing q"  # everyone may browse
    with pytest.raises(Exception, match="‘학습 시작’는 스튜디오 관리자만 할 수 있습니다. Hugging Face로 "
                                        "로그인하세요") as refused:  # no Accept-Language: Korean
        client.predict("book-r16", api_name="/start_training")
    assert "Traceback" not in str(refused.value)


def test_with_passwords_only_the_listed_admins_may_start_training(monkeypatch, serve_app):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    for name, value in PASSWORDS.items():
        monkeypatch.setenv(name, value)
    access.configure("0.0.0.0")
    url = serve_app(auth=access.password_logins())
    assert Client(url, auth=("alice", "pw-alice"), verbose=False).predict(
        "book-r16", api_name="/start_training") == "alice started book-r16"
    bob = Client(url, auth=("bob", "pw-bob"), verbose=False, headers={"Accept-Language": "en-US"})
    with pytest.raises(Exception, match="bob is not one of them"):
        bob.predict("book-r16", api_name="/start_training")
    with pytest.raises(AuthenticationError):  # and without a password, Gradio lets nobody in at all
        Client(url, verbose=False)


def test_the_real_apps_training_and_deleting_endpoints_refuse_a_user_who_is_no_admin(monkeypatch):
    """Gradio's API is callable without the UI: each protected handler of the studio itself checks (here
    under password sign-in; under OAuth the same `require_admin` reads the profile instead)."""
    from gradio_client import Client

    from tests.app_support import served_app

    for name, value in PASSWORDS.items():
        monkeypatch.setenv(name, value)
    access.configure("0.0.0.0")
    calls = {"/train_start": ("ds-x", "", "smollm2-135m-instruct"), "/train_cancel": ("",),
             "/leaderboard_reproduce": ("some-run",), "/leaderboard_delete": ("some-run", True)}
    with served_app(auth=access.password_logins()) as url:
        client = Client(url, auth=("bob", "pw-bob"), verbose=False, headers={"Accept-Language": "en-US"})
        for endpoint, args in calls.items():
            inputs = [*args, *[None] * (_input_count(client, endpoint) - len(args))]
            with pytest.raises(Exception, match="only the studio's admins may") as refused:
                client.predict(*inputs, api_name=endpoint)
            assert "Traceback" not in str(refused.value), endpoint


def _input_count(client, endpoint: str) -> int:
    return len(client.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint]["parameters"])


def test_guests_may_only_pick_the_listed_models_and_runs_in_the_playground(monkeypatch, studio_home):
    """A model or adapter typed into the Playground (or sent to its API) is resolved on the server, and a Hub
    id would be downloaded: a signed-in user who is no admin gets the listed ones only; an admin, Hub ids
    too; nobody a server folder."""
    from gradio_client import Client

    from studio.settings import DEFAULT_MODEL, load_settings
    from studio.text2sql import Answer
    from studio.ui import playground
    from tests.app_support import served_app
    from tests.test_leaderboard import Registry

    for name, value in PASSWORDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(access, "_playground", access.RateLimiter())
    access.configure("0.0.0.0")
    Registry(load_settings()).run("book-r16")  # a run trained here: a listed adapter
    asked = []

    def answer(model, ddl, question, adapter=None, generation=None, server=None):  # stands in for loading the model
        asked.append((model, adapter))
        used = "its-base" if adapter == "book-r16" else model  # a run answers on the model it was trained on
        return Answer(model=used, sql="SELECT 1", completion="SELECT 1", prompt="", new_tokens=3,
                      runs_on_schema=True, schema_message="", load_seconds=0.0, generate_seconds=0.0)

    monkeypatch.setattr(playground, "ask", answer)

    def generate(client, model, adapter=None):
        return client.predict(model, adapter, "CREATE TABLE t (a INT)", "a는?", 64, api_name="/generate_sql")

    with served_app(auth=access.password_logins()) as url:
        bob = Client(url, auth=("bob", "pw-bob"), verbose=False, headers={"Accept-Language": "en-US"})
        sql, status, *_ = generate(bob, DEFAULT_MODEL, "book-r16")
        assert sql == "SELECT 1"
        assert "Run `book-r16` answered on the model it was trained on, `its-base`" in status
        refused = {("someone/huge-model", None): "Guests may only use the models listed here: ‘someone/huge",
                   (str(studio_home), None): "Guests may only use the models listed here",  # any local folder
                   (DEFAULT_MODEL, "someone/adapter"): "Guests may only use the adapters listed here"}
        for (model, adapter), message in refused.items():
            with pytest.raises(Exception, match=message) as refusal:
                generate(bob, model, adapter)
            assert "Traceback" not in str(refusal.value)
        korean = Client(url, auth=("bob", "pw-bob"), verbose=False, headers={"Accept-Language": "ko-KR"})
        with pytest.raises(Exception, match="게스트는 목록에 있는 모델만 쓸 수 있습니다"):
            generate(korean, "someone/huge-model")
        alice = Client(url, auth=("alice", "pw-alice"), verbose=False, headers={"Accept-Language": "en-US"})
        sql, status, *_ = generate(alice, "someone/huge-model", "someone/adapter")  # admins: Hub ids too
        assert sql == "SELECT 1" and "answered on the model" not in status
        with pytest.raises(Exception, match="the page takes no server paths"):  # a folder: CLI only, for all
            generate(alice, str(studio_home))
    assert asked == [(DEFAULT_MODEL, "book-r16"), ("someone/huge-model", "someone/adapter")]
