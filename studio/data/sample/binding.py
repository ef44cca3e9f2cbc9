"""Filling a template's slots for one domain: choosing tables and columns, then values that exist.

Values come from an "anchor" row picked at random, so that the conditions of one question hold together
for at least that row (a parent that has children, a category that parent's children have). Thresholds
come from quantiles of a column, so comparisons keep some rows out and some in. Every filled template is
still executed and checked afterwards (`generate.py`); a binding that makes an empty answer is dropped.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from random import Random
from typing import Any

from studio.data.sample.korean import date_text, number_text
from studio.data.sample.model import Column, Domain, Table
from studio.data.sample.templates import Template


@dataclass(frozen=True)
class Binding:
    sql: dict[str, str]  # slot → SQL text
    text: dict[str, str]  # slot → Korean text


@dataclass(frozen=True)
class Structure:
    """Where a template applies: a table, a foreign key (child → parent) or a link table."""

    t: Table | None = None
    fk: Column | None = None
    p: Table | None = None
    m: Table | None = None
    a: Table | None = None
    q: Table | None = None


def sql_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _real_name(table: Table) -> Column | None:
    names = table.by_role("name")
    return names[0] if names else None


class DomainData:
    """A domain's generated rows with the look-ups binding needs, computed once."""

    def __init__(self, domain: Domain, rows: dict[str, list[dict[str, Any]]]):
        self.domain = domain
        self.rows = rows
        self._values: dict[tuple[str, str], list] = {}

    def by_key(self, table: Table) -> dict[Any, dict[str, Any]]:
        return self._index[table.name]

    @cached_property
    def _index(self) -> dict[str, dict[Any, dict[str, Any]]]:
        return {t.name: {row[t.key.name]: row for row in self.rows[t.name]} for t in self.domain.tables}

    def values(self, table: Table, column: Column) -> list:
        """The column's non-NULL values, sorted (for quantiles)."""
        key = (table.name, column.name)
        if key not in self._values:
            self._values[key] = sorted(
                r[column.name] for r in self.rows[table.name] if r[column.name] is not None
            )
        return self._values[key]

    def distinct(self, table: Table, column: Column) -> list:
        return list(dict.fromkeys(self.values(table, column)))

    @cached_property
    def links(self) -> list[Structure]:
        found = []
        for m in self.domain.tables:
            if m.link:
                a, q = (self.domain.table(m.column(c).ref_table) for c in (m.link.a, m.link.q))
                if _real_name(a) and _real_name(q):
                    found.append(Structure(m=m, a=a, q=q))
        return found

    @cached_property
    def foreign_keys(self) -> list[Structure]:
        return [
            Structure(t=t, fk=c, p=self.domain.table(c.ref_table))
            for t in self.domain.tables
            for c in t.by_role("ref")
            if _real_name(self.domain.table(c.ref_table))
        ]


# Slots that need a column of the (child) table: each family's slots share one chosen column.
_FAMILIES = {
    "c": frozenset({"c", "cv", "cv2"}),
    "x": frozenset({"x", "xv", "xv2", "xa", "x_hi", "x_lo"}),
    "xs": frozenset({"xs"}),
    "d": frozenset({"d", "dv", "dy", "dm"}),
    "z": frozenset({"z"}),
    "nv": frozenset({"nv", "sub", "pre"}),
}


def candidates(template: Template, data: DomainData) -> list[Structure]:
    """Every place in the domain where the template's slots can all be filled."""
    slots = template.slots
    if template.shape == "link":
        return [
            s
            for s in data.links
            if ("qc" not in slots and "qcv" not in slots or s.q.by_role("category"))
            and ("mx" not in slots or s.m.by_role("number"))
        ]
    if template.shape == "fk":
        return [
            s
            for s in data.foreign_keys
            if _table_fits(s.t, slots - {"hv"}, data)
            and ("pc" not in slots or s.p.by_role("category"))
            and not (template.strict_fk and s.fk.nullable)
        ]
    return [Structure(t=t) for t in data.domain.tables if _table_fits(t, slots, data)]


def _table_fits(table: Table, slots: frozenset[str], data: DomainData) -> bool:
    families = [f for f, members in _FAMILIES.items() if members & slots]
    if "hv" in slots and "c" not in families:
        families.append("c")  # rows per category
    return all(_columns(table, family, data) for family in families)


def _columns(table: Table, family: str, data: DomainData) -> list[Column]:
    """The table's columns that can fill a slot family."""
    if family == "z":
        return [c for c in table.columns if c.nullable]
    if family == "xs":
        return [c for c in table.by_role("number") if c.summable]
    if family == "nv":
        return table.by_role("name")
    if family == "c":  # grouping, IN and a second value need at least two values
        return [c for c in table.by_role("category") if len(data.distinct(table, c)) >= 2]
    return table.by_role({"x": "number", "d": "date"}[family])


