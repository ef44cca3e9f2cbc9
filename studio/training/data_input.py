"""The training data a job reads: a prepared data set version, or any folder with a `train.csv`.

The one place that knows studio.data: a version id or name maps to the version's AutoTrain folder
(`<version>/autotrain/train.csv`), whose `text` column holds `make_prompt(ddl, question, gold_sql)`.
Each job gets its own copy of the rows it trains on (a seeded share of them for `data_fraction`), so a
job stays reproducible and AutoTrain sees exactly one CSV.
"""

from __future__ import annotations

import csv
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from studio.errors import StudioError
from studio.settings import Settings

TEXT_COLUMN = "text"


@dataclass(frozen=True)
class TrainingData:
    ref: str  # as the user gave it
    version: str | None  # the data set version id when it came from the registry
    folder: Path
    rows: int

    @property
    def train_csv(self) -> Path:
        return self.folder / "train.csv"


def resolve_training_data(ref: str, settings: Settings) -> TrainingData:
    """A data set version id/name or a folder with train.csv, checked: a `text` column, at least one row."""
    ref = (ref or "").strip()
    if not ref:
        raise StudioError("no training data given: choose a prepared data set or a folder with train.csv",
                          key="train_data_none")
    folder = Path(ref).expanduser()
    version = None
    if not folder.is_dir():
        version, folder = _registered_version(ref, settings)
    rows = _count_rows(folder / "train.csv")
    return TrainingData(ref=ref, version=version, folder=folder.resolve(), rows=rows)


def _registered_version(ref: str, settings: Settings) -> tuple[str, Path]:
    for version_id, name, folder in _versions(settings):
        if ref in (version_id, name):
            return version_id, folder
    raise StudioError("no data set {ref!r}: give a prepared version (python -m studio data list) "
                      "or a folder holding train.csv with a `text` column", key="train_data_unknown", ref=ref)


def _versions(settings: Settings) -> list[tuple[str, str, Path]]:
    """(id, name, folder holding train.csv) of the prepared versions, newest first: the one coupling
    to studio.data, imported here so training keeps working while that package changes."""
    from studio.data.versions import list_versions

    return [(v.id, v.name, v.train_csv.parent) for v in list_versions(settings)]


def list_dataset_choices(settings: Settings) -> list[str]:
    """Prepared data set version ids for pickers, newest first."""
    return [version_id for version_id, _name, _folder in _versions(settings)]


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    csv.field_size_limit(sys.maxsize)  # prompts with long DDL exceed the 128 KiB default
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            return header, list(reader)
    except FileNotFoundError:
        raise StudioError("{folder} holds no train.csv", key="train_data_no_csv",
                          folder=path.parent) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise StudioError("{path} is not a readable UTF-8 CSV file: {error}", key="train_data_unreadable",
                          path=path, error=exc) from None


def _count_rows(path: Path) -> int:
    header, rows = _read_rows(path)
    if TEXT_COLUMN not in header:
        if not header:
            raise StudioError("{path} has no `{column}` column (it has: nothing); "
                              "AutoTrain trains on a `text` column holding prompt + SQL",
                              key="train_data_no_columns", path=path, column=TEXT_COLUMN)
        raise StudioError("{path} has no `{column}` column (it has: {columns}); "
                          "AutoTrain trains on a `text` column holding prompt + SQL",
                          key="train_data_no_text", path=path, column=TEXT_COLUMN, columns=", ".join(header))
    column = header.index(TEXT_COLUMN)
    filled = sum(1 for row in rows if len(row) > column and row[column].strip())
    if filled == 0:
        raise StudioError("{path} has no rows with text to train on", key="train_data_empty", path=path)
    return filled


def job_rows(available: int, fraction: float, max_rows: int = 0) -> int:
    """How many of `available` training rows a job takes: its share of them, at most `max_rows` (0: no cap)."""
    rows = available if fraction >= 1.0 else max(1, math.ceil(fraction * available))
    return min(rows, max_rows) if max_rows else rows


def write_job_data(data: TrainingData, fraction: float, seed: int, target: Path, max_rows: int = 0) -> int:
    """Write `target/train.csv` with only the `text` column: every row, or a seeded sample of `job_rows`.

    The same seed gives nested samples (20% is inside 40%), as in the book's data-size study."""
    header, rows = _read_rows(data.train_csv)
    column = header.index(TEXT_COLUMN)
    texts = [row[column] for row in rows if len(row) > column and row[column].strip()]
    wanted = job_rows(len(texts), fraction, max_rows)
    if wanted < len(texts):
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        texts = [texts[i] for i in sorted(order[:wanted])]
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([TEXT_COLUMN])
        writer.writerows([text] for text in texts)
    return len(texts)
