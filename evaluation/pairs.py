"""Prediction pairs in JSONL: one object a line with `id, db_id, question, gold_sql, pred_sql`.

Optional `context` (or `ddl`) holds the schema DDL for rows without a database. Other fields are kept and
written back unchanged. Problems are reported as PairsError with the line number, never as a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_FIELDS = ("id", "db_id", "question", "gold_sql", "pred_sql")


class PairsError(ValueError):
    """An input file or row that cannot be scored."""


@dataclass(frozen=True)
class Pair:
    """A question with its gold SQL and a model's prediction (a statement or a raw completion)."""

    id: str | int
    db_id: str
    question: str
    gold_sql: str
    pred_sql: str | None
    context: str | None = None
    row: Mapping = field(default_factory=dict, compare=False, repr=False)  # the input row as read


def pair_from_row(row: Mapping, where: str = "row") -> Pair:
    """Validate one input object and make a Pair of it."""
    if not isinstance(row, Mapping):
        raise PairsError(f"{where}: expected a JSON object")
    missing = [name for name in REQUIRED_FIELDS if name not in row]
    if missing:
        raise PairsError(f"{where}: missing field(s) {', '.join(missing)}")
    for name in ("question", "gold_sql"):
        if not isinstance(row[name], str):
            raise PairsError(f"{where}: field {name} must be a string")
    if row["pred_sql"] is not None and not isinstance(row["pred_sql"], str):
        raise PairsError(f"{where}: field pred_sql must be a string or null")
    if not isinstance(row["db_id"], (str, int)) or isinstance(row["db_id"], bool):
        raise PairsError(f"{where}: field db_id must be a string or a number")
    context = row.get("context", row.get("ddl"))
    return Pair(
        id=row["id"],
        db_id=str(row["db_id"]),
        question=row["question"],
        gold_sql=row["gold_sql"],
        pred_sql=row["pred_sql"],
        context=context if isinstance(context, str) else None,
        row=dict(row),
    )


def read_pairs(path: str | Path) -> list[Pair]:
    """All pairs of a JSONL file (blank lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise PairsError(f"input file not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines(): JSON may hold U+2028
    except UnicodeDecodeError:
        raise PairsError(f"{path.name}: not UTF-8 text") from None
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            raise PairsError(f"{path.name} line {number}: invalid JSON ({error})") from None
        pairs.append(pair_from_row(row, f"{path.name} line {number}"))
    if not pairs:
        raise PairsError(f"{path.name}: no pairs in the file")
    return pairs


def write_rows(path: str | Path, rows: Iterable[Mapping]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
