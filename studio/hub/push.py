"""Push a fine-tuned adapter (or the model with the adapter merged in) to the Hub, with its model card.

`push_run` takes a `PushSource`: an adapter folder plus what the card says about it. This layer knows no
training runs: `studio.training.publish` builds a source from a run and records the returned URL and commit
with it, so any adapter folder can be pushed too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import Phrase, StudioError
from studio.export.merged import merged_model, tokenizer_files
from studio.hub.card import STUDIO_NAME, hub_base_model, model_card
from studio.hub.client import (
    Content,
    HubSession,
    PushResult,
    commit_files,
    connect,
    ensure_repo,
    hub_errors,
    matches_any,
)
from studio.models import resolve_model
from studio.prompts import BOOK_TEMPLATE
from studio.settings import Secret, Settings, load_settings

ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
MODEL_PATTERNS = ("config.json", "generation_config.json", "model*.safetensors", "model.safetensors.index.json")
# Weights and configs the studio manages: when a push switches between adapter and merged model, the
# other kind's files are deleted so the repo never holds both. Other files (eval results) are kept.
MANAGED = matches_any(ADAPTER_FILES + MODEL_PATTERNS)
CONFIG_YAML = "autotrain_config.yml"
EVAL_JSON = "eval_results.json"


@dataclass(frozen=True)
class PushSource:
    """What a push needs, wherever it comes from (a run, or any adapter folder)."""

    folder: Path  # a LoRA adapter folder; a full model folder when `is_model`
    name: str  # the run name: suggests the repo name, titles the card
    base_model: str  # built-in name, Hub id or local folder
    base_model_path: Path | None = None  # a local copy of the base, for merging (resolved when None)
    is_model: bool = False  # the folder already holds a merged model (AutoTrain's merge_adapter)
    training_yaml: str | None = None  # the AutoTrain config; `autotrain --config` accepts it
    dataset: str | None = None  # the training data's Hub id, when it came from the Hub
    dataset_version: str | None = None
    train_rows: int | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    results: Mapping[str, Any] = field(default_factory=dict)  # final loss, duration, hardware ...
    evaluation: Mapping[str, Any] | None = None  # evaluation.scoring.Summary.to_dict()
    template: str = BOOK_TEMPLATE
    examples: bool = False  # trained on prompts with the nearest training example (studio.retrieval)


def suggest_repo_name(run_name: str) -> str:
    """A valid Hub repo name from a run name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", run_name).strip("-.")[:96]
    return name or "text2sql-lora"


def push_run(
    source: PushSource,
    repo: str | None = None,
    *,
    private: bool = True,
    merged: bool = False,
    settings: Settings | None = None,
    token: Secret | None = None,
) -> PushResult:
    """Push `source` to `repo` (`owner/name`, or `name` in the token's namespace; suggested from the run
    when None). Private unless `private=False` (applies when the repo is created). `merged` pushes the
    base model with the adapter merged in (fp16) instead of the adapter. Pushing again updates the repo
    in one commit, or commits nothing if nothing changed. Raises StudioError, leaving the run as it was."""
    settings = settings or load_settings()
    merged = merged or source.is_model
    _check_folder(source)  # before any network: a broken folder is not worth a round trip
    session = connect(settings, token)
    repo_id = session.full_repo_id(repo or suggest_repo_name(source.name))
    session.check_owner(repo_id)
    _refuse_foreign_repo(session, repo_id, settings)
    weights = _model_files(_merged_model(source, settings)) if merged else _adapter_files(source)
    files = {**weights, **_documents(source, repo_id, merged)}
    ensure_repo(session, repo_id, private=private)
    return commit_files(session, repo_id, files, message=f"Push {source.name} from Text2SQL LoRA Studio",
                        stale=MANAGED)


# --- files --------------------------------------------------------------------------------------------