class Binder:
    """Fills one template at one structure with random choices from `rng`."""

    def __init__(self, template: Template, data: DomainData, rng: Random):
        self.template, self.data, self.rng = template, data, rng
        self.slots = template.slots

    def bind(self, where: Structure) -> Binding | None:
        sql: dict[str, str] = {}
        text: dict[str, str] = {}
        if where.m is not None:
            ok = self._link(where, sql, text)
        else:
            ok = self._table(where, sql, text)
        return Binding(sql, text) if ok else None

    # --- a table, possibly the child of a foreign key ---------------------------------------------
    def _table(self, w: Structure, sql: dict, text: dict) -> bool:
        rng, t = self.rng, w.t
        rows = self.data.rows[t.name]
        anchor = rng.choice([r for r in rows if r[w.fk.name] is not None] if w.fk else rows)
        self._put(sql, text, "t", t.name, t.noun)
        text["t_cnt"] = t.counter
        self._put(sql, text, "n", t.display.name, t.display.label)
        chosen: dict[str, Column] = {}
        for family, members in _FAMILIES.items():
            if family != "nv" and members & self.slots:
                chosen[family] = rng.choice(_columns(t, family, self.data))
                self._put(sql, text, family, chosen[family].name, chosen[family].label)
        if "c" in chosen:
            self._category_values(t, chosen["c"], anchor, w, sql, text)
        if "x" in chosen:
            self._number_values(t, chosen["x"], chosen.get("c"), sql, text)
        if "d" in chosen:
            self._date_values(t, chosen["d"], anchor, sql, text)
        if "hv" in self.slots and not self._group_size(t, w, chosen.get("c"), sql, text):
            return False
        if {"nv", "sub", "pre"} & self.slots:
            value = anchor[_real_name(t).name]
            self._put(sql, text, "nv", sql_literal(value), f"'{value}'")
            part = self._name_part(value)
            self._put(sql, text, "sub", sql_literal(f"%{part}%"), part)
            self._put(sql, text, "pre", sql_literal(f"{value[0]}%"), value[0])
        if "k" in self.slots:
            k = rng.randint(2, 5)
            self._put(sql, text, "k", str(k), str(k))
        if w.fk is not None:
            self._parent(w, anchor, sql, text)
        return True

    def _category_values(self, t: Table, column: Column, anchor: dict, w: Structure, sql: dict, text: dict):
        value = anchor[column.name]
        if value is None:
            value = self.rng.choice(self.data.distinct(t, column))
        self._put(sql, text, "cv", sql_literal(value), str(value))
        other = self._second_category(t, column, value, anchor, w)
        self._put(sql, text, "cv2", sql_literal(other), str(other))

    def _number_values(self, t: Table, column: Column, group_by: Column | None, sql: dict, text: dict):
        rng = self.rng
        text["x_hi"], text["x_lo"] = column.more, column.less
        values = self.data.values(t, column)
        low = rng.uniform(0.2, 0.8)
        high = rng.uniform(low + 0.1, 0.97)
        for name, share in (("xv", low), ("xv2", high)):
            value = values[int(share * (len(values) - 1))]
            self._put(sql, text, name, sql_literal(value), number_text(value, column.unit))
        if "xa" in self.slots and group_by is not None:
            averages = sorted(statistics.fmean(v) for v in self._groups(t, column, group_by).values())
            value = averages[rng.randint(0, len(averages) - 2)]  # at least one group lies above
            value = round(value, 2) if isinstance(values[0], float) else int(value)
            self._put(sql, text, "xa", sql_literal(value), number_text(value, column.unit))

    def _date_values(self, t: Table, column: Column, anchor: dict, sql: dict, text: dict):
        rng = self.rng
        values = self.data.values(t, column)
        day = values[int(rng.uniform(0.2, 0.8) * (len(values) - 1))][:10]
        self._put(sql, text, "dv", sql_literal(day), date_text(day))
        moment = anchor[column.name] or rng.choice(values)
        year, month = int(moment[:4]), int(moment[5:7])
        text["dy"], text["dm"] = f"{year}년", f"{year}년 {month}월"
        sql["dy_start"], sql["dy_end"] = sql_literal(f"{year}-01-01"), sql_literal(f"{year + 1}-01-01")
        after = (year + 1, 1) if month == 12 else (year, month + 1)
        sql["dm_start"] = sql_literal(f"{year}-{month:02d}-01")
        sql["dm_end"] = sql_literal(f"{after[0]}-{after[1]:02d}-01")

    def _group_size(self, t: Table, w: Structure, group_by: Column | None, sql: dict, text: dict) -> bool:
        """A HAVING COUNT(*) threshold that some groups (children per parent, rows per category) pass."""
        if w.fk is not None:
            counts: dict[Any, int] = defaultdict(int)
            for r in self.data.rows[t.name]:
                if r[w.fk.name] is not None:
                    counts[r[w.fk.name]] += 1
            sizes = sorted(counts.values())
        else:
            sizes = sorted(len(v) for v in self._groups(t, t.key, group_by).values())
        value = sizes[int(len(sizes) * self.rng.uniform(0.4, 0.9))] if sizes else 0
        if value < 2:
            return False
        self._put(sql, text, "hv", str(value), str(value))
        return True

    def _second_category(self, t: Table, column: Column, value: Any, anchor: dict, w: Structure) -> Any:
        """Another value of the category, from a sibling of the anchor when there is a parent."""
        if w.fk is not None:
            siblings = [
                r[column.name]
                for r in self.data.rows[t.name]
                if r[w.fk.name] == anchor[w.fk.name] and r[column.name] not in (None, value)
            ]
            if siblings:
                return self.rng.choice(siblings)
        others = [v for v in self.data.distinct(t, column) if v != value]
        return self.rng.choice(others)

    def _groups(self, t: Table, column: Column, group_by: Column) -> dict[Any, list]:
        groups: dict[Any, list] = defaultdict(list)
        for r in self.data.rows[t.name]:
            if r[column.name] is not None and r[group_by.name] is not None:
                groups[r[group_by.name]].append(r[column.name])
        return groups

    def _name_part(self, name: str) -> str:
        """A recognisable piece of a name for LIKE: a word of a multi-word name, else two syllables."""
        words = [w for w in name.split() if len(w) >= 2]
        if len(words) > 1:
            return self.rng.choice(words)
        hangul = "".join(ch for ch in name if "가" <= ch <= "힣")
        if len(hangul) < 3:
            return hangul or name
        start = self.rng.randint(0, len(hangul) - 2)
        return hangul[start : start + 2]

    def _parent(self, w: Structure, anchor: dict, sql: dict, text: dict) -> None:
        parent = self.data.by_key(w.p)[anchor[w.fk.name]]
        name = _real_name(w.p)
        self._put(sql, text, "p", w.p.name, w.fk.label)
        text["p_cnt"] = w.p.counter
        sql["fk"], sql["pk"] = w.fk.name, w.p.key.name
        self._put(sql, text, "pn", name.name, name.label)
        self._put(sql, text, "pv", sql_literal(parent[name.name]), f"'{parent[name.name]}'")
        if {"pc", "pcv"} & self.slots:
            column = self.rng.choice(w.p.by_role("category"))
            self._put(sql, text, "pc", column.name, column.label)
            self._put(sql, text, "pcv", sql_literal(parent[column.name]), str(parent[column.name]))

    # --- a link table between two named tables ----------------------------------------------------
    def _link(self, w: Structure, sql: dict, text: dict) -> bool:
        rng, m, link = self.rng, w.m, w.m.link
        anchor = rng.choice(self.data.rows[m.name])
        a_row = self.data.by_key(w.a)[anchor[link.a]]
        q_row = self.data.by_key(w.q)[anchor[link.q]]
        an, qn = _real_name(w.a), _real_name(w.q)
        for slot, table in (("a", w.a), ("q", w.q), ("m", m)):
            self._put(sql, text, slot, table.name, table.noun)
        text["a_cnt"] = w.a.counter
        sql["ma"], sql["mq"], sql["apk"], sql["qpk"] = link.a, link.q, w.a.key.name, w.q.key.name
        text["rel"], text["verb"] = link.phrase, link.verb
        self._put(sql, text, "an", an.name, an.label)
        self._put(sql, text, "qn", qn.name, qn.label)
        self._put(sql, text, "av", sql_literal(a_row[an.name]), f"'{a_row[an.name]}'")
        self._put(sql, text, "qv", sql_literal(q_row[qn.name]), f"'{q_row[qn.name]}'")
        if "qv2" in self.slots:
            others = [
                r[link.q]
                for r in self.data.rows[m.name]
                if r[link.a] == anchor[link.a] and r[link.q] != anchor[link.q]
            ]
            if not others:
                return False
            other = self.data.by_key(w.q)[rng.choice(others)][qn.name]
            self._put(sql, text, "qv2", sql_literal(other), f"'{other}'")
        if {"qc", "qcv"} & self.slots:
            column = rng.choice(w.q.by_role("category"))
            self._put(sql, text, "qc", column.name, column.label)
            self._put(sql, text, "qcv", sql_literal(q_row[column.name]), str(q_row[column.name]))
        if "mx" in self.slots:
            column = rng.choice(m.by_role("number"))
            self._put(sql, text, "mx", column.name, column.label)
        return True

    @staticmethod
    def _put(sql: dict, text: dict, slot: str, sql_value: str, text_value: str) -> None:
        sql[slot], text[slot] = sql_value, text_value
