"""Data sources: the bundled sample, an uploaded file, or a Hugging Face data set, loaded and validated.

A source is written as text so the CLI and the UI share one spelling: `sample`, a file path, or
`hub:ID[:config[:split]]` (e.g. `hub:shangrilar/ko_text2sql:origin`, the book's data set).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from studio.data.execution import find_databases
from studio.data.files import DEFAULT_LIMITS, ReadLimits
from studio.data.sample import ensure_sample
from studio.data.validation import ValidationReport, clean_frame, read_file
from studio.errors import StudioError
from studio.settings import Settings, load_settings

BOOK_DATASET = "shangrilar/ko_text2sql"
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # "sample" | "file" | "hub" | "synthesized" (data synthesize, never parsed from text)
    ref: str = ""  # the file path or the Hub id
    config: str | None = None
    split: str | None = None

    @classmethod
    def parse(cls, text: str | Path) -> SourceSpec:
        text = str(text).strip()
        if text in ("", "sample"):
            return cls("sample")
        if text.startswith("hub:"):
            parts = text[4:].split(":")
            if not parts[0] or len(parts) > 3:
                raise StudioError("a Hub source is hub:ID[:config[:split]], not '{text}'",
                                  key="source_bad_hub", text=text)
            return cls("hub", parts[0], *(p or None for p in parts[1:]))
        return cls("file", text)

    def label(self) -> str:
        """How pages and lists name the source: a file by its name only (its folder is the server's, or an
        upload's temporary one), and the full spec where it carries no path."""
        if self.kind == "hub":
            return "hub:" + ":".join(p for p in (self.ref, self.config, self.split) if p)
        if self.kind == "file":
            return Path(self.ref).name
        if self.kind == "synthesized":  # ref: the database's name; config: the glossary's hash
            return f"synthesized for {self.ref} (glossary {self.config})"
        return self.ref or self.kind

    @classmethod
    def from_dict(cls, stored: dict) -> SourceSpec:
        """A spec as `to_dict` stored it (with a version), for its label."""
        return cls(str(stored.get("kind", "file")), str(stored.get("ref") or ""), stored.get("config"),
                   stored.get("split"))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "ref": self.ref, "config": self.config, "split": self.split}


@dataclass
class LoadedData:
    """Validated rows (columns db_id, context, question, answer[, difficulty]) and where they came from."""

    frame: pd.DataFrame
    report: ValidationReport
    source: SourceSpec
    databases: dict[str, Path] = field(default_factory=dict)  # db_id → SQLite file, where one exists
    fingerprint: str = ""
    # db_id → a content hash of its database that does not depend on SQLite's file format (the sample's)
    database_fingerprints: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if not self.fingerprint:
            self.fingerprint = frame_fingerprint(self.frame)

    def counts(self) -> pd.DataFrame:
        """Rows per database and difficulty (a table for the UI)."""
        # Without a difficulty column every row counts under "-" (an empty Series would align to NaN).
        difficulty = self.frame.get("difficulty", pd.Series("-", index=self.frame.index))
        frame = self.frame.assign(difficulty=difficulty.fillna("-"))
        table = pd.crosstab(frame["db_id"], frame["difficulty"], margins=True, margins_name="total")
        return table.reset_index()


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of the rows (order included), stable across runs and machines."""
    digest = hashlib.sha256(",".join(frame.columns).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_source(
    source: str | Path | SourceSpec,
    mapping: Mapping[str, str] | None = None,
    *,
    db_dir: Path | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> LoadedData:
    """Load and validate a source. `db_dir` holds `<db_id>.sqlite` files for execution, if any."""
    spec = source if isinstance(source, SourceSpec) else SourceSpec.parse(source)
    settings = settings or load_settings()
    if progress:
        progress(0.0, f"loading {spec.label()}")
    fingerprints: dict[str, str] = {}
    if spec.kind == "sample":
        info = ensure_sample(settings.home, progress)
        frame, report = clean_frame(info.frame(), "bundled sample", mapping, limits)
        report.notes.append(info.summary())
        databases = info.databases
        fingerprints = {db_id: f"sample:{info.content_hash}:{db_id}" for db_id in databases}
    elif spec.kind == "file":
        frame, report = read_file(Path(spec.ref).expanduser(), mapping, limits)
        databases = {}
    else:
        raw = load_hub(spec.ref, spec.config, spec.split, cache_dir=settings.home / "cache" / "datasets")
        frame, report = clean_frame(raw, spec.label(), mapping, limits)
        databases = {}
    if db_dir is not None:
        if not Path(db_dir).is_dir():
            raise StudioError("database folder not found: {folder}", key="source_no_db_folder", folder=db_dir)
        databases = {**databases, **find_databases(Path(db_dir))}
    return LoadedData(frame, report, spec, databases, database_fingerprints=fingerprints)


def load_hub(
    dataset_id: str,
    config: str | None = None,
    split: str | None = None,
    *,
    cache_dir: Path | None = None,
    revision: str | None = None,
) -> pd.DataFrame:
    """A Hugging Face data set as one DataFrame: the given split, or every split concatenated.

    For the book's data: `load_hub("shangrilar/ko_text2sql", "origin")` (or "clean", the GPT-filtered
    one). `dataset_id` may also be a local folder laid out like a Hub data set repository.
    """
    import datasets

    datasets.disable_progress_bars()
    try:
        loaded = datasets.load_dataset(
            dataset_id,
            config,
            split=split,
            revision=revision,
            cache_dir=str(cache_dir) if cache_dir else None,
        )
    except Exception as exc:  # noqa: BLE001 - datasets raises many types; all mean "cannot load it"
        if config:
            raise StudioError("cannot load the Hugging Face data set {dataset} ({config}): {error}",
                              key="source_hub_config_failed", dataset=dataset_id, config=config,
                              error=_first_line(exc)) from None
        raise StudioError("cannot load the Hugging Face data set {dataset}: {error}", key="source_hub_failed",
                          dataset=dataset_id, error=_first_line(exc)) from None
    parts = [loaded] if split else [loaded[name] for name in loaded]
    return pd.concat([part.to_pandas() for part in parts], ignore_index=True)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
