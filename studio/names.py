"""Names are never paths: the checks every identifier goes through before it becomes a file or folder name.

The rule itself is evaluation.paths' (the scoring library needs it without the studio): a name is one plain
component, letters, digits, `-`, `_`, `.`, at most NAME_MAX characters, not starting with `.` or `-`. Here
it raises StudioError, keyed, so the CLI and the UI say the same sentence (the UI in the reader's language).

- `check_name(name, what)`: the name, or a StudioError saying which name and why.
- `join_inside(root, *parts)`: the joined path, or a StudioError when it leaves `root` (symlinks resolved).
- `named_path(root, name, what, suffix)`: both at once, the usual case (`<root>/<name><suffix>`).

`root / check_name(...)` alone already stays inside `root` (one component, never `..`); the resolved check
adds that no link leads out. Where an operator may link folders in on purpose (a model folder under
STUDIO_HOME/models pointing at a shared copy), the name check alone is used.

tests/test_names.py scans studio/ and evaluation/ for path joins that skip these.
"""

from __future__ import annotations

from pathlib import Path

from evaluation import paths
from evaluation.paths import NAME_MAX, NameProblem, describe_char, shown_name
from studio.errors import StudioError

__all__ = ["NAME_MAX", "check_name", "join_inside", "named_path", "name_error"]


def _what(what: str) -> StudioError:
    """What kind of name it is, as a piece of the message (translated with it)."""
    pieces = {
        "db_id": StudioError("db_id", key="name_what_db_id"),
        "version": StudioError("data set version", key="name_what_version"),
        "job": StudioError("job name", key="name_what_job"),
        "run": StudioError("run name", key="name_what_run"),
        "model": StudioError("model name", key="name_what_model"),
    }
    return pieces[what]


def _reason(problem: NameProblem) -> StudioError:
    char = describe_char(problem.char) if problem.char else ""
    if problem.kind == "empty":
        return StudioError("it is empty", key="name_reason_empty")
    if problem.kind == "too_long":
        return StudioError("it is longer than {limit} characters", key="name_reason_too_long", limit=NAME_MAX)
    if problem.kind == "leading":
        return StudioError("it starts with {char}", key="name_reason_leading", char=char)
    if problem.kind == "lookalike":
        return StudioError("it contains {char}, a look-alike of {plain!r}", key="name_reason_lookalike",
                           char=char, plain=problem.plain)
    return StudioError("it contains {char}: use letters, digits, '-', '_' and '.'",
                       key="name_reason_character", char=char)


def name_error(name: object, what: str, problem: NameProblem) -> StudioError:
    """The error for a name that cannot be a file name (also for callers that add where it came from)."""
    return StudioError("{what} {name} cannot be a file or folder name: {reason}", key="name_invalid",
                       what=_what(what), name=shown_name(name), reason=_reason(problem))


def check_name(name: object, what: str, suffix: str = "") -> str:
    """`name` + `suffix` when `name` may be a file or folder name; else a StudioError. `what` is one of
    db_id, version, job, run, model."""
    problem = paths.name_problem(name)
    if problem is not None:
        raise name_error(name, what, problem)
    return f"{name}{suffix}"


def join_inside(root: Path, *parts: str | Path) -> Path:
    """`root / part / ...`, checked: a StudioError when the result (symlinks resolved) leaves `root`."""
    try:
        return paths.join_inside(root, *parts)
    except paths.PathEscape:
        raise StudioError("{path} leads outside {root}", key="name_path_outside",
                          path=shown_name("/".join(map(str, parts))), root=root) from None


def named_path(root: Path, name: object, what: str, suffix: str = "") -> Path:
    """`root/<name><suffix>`, the name checked and the result inside `root`."""
    return join_inside(root, check_name(name, what, suffix))
