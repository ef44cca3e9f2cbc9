"""Validation: column mapping, required columns, and the rows that are dropped (and why, and how many).

The same `RowCleaner` serves every source (files, the Hub, the sample): it maps the user's column names
onto `db_id`/`context`/`question`/`answer`, strips whitespace, and drops rows with a missing value (the
book's `dropna`), rows with an absurdly long field, and exact duplicates, counting each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from studio.data.files import DEFAULT_LIMITS, ReadLimits, detect_format, iter_frames, sniff
from studio.errors import Phrase, Phrases, StudioError
from studio.names import check_name

REQUIRED = ("context", "question", "answer")
OPTIONAL = ("db_id", "difficulty", "example_question", "example_sql")
MAPPED = ("db_id", "context", "question", "answer", "difficulty")  # what people map their columns onto
# example_*: a prepared version's rows carry their retrieved example (studio.retrieval); kept when such rows
# are evaluated from a file, so the prompts are the ones the version's runs were trained on.
COLUMNS = (*MAPPED, "example_question", "example_sql")
DEFAULT_DB_ID = "default"
NAMES_SHOWN = 10  # column names a message lists before "… and N more" (a file may have 100k columns)
COLUMNS_IN_JSON = 100  # column names the report's JSON lists (column_count says how many there are)
# Names other data sets use for our columns (Spider, sql-create-context, Korean exports).
ALIASES = {
    "question": ("question", "questions", "nl", "utterance", "instruction", "질문"),
    "answer": ("answer", "query", "sql", "gold_sql", "sql_query", "gold", "정답", "쿼리"),
    "context": ("context", "ddl", "schema", "create_statement", "create_table", "스키마"),
    "db_id": ("db_id", "db", "database", "database_id", "dbid"),
    "difficulty": ("difficulty", "hardness", "level", "난이도"),
    "example_question": ("example_question",),
    "example_sql": ("example_sql",),
}
# The notes' English, as the CLI prints them; the UI has its own texts in both languages
# (studio/ui/i18n.py, keys `data_note_<key>`), so a note is kept as a key and its parameters.
NOTE_TEXTS = {
    "alias": "using column '{column}' as {ours}",
    "no_db_id": "no db_id column: every row belongs to database '{db_id}' (use a random split)",
    "ignored_columns": "ignored column(s): {columns}",
    "cp949": "decoded as CP949 (EUC-KR), the Korean Windows encoding",
    "sample_domains": "{domains} domains ({synthesized} synthesized), 1 held out ({held})",
}


@dataclass(frozen=True)
class Note:
    """Something validation noticed but accepted: a key of NOTE_TEXTS and the values its text names."""

    key: str
    params: dict[str, str] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return NOTE_TEXTS[self.key].format(**self.params)


@dataclass
class ValidationReport:
    """What validation found; `rows` and `dropped` are the counts the CLI contract names."""

    source: str = ""
    format: str = ""
    encoding: str = ""
    columns: list[str] = field(default_factory=list)  # as found in the input
    mapping: dict[str, str] = field(default_factory=dict)  # our column → the input's column
    extra_columns: list[str] = field(default_factory=list)
    total: int = 0
    rows: int = 0
    dropped_by_reason: dict[str, int] = field(
        default_factory=lambda: {"missing": 0, "duplicate": 0, "too_long": 0}
    )
    missing_by_column: dict[str, int] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        return sum(self.dropped_by_reason.values())

    def to_dict(self) -> dict:
        # Notes as English sentences: the JSON the CLI prints stays readable and as it was.
        notes = [str(note) for note in self.notes]
        return {"rows": self.rows, "dropped": self.dropped, **asdict(self), "notes": notes,
                "columns": self.columns[:COLUMNS_IN_JSON], "column_count": len(self.columns),
                "extra_columns": self.extra_columns[:COLUMNS_IN_JSON]}


def short_list(names: Iterable[object], limit: int = NAMES_SHOWN) -> str:
    """Names for a message: the first `limit`, then how many more ("a, b, c and 99997 more")."""
    names = [str(name) for name in names]
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def resolve_mapping(
    found: Iterable[str], mapping: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[Note]]:
    """Our column → the input's column, from the explicit mapping, exact names, then known aliases.

    Returns the mapping and notes about the guesses. Raises StudioError naming what is missing.
    """
    found = list(found)
    explicit = {k.strip(): v.strip() for k, v in (mapping or {}).items()}
    unknown = [k for k in explicit if k not in COLUMNS]
    if unknown:
        raise StudioError("cannot map unknown column(s) {unknown}: map onto {known}", key="data_map_unknown",
                          unknown=short_list(unknown), known=", ".join(COLUMNS))
    absent = [v for v in explicit.values() if v not in found]
    if absent:
        raise StudioError("mapped column(s) not in the data: {absent} (found: {found})",
                          key="data_map_absent", absent=short_list(absent), found=short_list(found))
    resolved, notes = dict(explicit), []
    by_lower = {name.strip().lower(): name for name in found}
    for ours in COLUMNS:
        if ours in resolved:
            continue
        taken = set(resolved.values())
        matches = [by_lower[a] for a in ALIASES[ours] if a in by_lower and by_lower[a] not in taken]
        if matches:
            resolved[ours] = matches[0]
            if matches[0] != ours:
                notes.append(Note("alias", {"column": matches[0], "ours": ours}))
    missing = [c for c in REQUIRED if c not in resolved]
    if missing:
        if not found:
            raise StudioError("missing required column(s): {missing} (found: none); "
                              "rename them or map them, e.g. {first}=<your column>", key="data_no_columns",
                              missing=", ".join(missing), first=missing[0])
        raise StudioError("missing required column(s): {missing} (found: {found}); "
                          "rename them or map them, e.g. {first}=<your column>", key="data_missing_columns",
                          missing=", ".join(missing), found=short_list(found), first=missing[0])
    return resolved, notes


class RowCleaner:
    """Cleans chunks of rows one after another, keeping counts (and a hash per row for duplicates)."""

    def __init__(self, report: ValidationReport, mapping: Mapping[str, str] | None, limits: ReadLimits):
        self.report, self.explicit, self.limits = report, mapping, limits
        self.mapping: dict[str, str] | None = None
        self._seen: set[int] = set()
        self._names: set[str] = set()  # db_ids already checked

    def clean(self, chunk: pd.DataFrame) -> pd.DataFrame:
        chunk.columns = [str(c).lstrip("\ufeff").strip() for c in chunk.columns]
        if self.mapping is None:
            self.start(list(chunk.columns))
        frame = pd.DataFrame(
            {ours: chunk[theirs] for ours, theirs in self.mapping.items()}, index=chunk.index
        )
        # Indexed by the row's position in the input (0-based), so a message can name the row.
        frame.index = pd.RangeIndex(self.report.total, self.report.total + len(frame))
        if "db_id" not in frame:
            frame["db_id"] = DEFAULT_DB_ID
        frame = frame[[c for c in COLUMNS if c in frame]].astype("string")
        self.report.total += len(frame)
        for column in frame.columns:
            frame[column] = frame[column].str.strip().replace("", pd.NA)
        return self._drop(frame)

    def start(self, columns: list[str]) -> None:
        """Resolve the column mapping from the first chunk's header."""
        self.mapping, notes = resolve_mapping(columns, self.explicit)
        self.report.columns = columns
        self.report.mapping = dict(self.mapping)
        self.report.extra_columns = [c for c in columns if c not in self.mapping.values()]
        self.report.notes += notes
        if "db_id" not in self.mapping:
            self.report.notes.append(Note("no_db_id", {"db_id": DEFAULT_DB_ID}))
        if self.report.extra_columns:
            columns = short_list(self.report.extra_columns)
            self.report.notes.append(Note("ignored_columns", {"columns": columns}))

    def _drop(self, frame: pd.DataFrame) -> pd.DataFrame:
        counts = self.report.dropped_by_reason
        lengths = pd.concat([frame[c].str.len() for c in frame.columns], axis=1)
        too_long = (lengths > self.limits.max_field_chars).any(axis=1).to_numpy()
        counts["too_long"] += int(too_long.sum())
        frame = frame[~too_long]
        required = list(dict.fromkeys(["db_id", *REQUIRED]))
        missing = frame[required].isna()
        for column in required:
            n = int(missing[column].sum())
            if n:
                self.report.missing_by_column[column] = self.report.missing_by_column.get(column, 0) + n
        incomplete = missing.any(axis=1).to_numpy()
        counts["missing"] += int(incomplete.sum())
        frame = frame[~incomplete]
        self._check_db_ids(frame["db_id"])
        keys = pd.util.hash_pandas_object(frame[required], index=False).tolist()
        keep = []
        for key in keys:
            keep.append(key not in self._seen)
            self._seen.add(key)
        counts["duplicate"] += keep.count(False)
        frame = frame[keep]
        self.report.rows += len(frame)
        return frame

    def _check_db_ids(self, db_ids: pd.Series) -> None:
        """A db_id names its database file (`<db_id>.sqlite`): one that cannot be a file name rejects the
        data before anything is written, with its row (dropping the row would hide a broken or hostile file)."""
        for position, db_id in db_ids.items():
            if db_id in self._names:
                continue
            try:
                check_name(db_id, "db_id")
            except StudioError as exc:
                raise StudioError("row {row}: {error}", key="data_row_bad_name", row=position + 1,
                                  error=exc) from None
            self._names.add(db_id)

    def finish(self) -> None:
        if self.report.total == 0:
            if self.mapping is None:
                raise StudioError("the file holds no rows", key="data_no_rows")
            raise StudioError("the file has a header but no data rows", key="data_header_only")
        if self.report.rows == 0:
            raise StudioError("no usable rows: all {total} were dropped ({reasons})", key="data_all_dropped",
                              total=self.report.total, reasons=_reasons(self.report))


