"""A user's schema and glossary as the bundled sample's schema model, so the sample's templates apply to it.

Each column gets a role (key, ref, name, category, number, date, text) from its declaration, its foreign
keys and its values, unless the glossary gives one; a number's unit comes from the glossary, else from its
name (price → 원, rate → %, age → 세, score → 점). A table without a Korean noun, or without a single-column
integer key, is left out, and so is a column without a Korean word (a key reads "<noun> 번호", a foreign key its parent's noun, when the glossary has no word for
them). Everything left out is reported with why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from studio.data.adapt.glossary import Glossary, Term
from studio.data.adapt.schema import ColumnInfo, DatabaseInfo, TableInfo, read_rows
from studio.data.sample.model import Column, Domain, Table

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?")
_SUMMABLE = re.compile(r"amount|price|balance|total|cost|fee|salary|sales|revenue|qty|quantity|stock|count|"
                       r"weight|point|budget|income|expense|pay", re.IGNORECASE)
# A number's unit from its name, when the glossary gives none (first match wins; Korean users count in 원).
_UNITS = ((re.compile(r"price|amount|balance|cost|fee|salary|budget|revenue|sales|income|expense|pay",
                      re.IGNORECASE), "원"),
          (re.compile(r"rate|percent|pct|ratio", re.IGNORECASE), "%"),
          (re.compile(r"kg$|weight", re.IGNORECASE), "kg"),
          (re.compile(r"(^|_)age$", re.IGNORECASE), "세"),
          (re.compile(r"score|point", re.IGNORECASE), "점"),
          (re.compile(r"minutes?$|_min$", re.IGNORECASE), "분"))
_COUNTED = frozenset({"원", "개", "건", "명", "kg", "점"})  # units whose sums mean something (not %, 세)
_PEOPLE = ("고객", "회원", "직원", "사원", "학생", "사람", "선수", "환자", "승객", "교수", "강사", "작가", "사용자",
           "플레이어", "의사", "손님", "배우", "감독", "주민", "시민", "간호사", "기사", "관객", "참가자", "멤버")
_RECORDS = ("기록", "내역", "거래", "주문", "예약", "신청", "로그", "이력", "결제", "대출", "접수", "처방")
CATEGORY_MAX_VALUES = 30


@dataclass(frozen=True)
class AdaptedSchema:
    """The schema model the templates fill, the rows they take values from, and what was left out."""

    domain: Domain
    rows: dict[str, list[dict[str, Any]]]
    ddl: dict[str, str]  # table → the DDL a prompt shows (every column, as the database declares it)
    glossary: Glossary  # the effective words and roles, inferred ones filled in (for the Data tab's table)
    left_out: tuple[str, ...]  # "table.column: why"


def adapt_schema(info: DatabaseInfo, glossary: Glossary, db_id: str, questions: int) -> AdaptedSchema:
    """The schema model of `info` worded by `glossary`; `questions` is how many the generator aims for."""
    left_out = list(info.skipped)
    kept = _tables_with_nouns(info, glossary, left_out)
    rows = {t.name: read_rows(info, t) for t in kept}
    order = _parents_first(kept)
    tables: list[Table] = []
    for table in order:
        columns = _columns(table, rows[table.name], glossary, {t.name: t for t in tables}, left_out)
        tables.append(Table(table.name, glossary.word(table.name), _counter(glossary, table.name),
                            len(rows[table.name]), tuple(columns)))
    rows = _with_parents(tables, rows)
    domain = Domain(db_id=db_id, name=db_id, title=db_id, tables=tuple(tables), questions=questions)
    effective = Glossary(tuple(
        [Term(t.name, "", t.noun, "", t.counter) for t in tables]
        + [Term(t.name, c.name, c.label, c.role, c.unit) for t in tables for c in t.columns]))
    return AdaptedSchema(domain, rows, {t.name: t.ddl() for t in order}, effective, tuple(left_out))


def draft(info: DatabaseInfo, glossary: Glossary) -> Glossary:
    """Every table and column with its word (empty where none is known), counter, role and unit."""
    terms = []
    for table in info.tables:
        rows = read_rows(info, table)
        terms.append(Term(table.name, "", glossary.word(table.name), "", _counter(glossary, table.name)))
        for column in table.columns:
            term = glossary.term(table.name, column.name) or Term(table.name, column.name)
            values = [r[column.name] for r in rows if r[column.name] is not None]
            role = term.role or ("ref" if column.references else infer_role(column, values, column is table.key))
            terms.append(Term(table.name, column.name, term.korean, role, _unit(term, role)))
    return Glossary(tuple(terms))


def infer_role(column: ColumnInfo, values: list, is_key: bool) -> str:
    """What a column can do in a question, from its declaration and (non-NULL) values."""
    if is_key:
        return "key"
    if not values:
        return "text"
    if all(isinstance(v, str) for v in values):
        if all(_ISO_DATE.fullmatch(v) for v in values):
            return "date"
        distinct = len(set(values))
        if distinct == len(values) and len(values) >= 2:
            return "name"
        return "category" if distinct <= min(CATEGORY_MAX_VALUES, max(2, len(values) // 2)) else "text"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "number"
    return "text"  # mixed types (SQLite allows them): nothing a template could compare or group


def infer_unit(name: str) -> str:
    """The unit questions write after a number column's values, from its name ("" when none fits)."""
    return next((unit for pattern, unit in _UNITS if pattern.search(name)), "")


