"""One training configuration: the AutoTrain LLM SFT parameters the book uses and the Train tab exposes.

`TrainingConfig` validates its own values on creation (`ConfigError` lists every problem at once);
`check_runnable` adds the checks that need the machine and the model (a GPU for quantization, the model's
context length). It renders two files AutoTrain reads: a YAML that plain `autotrain --config` accepts, and
the `training_params.json` the studio's runner passes to `python -m autotrain.trainers.clm`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from studio.errors import Phrase, Phrases, StudioError
from studio.settings import DEFAULT_MODEL

QUANTIZATIONS = ("none", "int4", "int8")
# auto: bf16 where the hardware multiplies bfloat16 natively (a recent GPU, a CPU with AVX512-BF16 or AMX),
# fp16 on an older GPU, none elsewhere; the studio resolves it when it queues a job (`resolve_mixed_precision`).
MIXED_PRECISIONS = ("none", "auto", "fp16", "bf16")
OPTIMIZERS = ("adamw_torch", "adamw_torch_fused", "adamw_hf", "adafactor", "sgd",
              "adamw_bnb_8bit", "paged_adamw_8bit", "paged_adamw_32bit")
GPU_OPTIMIZERS = ("adamw_bnb_8bit", "paged_adamw_8bit", "paged_adamw_32bit")  # bitsandbytes kernels
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
              "inverse_sqrt")
LOCAL_BACKEND = "local"
SPACE_BACKENDS = ("spaces-t4-small", "spaces-t4-medium", "spaces-a10g-small", "spaces-a10g-large",
                  "spaces-a10g-largex2", "spaces-a10g-largex4", "spaces-a100-large", "spaces-l4x1",
                  "spaces-l4x4", "spaces-l40sx1", "spaces-l40sx4", "spaces-l40sx8")
BACKENDS = (LOCAL_BACKEND, *SPACE_BACKENDS)
# AutoTrain's rule for project_name (letters, digits, hyphens, at most 50); the studio appends "-<job id>".
PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
PROJECT_NAME_MAX = 40
MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
HUB_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Bound:
    """A numeric parameter's valid range; open ends exclude the bound itself."""

    low: float
    high: float
    meaning: Phrase
    low_open: bool = False
    high_open: bool = False


# Every numeric parameter's range (autotrain_configs/README.md lists them): the upper bounds lie far above
# any sensible run, low enough that a typo (epochs=1e9, batch_size=99999999999) is refused instead of queued.
BOUNDS: dict[str, Bound] = {
    "lr": Bound(0, 1, Phrase("the learning rate", key="bound_lr"), low_open=True),
    "epochs": Bound(1, 100, Phrase("passes over the training rows", key="bound_epochs")),
    "batch_size": Bound(1, 1024, Phrase("rows per step on each device", key="bound_batch_size")),
    "gradient_accumulation": Bound(1, 1024, Phrase("steps summed before each update",
                                                   key="bound_gradient_accumulation")),
    "block_size": Bound(8, 32768, Phrase("tokens per training block; AutoTrain's model_max_length follows it",
                                         key="bound_block_size")),
    "warmup_ratio": Bound(0, 1, Phrase("the share of steps that warm up",
                                       key="bound_warmup_ratio"), high_open=True),
    "weight_decay": Bound(0, 1, Phrase("AdamW's decoupled weight decay", key="bound_weight_decay")),
    "lora_r": Bound(1, 1024, Phrase("the rank of the LoRA matrices", key="bound_lora_r")),
    "lora_alpha": Bound(1, 4096, Phrase("LoRA's scaling numerator (often 2 × r)", key="bound_lora_alpha")),
    "lora_dropout": Bound(0, 1, Phrase("a probability", key="bound_lora_dropout"), high_open=True),
    "max_grad_norm": Bound(0, 1000, Phrase("the gradient clipping norm",
                                           key="bound_max_grad_norm"), low_open=True),
    "logging_steps": Bound(1, 100_000, Phrase("steps between loss lines", key="bound_logging_steps")),
    "seed": Bound(0, 2**32 - 1, Phrase("an unsigned 32-bit random seed", key="bound_seed")),
    "data_fraction": Bound(0, 1, Phrase("the share of training rows",
                                        key="bound_data_fraction"), low_open=True),
    "max_train_rows": Bound(0, 10_000_000, Phrase("at most this many training rows, a seeded sample (0: all)",
                                                  key="bound_max_train_rows")),
}


class ConfigError(StudioError):
    """An invalid training configuration; `problems` holds one message per bad value."""

    def __init__(self, problems: list[str]):
        self.problems = problems  # Phrases, each translated in the UI
        super().__init__("invalid training configuration: {problems}", key="config_invalid",
                         problems=Phrases(problems))


