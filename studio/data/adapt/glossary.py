"""The Korean words for a schema's tables and columns, which the question templates write.

A glossary is a list of terms `table,column,korean[,role,unit]`; an empty column gives the table's own noun
(its unit is then the counter: 명, 건, 개). It comes from DDL comments (MySQL `COMMENT '보유 골드'`, or a
SQLite `-- 보유 골드` after the column), from a CSV the user writes, or from the Data tab's editable table;
later sources win field by field. A column without a Korean word is left out of the questions.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, replace
from pathlib import Path

from studio.data.sample.model import ROLES
from studio.errors import Phrase, Phrases, StudioError

COLUMNS = ("table", "column", "korean", "role", "unit")
ROLE_CHOICES = ("",) + ROLES  # "": inferred from the column's type, keys and values
MAX_TERMS = 5000
MAX_FILE_BYTES = 2_000_000
MAX_WORD = 40  # characters of a Korean word or unit
_HANGUL = re.compile(r"[가-힣]")
_NAME = r"[`\"\[]?([A-Za-z_][A-Za-z0-9_]*)[`\"\]]?"
_MYSQL_COLUMN = re.compile(rf"^\s*{_NAME}\s+.*?\bCOMMENT\s+'((?:[^']|'')*)'", re.IGNORECASE)
_MYSQL_TABLE = re.compile(r"\)[^()]*?\bCOMMENT\s*=?\s*'((?:[^']|'')*)'[^()]*$", re.IGNORECASE)
_LINE_COLUMN = re.compile(rf"^\s*{_NAME}\s+[^-]*?--\s*(.+?)\s*$")
_CREATE = re.compile(rf"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}\s*\([ \t]*(?:--[ \t]*(.+?)[ \t]*$)?",
                     re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Term:
    table: str
    column: str = ""  # "": the table itself
    korean: str = ""
    role: str = ""  # "": inferred
    unit: str = ""  # after numbers ("원", "kg"); for a table, its counter ("명", "건")


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...] = ()

    def term(self, table: str, column: str = "") -> Term | None:
        return next((t for t in self.terms if (t.table, t.column) == (table, column)), None)

    def word(self, table: str, column: str = "") -> str:
        term = self.term(table, column)
        return term.korean if term else ""

    def merged(self, later: Glossary) -> Glossary:
        """This glossary with `later`'s terms over it, field by field (an empty field keeps this one's)."""
        terms = {(t.table, t.column): t for t in self.terms}
        for t in later.terms:
            old = terms.get((t.table, t.column))
            terms[(t.table, t.column)] = t if old is None else replace(
                old, **{f: getattr(t, f) for f in ("korean", "role", "unit") if getattr(t, f)})
        return Glossary(tuple(terms.values()))

    def rows(self) -> list[list[str]]:
        return [[t.table, t.column, t.korean, t.role, t.unit] for t in self.terms]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(self.rows())
        return out.getvalue()

    @property
    def digest(self) -> str:
        """A short content hash, recorded with the data it made (same words, same hash; order ignored)."""
        text = "\n".join(sorted("\t".join(row) for row in self.rows()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def unknown(self, tables: dict[str, tuple[str, ...]]) -> list[str]:
        """Terms that name no table or column of the schema (table → its column names)."""
        return [f"{t.table}.{t.column}" if t.column else t.table for t in self.terms
                if t.table not in tables or (t.column and t.column not in tables[t.table])]


def glossary_from_rows(rows, where: str | None = None) -> Glossary:
    """Terms from table rows (the CSV's or the Data tab's), checked; blank lines are skipped."""
    terms, problems = [], []
    for number, row in enumerate(rows, start=1):
        cells = [_cell(cell) for cell in list(row)[: len(COLUMNS)]]
        cells += [""] * (len(COLUMNS) - len(cells))
        if not any(cells):
            continue
        term = Term(*cells)
        problem = _problem(term)
        if problem:
            problems.append(Phrase("row {row}: {problem}", key="adapt_glossary_row", row=number,
                                   problem=problem))
        else:
            terms.append(term)
    if len(terms) > MAX_TERMS:
        problems.append(Phrase("more than {limit:,} terms", key="adapt_glossary_too_many", limit=MAX_TERMS))
    if len(problems) > 5:
        problems[5:] = [Phrase("and {count} more", key="adapt_glossary_more", count=len(problems) - 5)]
    if problems:
        where = where or Phrase("the glossary", key="adapt_the_glossary")
        raise StudioError("{where} has bad rows: {problems}", key="adapt_bad_glossary", where=where,
                          problems=Phrases(problems))
    return Glossary(()).merged(Glossary(tuple(terms)))  # a repeated (table, column) keeps its last words


def _cell(value) -> str:
    """A table cell as text: None and NaN (an empty cell of an edited table) are empty."""
    return "" if value is None or value != value else str(value).strip()


def read_glossary(path: str | Path) -> Glossary:
    """A glossary file: a CSV with the columns table,column,korean[,role,unit], or DDL with comments."""
    path = Path(path)
    data = _read_bytes(path)
    text = _decode(data, path.name)
    if path.suffix.lower() in (".sql", ".ddl"):
        return glossary_from_ddl(text)
    rows = list(csv.reader(io.StringIO(text)))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if header[:3] != list(COLUMNS[:3]):
        raise StudioError("{file} must start with the header table,column,korean[,role,unit], not {header}",
                          key="adapt_glossary_header", file=path.name, header=",".join(header)[:80] or "nothing")
    return glossary_from_rows(rows[1:], path.name)


def glossary_from_ddl(ddl: str) -> Glossary:
    """The Korean words in a DDL's comments: MySQL `COMMENT '…'` on columns and tables, or a `-- …` after a
    column or after `CREATE TABLE name (`. Comments without Hangul are descriptions, not words: skipped."""
    terms = []
    for match in _CREATE.finditer(ddl):
        table, table_comment = match.group(1), match.group(2)
        body = _statement_body(ddl, match.end())
        terms += [Term(table, "", w) for w in (table_comment, _table_comment(body)) if _korean(w)]
        for line in body.splitlines():
            found = _MYSQL_COLUMN.match(line) or _LINE_COLUMN.match(line)
            if found and found.group(1).upper() not in ("FOREIGN", "PRIMARY", "UNIQUE", "CONSTRAINT", "KEY"):
                word = found.group(2).replace("''", "'").strip()
                if _korean(word):
                    terms.append(Term(table, found.group(1), word))
    return Glossary(()).merged(Glossary(tuple(terms)))


def _statement_body(ddl: str, start: int) -> str:
    """From after `CREATE TABLE name (` to the end of its statement (the first `;` outside quotes, or EOF)."""
    quoted = False
    for i in range(start, len(ddl)):
        if ddl[i] == "'":
            quoted = not quoted
        elif ddl[i] == ";" and not quoted:
            return ddl[start:i]
    return ddl[start:]


def _table_comment(body: str) -> str:
    found = _MYSQL_TABLE.search(body)
    return found.group(1).replace("''", "'") if found else ""


def _korean(word: str | None) -> bool:
    return bool(word) and bool(_HANGUL.search(word)) and len(word) <= MAX_WORD


def _problem(term: Term) -> Phrase | None:
    if not term.table:
        return Phrase("no table", key="adapt_term_no_table")
    if term.role not in ROLE_CHOICES:
        return Phrase("unknown role {role!r} (one of {roles}, or empty)", key="adapt_term_unknown_role",
                      role=term.role, roles=", ".join(ROLES))
    if term.role and not term.column:
        return Phrase("a table has no role (give it to a column)", key="adapt_term_table_role")
    if len(term.korean) > MAX_WORD or len(term.unit) > MAX_WORD:
        return Phrase("a word longer than {limit} characters", key="adapt_term_too_long", limit=MAX_WORD)
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise StudioError("{file} is larger than {limit:,} bytes: a glossary is a short list of words",
                              key="adapt_glossary_too_big", file=path.name, limit=MAX_FILE_BYTES)
        return path.read_bytes()
    except OSError as error:
        raise StudioError("{file} cannot be read: {error}", key="adapt_file_unreadable", file=path.name,
                          error=error.strerror or str(error)) from None


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StudioError("{file} is neither UTF-8 nor CP949 (EUC-KR) text", key="adapt_glossary_encoding", file=name)