def _unit(term: Term, role: str) -> str:
    """The glossary's unit, else the one a number column's name suggests."""
    return term.unit or (infer_unit(term.column) if role == "number" else "")


def _tables_with_nouns(info: DatabaseInfo, glossary: Glossary, left_out: list[str]) -> list[TableInfo]:
    kept = []
    for table in info.tables:
        if not glossary.word(table.name):
            left_out.append(f"{table.name}: no Korean word for the table")
        elif table.key is None:
            left_out.append(f"{table.name}: no single-column integer primary key")
        elif table.row_count == 0:
            left_out.append(f"{table.name}: no rows")
        else:
            kept.append(table)
    return kept


def _parents_first(tables: list[TableInfo]) -> list[TableInfo]:
    """Tables ordered so a foreign key points to an earlier one (the schema model's rule); a key that
    points forward in a cycle is dropped later, in `_columns`."""
    names = {t.name for t in tables}
    done: list[TableInfo] = []
    pending = list(tables)
    while pending:
        placed = {t.name for t in done}
        ready = [t for t in pending
                 if all(parent in placed or parent not in names or parent == t.name for parent in _parents(t))]
        step = ready or pending[:1]  # a cycle: take the first; its forward keys are dropped
        done += step
        pending = [t for t in pending if t not in step]
    return done


def _parents(table: TableInfo) -> list[str]:
    return [c.references[0] for c in table.columns if c.references]


def _columns(table: TableInfo, rows: list[dict], glossary: Glossary, earlier: dict[str, Table],
             left_out: list[str]) -> list[Column]:
    columns = []
    for info in sorted(table.columns, key=lambda c: c is not table.key):  # the key first: the model's rule
        values = [r[info.name] for r in rows if r[info.name] is not None]
        term = glossary.term(table.name, info.name) or Term(table.name, info.name)
        role = _role(info, values, table, earlier)
        if term.role and role != "key":
            if _fits(term.role, values):
                role = term.role
            else:
                left_out.append(f"{table.name}.{info.name}: its values cannot be a {term.role}; taken as a {role}")
        if role == "ref" and not _ref_target(info, earlier):
            left_out.append(f"{table.name}.{info.name}: its foreign key points to a table left out")
            continue
        label = term.korean or _default_label(info, role, glossary, table)
        if not label:
            left_out.append(f"{table.name}.{info.name}: no Korean word")
            continue
        nulls = (len(rows) - len(values)) / len(rows) if rows else 0.0
        unit = _unit(term, role)
        columns.append(Column(
            info.name, info.declared_type or "TEXT", label, role, null_rate=nulls, unit=unit,
            ref=_ref_target(info, earlier) if role == "ref" else "",
            summable=role == "number" and bool(_SUMMABLE.search(info.name) or unit in _COUNTED),
        ))
    return columns


def _role(info: ColumnInfo, values: list, table: TableInfo, earlier: dict[str, Table]) -> str:
    if info.references and _ref_target(info, earlier):
        return "ref"
    return infer_role(info, values, info is table.key)


def _fits(role: str, values: list) -> bool:
    """Whether a role the glossary gives suits the column's values (a number must hold numbers, ...)."""
    if role in ("number", "date", "name", "category"):
        return infer_role(ColumnInfo("", "", False, False), values, False) in (
            {"number": ("number",), "date": ("date",)}.get(role, ("name", "category", "text")))
    return role in ("text", "ref")


def _ref_target(info: ColumnInfo, earlier: dict[str, Table]) -> str:
    """"table.key" when the column's foreign key points to the key of an earlier kept table."""
    if not info.references or info.references[0] not in earlier:
        return ""
    parent = earlier[info.references[0]]
    return f"{parent.name}.{parent.key.name}" if parent.key.name == info.references[1] else ""


def _default_label(info: ColumnInfo, role: str, glossary: Glossary, table: TableInfo) -> str:
    if role == "key":
        return f"{glossary.word(table.name)} 번호"
    if role == "ref":
        return glossary.word(info.references[0])
    return ""


def _counter(glossary: Glossary, table: str) -> str:
    term = glossary.term(table)
    if term and term.unit:
        return term.unit
    noun = glossary.word(table)
    if noun.endswith(_PEOPLE):
        return "명"
    return "건" if noun.endswith(_RECORDS) else "개"


def _with_parents(tables: list[Table], rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Rows whose foreign keys all point to a row that was read (only the first rows of a big table are)."""
    keys: dict[str, set] = {}
    result = {}
    for table in tables:  # parents first, so a parent's rows are settled before its children's
        refs = table.by_role("ref")
        result[table.name] = [r for r in rows[table.name]
                              if all(r[c.name] is None or r[c.name] in keys[c.ref_table] for c in refs)]
        keys[table.name] = {r[table.key.name] for r in result[table.name]}
    return result