@dataclass(frozen=True)
class TrainingConfig:
    """AutoTrain LLM SFT with LoRA. Defaults are the book's flags, except that they run on a CPU
    (no quantization, no mixed precision) and log every step for a live loss curve."""

    base_model: str = DEFAULT_MODEL  # built-in name, local folder or Hub id (studio.models)
    project_name: str = "text2sql-lora"
    lr: float = 2e-4
    epochs: int = 1
    batch_size: int = 8
    gradient_accumulation: int = 8
    block_size: int = 1024
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str = "all-linear"
    quantization: str = "none"
    mixed_precision: str = "none"
    optimizer: str = "adamw_torch"
    scheduler: str = "linear"
    seed: int = 42
    merge_adapter: bool = False
    max_grad_norm: float = 1.0
    logging_steps: int = 1  # AutoTrain's automatic value can exceed the step count: no curve at all
    gradient_checkpointing: bool = True  # saves memory on a GPU; costs ~30% time on a CPU
    data_fraction: float = 1.0  # share of the data set's training rows (seeded), the book's data-size study
    # At most this many of those rows (a seeded sample; 0: all): a preset's time budget holds whatever the
    # data set's size (cpu-lora.yml: what 2 CPU cores train in about half an hour).
    max_train_rows: int = 0
    peft: bool = True  # LoRA (AutoTrain's peft: true); False: full fine-tuning, saved as a whole model
    backend: str = LOCAL_BACKEND
    hub_username: str = ""  # Space backends only: whose account runs the job and receives the model

    def __post_init__(self):
        problems = _problems(self)
        if problems:
            raise ConfigError(problems)

    # -- conversions ---------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        """Build from loosely typed values (YAML, JSON, UI widgets); unknown keys are an error."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        problems = [Phrase("unknown parameter {name!r}", key="cfg_unknown_parameter", name=name)
                    for name in unknown]
        kwargs = {}
        for name, value in values.items():
            if name in known:
                try:
                    kwargs[name] = _coerce(value, known[name].type)
                except ValueError as exc:  # its argument is a Phrase (_coerce)
                    problems.append(Phrase("{name}: {error}", key="cfg_bad_value", name=name,
                                           error=exc.args[0]))
        if problems:
            raise ConfigError(problems)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def replace(self, **changes) -> TrainingConfig:
        return TrainingConfig.from_dict({**self.to_dict(), **changes})

    def autotrain_params(self) -> dict[str, Any]:
        """The `params:` section of the YAML: AutoTrain's own names and values."""
        return {
            "lr": self.lr,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "gradient_accumulation": self.gradient_accumulation,
            "block_size": self.block_size,
            # AutoTrain caps the tokenizer at 2048 tokens unless told otherwise
            "model_max_length": max(2048, self.block_size),
            "warmup_ratio": self.warmup_ratio,
            "weight_decay": self.weight_decay,
            "max_grad_norm": self.max_grad_norm,
            "peft": self.peft,
            "lora_r": self.lora_r,
            "lora_alpha": self.lora_alpha,
            "lora_dropout": self.lora_dropout,
            "target_modules": self.target_modules,
            "quantization": None if self.quantization == "none" else self.quantization,
            "mixed_precision": None if self.mixed_precision in ("none", "auto") else self.mixed_precision,
            "optimizer": self.optimizer,
            "scheduler": self.scheduler,
            "seed": self.seed,
            "merge_adapter": self.merge_adapter,
            "logging_steps": self.logging_steps,
            "disable_gradient_checkpointing": not self.gradient_checkpointing,
            "padding": "right",  # the book: pad = eos, right padding
            "add_eos_token": True,
        }

    def training_params(self, *, model: str, project_name: str, data_path: str) -> dict[str, Any]:
        """`training_params.json` for `python -m autotrain.trainers.clm` (a local job); no token, ever."""
        return {
            "model": model,
            "project_name": project_name,
            "data_path": data_path,
            "train_split": "train",
            "valid_split": None,  # broken in AutoTrain 0.8.36; evaluation happens outside AutoTrain
            "text_column": "text",
            "trainer": "sft",
            "chat_template": None,
            "log": "none",
            "push_to_hub": False,
            **self.autotrain_params(),
        }

    def to_yaml(self, *, model: str | None = None, project_name: str | None = None,
                data_path: str = "data") -> str:
        """A YAML that `autotrain --config` accepts. `model` defaults to a portable reference
        (a built-in model's Hub id), so the file works on another machine too."""
        document: dict[str, Any] = {
            "task": "llm-sft",
            "base_model": model or portable_model_ref(self.base_model),
            "project_name": project_name or self.project_name,
            "log": "none",
            "backend": self.backend,
            "data": {
                "path": data_path,
                "train_split": "train",
                "valid_split": None,
                "chat_template": None,
                "column_mapping": {"text_column": "text"},
            },
            "params": self.autotrain_params(),
        }
        if self.backend != LOCAL_BACKEND:
            # AutoTrain reads ${HF_TOKEN} from the environment: the file itself never holds a token.
            document["hub"] = {"username": self.hub_username, "token": "${HF_TOKEN}", "push_to_hub": True}
        # Keys AutoTrain ignores; the studio reads them back (round trip).
        document["studio"] = {"base_model": self.base_model, "data_fraction": self.data_fraction,
                              "max_train_rows": self.max_train_rows}
        if self.mixed_precision == "auto":  # not an AutoTrain value: params says null, the studio reads auto
            document["studio"]["mixed_precision"] = "auto"
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml_document(cls, document: dict[str, Any]) -> TrainingConfig:
        """Read an AutoTrain YAML (as written by `to_yaml` or by hand) back into a configuration."""
        if not isinstance(document, dict) or "params" not in document:
            raise ConfigError([Phrase("not an AutoTrain config: it needs `task`, `base_model` and `params`",
                                      key="cfg_not_autotrain")])
        task = document.get("task", "llm-sft")
        if task not in ("llm-sft", "llm"):
            raise ConfigError([Phrase("task {task!r} is not supported: the studio trains llm-sft",
                                      key="cfg_task_unsupported", task=task)])
        params = dict(document.get("params") or {})
        studio = dict(document.get("studio") or {})
        values: dict[str, Any] = {
            "base_model": studio.pop("base_model", document.get("base_model", DEFAULT_MODEL)),
            "project_name": document.get("project_name", cls.project_name),
            "backend": document.get("backend", LOCAL_BACKEND),
        }
        hub = document.get("hub") or {}
        if hub.get("username") and not str(hub["username"]).startswith("${"):
            values["hub_username"] = hub["username"]
        for key in ("model_max_length", "padding", "add_eos_token"):
            params.pop(key, None)  # always set by the studio
        if "disable_gradient_checkpointing" in params:
            values["gradient_checkpointing"] = not params.pop("disable_gradient_checkpointing")
        for key in ("quantization", "mixed_precision"):
            if key in params and params[key] in (None, "null", "no"):
                params[key] = "none"
        values.update(params)
        values.update(studio)
        return cls.from_dict(values)

    @classmethod
    def from_yaml(cls, text: str) -> TrainingConfig:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError([Phrase("not valid YAML: {error}", key="cfg_not_yaml", error=exc)]) from None
        return cls.from_yaml_document(document)


