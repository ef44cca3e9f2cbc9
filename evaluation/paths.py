"""Names from data are never paths: a db_id (or a run, version or job name) is one plain file-name component.

`name_problem` is the one rule (studio.names applies it to every name it turns into a file or folder):
letters and digits (Unicode ones too, so a Korean db_id works), `-`, `_` and `.`; not empty, at most
NAME_MAX characters, not starting with `.` (no `..`, no hidden files) or `-` (no option look-alikes). So no
`/`, `\\`, NUL, control characters, and no look-alike of a separator (U+FF0F fullwidth solidus, U+2215
division slash are not letters). A name must also be NFKC-stable: a fullwidth or otherwise "compatibility"
letter that some tool would fold into a plain one is refused instead of silently standing for another name.

`join_inside` is the second guard, for every join of a path from input: the result, symlinks resolved, must
stay inside its root.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

NAME_MAX = 80  # characters; 80 Hangul syllables are 240 UTF-8 bytes, under the usual 255-byte file name limit
PUNCTUATION = "-_."
LEADING = ".-"


@dataclass(frozen=True)
class NameProblem:
    """Why a name cannot be a file name: `kind` is one of empty, too_long, character, leading, lookalike."""

    kind: str
    char: str = ""  # the offending character (character, leading, lookalike)
    plain: str = ""  # what a look-alike stands for

    def __str__(self) -> str:
        if self.kind == "empty":
            return "it is empty"
        if self.kind == "too_long":
            return f"it is longer than {NAME_MAX} characters"
        if self.kind == "leading":
            return f"it starts with {describe_char(self.char)}"
        if self.kind == "lookalike":
            return f"it contains {describe_char(self.char)}, a look-alike of {self.plain!r}"
        return f"it contains {describe_char(self.char)}: use letters, digits, '-', '_' and '.'"


class UnsafeName(ValueError):
    """A name that cannot be a file name."""

    def __init__(self, name: object, problem: NameProblem):
        super().__init__(f"{shown_name(name)} cannot be a file name: {problem}")
        self.name, self.problem = name, problem


class PathEscape(ValueError):
    """A joined path that would leave its root."""

    def __init__(self, root: Path, parts: tuple):
        super().__init__(f"{shown_name('/'.join(map(str, parts)))} leads outside {root}")
        self.root, self.parts = root, parts


def name_problem(name: object) -> NameProblem | None:
    """None when `name` may be a file or folder name, else why not."""
    if not isinstance(name, str) or not name:
        return NameProblem("empty")
    # The character first: a path given as a name is told it holds a '/', however long it is.
    bad = next((ch for ch in name if not (ch.isalnum() or ch in PUNCTUATION)), None)
    if bad is not None:
        return NameProblem("character", bad)
    if len(name) > NAME_MAX:
        return NameProblem("too_long")
    if name[0] in LEADING:
        return NameProblem("leading", name[0])
    for ch in name:
        plain = unicodedata.normalize("NFKC", ch)
        if plain != ch:
            return NameProblem("lookalike", ch, plain)
    if unicodedata.normalize("NFKC", name) != name:  # decomposed Hangul, combining sequences
        return NameProblem("lookalike", name, unicodedata.normalize("NFKC", name))
    return None


def checked_name(name: object, suffix: str = "") -> str:
    """`name` + `suffix` (a fixed extension such as ".sqlite"); UnsafeName if `name` cannot be a file name."""
    problem = name_problem(name)
    if problem is not None:
        raise UnsafeName(name, problem)
    return f"{name}{suffix}"


def join_inside(root: str | Path, *parts: str | Path) -> Path:
    """`root / part / ...`, or PathEscape when the result (symlinks resolved) is not inside `root`."""
    root = Path(root)
    path = root.joinpath(*parts)
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, ValueError):  # a NUL byte, a symlink loop
        inside = False
    if not inside:
        raise PathEscape(root, parts)
    return path


def describe_char(ch: str) -> str:
    """A character as a person can read it in a message: 'x' (U+0078), or only its code point when it
    does not print (NUL, control characters, bidi overrides)."""
    codes = " ".join(f"U+{ord(c):04X}" for c in ch[:8])
    return f"{ch[:8]!r} ({codes})" if ch[:8].isprintable() else codes


def shown_name(name: object, limit: int = 100) -> str:
    """A name quoted for a message: at most `limit` characters, escapes for what does not print."""
    text = str(name)
    return repr(text[:limit]) + (f" (and {len(text) - limit} more characters)" if len(text) > limit else "")
