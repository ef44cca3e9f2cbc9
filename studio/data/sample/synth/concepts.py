"""The vocabulary that synthesized schemas are drawn from: table and column concepts, grouped in themes.

A concept is one meaning with one Korean label and several English spellings ("가입일" → `joined_at`,
`signup_date`, `registered_at`, …). Each synthesized schema picks one spelling per concept, so the same
Korean word names different columns in different schemas and a model has to read the DDL in the prompt
to answer, instead of recalling the names it saw in training. `{s}` in a spelling is the table's
singular (`{s}_name` → `hotel_name`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from studio.data.sample.model import ValueGen
from studio.data.sample.values import compound, listed, pick


@dataclass(frozen=True)
class ColumnConcept:
    label: str  # the Korean noun questions use
    role: str  # name | category | number | date | text (keys and references come from the table)
    names: tuple[str, ...]  # English spellings, "{s}" = the table's singular
    gen: ValueGen
    sql_type: str
    unit: str = ""
    summable: bool = False
    more: str = "높은"
    less: str = "낮은"
    null_rate: float = 0.0
    max_rows: int = 0  # for names: how many rows the generator can name uniquely without long retries


@dataclass(frozen=True)
class Ref:
    """A foreign key of a table concept to a parent concept of the same theme."""

    parent: str  # the parent's concept id
    label: str = ""  # how questions call the parent ("담당 의사"); default: the parent's noun
    null_rate: float = 0.0


@dataclass(frozen=True)
class LinkWords:
    """A link table concept reads as a relation between its first two parents (see model.Link)."""

    phrase: str  # "을(를) 구독한"
    verb: str  # "구독한"


@dataclass(frozen=True)
class TableConcept:
    id: str
    noun: str
    counter: str
    names: tuple[tuple[str, str], ...]  # (table name, singular) spellings
    rows: tuple[int, int]
    name: ColumnConcept | None = None  # the column that names a row; None for events (orders, visits)
    columns: tuple[ColumnConcept, ...] = ()
    refs: tuple[Ref, ...] = ()
    link: LinkWords | None = None  # the first two refs are the link's subject and object


@dataclass(frozen=True)
class Theme:
    name: str  # "clinic"
    title: str  # "병원"
    tables: tuple[TableConcept, ...]  # parents before children

    def table(self, concept_id: str) -> TableConcept:
        return next(t for t in self.tables if t.id == concept_id)


# --- constructors: one line per concept (spellings as one space-separated string) -------------------------------------------------------------


def name_col(label: str, spellings: str, *parts: tuple[str, ...], sep: str = "",
             sql_type: str = "VARCHAR(100)") -> ColumnConcept:
    """A naming column composed from word lists: one word of each part, joined."""
    return ColumnConcept(label, "name", tuple(spellings.split()), compound(*parts, sep=sep), sql_type,
                         max_rows=prod(len(p) for p in parts) // 3)


def named_by(label: str, spellings: str, gen: ValueGen, max_rows: int,
             sql_type: str = "VARCHAR(50)") -> ColumnConcept:
    return ColumnConcept(label, "name", tuple(spellings.split()), gen, sql_type, max_rows=max_rows)


def listed_names(label: str, spellings: str, items: tuple[str, ...],
                 sql_type: str = "VARCHAR(50)") -> ColumnConcept:
    """Rows named from a fixed list in order (departments, crops): as many rows as items at most."""
    return ColumnConcept(label, "name", tuple(spellings.split()), listed(items), sql_type, max_rows=len(items))


def cat(label: str, spellings: str, values: tuple, weights: tuple | None = None,
        null_rate: float = 0.0) -> ColumnConcept:
    sql_type = "INT" if isinstance(values[0], int) else "VARCHAR(20)"
    return ColumnConcept(label, "category", tuple(spellings.split()), pick(values, weights), sql_type, null_rate=null_rate)


def num(label: str, spellings: str, gen: ValueGen, *, unit: str = "", summable: bool = False,
        more: str = "높은", less: str = "낮은", sql_type: str = "INT", null_rate: float = 0.0) -> ColumnConcept:
    return ColumnConcept(label, "number", tuple(spellings.split()), gen, sql_type, unit, summable, more, less, null_rate)


def when(label: str, spellings: str, gen: ValueGen, *, sql_type: str = "DATE",
         null_rate: float = 0.0) -> ColumnConcept:
    return ColumnConcept(label, "date", tuple(spellings.split()), gen, sql_type, null_rate=null_rate)


def note(label: str, spellings: str, values: tuple[str, ...], null_rate: float = 0.4,
         sql_type: str = "VARCHAR(200)") -> ColumnConcept:
    """Free text that is often missing: only asked about as present or absent."""
    return ColumnConcept(label, "text", tuple(spellings.split()), pick(values), sql_type, null_rate=null_rate)


MORE = {"more": "많은", "less": "적은"}
PRICEY = {"more": "비싼", "less": "저렴한"}
BIG = {"more": "큰", "less": "작은"}
LONG = {"more": "긴", "less": "짧은"}


def table(id: str, noun: str, counter: str, spellings: str, rows: tuple[int, int],
          name: ColumnConcept | None = None, *columns: ColumnConcept, refs: tuple[Ref, ...] = (),
          link: LinkWords | None = None) -> TableConcept:
    """A table concept; `spellings` lists "table:singular" pairs ("brands:brand makers:maker")."""
    pairs = tuple(tuple(pair.split(":")) for pair in spellings.split())
    return TableConcept(id, noun, counter, pairs, rows, name, columns, refs, link)