def portable_model_ref(ref: str) -> str:
    """A built-in model's Hub id (loadable anywhere); other references unchanged."""
    from studio.models import BUILTIN_MODELS

    return BUILTIN_MODELS[ref].hub_id if ref in BUILTIN_MODELS else ref


def _coerce(value: Any, annotation: str) -> Any:
    """Loose UI/YAML values to the field's type; a float like 16.0 is a fine int, 16.5 is not. A value that
    cannot be one raises ValueError with a Phrase that says what was expected."""
    if annotation == "bool":
        if isinstance(value, str):
            if value.strip().lower() in ("true", "yes", "1", "on"):
                return True
            if value.strip().lower() in ("false", "no", "0", "off"):
                return False
            raise ValueError(Phrase("expected true or false, got {value!r}", key="cfg_expected_bool",
                                    value=value))
        return bool(value)
    if annotation == "int":
        return int(_as_number(value, whole=True))
    if annotation == "float":
        return _as_number(value, whole=False)
    if value is None:
        return "none"
    return str(value).strip()


def _as_number(value: Any, *, whole: bool) -> float:
    try:
        number = None if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = None
    if whole and (number is None or not number.is_integer()):
        raise ValueError(Phrase("expected a whole number, got {value!r}", key="cfg_expected_int", value=value))
    if number is None:
        raise ValueError(Phrase("expected a number, got {value!r}", key="cfg_expected_number", value=value))
    return number


