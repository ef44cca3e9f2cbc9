"""SQL statements in model completions: extraction of the first statement.

A completion may be a bare statement, a fenced Markdown block, a statement followed by an explanation,
several statements, a new prompt section (`### Question:` when the model keeps going), or nothing at all.
`extract_sql` returns the first statement without its terminating semicolon, or "" when there is none.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[ \t]*(?:sql|sqlite|mysql)?[ \t]*\n?(.*?)(?:```|\Z)", re.IGNORECASE | re.DOTALL)
_SECTION = re.compile(r"^\s*###", re.MULTILINE)
_STATEMENT_START = re.compile(
    r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|REPLACE|PRAGMA|EXPLAIN|VALUES)\b",
    re.IGNORECASE | re.MULTILINE,
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def extract_sql(completion: str | None) -> str:
    """Return the first SQL statement of a model completion, or "" when it holds none."""
    text = (completion or "").replace("\r\n", "\n")
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    section = _SECTION.search(text)
    if section:
        text = text[: section.start()]
    start = _STATEMENT_START.search(text)
    if start:
        text = text[start.start() :]
    statement = _first_statement(text)
    return statement.strip()


def _first_statement(text: str) -> str:
    """Cut at the first `;` outside quotes and comments; without one, at the first blank line."""
    end = statement_end(text)
    if end is not None:
        return text[:end]
    blank = _BLANK_LINE.search(text)
    return text[: blank.start()] if blank else text


def statement_end(text: str) -> int | None:
    """Index of the first `;` outside quotes and `--` comments, or None (used to stop generation too)."""
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            if newline < 0:
                return None
            i = newline
        elif ch == ";":
            return i
        i += 1
    return None


# --- splitting, parsing and normalisation (sqlglot) ---------------------------------------------------

_LEADING_NOISE = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/|\()*", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_]+")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class SqlParseError(ValueError):
    """sqlglot could not parse a statement; the message says where."""


def split_statements(text: str) -> list[str]:
    """Split a script at `;` outside quotes and comments; empty statements are dropped."""
    statements = []
    rest = text or ""
    while rest.strip():
        end = statement_end(rest)
        if end is None:
            statements.append(rest.strip())
            break
        statements.append(rest[:end].strip())
        rest = rest[end + 1 :]
    return [s for s in statements if s]


def leading_keyword(sql: str) -> str:
    """The first keyword of a statement (upper case), skipping comments and opening parentheses."""
    rest = sql[_LEADING_NOISE.match(sql).end() :]
    word = _WORD.match(rest)
    return word.group(0).upper() if word else ""


def parse(sql: str, dialect: str = "sqlite"):
    """Parse one statement into a sqlglot expression; raise SqlParseError with a one-line message."""
    import sqlglot  # deferred: extract_sql is imported by the app at start-up and needs no parser

    try:
        expression = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError as error:
        raise SqlParseError(_describe_parse_error(error)) from None
    except sqlglot.errors.SqlglotError as error:  # tokenizer errors: unterminated strings and the like
        raise SqlParseError(_ANSI.sub("", str(error)).splitlines()[0]) from None
    return expression


def parse_error(sql: str, dialect: str = "sqlite") -> str | None:
    """None when the statement parses, otherwise a one-line description of the first error."""
    try:
        parse(sql, dialect)
    except SqlParseError as error:
        return str(error)
    return None


def normalize_sql(sql: str, dialect: str = "sqlite") -> str:
    """Canonical text of a statement: keyword case, identifier case, quoting and spacing normalised.

    Equal results mean the same statement; different results say nothing (aliases, join order...).
    """
    from sqlglot.errors import ErrorLevel

    return parse(sql, dialect).sql(dialect, normalize=True, unsupported_level=ErrorLevel.IGNORE)


def transpile(sql: str, read: str, write: str = "sqlite") -> str:
    """Rewrite a statement from one dialect into another (e.g. MySQL → SQLite)."""
    if read == write:
        return sql
    from sqlglot.errors import ErrorLevel

    return parse(sql, read).sql(write, unsupported_level=ErrorLevel.IGNORE)


_ORDER_WORD = re.compile(r"\border\b", re.IGNORECASE)


def has_top_level_order_by(sql: str) -> bool:
    """True when the statement itself orders its rows (not a subquery, a CTE or a window)."""
    if not _ORDER_WORD.search(sql):
        return False  # most statements: no need to tokenize (a third of execution scoring's own time)
    import sqlglot
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.tokenize(sql, read="sqlite")
    except sqlglot.errors.SqlglotError:
        return False
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif token.token_type == TokenType.ORDER_BY and depth == 0:
            return True
    return False


def _describe_parse_error(error) -> str:
    details = getattr(error, "errors", None) or []
    if not details:
        return _ANSI.sub("", str(error)).splitlines()[0]
    first = details[0]
    near = (first.get("highlight") or "").strip()
    where = f" near {near!r}" if near else ""
    return f"{first['description']}{where} (line {first['line']}, col {first['col']})"
