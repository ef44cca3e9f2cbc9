"""A run imported from another machine's results (STUDIO_RESULTS_REPO) keeps that machine's adapter path, so the
Playground and Evaluate load the copy it was pushed to (the pushed commit, downloaded from the stand-in Hub
through the real client into STUDIO_HOME's cache), and say clearly when it was never pushed."""

import json
import re
import shutil

import pytest

from studio.errors import StudioError
from studio.evaluate import EvalOptions, eval_set_from_file, evaluate, run_candidate
from studio.hub import pull_results, push_results
from studio.training.publish import push_registered_run
from studio.inference import GenerationOptions
from studio.settings import DEFAULT_MODEL, load_settings
from studio.text2sql import ask
from studio.training.runs import get_run, run_weights
from tests.app_support import free_port
from tests.test_hub_standin import ALICE, standin_hub
from tests.test_leaderboard import Registry

hub = pytest.fixture(standin_hub)

DDL = "CREATE TABLE players (player_id INT, name VARCHAR(50), level INT);"
QUESTION = "레벨이 10 이상인 플레이어의 이름은?"
NOT_HERE = (r"run {name} was imported from another machine: its adapter \({path}\) is not on this machine, and "
            r"the run was never pushed to the Hub")


def switch_home(monkeypatch, home) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(home))


