"""Presets and sweeps in `autotrain_configs/`.

A preset is an AutoTrain YAML (`autotrain --config` accepts it as is). A sweep is a YAML with one key,
`sweep`, naming a base preset and a grid; every combination of the grid's values becomes one
configuration, the way the book compares LoRA settings, data sizes and base models:

    sweep:
      preset: cpu-lora.yml          # relative to the sweep file, or a preset name
      grid:
        lora_r: [8, 16]
        lora_alpha: [16, 32]
        data_fraction: [1.0]
        base_model: [smollm2-135m-instruct]
      set: {epochs: 1}              # optional: fixed changes to the preset
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from studio.errors import Phrase, StudioError
from studio.settings import REPO_ROOT
from studio.training.config import PROJECT_NAME_MAX, ConfigError, TrainingConfig

PRESETS_DIR = REPO_ROOT / "autotrain_configs"
# Short tags for the values a sweep varies, so run names say what differs ("…-r8-a16-f50").
TAGS = {"lora_r": "r", "lora_alpha": "a", "data_fraction": "f", "lr": "lr", "epochs": "e", "block_size": "b",
        "lora_dropout": "d", "batch_size": "bs", "gradient_accumulation": "ga", "seed": "s"}


@dataclass(frozen=True)
class Sweep:
    """A base configuration and a grid of values to try on it."""

    base: TrainingConfig
    grid: dict[str, list[Any]] = field(default_factory=dict)

    def configs(self) -> list[TrainingConfig]:
        keys = list(self.grid)
        combos = list(itertools.product(*(self.grid[k] for k in keys))) if keys else [()]
        configs = []
        for number, values in enumerate(combos, start=1):
            changes = dict(zip(keys, values))
            changes["project_name"] = _sweep_project_name(self.base.project_name, changes, self.grid, number)
            configs.append(self.base.replace(**changes))
        return configs


def list_presets() -> list[str]:
    """File names of the presets and sweeps shipped in autotrain_configs/."""
    return sorted(p.name for p in PRESETS_DIR.glob("*.yml"))


def find_preset(ref: str | Path) -> Path:
    """A preset by file path, by file name in autotrain_configs/, or by name without `.yml`."""
    path = Path(ref).expanduser()
    for candidate in (path, PRESETS_DIR / str(ref), PRESETS_DIR / f"{ref}.yml"):
        if candidate.is_file():
            return candidate
    raise StudioError("no config file {ref!r}: give a YAML path or one of {known}", key="preset_unknown",
                      ref=str(ref), known=", ".join(list_presets()))


def read_document(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError([Phrase("{file} is not valid YAML: {error}", key="cfg_file_not_yaml",
                                  file=path.name, error=exc)]) from None
    if not isinstance(document, dict):
        raise ConfigError([Phrase("{file} holds no YAML mapping", key="cfg_file_no_mapping", file=path.name)])
    return document


def load_sweep(ref: str | Path) -> Sweep:
    """A preset (a sweep with an empty grid) or a sweep file."""
    path = find_preset(ref)
    document = read_document(path)
    if "sweep" not in document:
        return Sweep(TrainingConfig.from_yaml_document(document))
    spec = document["sweep"] or {}
    if not isinstance(spec, dict) or "preset" not in spec:
        raise ConfigError([Phrase("{file}: a sweep needs `preset` (the base configuration) and `grid`",
                                  key="cfg_sweep_needs_preset", file=path.name)])
    base_path = path.parent / spec["preset"]
    base = load_sweep(base_path if base_path.is_file() else spec["preset"])
    if base.grid:
        raise ConfigError([Phrase("{file}: the base of a sweep must be a preset, not another sweep",
                                  key="cfg_sweep_of_sweep", file=path.name)])
    config = base.base.replace(**spec["set"]) if spec.get("set") else base.base
    return Sweep(config, parse_grid(spec.get("grid") or {}))


def parse_grid(grid: Any) -> dict[str, list[Any]]:
    """Check a grid: known parameters, each with a non-empty list of values."""
    if not isinstance(grid, dict):
        raise ConfigError([Phrase("a sweep grid maps parameter names to lists of values",
                                  key="cfg_grid_not_mapping")])
    known = set(TrainingConfig.__dataclass_fields__) - {"project_name"}
    problems = [Phrase("grid: unknown parameter {name!r}", key="cfg_grid_unknown", name=k)
                for k in grid if k not in known]
    problems += [Phrase("grid: {name} needs a non-empty list of values", key="cfg_grid_empty", name=k)
                 for k, v in grid.items() if not isinstance(v, list) or not v]
    if problems:
        raise ConfigError(problems)
    return {k: list(v) for k, v in grid.items()}


def load_configs(ref: str | Path) -> list[TrainingConfig]:
    """Every configuration a preset or sweep file stands for (one for a preset)."""
    return load_sweep(ref).configs()


def _sweep_project_name(base: str, changes: dict[str, Any], grid: dict[str, list[Any]], number: int) -> str:
    parts = [base]
    for key, values in grid.items():
        value = changes[key]
        if len(values) == 1:
            continue  # the same in every job: says nothing
        if key == "data_fraction":
            parts.append(f"f{round(float(value) * 100)}")
        elif key in TAGS:
            text = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(TAGS[key] + re.sub(r"[^A-Za-z0-9]", "", text))
        else:  # a base model or another free-form value: its position in the grid
            parts.append(f"{key[0]}{values.index(value) + 1}")
    name = "-".join(parts)
    if len(name) > PROJECT_NAME_MAX:
        name = f"{base[: PROJECT_NAME_MAX - 6].rstrip('-')}-{number:03d}"
    return name


def parse_grid_text(text: str) -> dict[str, list[Any]]:
    """A grid written as YAML (`lora_r: [8, 16]`); empty text is no grid."""
    try:
        grid = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as exc:
        raise ConfigError([Phrase("the sweep grid is not valid YAML: {error}", key="cfg_grid_not_yaml",
                                  error=exc)]) from None
    return parse_grid(grid)


def grid_text(grid: dict[str, list[Any]]) -> str:
    return yaml.safe_dump(grid, default_flow_style=None, sort_keys=False, allow_unicode=True) if grid else ""


def expand(values: dict[str, Any], grid: str = "") -> list[TrainingConfig]:
    """The configurations of a form: its values as the base, times the grid."""
    return Sweep(TrainingConfig.from_dict(values), parse_grid_text(grid)).configs()