def _refuse_foreign_repo(session: HubSession, repo_id: str, settings: Settings) -> None:
    """An existing repo of that name that the studio did not push is someone's work: a push would replace
    its weights and card. Refuse (the name is taken) unless it is empty or its card says the studio made
    it."""
    from huggingface_hub.errors import RepositoryNotFoundError

    api = session.api
    action = Phrase("checking {repo}", key="hub_act_check", repo=repo_id)
    with hub_errors(action, session.endpoint, repo_id):
        try:
            info = api.repo_info(repo_id)
        except RepositoryNotFoundError:
            return  # a new name
        files = {sibling.rfilename for sibling in info.siblings or []} - {".gitattributes"}
        card = api.hf_hub_download(repo_id, "README.md", revision=info.sha,
                                   cache_dir=settings.home / "cache" / "hub") if "README.md" in files else None
    if files and (card is None or STUDIO_NAME not in Path(card).read_text(encoding="utf-8", errors="replace")):
        raise StudioError("the name {repo} is taken: that repo exists and was not pushed from the studio, "
                          "so a push would replace its files; choose another name", key="push_name_taken",
                          repo=repo_id)


def _check_folder(source: PushSource) -> None:
    folder = source.folder
    if source.is_model:
        if not (folder / "config.json").is_file():
            raise StudioError("{folder} holds no model (config.json is missing)", key="push_no_model",
                              folder=folder)
    elif not all((folder / name).is_file() for name in ADAPTER_FILES):
        raise StudioError("{folder} holds no LoRA adapter: it needs {files}", key="push_no_adapter",
                          folder=folder, files=" and ".join(ADAPTER_FILES))


def _adapter_files(source: PushSource) -> dict[str, Content]:
    """The adapter and tokenizer, from an allow-list: AutoTrain's output folder also holds
    training_params.json, which may carry a token, and that must never be uploaded."""
    files: dict[str, Content] = {"adapter_model.safetensors": source.folder / "adapter_model.safetensors",
                                 "adapter_config.json": _portable_adapter_config(source)}
    files.update(tokenizer_files(source.folder))
    return files


def _portable_adapter_config(source: PushSource) -> bytes:
    """adapter_config.json naming the base by its Hub id instead of the local folder it was trained from,
    so `AutoPeftModelForCausalLM.from_pretrained(repo)` works on any machine."""
    config = json.loads((source.folder / "adapter_config.json").read_text(encoding="utf-8"))
    base = hub_base_model(source.base_model)
    if base:
        config["base_model_name_or_path"] = base
    return (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()


def _model_files(folder: Path) -> dict[str, Content]:
    files: dict[str, Content] = {p.name: p for p in sorted(folder.iterdir()) if MANAGED(p.name) and p.is_file()}
    files.update(tokenizer_files(folder))
    return files


def _documents(source: PushSource, repo_id: str, merged: bool) -> dict[str, Content]:
    """README.md (the model card), the training YAML and the evaluation summary."""
    parameters = {"base model": hub_base_model(source.base_model) or source.base_model,
                  "dataset": source.dataset, "dataset version": source.dataset_version,
                  "training rows": source.train_rows, **source.parameters}
    card = model_card(repo_id=repo_id, title=repo_id.split("/")[-1], base_model=source.base_model,
                      merged=merged, template=source.template, dataset=source.dataset, parameters=parameters,
                      results=source.results, evaluation=source.evaluation, examples=source.examples)
    documents: dict[str, Content] = {"README.md": card.encode()}
    if source.training_yaml:
        documents[CONFIG_YAML] = source.training_yaml.encode()
    if source.evaluation:
        documents[EVAL_JSON] = (json.dumps(source.evaluation, indent=2, sort_keys=True, ensure_ascii=False)
                                + "\n").encode()
    return documents


# --- merging ------------------------------------------------------------------------------------------


def _merged_model(source: PushSource, settings: Settings) -> Path:
    """The base with the adapter merged in, in fp16 (studio.export.merged: made once, reused)."""
    if source.is_model:
        return source.folder
    base = source.base_model_path or resolve_model(source.base_model, settings)
    return merged_model(base, source.folder, suggest_repo_name(source.name), settings)
