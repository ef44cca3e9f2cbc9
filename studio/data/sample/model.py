"""The sample's schema model: tables and columns described once, with the Korean words questions use.

A column's `role` tells the question templates what it can do: a `name` identifies a row in questions,
a `category` is filtered by value and grouped by, a `number` is compared and aggregated, a `date` is
compared by day or year, a `ref` is a foreign key. The DDL is rendered from this model in the MySQL
flavour of the book's data set and transpiled to SQLite to build the database, so the `context` a model
reads is the very DDL that built the database it is scored on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any

# A value generator gets the random source, the row built so far (earlier columns) and the row's index.
ValueGen = Callable[[Random, dict[str, Any], int], Any]

ROLES = ("key", "name", "category", "number", "date", "ref", "text")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # as written in the DDL (MySQL flavour)
    label: str  # the Korean noun questions use for it
    role: str
    gen: ValueGen | None = None  # None for keys (1..n) and refs (a parent's key)
    null_rate: float = 0.0  # share of NULLs; > 0 makes the column nullable
    unit: str = ""  # written after numbers in questions
    ref: str = ""  # referenced "table.key" for role "ref"
    summable: bool = False  # a SUM over it means something (amounts, quantities)
    more: str = "높은"  # "가장 ___ 플레이어": the adjective for large values
    less: str = "낮은"

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} for column {self.name}")

    @property
    def nullable(self) -> bool:
        return self.null_rate > 0

    @property
    def ref_table(self) -> str:
        return self.ref.split(".")[0]

    @property
    def ref_key(self) -> str:
        return self.ref.split(".")[1]

    def ddl(self) -> str:
        if self.role == "key":
            return f"{self.name} {self.sql_type} PRIMARY KEY AUTO_INCREMENT"
        unique = " UNIQUE" if self.role == "name" else ""
        null = "" if self.nullable else " NOT NULL"
        return f"{self.name} {self.sql_type}{unique}{null}"


@dataclass(frozen=True)
class Link:
    """How a table with two foreign keys reads as a relation between its two parents.

    Forward: "'{q value}' {q}{phrase} {a}" ("'용의 시련' 퀘스트를 완료한 플레이어"); reverse:
    "'{a value}' {a}이(가) {verb} {q}" ("'푸른늑대' 플레이어가 완료한 퀘스트").
    """

    a: str  # the foreign key column towards the subject ("player_id")
    q: str  # the foreign key column towards the object ("quest_id")
    phrase: str  # particle + verb after the object: "을(를) 완료한", "에 출연한"
    verb: str  # the verb alone, for the reverse direction: "완료한"


@dataclass(frozen=True)
class Table:
    name: str
    noun: str  # "플레이어"
    counter: str  # "명", "개", "건", "권", "편"
    rows: int
    columns: tuple[Column, ...]
    link: Link | None = None
    unique_together: tuple[str, ...] = ()  # e.g. one completion per (player, quest)

    @property
    def key(self) -> Column:
        return self.columns[0]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def by_role(self, role: str) -> list[Column]:
        return [c for c in self.columns if c.role == role]

    @property
    def display(self) -> Column:
        """The column that names a row in questions: its name, or else its key ("주문 번호")."""
        names = self.by_role("name")
        return names[0] if names else self.key

    def ddl(self) -> str:
        lines = [c.ddl() for c in self.columns]
        lines += [
            f"FOREIGN KEY ({c.name}) REFERENCES {c.ref_table}({c.ref_key})" for c in self.by_role("ref")
        ]
        body = ",\n".join(f"  {line}" for line in lines)
        return f"CREATE TABLE {self.name} (\n{body}\n);"


@dataclass(frozen=True)
class Domain:
    db_id: str
    name: str  # "game"
    title: str  # "게임"
    tables: tuple[Table, ...]  # parents before children
    questions: int  # how many questions to generate

    def __post_init__(self):
        names = [t.name for t in self.tables]
        for table in self.tables:
            for col in table.by_role("ref"):
                if col.ref_table not in names or names.index(col.ref_table) > names.index(table.name):
                    raise ValueError(
                        f"{table.name}.{col.name} must reference an earlier table of {self.name}"
                    )

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def ddl(self) -> str:
        return "\n\n".join(t.ddl() for t in self.tables)