def _reasons(report: ValidationReport) -> Phrases:
    counts = report.dropped_by_reason
    phrases = (Phrase("{count} missing", key="data_drop_missing", count=counts["missing"]),
               Phrase("{count} duplicate", key="data_drop_duplicate", count=counts["duplicate"]),
               Phrase("{count} too long", key="data_drop_too_long", count=counts["too_long"]))
    return Phrases([phrase for phrase in phrases if phrase.params["count"]], separator=", ")


def _scan(path: Path, mapping: Mapping[str, str] | None, limits: ReadLimits, keep: bool):
    path = Path(path)
    fmt = detect_format(path)
    encoding = sniff(path, fmt, limits)
    report = ValidationReport(source=str(path), format=fmt, encoding=encoding or "binary")
    if encoding == "cp949":
        report.notes.append(Note("cp949"))
    cleaner = RowCleaner(report, mapping, limits)
    kept = []
    for chunk in iter_frames(path, fmt, encoding, limits):
        if len(chunk.columns) and cleaner.mapping is None:
            cleaner.start([str(c).lstrip("\ufeff").strip() for c in chunk.columns])
        if len(chunk):
            cleaned = cleaner.clean(chunk)
            if keep:
                kept.append(cleaned)
    cleaner.finish()
    frame = pd.concat(kept, ignore_index=True) if keep else None
    return frame, report


def check_file(
    path: Path, mapping: Mapping[str, str] | None = None, limits: ReadLimits = DEFAULT_LIMITS
) -> ValidationReport:
    """Validate a file without keeping its rows (memory stays flat for large files)."""
    return _scan(path, mapping, limits, keep=False)[1]


def read_file(
    path: Path, mapping: Mapping[str, str] | None = None, limits: ReadLimits = DEFAULT_LIMITS
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate a file and return its cleaned rows with the report."""
    return _scan(path, mapping, limits, keep=True)


def clean_frame(
    frame: pd.DataFrame,
    source: str,
    mapping: Mapping[str, str] | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate rows that are already in memory (a Hub data set, the sample)."""
    report = ValidationReport(source=source, format="dataframe", encoding="")
    cleaner = RowCleaner(report, mapping, limits)
    cleaner.start([str(c) for c in frame.columns])
    cleaned = cleaner.clean(frame.astype("string")) if len(frame) else frame
    cleaner.finish()
    return cleaned.reset_index(drop=True), report
