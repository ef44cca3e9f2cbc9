"""Generating the bundled sample: rows for every table, the SQLite databases, and checked questions.

Deterministic by construction: every random choice comes from a `random.Random` seeded with a string
(hashed with SHA-512 by Python, so independent of PYTHONHASHSEED and the machine), nothing iterates over
a set, and the content hash covers the DDL, every row and every question.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from random import Random
from typing import Any

import sqlglot
from sqlglot import exp

from studio.data.sample.binding import Binder, DomainData, candidates
from studio.data.sample.domains import DOMAINS
from studio.data.sample.korean import attach_particles
from studio.data.sample.model import Domain, Table
from studio.data.sample.synth import SYNTHESIZED
from studio.data.sample.templates import TEMPLATES, Template

SEED = "text2sql-studio-sample-v1"
ATTEMPTS_PER_ROW = 8  # bindings tried per wanted question before a template gives up
Progress = Callable[[float, str], None]


class SampleError(RuntimeError):
    """A template or domain produced a gold SQL that fails: a bug in the generator, not bad luck."""


@dataclass
class GeneratedDomain:
    domain: Domain
    rows: dict[str, list[dict[str, Any]]]
    connection: sqlite3.Connection  # the populated database, in memory
    questions: list[dict[str, str]] = field(default_factory=list)


def populate(domain: Domain) -> dict[str, list[dict[str, Any]]]:
    """Rows for every table of the domain, parents first; each table has its own random stream."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in domain.tables:
        rng = Random(f"{SEED}:{domain.db_id}:{table.name}")
        parents = {c.name: _parent_picker(rng, len(rows[c.ref_table])) for c in table.by_role("ref")}
        rows[table.name] = _table_rows(table, rng, parents)
    return rows


def _parent_picker(rng: Random, n_parents: int) -> Callable[[], int]:
    """Pick parent keys with uneven popularity (so counts differ) and a few parents never picked."""
    weights = [0.0 if rng.random() < 0.06 else 1.0 / (rank + 1) ** 0.6 for rank in range(n_parents)]
    order = list(range(1, n_parents + 1))
    rng.shuffle(order)
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return lambda: rng.choices(order, cum_weights=cumulative)[0]


def _table_rows(table: Table, rng: Random, parents: dict[str, Callable[[], int]]) -> list[dict[str, Any]]:
    unique_names = [c.name for c in table.by_role("name")]
    seen: dict[str, set] = {name: set() for name in unique_names}
    seen_pairs: set = set()
    result = []
    for i in range(table.rows):
        for _ in range(500):
            row = _row(table, rng, parents, i)
            pair = tuple(row[c] for c in table.unique_together)
            if any(row[n] in seen[n] for n in unique_names) or (pair and pair in seen_pairs):
                continue
            break
        else:
            raise SampleError(f"{table.name}: cannot make row {i + 1} unique; widen its value pools")
        for n in unique_names:
            seen[n].add(row[n])
        if pair:
            seen_pairs.add(pair)
        result.append(row)
    return result


