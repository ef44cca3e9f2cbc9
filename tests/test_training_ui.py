"""The Train tab over real HTTP (Gradio's own client), with the stand-in trainer: presets fill the form, the
YAML preview explains bad values, a started job runs in the app's worker thread, the refresh shows its
progress and loss curve from the registry (what a reloaded page sees), and cancel stops a running job."""

import pytest
from gradio_client import Client

from studio import registry
from studio.settings import load_settings
from studio.training import list_runs
from studio.training.config import TrainingConfig
from studio.training.jobs import list_jobs
from studio.ui import train as train_tab
from studio.ui.i18n import MESSAGES
from studio.ui.train import FORM_FIELDS
from tests.app_support import served_app
from tests.test_hub_standin import ALICE, standin_hub
from tests.training_fixtures.support import fake_autotrain, fake_python, wait_for  # noqa: F401

hub = pytest.fixture(standin_hub)
SPACE = "spaces-a10g-large"


@pytest.fixture
def client(fake_autotrain):
    with served_app() as url:
        yield Client(url, verbose=False, headers={"Accept-Language": "en-US"})


def form(client, fake_autotrain, **changes) -> list:
    """The form's values after picking the CPU preset, with the stand-in model and some changes."""
    values = list(client.predict("cpu-lora.yml", api_name="/train_load_preset"))[:-1]  # without the grid
    values[0] = str(fake_autotrain["model"])
    for name, value in changes.items():
        values[1 + FORM_FIELDS.index(name)] = value
    return values


def test_preset_preview_and_validation(client, fake_autotrain):
    loaded = client.predict("sweep-lora-r-alpha.yml", api_name="/train_load_preset")
    assert loaded[0] == "smollm2-135m-instruct" and "lora_r: [8, 16]" in loaded[-1]
    preview, download = client.predict(*form(client, fake_autotrain), api_name="/train_preview")
    assert "task: llm-sft" in preview and "lora_r: 16" in preview and download.endswith(".yml")
    bad = form(client, fake_autotrain, lora_r=0, lr=-1)
    preview, download = client.predict(*bad, api_name="/train_preview")
    assert preview.startswith("# invalid training configuration") and download is None
    assert "lora_r must be in [1, 1024]" in preview and "lr must be in (0, 1]" in preview


