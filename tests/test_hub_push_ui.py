"""The Leaderboard tab's Hub section over real HTTP (Gradio's own client) against the stand-in Hub: a run is
pushed (adapter or merged model) and the repo URL and commit shown and recorded; every failure is a clear
message, leaves the run as it was, and the same push goes through once the cause is fixed; on a shared
deployment an anonymous call is refused on the server."""

import pytest
from gradio_client import Client

from studio import access, registry
from studio.settings import load_settings
from studio.training.config import TrainingConfig
from studio.training.runs import insert_run
from tests.app_support import served_app
from tests.test_hub_push import FAILURES, make_adapter, tiny_base  # noqa: F401 - the tiny model fixture
from tests.test_hub_standin import ALICE, standin_hub

hub = pytest.fixture(standin_hub)

RUN = "book r16/a32"


def register_run(name: str, adapter, base) -> None:
    """A run as the training worker records one, with a real adapter on the tiny base model."""
    with registry.session(load_settings().registry_path) as db:
        insert_run(db, name=name, job_id=None, base_model=str(base), base_model_path=base,
                   dataset_ref="folder", dataset_version=None, train_rows=8, adapter_path=adapter,
                   merged=False, config=TrainingConfig(lora_r=2, lora_alpha=4), duration_s=10.0,
                   train_runtime_s=8.0, final_loss=1.5, train_loss=1.7, tokens_per_s=None,
                   hardware={"device": "cpu", "cpu_count": 2}, software={})


def hub_link(name: str) -> tuple[str | None, str | None]:
    """Where the registry says the run was pushed (url, commit)."""
    with registry.session(load_settings().registry_path) as db:
        return tuple(db.execute("SELECT hub_url, hub_commit FROM runs WHERE name = ?", (name,)).fetchone())


@pytest.fixture
def app(hub, tiny_base, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(access, "_policy", None)  # this machine, not shared: until a test says otherwise
    register_run(RUN, make_adapter(tiny_base, tmp_path / "adapter"), tiny_base)
    with served_app() as url:
        yield url


def push(client, run=RUN, repo="book-r16", private=True, merged=False, token=""):
    return client.predict(run, repo, private, merged, token, api_name="/hub_push")


def test_a_run_is_pushed_from_the_leaderboard_tab_and_its_repo_recorded(app, hub):
    from studio import leaderboard as lb

    client = Client(app, verbose=False, headers={"Accept-Language": "en-US"})
    assert client.predict(RUN, api_name="/hub_suggest_repo") == "book-r16-a32"
    message = push(client, repo="book-r16-a32")
    repo = hub.repo(f"{ALICE}/book-r16-a32")
    url = f"{hub.endpoint}/{ALICE}/book-r16-a32"
    assert message == f"✅ Pushed run **{RUN}** to [{ALICE}/book-r16-a32]({url}) at commit `{repo.head.oid}`"
    assert repo.private and "adapter_model.safetensors" in repo.head.files
    assert hub_link(RUN) == (url, repo.head.oid)
    assert lb.load_board().set_index("run").loc[RUN, "hub"] == url  # the leaderboard links it

    korean = Client(app, verbose=False, headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert push(korean, repo="book-r16-a32").startswith(f"✅ [{ALICE}/book-r16-a32]({url})에 이미 같은 파일이")

    push(client, repo="book-r16-merged", private=False, merged=True)
    merged = hub.repo(f"{ALICE}/book-r16-merged")
    assert not merged.private and {"model.safetensors", "config.json"} <= set(merged.head.files)
    assert "adapter_model.safetensors" not in merged.head.files
    assert hub_link(RUN)[1] == merged.head.oid


def test_failed_pushes_explain_leave_the_run_unchanged_and_can_be_retried(app, hub, monkeypatch):
    from huggingface_hub import CommitOperationAdd, HfApi

    client = Client(app, verbose=False, headers={"Accept-Language": "en-US"})
    for name, (arrange, message) in FAILURES.items():
        arrange(hub, monkeypatch)
        with pytest.raises(Exception, match=f"Could not push run {RUN}.*run is unchanged.*{message}") as failed:
            push(client)
        assert "Traceback" not in str(failed.value), name
        assert hub_link(RUN) == (None, None) and not hub.repos, name
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", hub.add_user(ALICE))

    with pytest.raises(Exception, match=r"rejected the token \(401\)"):  # a token typed in the form is used
        push(client, token="hf_typed_but_revoked")
    with pytest.raises(Exception, match="Choose a run"):
        push(client, run="")

    api = HfApi(endpoint=hub.endpoint, token=hub.add_user(ALICE))  # someone's own model has that name
    api.create_repo(f"{ALICE}/book-r16")
    api.create_commit(f"{ALICE}/book-r16", [CommitOperationAdd("model.safetensors", b"weights")],
                      commit_message="my own model")
    with pytest.raises(Exception, match=f"the name {ALICE}/book-r16 is taken.*choose another name"):
        push(client)
    assert set(hub.repo(f"{ALICE}/book-r16").head.files) == {".gitattributes", "model.safetensors"}

    assert push(client, repo="book-r16-lora").startswith("✅ Pushed")  # the retry with a free name
    assert hub_link(RUN)[1] == hub.repo(f"{ALICE}/book-r16-lora").head.oid


def test_an_anonymous_push_on_a_shared_deployment_is_refused(app, hub, monkeypatch):
    for name, value in {"SPACE_ID": f"{ALICE}/studio", "OAUTH_CLIENT_ID": "client-id",
                        "STUDIO_ADMINS": ALICE}.items():
        monkeypatch.setenv(name, value)
    access.configure("0.0.0.0")  # the app now serves a Space: its handlers check on the server
    client = Client(app, verbose=False, headers={"Accept-Language": "en-US"})
    with pytest.raises(Exception, match="only the studio's admins may push to the Hugging Face Hub.*sign in"):
        push(client)
    assert not hub.repos and hub_link(RUN) == (None, None)
