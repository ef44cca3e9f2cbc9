"""A grammar of SQLite SELECT statements over one schema: the table and column names of a prompt's DDL.

Generation under this grammar (studio/constraints.py) cannot write a table or column the DDL does not have,
so a small model that has learned the shape of SQL but not the schema writes a query that runs. Values
(strings, numbers) stay free: they come from the question. The grammar is text in llguidance's Lark
dialect, built from the DDL at run time and cached per DDL.

Aliases `T1`, `T2`, `T3` (the book's and the bundled sample's convention) are bound to the table they name:
`T1.player_id` is only allowed where T1 is a table with that column. A context-free grammar cannot carry
"T1 is quests" from the FROM clause back to the SELECT list written before it, so the statement rules are
repeated once per assignment of tables to aliases and the generation picks one copy as it writes; with many
tables that would be too many copies, and beyond _MAX_ALIAS_COPIES the later aliases are left unbound.
Whitespace between words is one space or newline, never a run of them: a repeatable whitespace rule lets a
small model loop on blanks forever.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from evaluation.sql import SqlParseError, parse, split_statements

# Bumped whenever a change to the grammar (or to how it is applied) can change an answer: cached answers of an
# older revision are then generated again (studio/evaluate.py, EvalOptions.generated_by).
# 2: function names in lower case too; a parser item limit that no longer cuts joins short.
GRAMMAR_REVISION = 2
ALIASES = ("T1", "T2", "T3")
# More copies than this make llguidance's Earley parser exceed its item limit right after `SELECT` (27 copies
# for a 3-table DDL did: every copy's expression rules are predicted at once), and cost more per token; 9
# copies keep the mask at ~0.5 ms a token (measured on the Playground's 3-table game DDL).
_MAX_ALIAS_COPIES = 9
_FUNCTIONS = ("LOWER", "UPPER", "LENGTH", "ROUND", "ABS", "SUBSTR", "STRFTIME", "DATE", "DATETIME",
              "JULIANDAY", "IFNULL", "COALESCE", "INSTR", "REPLACE", "TRIM", "NULLIF")
_AGGREGATES = ("COUNT", "SUM", "AVG", "MIN", "MAX")
_TYPES = ("INTEGER", "REAL", "TEXT", "NUMERIC")


@dataclass(frozen=True)
class Schema:
    """Table name → its column names, in DDL order."""

    tables: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for _, cols in self.tables for c in cols))

    def __bool__(self) -> bool:
        return any(cols for _, cols in self.tables)


@lru_cache(maxsize=256)
def schema_of(ddl: str) -> Schema:
    """The tables and columns that CREATE TABLE statements in `ddl` (MySQL or SQLite flavour) define."""
    from sqlglot import exp

    tables = []
    for text in split_statements(ddl):
        try:
            tree = parse(text, "mysql")
        except SqlParseError:
            continue
        if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
            columns = tuple(c.name for c in tree.find_all(exp.ColumnDef))
            table = tree.this.find(exp.Table)
            if table is not None and columns and _plain(table.name) and all(map(_plain, columns)):
                tables.append((table.name, columns))
    return Schema(tuple(tables))


def _plain(name: str) -> bool:
    """A name the grammar can write bare (quoted names are rare in Text2SQL data: such a table is skipped)."""
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None


@lru_cache(maxsize=256)
def sql_grammar(ddl: str) -> str | None:
    """llguidance Lark text for one SELECT statement (ending with `;`) over `ddl`'s schema; None when the DDL
    defines no table the grammar can name (the caller then generates unconstrained)."""
    schema = schema_of(ddl)
    if not schema:
        return None
    copies = _alias_assignments(schema)
    lines = [
        'start: _LEAD? statement ";"',
        "statement: " + " | ".join(f"query_{i}" for i in range(len(copies))),
    ]
    for i, assignment in enumerate(copies):
        lines += _statement_rules(f"_{i}", schema, assignment)
    lines += _shared_rules(schema)
    return "\n".join(lines) + "\n"


def _alias_assignments(schema: Schema) -> list[dict[str, str]]:
    """Every binding of T1..Tk to tables, for the largest k whose copies stay within _MAX_ALIAS_COPIES."""
    names = [name for name, _ in schema.tables]
    k = len(ALIASES)
    while k and len(names) ** k > _MAX_ALIAS_COPIES:
        k -= 1
    return [dict(zip(ALIASES, chosen)) for chosen in itertools.product(names, repeat=k)]


def _statement_rules(s: str, schema: Schema, bound: dict[str, str]) -> list[str]:
    """One copy of the statement rules, its aliases bound as `bound` says (suffix `s` names the copy)."""
    columns = dict(schema.tables)
    alias_refs = [_literal(f"{alias}.{col}") for alias, table in bound.items() for col in columns[table]]
    unbound = [a for a in ALIASES if a not in bound]
    alias_refs += [f'"{alias}." BARE_COL' for alias in unbound]
    alias_tables = [f"TABLE _S \"AS\" _S {_literal(a)}" for a in unbound]
    alias_tables += [f"{_literal(t)} _S \"AS\" _S {_literal(a)}" for a, t in bound.items()]
    return [
        f'query{s}: select{s} (_S SETOP (_S "ALL")? _S select{s})*',
        f'select{s}: "SELECT" _S ("DISTINCT" _S)? items{s} _S "FROM" _S source{s} where{s}? group{s}? '
        f"order{s}? limit?",
        f"items{s}: item{s} (_O \",\" _O item{s})*",
        f'item{s}: "*" | expr{s} (_S "AS" _S NAME)?',
        f"source{s}: table_ref{s} (join{s})*",
        f"table_ref{s}: TABLE | " + " | ".join(alias_tables),
        f'join{s}: _O "," _O table_ref{s} | _S ("LEFT" _S | "INNER" _S)? "JOIN" _S table_ref{s} '
        f'(_S "ON" _S expr{s})?',
        f'where{s}: _S "WHERE" _S expr{s}',
        f'group{s}: _S "GROUP" _S "BY" _S expr{s} (_O "," _O expr{s})* (_S "HAVING" _S expr{s})?',
        f'order{s}: _S "ORDER" _S "BY" _S order_item{s} (_O "," _O order_item{s})*',
        f'order_item{s}: expr{s} (_S "ASC" | _S "DESC")?',
        f'expr{s}: conj{s} (_S "OR" _S conj{s})*',
        f'conj{s}: neg{s} (_S "AND" _S neg{s})*',
        f'neg{s}: ("NOT" _S)? pred{s}',
        f"pred{s}: sum{s} (_O CMP _O sum{s} | _S \"IS\" _S (\"NOT\" _S)? \"NULL\" "
        f'| _S ("NOT" _S)? "LIKE" _S sum{s} '
        f'| _S ("NOT" _S)? "BETWEEN" _S sum{s} _S "AND" _S sum{s} '
        f'| _S ("NOT" _S)? "IN" _O "(" _O (query{s} | sum{s} (_O "," _O sum{s})*) _O ")")?',
        f"sum{s}: term{s} (_O ARITH _O term{s})*",
        f'term{s}: column{s} | LITERAL | "NULL" | "-" term{s} | call{s} | "(" _O (query{s} | expr{s}) _O ")" '
        f'| "EXISTS" _O "(" _O query{s} _O ")" '
        f'| "CASE" (_S "WHEN" _S expr{s} _S "THEN" _S expr{s})+ (_S "ELSE" _S expr{s})? _S "END" '
        f'| "CAST" _O "(" _O expr{s} _S "AS" _S SQL_TYPE _O ")"',
        f'call{s}: AGGREGATE _O "(" _O ("*" | ("DISTINCT" _S)? expr{s}) _O ")" '
        f'| FUNCTION _O "(" _O expr{s} (_O "," _O expr{s})* _O ")"',
        f"column{s}: BARE_COL | QUALIFIED_COL" + "".join(f" | {ref}" for ref in alias_refs),
    ]


def _shared_rules(schema: Schema) -> list[str]:
    qualified = [_literal(f"{table}.{col}") for table, cols in schema.tables for col in cols]
    return [
        "limit: _S \"LIMIT\" _S INT (_S \"OFFSET\" _S INT)?",
        "TABLE: " + _choice(name for name, _ in schema.tables),
        "BARE_COL: " + _choice(schema.columns),
        "QUALIFIED_COL: " + " | ".join(qualified),
        # One word each: a lexeme "UNION ALL" would swallow the blank after UNION and stop there (no backtracking).
        "SETOP: \"UNION\" | \"INTERSECT\" | \"EXCEPT\"",
        "CMP: \"=\" | \"!=\" | \"<>\" | \"<=\" | \">=\" | \"<\" | \">\"",
        "ARITH: \"+\" | \"-\" | \"*\" | \"/\" | \"||\" | \"%\"",
        # People (and data sets) write `strftime` as often as `STRFTIME`; mixed case (`dateTime`) nobody means.
        "AGGREGATE: " + _choice(_cased(_AGGREGATES)),
        "FUNCTION: " + _choice(_cased(_FUNCTIONS)),
        "SQL_TYPE: " + _choice(_TYPES),
        "LITERAL: STRING | NUMBER",
        # Bounded: unbounded literals let a small model write digits or letters until its budget runs out.
        "STRING: /'([^'\\n]|''){0,80}'/",
        "NUMBER: /[0-9]{1,12}(\\.[0-9]{1,6})?/",
        "INT: /[0-9]{1,9}/",
        "NAME: /[A-Za-z_][A-Za-z0-9_]*/",
        "_S: \" \" | \"\\n\"",
        "_O: \" \"?",
        "_LEAD: /[ \\n]/",
    ]


def _choice(words) -> str:
    return " | ".join(_literal(w) for w in words)


def _cased(words) -> tuple[str, ...]:
    return tuple(words) + tuple(w.lower() for w in words)


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