def _problems(c: TrainingConfig) -> list[str]:
    """Every invalid value, with what would be valid; empty when the configuration is fine."""
    p: list[str] = []
    if not c.base_model.strip():
        p.append(Phrase("base_model is empty: choose a built-in model, a local folder or a Hub id",
                        key="cfg_base_model_empty"))
    if not PROJECT_NAME.match(c.project_name) or len(c.project_name) > PROJECT_NAME_MAX:
        p.append(Phrase("project_name {name!r} must be letters, digits and hyphens, at most {limit} "
                        "characters (AutoTrain's rule; the studio appends the job number)",
                        key="cfg_project_name", name=c.project_name, limit=PROJECT_NAME_MAX))
    for name, bound in BOUNDS.items():
        _in_range(p, name, getattr(c, name), bound)
    if c.target_modules != "all-linear" and not all(
            MODULE_NAME.match(m.strip()) for m in c.target_modules.split(",")):
        p.append(Phrase("target_modules {value!r} must be all-linear or comma-separated module names such as "
                        "q_proj,v_proj", key="cfg_target_modules", value=c.target_modules))
    _one_of(p, "quantization", c.quantization, QUANTIZATIONS)
    _one_of(p, "mixed_precision", c.mixed_precision, MIXED_PRECISIONS)
    _one_of(p, "optimizer", c.optimizer, OPTIMIZERS)
    _one_of(p, "scheduler", c.scheduler, SCHEDULERS)
    _one_of(p, "backend", c.backend, BACKENDS)
    if c.backend != LOCAL_BACKEND and not HUB_USERNAME.match(c.hub_username or ""):
        p.append(Phrase("backend {backend} runs the job on a Hugging Face Space: set hub_username",
                        key="cfg_space_needs_username", backend=c.backend))
    return p


def _in_range(p: list[str], name: str, value: float, bound: Bound) -> None:
    """A problem unless `value` is finite and within `bound` (NaN and infinities never are)."""
    too_low = value <= bound.low if bound.low_open else value < bound.low
    too_high = value >= bound.high if bound.high_open else value > bound.high
    if too_low or too_high or not math.isfinite(value):
        left, right = ("(" if bound.low_open else "["), (")" if bound.high_open else "]")
        bounds = f"{left}{_number(bound.low)}, {_number(bound.high)}{right}"
        p.append(Phrase("{name} must be in {range} ({meaning}), got {value}", key="cfg_out_of_range",
                        name=name, range=bounds, meaning=bound.meaning, value=_number(value)))


def _number(value: float) -> str:
    """A bound or value as people write it: 4294967295, not 4.29497e+09; 0.0002, 1e+09."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _one_of(p: list[str], name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        p.append(Phrase("{name} {value!r} is not one of: {choices}", key="cfg_not_one_of", name=name,
                        value=value, choices=", ".join(choices)))


# -- checks that need the machine and the model ----------------------------------------------------

def resolve_mixed_precision(config: TrainingConfig, *, has_gpu: bool, bf16: bool) -> TrainingConfig:
    """`auto` made concrete for this machine (`bf16`: it multiplies bfloat16 natively); others unchanged."""
    if config.mixed_precision != "auto":
        return config
    if config.backend != LOCAL_BACKEND:  # a Space's GPU: every kind offered has bf16 but the T4 (Turing)
        return config.replace(mixed_precision="fp16" if "-t4-" in config.backend else "bf16")
    return config.replace(mixed_precision="bf16" if bf16 else "fp16" if has_gpu else "none")


def check_runnable(config: TrainingConfig, *, has_gpu: bool, model_dir: Path | None,
                   cpu_bf16: bool = False) -> None:
    """Raise `ConfigError` if this configuration cannot run here: GPU-only settings on a CPU machine,
    or a block size longer than the model's context. `cpu_bf16`: this CPU has AVX512-BF16 or AMX."""
    p: list[str] = []
    if config.backend == LOCAL_BACKEND and not has_gpu:
        if config.quantization != "none":
            p.append(Phrase("quantization {value} needs a CUDA GPU (bitsandbytes) and this machine has none: "
                            "choose none", key="cfg_quantization_needs_gpu", value=config.quantization))
        if config.mixed_precision == "fp16":
            p.append(Phrase("mixed_precision fp16 needs a GPU and this machine has none: choose none, or "
                            "auto", key="cfg_fp16_needs_gpu"))
        elif config.mixed_precision == "bf16" and not cpu_bf16:
            p.append(Phrase("mixed_precision bf16 on a CPU without AVX512-BF16 or AMX is emulated, slower "
                            "than fp32: choose none, or auto", key="cfg_bf16_emulated"))
        if config.optimizer in GPU_OPTIMIZERS:
            p.append(Phrase("optimizer {value} needs a CUDA GPU (bitsandbytes): choose adamw_torch",
                            key="cfg_optimizer_needs_gpu", value=config.optimizer))
    limit = model_context_length(model_dir) if model_dir else None
    if limit is not None and config.block_size > limit:
        p.append(Phrase("block_size {block} is longer than the model can take (max_position_embeddings = "
                        "{limit})", key="cfg_block_too_long", block=config.block_size, limit=limit))
    if p:
        raise ConfigError(p)


def model_context_length(model_dir: Path) -> int | None:
    """The model's `max_position_embeddings` (or its equivalent), from its config.json."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    config = config.get("text_config", config)
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        if isinstance(config.get(key), int):
            return config[key]
    return None
