"""Access control: exposing the app needs sign-in, and protected handlers refuse non-admins on the server,
also when Gradio's API is called without the UI."""

import socket
import subprocess
import sys

import pytest

from studio import access
from studio.errors import StudioError
from studio.settings import REPO_ROOT

ON_SPACE = {"SPACE_ID": "alice/studio", "OAUTH_CLIENT_ID": "client-id"}
PASSWORDS = {"STUDIO_AUTH": "alice:pw-alice,bob:pw-bob", "STUDIO_ADMINS": "alice"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("SPACE_ID", "OAUTH_CLIENT_ID", "STUDIO_AUTH", "STUDIO_ADMINS"):
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
    assert access.require_admin(None, action="start training") == "local"


class Identity:  # what gr.Request (password sign-in) and gr.OAuthProfile (OAuth) both carry
    def __init__(self, username):
        self.username = username


def test_on_a_space_only_signed_in_admins_pass(monkeypatch):
    for name, value in {**ON_SPACE, "STUDIO_ADMINS": "Alice,carol"}.items():
        monkeypatch.setenv(name, value)
    access.configure("0.0.0.0")
    assert access.require_admin(Identity(None), Identity("alice"), action="push") == "alice"  # any case
    with pytest.raises(access.AccessDenied, match="may push on this shared deployment: sign in with Hugging"):
        access.require_admin(Identity(None), None, action="push")
    with pytest.raises(access.AccessDenied, match="bob is not one of them"):
        access.require_admin(Identity("bob"), action="push")


# --- over HTTP, through Gradio's own client ------------------------------------------------------------


def protected_app():
    """A small app with one protected endpoint built like the tabs build theirs, and one open endpoint."""
    import gradio as gr

    from studio.ui.errors import user_errors

    @user_errors
    def start_training(name: str, request: gr.Request, profile: gr.OAuthProfile | None) -> str:
        user = access.require_admin(request, profile, action="start training")
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
    with pytest.raises(Exception, match="only the studio's admins may start training.*sign in") as refused:
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
    with pytest.raises(Exception, match="bob is not one of them"):
        Client(url, auth=("bob", "pw-bob"), verbose=False).predict("book-r16", api_name="/start_training")
    with pytest.raises(AuthenticationError):  # and without a password, Gradio lets nobody in at all
        Client(url, verbose=False)