def _row(table: Table, rng: Random, parents: dict[str, Callable[[], int]], i: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.role == "key":
            row[column.name] = i + 1
        elif column.nullable and rng.random() < column.null_rate:
            row[column.name] = None
        elif column.role == "ref":
            row[column.name] = parents[column.name]()
        else:
            row[column.name] = column.gen(rng, row, i)
    return row


def sqlite_ddl(domain: Domain) -> str:
    """The domain's MySQL-flavoured DDL transpiled to SQLite (the same statements, SQLite's spelling)."""
    return ";\n".join(sqlglot.transpile(domain.ddl(), read="mysql", write="sqlite")) + ";"


def build_database(domain: Domain, rows: dict[str, list[dict[str, Any]]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(sqlite_ddl(domain))
    for table in domain.tables:
        names = [c.name for c in table.columns]
        db.executemany(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [tuple(r[n] for n in names) for r in rows[table.name]],
        )
    db.commit()
    return db


# Why a filled template's gold SQL is not used ("" when it is): (SQL, template id) → reason.
Check = Callable[[str, str], str]


class QuestionMaker:
    """Fills templates for one domain, keeping only questions whose gold SQL passes `check` (by default
    `_bundled_check` on the domain's database, which raises on SQL that fails: a bug in the generator).
    `ddl` (table → DDL) is what the rows' context shows; by default, the schema model's. `dropped` counts
    the fillings not kept, by reason."""

    def __init__(self, generated: GeneratedDomain, check: Check | None = None, ddl: dict[str, str] | None = None):
        self.g = generated
        self.data = DomainData(generated.domain, generated.rows)
        self.ddl = ddl or {t.name: t.ddl() for t in generated.domain.tables}
        self.check = check or partial(_bundled_check, generated.connection)
        self.results: dict[str, str] = {}  # SQL → why it is not usable ("" when it is)
        self.questions: dict[str, str] = {}  # question → SQL: one answer per question
        self.dropped: Counter = Counter()

    def make(self, template: Template, wanted: int, salt: str = "") -> list[dict[str, str]]:
        """Up to `wanted` new questions from one template; `salt` varies its random choices between calls."""
        places = candidates(template, self.data)
        if not places:
            return []
        rng = Random(f"{SEED}:{self.g.domain.db_id}:{template.id}" + (f":{salt}" if salt else ""))
        binder = Binder(template, self.data, rng)
        made: list[dict[str, str]] = []
        for attempt in range(wanted * ATTEMPTS_PER_ROW):
            if len(made) >= wanted:
                break
            binding = binder.bind(rng.choice(places))
            if binding is None:
                continue
            sql = template.sql.format_map(binding.sql)
            phrasing = template.questions[attempt % len(template.questions)]
            question = attach_particles(phrasing.format_map(binding.text))
            if question in self.questions:
                self.dropped["duplicate question"] += 1
                continue
            if not self._usable(template, sql):
                continue
            self.questions[question] = sql
            made.append(
                {
                    "db_id": self.g.domain.db_id,
                    "context": self._context(sql),
                    "question": question,
                    "answer": sql + ";",
                    "difficulty": template.level,
                    "template": template.id,
                }
            )
        return made

    def _usable(self, template: Template, sql: str) -> bool:
        if sql not in self.results:
            self.results[sql] = self.check(sql, template.id)
        if self.results[sql]:
            self.dropped[self.results[sql]] += 1
        return not self.results[sql]

    def _context(self, sql: str) -> str:
        used = set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", sql))
        return "\n\n".join(ddl for name, ddl in self.ddl.items() if name in used)


def _bundled_check(db: sqlite3.Connection, sql: str, template_id: str) -> str:
    """Why the gold SQL has no meaningful, unambiguous answer ("" when it has one); raises if it does not
    even run."""
    try:
        rows = db.execute(sql).fetchall()
    except sqlite3.Error as exc:
        raise SampleError(f"template {template_id} made SQL that fails ({exc}): {sql}") from exc
    return answer_problem(rows, lambda probe: db.execute(probe).fetchall(), sql)


def answer_problem(rows: list, run: Callable[[str], list], sql: str) -> str:
    """Why a gold SQL's result makes a poor question ("" when it does not): no rows, a lone NULL or zero,
    or a tie at its LIMIT. `run` executes the probe for ties."""
    if not rows:
        return "empty result"
    if len(rows) == 1 and all(v in (None, 0) for v in rows[0]):
        return "degenerate result (a lone NULL or 0)"
    return "tie at the LIMIT" if _tied_at_limit(run, sql) else ""


def _tied_at_limit(run: Callable[[str], list], sql: str) -> bool:
    """ORDER BY … LIMIT k is ambiguous when the sort keys of the rows around the cut are equal."""
    tree = sqlglot.parse_one(sql, read="sqlite")
    order, limit = tree.args.get("order"), tree.args.get("limit")
    if order is None or limit is None:
        return False
    k = int(limit.expression.name)
    probe = tree.copy()
    probe.set("expressions", [o.this.copy() for o in order.expressions])
    probe.set("limit", exp.Limit(expression=exp.Literal.number(k + 1)))
    keys = run(probe.sql(dialect="sqlite"))
    return any(a == b for a, b in pairwise(keys))


def generate_domain(domain: Domain) -> GeneratedDomain:
    rows = populate(domain)
    generated = GeneratedDomain(domain, rows, build_database(domain, rows))
    maker = QuestionMaker(generated)
    usable = [t for t in TEMPLATES if candidates(t, maker.data)]
    quota = math.ceil(domain.questions * 1.05 / len(usable))
    if domain.questions < len(usable):  # a small (synthesized) domain: one question per seeded pick
        picked = Random(f"{SEED}:{domain.db_id}:templates").sample(range(len(usable)), domain.questions)
        usable, quota = [usable[i] for i in sorted(picked)], 1
    for template in usable:
        generated.questions += maker.make(template, quota)
    # Templates with few distinct fillings fall short of their quota: top up from the others.
    for template in usable:
        missing = domain.questions - len(generated.questions)
        if missing <= 0:
            break
        generated.questions += maker.make(template, min(missing, quota))
    return generated


def generate(progress: Progress | None = None) -> list[GeneratedDomain]:
    """The hand-written domains, then the synthesized ones (s001…)."""
    domains = DOMAINS + SYNTHESIZED
    result = []
    for i, domain in enumerate(domains):
        if progress:
            progress(i / len(domains), f"generating the {domain.name} domain ({domain.db_id})")
        result.append(generate_domain(domain))
    return result


def content_hash(domains: list[GeneratedDomain]) -> str:
    """SHA-256 over the DDL, every row and every question: equal hashes mean equal samples."""
    digest = hashlib.sha256()
    for g in domains:
        digest.update(g.domain.ddl().encode())
        for table in g.domain.tables:
            for row in g.rows[table.name]:
                digest.update(json.dumps(list(row.values()), ensure_ascii=False).encode())
        for question in g.questions:
            digest.update(json.dumps(question, ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()
