"""Assembling synthesized domains: a theme, a connected handful of its tables, a few of their columns,
and one English spelling per concept, all drawn from a random source seeded with the domain's number.

Schemas stay small (2–5 tables of 3–7 columns, 15–300 rows) so prompts stay short and generation fast;
there are many of them, so a model sees the same Korean words spelled in many ways.
"""

from __future__ import annotations

from random import Random

from studio.data.sample.model import Column, Domain, Link, Table
from studio.data.sample.synth.concepts import ColumnConcept, Ref, TableConcept, Theme

SYNTH_SEED = "text2sql-studio-synth-v1"
KEY_SPELLINGS = ("{s}_id", "{s}_id", "{s}_id", "id", "{s}_no")  # drawn uniformly: mostly {s}_id
QUESTIONS = (28, 40)  # questions per synthesized domain: one per chosen template
NULLABLE_SHARE = 0.1  # columns made optional at random (never categories: templates filter by their values)


def synthesize(themes: tuple[Theme, ...], count: int) -> tuple[Domain, ...]:
    """`count` domains, themes taken in turn, each drawn from its own seeded random source."""
    return tuple(_domain(number, themes[(number - 1) % len(themes)]) for number in range(1, count + 1))


def _domain(number: int, theme: Theme) -> Domain:
    rng = Random(f"{SYNTH_SEED}:{number}")
    built: dict[str, Table] = {}
    singulars: dict[str, str] = {}  # table name → its singular, for the keys that refer to it
    for concept in _pick_tables(theme, rng):
        built[concept.id] = _table(concept, rng, built, singulars)
    return Domain(
        db_id=f"s{number:03d}",
        name=theme.name,
        title=theme.title,
        tables=tuple(built.values()),
        questions=rng.randint(*QUESTIONS),
    )


def _pick_tables(theme: Theme, rng: Random) -> list[TableConcept]:
    """2–5 tables that hang together: each added one refers to, or is referred to by, one already in.

    A link table comes with both its parents (the one missing joins with it).
    """
    wanted = rng.randint(2, min(5, len(theme.tables)))
    chosen = {rng.choice([t for t in theme.tables if not t.link]).id}
    while len(chosen) < wanted:
        options = [
            grown
            for t in theme.tables
            if t.id not in chosen and _touches(t, chosen, theme)
            and len(grown := chosen | _with_parents(t)) <= 5
        ]
        if not options:
            break
        weights = [3 if _has_link(g - chosen, theme) else 1 for g in options]  # links: for the link templates
        chosen = rng.choices(options, weights)[0]
    return [t for t in theme.tables if t.id in chosen]  # the theme's order: parents first


def _with_parents(concept: TableConcept) -> set[str]:
    return {concept.id} | ({r.parent for r in concept.refs[:2]} if concept.link else set())


def _has_link(ids: set[str], theme: Theme) -> bool:
    return any(theme.table(i).link for i in ids)


def _touches(concept: TableConcept, chosen: set[str], theme: Theme) -> bool:
    if any(r.parent in chosen for r in concept.refs):
        return True
    return not concept.link and any(concept.id in {r.parent for r in theme.table(c).refs} for c in chosen)


def _table(concept: TableConcept, rng: Random, built: dict[str, Table], singulars: dict[str, str]) -> Table:
    name, singular = rng.choice([pair for pair in concept.names if pair[0] not in singulars])
    singulars[name] = singular
    used: set[str] = set()
    key = _spell(rng.choice(KEY_SPELLINGS), singular)
    used.add(key)
    columns = [Column(key, "INT", f"{concept.noun} 번호", "key")]
    if concept.name:
        columns.append(_column(concept.name, rng, singular, used))
    refs = [r for r in concept.refs if r.parent in built]
    keys = [_reference(r, built[r.parent], singulars[built[r.parent].name], used) for r in refs]
    columns += keys
    for extra in _pick_columns(concept, rng, 7 - len(columns)):
        if column := _column(extra, rng, singular, used, optional=True):
            columns.append(column)
    link = None
    if concept.link and len(refs) >= 2 and refs[:2] == list(concept.refs[:2]):
        link = Link(keys[0].name, keys[1].name, concept.link.phrase, concept.link.verb)
    return Table(name, concept.noun, concept.counter, _rows(concept, rng, refs, built, link), tuple(columns),
                 link=link, unique_together=(link.a, link.q) if link else ())


def _pick_columns(concept: TableConcept, rng: Random, room: int) -> list[ColumnConcept]:
    """2–4 of the concept's columns (fewer when keys fill the table), a category and a number first."""
    count = min(rng.randint(2, 4), max(1, room), len(concept.columns))
    pool = list(concept.columns)
    rng.shuffle(pool)
    first = [next((c for c in pool if c.role == role), None) for role in ("category", "number")]
    ordered = [c for c in first if c] + [c for c in pool if c not in first]
    chosen = ordered[:count]
    return [c for c in concept.columns if c in chosen]  # the concept's own order reads naturally


def _column(concept: ColumnConcept, rng: Random, singular: str, used: set[str],
            optional: bool = False) -> Column | None:
    spellings = [s for s in (_spell(s, singular) for s in concept.names) if s not in used]
    if not spellings:
        return None
    name = rng.choice(spellings)
    used.add(name)
    null_rate = concept.null_rate
    if optional and not null_rate and concept.role != "category" and rng.random() < NULLABLE_SHARE:
        null_rate = 0.15
    return Column(name, concept.sql_type, concept.label, concept.role, concept.gen, null_rate, concept.unit,
                  summable=concept.summable, more=concept.more, less=concept.less)


def _reference(ref: Ref, parent: Table, singular: str, used: set[str]) -> Column:
    """A foreign key spelled like the parent's key (`customer_id`; `customer_id` for a key named `id`)."""
    name = f"{singular}_id" if parent.key.name == "id" else parent.key.name
    if name in used:  # two keys to one parent (sender, receiver) or a clash: name it by its label
        name = f"{name}_2"
    used.add(name)
    return Column(name, "INT", ref.label or parent.noun, "ref", null_rate=ref.null_rate,
                  ref=f"{parent.name}.{parent.key.name}")


def _rows(concept: TableConcept, rng: Random, refs: list[Ref], built: dict[str, Table],
          link: Link | None) -> int:
    rows = rng.randint(*concept.rows)
    if concept.name:
        rows = min(rows, concept.name.max_rows)
    if link:  # unique (subject, object) pairs: stay well below what the parents allow
        a, q = (built[r.parent] for r in refs[:2])
        rows = min(rows, a.rows * q.rows // 3)
    return rows


def _spell(spelling: str, singular: str) -> str:
    return spelling.format(s=singular)

