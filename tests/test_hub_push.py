"""Pushing adapters and merged models to the Hub, through the real huggingface_hub client and the stand-in."""

import dataclasses
import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from studio.errors import StudioError
from studio.hub import PushSource, pull_records, push_records, push_run, suggest_repo_name
from studio.training.publish import source_from_run
from studio.settings import REPO_ROOT
from tests.test_hub_standin import ALICE, BOB, LAB, standin_hub

hub = pytest.fixture(standin_hub)

SUMMARY = {"mode": "hybrid", "total": 112, "matches": 60, "ex_score": 0.55, "judge_score": 0.6, "accuracy": 0.536}
LEAKY = "hf_must_never_be_uploaded"


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A real, very small Llama model with a word-level tokenizer (random weights): fast to merge and load."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-base")
    vocab = {word: i for i, word in enumerate(["<unk>", "</s>", "SELECT", "name", "FROM", "players", ";"])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", eos_token="</s>").save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def make_adapter(base: Path, folder: Path, seed: int = 0) -> Path:
    """A LoRA adapter with non-zero weights (so it changes the output), saved like AutoTrain saves one."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    (folder / "training_params.json").write_text(json.dumps({"token": LEAKY}))  # AutoTrain's, with a token
    return folder


@pytest.fixture
def source(tiny_base, tmp_path) -> PushSource:
    return PushSource(
        folder=make_adapter(tiny_base, tmp_path / "adapter"), name="book r16/a32 #1",
        base_model="smollm2-135m-instruct", base_model_path=tiny_base, training_yaml="task: llm-sft\n",
        dataset="shangrilar/ko_text2sql", train_rows=200, parameters={"lora_r": 16, "lr": 2e-4},
        results={"final training loss": 0.4321}, evaluation=SUMMARY)


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_push_uploads_the_adapter_the_card_the_config_and_the_scores(hub, source):
    from huggingface_hub import ModelCard

    result = push_run(source, f"{ALICE}/book-r16")
    repo = hub.repo(f"{ALICE}/book-r16")
    assert repo.private and result.changed and result.commit == repo.head.oid
    assert result.url == f"{hub.endpoint}/{ALICE}/book-r16"
    files = repo.head.files
    assert set(files) == {".gitattributes", "README.md", "adapter_config.json", "adapter_model.safetensors",
                          "autotrain_config.yml", "eval_results.json", "tokenizer.json", "tokenizer_config.json"}
    assert not any(LEAKY.encode() in content for content in files.values())
    assert files["adapter_model.safetensors"] == (source.folder / "adapter_model.safetensors").read_bytes()
    config = json.loads(files["adapter_config.json"])
    assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"  # not a local path
    assert json.loads(files["eval_results.json"]) == SUMMARY

    card = ModelCard(files["README.md"].decode())
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert (card.data.library_name, card.data.pipeline_tag) == ("peft", "text-generation")
    assert {"text2sql", "korean", "autotrain", "lora"} <= set(card.data.tags)
    assert card.data.datasets == ["shangrilar/ko_text2sql"]
    assert {(r.metric_name, r.metric_value) for r in card.data.eval_results} == {("EX", 55.0), ("judge", 60.0)}
    assert "### SQL:\n{query}" in card.text and 'AutoPeftModelForCausalLM.from_pretrained("alice/book-r16")' in card.text
    assert "| lora_r | 16 |" in card.text and "| EX (execution accuracy) | 55.0% |" in card.text


def test_pushing_again_commits_only_what_changed(hub, source):
    first = push_run(source, "book-r16")  # a bare name lands in the token's namespace
    again = push_run(source, "book-r16")
    repo = hub.repo(f"{ALICE}/book-r16")
    assert (again.commit, again.changed, len(repo.commits)) == (first.commit, False, 2)  # creation + one push

    better = dataclasses.replace(source, evaluation={**SUMMARY, "ex_score": 0.6})
    updated = push_run(better, "book-r16")
    assert updated.changed and updated.commit == repo.head.oid and len(repo.commits) == 3
    assert set(repo.head.changed) == {"README.md", "eval_results.json"}
    assert json.loads(repo.head.files["eval_results.json"])["ex_score"] == 0.6


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


FAILURES = {
    "no token": (lambda hub, env: env.delenv("HF_TOKEN"), "no Hugging Face token: set HF_TOKEN"),
    "401": (lambda hub, env: env.setenv("HF_TOKEN", "hf_revoked"), r"rejected the token \(401\)"),
    "403": (lambda hub, env: env.setenv("HF_TOKEN", hub.add_user(ALICE, role="read")), "may not write .*403"),
    "network down": (lambda hub, env: env.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}"),
                     "cannot be reached"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_failed_push_explains_and_leaves_everything_as_it_was(hub, source, monkeypatch, failure):
    arrange, message = FAILURES[failure]
    arrange(hub, monkeypatch)
    before = tree_digest(source.folder)
    with pytest.raises(StudioError, match=message):
        push_run(source, f"{ALICE}/book-r16")
    assert not hub.repos and tree_digest(source.folder) == before
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)  # once the cause is fixed, the same push goes through
    monkeypatch.setenv("HF_TOKEN", hub.add_user(ALICE))
    assert push_run(source, f"{ALICE}/book-r16").changed


def test_a_name_taken_by_another_owner_is_refused_but_organisations_work(hub, source):
    from huggingface_hub import HfApi

    HfApi(endpoint=hub.endpoint, token=hub.add_user(BOB)).create_repo(f"{BOB}/book-r16")
    with pytest.raises(StudioError, match=f"belongs to '{BOB}'.*e.g. {ALICE}/book-r16"):
        push_run(source, f"{BOB}/book-r16")
    assert len(hub.repo(f"{BOB}/book-r16").commits) == 1
    assert push_run(source, f"{LAB}/book-r16").repo_id == f"{LAB}/book-r16"


def test_an_existing_repo_the_studio_did_not_push_is_never_overwritten(hub, source):
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=hub.endpoint, token=os.environ["HF_TOKEN"])
    api.create_repo(f"{ALICE}/empty")  # created by hand, still empty: the studio may fill it
    assert push_run(source, "empty").changed
    api.create_repo(f"{ALICE}/mine")
    api.create_commit(f"{ALICE}/mine", [CommitOperationAdd("README.md", b"# my model\n"),
                                         CommitOperationAdd("model.safetensors", b"weights")],
                      commit_message="mine")
    with pytest.raises(StudioError, match=f"the name {ALICE}/mine is taken: .* choose another name"):
        push_run(source, "mine")
    assert hub.repo(f"{ALICE}/mine").head.files["model.safetensors"] == b"weights"


def test_the_repo_name_is_suggested_from_the_run(hub, source):
    assert suggest_repo_name("book r16/a32 #1") == "book-r16-a32-1"
    assert push_run(source).repo_id == f"{ALICE}/book-r16-a32-1"


def test_merged_push_replaces_the_adapter_with_an_fp16_model_that_loads_by_repo_id(hub, source, tiny_base):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from studio.models import resolve_model

    push_run(source, "book-r16")
    result = push_run(source, "book-r16", merged=True)
    files = hub.repo(f"{ALICE}/book-r16").head.files
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(files)
    assert not {"adapter_config.json", "adapter_model.safetensors"} & set(files)  # no stale adapter
    assert "library_name: transformers" in files["README.md"].decode()

    folder = resolve_model(result.repo_id)  # a merged model loads by repo id like any Hub model
    merged = AutoModelForCausalLM.from_pretrained(folder)
    assert merged.dtype == torch.float16
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base), source.folder)
    ids = torch.tensor([[2, 3, 4, 5, 6]])
    with torch.no_grad():
        expected, got = tuned(input_ids=ids).logits, merged.float()(input_ids=ids).logits
    assert torch.allclose(expected, got, atol=1e-2)


def test_a_run_becomes_a_push_source_with_its_config_and_results(studio_home, tiny_base):
    from studio.training import TrainingConfig
    from studio.training.runs import Run

    config = TrainingConfig(lora_r=8, lora_alpha=16)
    run = Run(id=1, name="cpu-lora-3", job_id=3, created_at="2026-11-01T00:00:00Z",
              base_model="smollm2-135m-instruct", base_model_path=tiny_base, dataset_ref="ds-0123456789ab",
              dataset_version=None, train_rows=64, adapter_path=tiny_base / "adapter", merged=False,
              config=config, duration_s=40.0, train_runtime_s=31.5, final_loss=1.25, train_loss=1.5,
              tokens_per_s=130.0, hardware={"device": "cpu", "cpu_count": 2},
              software={"autotrain-advanced": "0.8.36"})
    pushed = source_from_run(run, evaluation=SUMMARY)
    assert TrainingConfig.from_yaml(pushed.training_yaml) == config  # `autotrain --config` file, round trip
    assert pushed.parameters["lora_r"] == 8 and "hub_username" not in pushed.parameters
    assert pushed.results["final training loss"] == 1.25 and pushed.results["hardware"] == "CPU, 2 cores"
    assert (pushed.dataset_version, pushed.dataset, pushed.evaluation) == ("ds-0123456789ab", None, SUMMARY)


def test_results_mirror_to_a_dataset_repo_and_back(hub):
    board = [{"run": "cpu-lora-3", "ex": 0.55}, {"run": "base", "ex": 0.09}]
    pushed = push_records("studio-results", {"leaderboard.json": board, "notes.md": "# 결과\n"})
    assert pushed.repo_type == "dataset" and hub.repo(f"{ALICE}/studio-results", "dataset").private
    assert not push_records("studio-results", {"leaderboard.json": board}).changed
    folder = pull_records(f"{ALICE}/studio-results", patterns=["*.json"])
    assert json.loads((folder / "leaderboard.json").read_text()) == board
    assert not (folder / "notes.md").exists()


def test_push_command_prints_the_url_and_commit_for_the_run(hub, source):
    env = {**os.environ, "HF_HUB_OFFLINE": "0"}
    command = [sys.executable, "-m", "studio", "push", "--adapter", str(source.folder),
               "--base-model", "smollm2-135m-instruct", "--repo", "cli-push"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.splitlines()[-1])
    assert printed == {"repo": f"{ALICE}/cli-push", "url": f"{hub.endpoint}/{ALICE}/cli-push",
                       "commit": hub.repo(f"{ALICE}/cli-push").head.oid, "changed": True}

    refused = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                             env={k: v for k, v in env.items() if k != "HF_TOKEN"})
    assert refused.returncode == 2 and refused.stderr.startswith("error: no Hugging Face token")
