"""The data layer: sources, validation, preparation into versions, token statistics, the bundled sample.

What the UI (Data tab), the CLI and the training runner call:

    load_source("sample" | path | "hub:ID[:config[:split]]", mapping) -> LoadedData   (frame + report)
    check_file(path, mapping) -> ValidationReport          (streams; never keeps the rows)
    prepare_dataset(source or LoadedData, PrepareOptions(...)) -> DatasetVersion
    token_stats(frame, tokenizer, block_size) -> TokenStats
    list_versions() / get_version(id) -> DatasetVersion     (files under STUDIO_HOME/datasets/<id>/)
    ensure_sample() -> SampleInfo                          (the generated Korean sample and its databases)

Every user-facing failure is a `studio.errors.StudioError`. Names are imported lazily, so a light
command such as `data check` does not pay for sqlglot, datasets or transformers.
"""

from __future__ import annotations

import importlib

# module → the names it provides
_MODULES = {
    "sources": ("SourceSpec", "LoadedData", "load_source", "load_hub", "BOOK_DATASET"),
    "validation": (
        "ValidationReport",
        "check_file",
        "read_file",
        "clean_frame",
        "resolve_mapping",
        "COLUMNS",
        "MAPPED",
        "REQUIRED",
    ),
    "files": ("ReadLimits",),
    "prepare": (
        "PrepareOptions",
        "prepare_dataset",
        "choose_schemas",
        "split_rows",
        "take_fraction",
        "JudgeFilter",
        "FRACTIONS",
    ),
    "versions": ("DatasetVersion", "get_version", "list_versions", "listed_databases", "versions_table"),
    "tokens": ("TokenStats", "token_stats", "load_tokenizer"),
    "execution": ("GoldChecker", "find_databases"),
    "sample": ("SampleInfo", "ensure_sample", "export_sample", "EVAL_DB_ID", "SCHEMA_CHOICES"),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


def __dir__() -> list[str]:
    return sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'studio.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"studio.data.{_EXPORTS[name]}"), name)