@pytest.fixture
def lora(offline_model, tmp_path):
    """A random LoRA on the offline model (non-zero, so its answers are not the base model's)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(offline_model)
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(tmp_path / "lora")
    return tmp_path / "lora"


@pytest.fixture
def machines(hub, offline_model, lora, tmp_path, monkeypatch):
    """Studio A trained two runs on the offline model (by its folder) and mirrored them to the results repo;
    only `pushed` went to the Hub. Returns A's and B's STUDIO_HOME; B has not imported yet."""
    monkeypatch.setenv("STUDIO_RESULTS_REPO", f"{ALICE}/studio-results")
    switch_home(monkeypatch, tmp_path / "a")
    trained = Registry(load_settings())
    for name in ("pushed", "kept"):
        shutil.copytree(lora, tmp_path / "a-adapters" / name)
        trained.run(name, base_model=str(offline_model), dataset="folder", adapter=tmp_path / "a-adapters" / name)
    push_registered_run("pushed", "pushed")
    push_results()
    return tmp_path / "a", tmp_path / "b"


def answer(adapter: str, model) -> str:
    return ask(str(model), DDL, QUESTION, adapter=adapter).completion


@pytest.mark.slow
def test_an_imported_pushed_run_loads_its_hub_copy_in_the_playground_and_evaluate(
        machines, hub, offline_model, tmp_path, monkeypatch):
    home_a, home_b = machines
    on_a = answer("pushed", offline_model)
    assert on_a != ask(str(offline_model), DDL, QUESTION).completion  # the LoRA really changes the answer
    pushed_commit = hub.repo(f"{ALICE}/pushed").head.oid
    original = (home_a.parent / "a-adapters" / "pushed" / "adapter_model.safetensors").read_bytes()
    hub.put_files(f"{ALICE}/pushed", {"adapter_model.safetensors": b"a later push"})  # not this run's weights
    shutil.rmtree(home_a.parent / "a-adapters")  # B is another machine: A's folders are not there

    switch_home(monkeypatch, home_b)
    assert pull_results().runs == 2
    run = get_run("pushed")
    assert run.adapter_path == home_a.parent / "a-adapters" / "pushed"  # imported as recorded: provenance
    folder = run_weights(run)
    assert folder.is_relative_to(home_b / "cache" / "hub") and folder.name == pushed_commit
    assert (folder / "adapter_model.safetensors").read_bytes() == original
    assert answer("pushed", offline_model) == on_a  # the Playground: the same answer as on A

    candidate = run_candidate("pushed")  # Evaluate: the same folder, on the run's base model
    assert (candidate.adapter, candidate.base_model) == (folder, str(offline_model))
    rows = tmp_path / "eval.jsonl"
    rows.write_text(json.dumps({"db_id": "g", "context": DDL, "question": QUESTION,
                                "answer": "SELECT name FROM players WHERE level >= 10"}, ensure_ascii=False))
    result = evaluate(candidate, eval_set_from_file(rows), EvalOptions(mode="execution", max_new_tokens=8))
    assert result.summary.total == 1 and result.rows[0]["completion"]

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # the Hub is gone: the cache serves
    assert run_weights(get_run("pushed")) == folder


def test_an_imported_run_never_pushed_is_a_clear_error_until_it_is(machines, hub, tmp_path, monkeypatch):
    home_a, home_b = machines
    kept = home_a.parent / "a-adapters" / "kept"
    aside = kept.rename(home_a.parent / "aside")  # B is another machine: A's folder is not there

    switch_home(monkeypatch, home_b)
    pull_results()
    message = NOT_HERE.format(name="kept", path=re.escape(str(kept)))
    with pytest.raises(StudioError, match=message):
        run_weights(get_run("kept"))
    with pytest.raises(StudioError, match=message):  # the Playground
        ask("smollm2-135m-instruct", DDL, QUESTION, adapter="kept")
    with pytest.raises(StudioError, match=message):  # Evaluate
        run_candidate("kept")

    switch_home(monkeypatch, home_a)  # A pushes it later; B's next import picks up the link
    aside.rename(kept)
    push_registered_run("kept", "kept")
    push_results()
    shutil.rmtree(kept)
    switch_home(monkeypatch, home_b)
    report = pull_results()
    assert (report.runs, report.hub_links) == (0, 1)
    folder = run_weights(get_run("kept"))
    assert folder.name == hub.repo(f"{ALICE}/kept").head.oid and (folder / "adapter_config.json").is_file()
    assert not push_results().changed  # B's copy of the run record is the same as A's


@pytest.mark.slow
def test_a_run_on_another_machines_model_folder_loads_on_the_model_its_adapter_names(
        hub, offline_model, lora, tmp_path, monkeypatch):
    """A trained on its own folder of the built-in model (a converted folder, as AutoTrain records it). The
    pushed adapter names the built-in by its Hub id, so B loads the run on its own copy of the built-in,
    whatever model the Playground had chosen."""
    monkeypatch.setenv("STUDIO_RESULTS_REPO", f"{ALICE}/studio-results")
    folder_on_a, adapter_on_a = tmp_path / "a-model", tmp_path / "a-adapter"
    folder_on_a.mkdir()
    for file in offline_model.iterdir():  # A's copy of the converted model (links: the same weights)
        (folder_on_a / file.name).symlink_to(file)
    shutil.copytree(lora, adapter_on_a)
    switch_home(monkeypatch, tmp_path / "a")
    Registry(load_settings()).run("on-a-folder", base_model=str(folder_on_a), dataset="folder",
                                  adapter=adapter_on_a)
    on_a = ask("owner/unused", DDL, QUESTION, adapter="on-a-folder")
    assert on_a.model == str(folder_on_a)
    push_registered_run("on-a-folder", "on-a-folder")
    push_results()
    for folder in (folder_on_a, adapter_on_a):  # B is another machine
        shutil.rmtree(folder)

    home_b = tmp_path / "b"
    (home_b / "models").mkdir(parents=True)
    (home_b / "models" / DEFAULT_MODEL).symlink_to(offline_model)  # B has converted the built-in already
    switch_home(monkeypatch, home_b)
    pull_results()
    assert run_candidate("on-a-folder").base_model == DEFAULT_MODEL
    on_b = ask("owner/unused", DDL, QUESTION, adapter="on-a-folder")
    assert (on_b.model, on_b.completion) == (DEFAULT_MODEL, on_a.completion)


def test_a_run_whose_base_model_is_nowhere_here_is_a_clear_error(studio_home, tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/elsewhere/model"}))
    Registry(load_settings()).run("lost-base", base_model="/elsewhere/model", adapter=adapter)
    message = "run lost-base was trained on the model folder /elsewhere/model, which is not on this machine"
    with pytest.raises(StudioError, match=message):
        run_candidate("lost-base")
    with pytest.raises(StudioError, match=message):  # the Playground
        ask("smollm2-135m-instruct", DDL, QUESTION, adapter="lost-base")


def test_a_merged_run_answers_as_the_model_it_is(offline_model, monkeypatch):
    """A merged run is a full model: the Playground loads its folder as the model, not as an adapter."""
    Registry(load_settings()).run("merged", base_model=DEFAULT_MODEL, adapter=offline_model, merged=True)
    short = GenerationOptions(max_new_tokens=8)
    merged = ask("owner/unused", DDL, QUESTION, adapter="merged", generation=short)
    plain = ask(str(offline_model), DDL, QUESTION, generation=short)
    assert (merged.model, merged.completion) == (str(offline_model), plain.completion)
    assert (run_candidate("merged").base_model, run_candidate("merged").adapter) == (str(offline_model), None)


def test_a_run_trained_here_whose_folder_is_gone_says_so(studio_home, tmp_path):
    registry = Registry(load_settings())
    registry.run("mine", dataset="folder", adapter=tmp_path / "deleted")
    gone = re.escape(str(tmp_path / "deleted"))
    with pytest.raises(StudioError, match=f"run mine: its adapter folder {gone} is missing .* never pushed"):
        run_weights(get_run("mine"))


def test_a_broken_hub_copy_is_a_clear_error(machines, hub, monkeypatch):
    home_a, home_b = machines
    shutil.rmtree(home_a.parent / "a-adapters")
    switch_home(monkeypatch, home_b)
    pull_results()
    monkeypatch.setenv("HF_TOKEN", hub.add_user("bob"))  # cannot see alice's private repo
    with pytest.raises(StudioError, match=r"run pushed was imported from another machine: .* loading its Hub "
                                          rf"copy {ALICE}/pushed@\w{{7}} failed: .*not found"):
        run_weights(get_run("pushed"))