def test_a_job_started_in_the_tab_runs_and_its_progress_shows(client, fake_autotrain, monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER_STEPS", "5")
    status = client.predict(str(fake_autotrain["data"]), "", *form(client, fake_autotrain, block_size=64),
                            api_name="/train_start")
    assert status.startswith("Queued 1 job(s): smollm2-cpu-lora-")

    def finished():
        refreshed = client.predict("", api_name="/train_refresh")
        return "succeeded" in refreshed[3] and refreshed

    environment, queue, _job, progress, loss, log = wait_for(finished, timeout=60, every=0.5)
    assert environment.startswith("Training on: CPU") or environment.startswith("Training on: GPU")
    assert queue["data"][0][2] == "succeeded" and "step 5/5" in progress
    assert [row[1] for row in loss["data"]] == pytest.approx([2.8, 2.6, 2.4, 2.2, 2.0])
    assert "Starting to train" in log


def test_cancel_from_the_tab(client, fake_autotrain, monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER_STEPS", "2000")
    client.predict(str(fake_autotrain["data"]), "", *form(client, fake_autotrain, block_size=64),
                   api_name="/train_start")
    wait_for(lambda: "running" in client.predict("", api_name="/train_refresh")[3], timeout=60, every=0.5)
    assert client.predict("", api_name="/train_cancel").endswith(": cancelled")
    assert "cancelled" in client.predict("", api_name="/train_refresh")[3]


def test_bad_values_are_refused_with_a_message(client, fake_autotrain):
    with pytest.raises(Exception, match="block_size 4096 is longer than the model can take"):
        client.predict(str(fake_autotrain["data"]), "", *form(client, fake_autotrain, block_size=4096),
                       api_name="/train_start")
    with pytest.raises(Exception, match="Choose the training data"):
        client.predict("", "", *form(client, fake_autotrain), api_name="/train_start")


def test_a_2x2_sweep_started_in_the_tab_queues_four_jobs_that_run_one_after_another(client, fake_autotrain,
                                                                                     monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER_STEPS", "2")
    grid = "lora_r: [8, 16]\nlora_alpha: [16, 32]\n"
    status = client.predict(str(fake_autotrain["data"]), grid, *form(client, fake_autotrain, block_size=64),
                            api_name="/train_start")
    assert status.startswith("Queued 4 job(s)")

    def all_done():
        queue = client.predict("", api_name="/train_refresh")[1]["data"]
        return len(queue) == 4 and all(row[2] == "succeeded" for row in queue) and queue

    wait_for(all_done, timeout=120, every=0.5)
    settings = load_settings()
    with registry.session(settings.registry_path) as db:
        jobs = sorted(list_jobs(db, settings), key=lambda job: job.id)
    assert [(job.config.lora_r, job.config.lora_alpha) for job in jobs] == [(8, 16), (8, 32), (16, 16), (16, 32)]
    for earlier, later in zip(jobs, jobs[1:]):
        assert later.started_at >= earlier.finished_at  # one trainer at a time, oldest first
    assert {run.name for run in list_runs()} == {job.run_name for job in jobs}


def queued_jobs() -> list:
    settings = load_settings()
    with registry.session(settings.registry_path) as db:
        return list_jobs(db, settings)


def test_a_space_backend_shows_in_the_yaml_preview_with_a_token_placeholder(client, fake_autotrain,  # noqa: F811
                                                                            monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_never_in_the_yaml")
    preview, download = client.predict(*form(client, fake_autotrain, backend=SPACE, hub_username=ALICE),
                                       api_name="/train_preview")
    assert f"backend: {SPACE}" in preview and "hf_never_in_the_yaml" not in preview
    assert f"hub:\n  username: {ALICE}\n  token: ${{HF_TOKEN}}\n  push_to_hub: true" in preview
    config = TrainingConfig.from_yaml(preview)  # what the download holds reads back as the form's choice
    assert (config.backend, config.hub_username) == (SPACE, ALICE) and download.endswith(".yml")
    local, _ = client.predict(*form(client, fake_autotrain, hub_username=ALICE), api_name="/train_preview")
    assert "backend: local" in local and "hub:" not in local  # a username alone sends nothing to the Hub


def test_the_environment_line_says_where_the_job_will_train(client, fake_autotrain, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HF_TOKEN", "hf_token")
    assert client.predict(SPACE, ALICE, api_name="/train_environment") == (
        f"Training on: a private Hugging Face Space (a10g-large) of {ALICE}, billed to that account")
    local = client.predict("local", "", api_name="/train_environment")
    assert local.startswith(("Training on: CPU", "Training on: GPU"))  # this machine, as before
    monkeypatch.delenv("HF_TOKEN")
    environment = client.predict("", "spaces-t4-small", " ", api_name="/train_refresh")[0]  # the timer's call
    assert environment == ("Training on: a private Hugging Face Space (t4-small): set hub_username to the "
                           "account that runs it and pays for it  \n" + MESSAGES["en"]["train_env_no_token"])


def test_a_space_backend_without_a_username_or_a_token_is_refused_with_a_message(client, fake_autotrain,  # noqa: F811
                                                                                  monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    nobody = form(client, fake_autotrain, backend=SPACE, hub_username="", block_size=64)
    preview, download = client.predict(*nobody, api_name="/train_preview")
    assert preview.startswith("# invalid training configuration") and download is None
    assert f"backend {SPACE} runs the job on a Hugging Face Space: set hub_username" in preview
    with pytest.raises(Exception, match="set hub_username") as refused:
        client.predict(str(fake_autotrain["data"]), "", *nobody, api_name="/train_start")
    assert "Traceback" not in str(refused.value)
    alice = form(client, fake_autotrain, backend=SPACE, hub_username=ALICE, block_size=64)
    with pytest.raises(Exception, match="which needs a token: set HF_TOKEN"):
        client.predict(str(fake_autotrain["data"]), "", *alice, api_name="/train_start")
    assert queued_jobs() == []


def test_a_preset_keeps_the_backend_chosen_in_the_form(client, fake_autotrain):  # noqa: F811
    def placement(*args):
        values = client.predict(*args, api_name="/train_load_preset")
        return values[1 + FORM_FIELDS.index("backend")], values[1 + FORM_FIELDS.index("hub_username")]

    assert placement("book-qlora-gpu.yml", SPACE, ALICE) == (SPACE, ALICE)
    assert placement("book-qlora-gpu.yml") == ("local", "")  # the form's first state


def test_a_space_job_started_in_the_tab_says_which_space_it_trains_on(hub, client, fake_autotrain,  # noqa: F811
                                                                      monkeypatch):
    monkeypatch.setattr(train_tab, "ensure_background_worker", lambda: None)  # queued, never launched
    values = form(client, fake_autotrain, backend=SPACE, hub_username=ALICE, block_size=64)
    values[0] = "smollm2-135m-instruct"  # a Space downloads its base model: a built-in model's Hub id
    status = client.predict(str(fake_autotrain["data"]), "", *values, api_name="/train_start")
    [job] = queued_jobs()
    assert job.remote.space_id == f"{ALICE}/autotrain-{job.name}" and not hub.repos
    assert status.startswith(f"Queued 1 job(s): {job.name}  \n{job.name} trains on the private Space "
                             f"{job.remote.space_id} (a10g-large)")
