"""Names are never paths (issue 18): one rule for every name that becomes a file or folder name, a checked
join for every path built from input, the same clear error in the CLI and the UI, and a scan that keeps new
path-building code from skipping them."""

from __future__ import annotations

import ast
import json
import sqlite3
import unicodedata
from pathlib import Path

import pytest

from evaluation.cli import main as evaluation_main
from evaluation.paths import (
    NAME_MAX, PathEscape, UnsafeName, checked_name, join_inside, name_problem, shown_name,
)
from studio.cli import main
from studio.errors import StudioError
from studio.names import check_name, named_path
from studio.names import join_inside as studio_join_inside
from studio.ui.i18n import error_text

REPO = Path(__file__).resolve().parent.parent
TRAVERSAL = [  # the path-traversal corpus: every one must be refused as a name
    "", "/tmp/x/pwned", "..", ".", "../x", "a/../../b", "a/b", "a\\b", "..\\x", "a\x00b", "\x00",
    "line\nbreak", "tab\t", "x" * (NAME_MAX + 1), "x" * 100_000, ".hidden", "-rf", "a\uff0fb",
    "a\u2215b", "a\u2044b", "\uff0e\uff0e", "a\u202eb", "a b", "C:", "~", "$HOME", "*", "\uff21", "x\u00b2",
    "\u1100\u1161",
]
ACCEPTED = ["1", "8", "default", "concert_singer", "world_1", "1-10015132-16", "ds-0123456789ab",
            "text2sql-lora-12", "car.db", "게임", "ゲーム", "x" * NAME_MAX]


@pytest.mark.parametrize("name", ACCEPTED)
def test_real_names_are_accepted(name):
    assert name_problem(name) is None
    assert check_name(name, "db_id") == name


@pytest.mark.parametrize("name", TRAVERSAL, ids=ascii)
def test_the_traversal_corpus_is_refused_with_a_keyed_message(name):
    assert name_problem(name) is not None
    with pytest.raises(UnsafeName):
        checked_name(name, ".sqlite")
    with pytest.raises(StudioError) as caught:
        check_name(name, "db_id", ".sqlite")
    message = str(caught.value)
    assert message.startswith("db_id ") and "cannot be a file or folder name: it " in message
    assert len(message) < 300 and message.isprintable()  # a 100k-character name is not echoed whole
    korean = error_text(caught.value, None)
    assert "파일이나 폴더 이름이 될 수 없습니다" in korean and "{" not in korean


def test_the_message_says_which_character_and_why():
    def reason(name):
        with pytest.raises(StudioError) as caught:
            check_name(name, "db_id")
        return str(caught.value).split(": ", 1)[1]

    assert reason("/tmp/x") == "it contains '/' (U+002F): use letters, digits, '-', '_' and '.'"
    assert reason("a\uff0fb") == "it contains '／' (U+FF0F): use letters, digits, '-', '_' and '.'"
    assert reason("a\x00b") == "it contains U+0000: use letters, digits, '-', '_' and '.'"
    assert reason("..") == "it starts with '.' (U+002E)"
    assert reason("\uff21") == "it contains 'Ａ' (U+FF21), a look-alike of 'A'"
    assert reason("x" * 81) == f"it is longer than {NAME_MAX} characters"
    assert reason("") == "it is empty"
    assert unicodedata.normalize("NFKC", "\u1100\u1161") != "\u1100\u1161"  # decomposed Hangul: refused


def test_join_inside_refuses_what_leaves_its_root(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "out").symlink_to(tmp_path)
    assert join_inside(root, "sub", "a.sqlite") == root / "sub" / "a.sqlite"
    assert join_inside(root, "sub/../a") == root / "sub/../a"  # stays inside: fine
    for parts in (("..", "x"), ("/etc/passwd",), ("sub", "../../x"), ("out", "x"), ("a\x00b",)):
        with pytest.raises(PathEscape):
            join_inside(root, *parts)
    with pytest.raises(StudioError, match=r"leads outside"):
        studio_join_inside(root, "../x")
    with pytest.raises(StudioError, match=r"data set version '\.\./x' cannot be"):
        named_path(root, "../x", "version")


def _hostile_csv(path: Path, db_id: str, rows: int = 6) -> Path:
    lines = ["db_id,context,question,answer"]
    lines += [f'"{db_id}",CREATE TABLE t{i} (x INT);,question {i}?,SELECT x FROM t{i};' for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _registry_tables(home: Path) -> set[str]:
    if not (home / "registry.sqlite").exists():
        return set()
    with sqlite3.connect(home / "registry.sqlite") as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.parametrize("where", ["outside", "home"])
def test_reproduction_2_a_db_id_path_is_refused_before_anything_is_written(studio_home, tmp_path, capsys,
                                                                           where):
    """The issue's reproduction: a CSV whose db_id is /tmp/x/pwned (or <STUDIO_HOME>/studio) on six rows,
    prepared with a random split and no execution filter, created /tmp/x/pwned.sqlite and added a table to
    the registry."""
    target = tmp_path / "x" / "pwned" if where == "outside" else studio_home / "studio"
    target.parent.mkdir(parents=True, exist_ok=True)
    before = _registry_tables(studio_home)
    source = _hostile_csv(tmp_path / "up.csv", str(target))
    code = main(["data", "prepare", "--source", str(source), "--random-split", "0.3", "--no-exec-filter"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: row 1: db_id {shown_name(target)} cannot be a file or folder name: it "
                          "contains '/' (U+002F): use letters, digits, '-', '_' and '.'")
    assert len(err.splitlines()) == 1
    assert not target.with_name(target.name + ".sqlite").exists()
    assert not any((studio_home / "datasets").glob("*")) if (studio_home / "datasets").exists() else True
    assert _registry_tables(studio_home) == before
    assert main(["data", "check", str(source)]) == 2  # check says the same
    assert capsys.readouterr().err == err


def test_a_bad_db_id_further_down_names_its_row(tmp_path, capsys):
    source = tmp_path / "up.jsonl"
    rows = [{"db_id": "ok", "context": "CREATE TABLE t (x INT);", "question": f"q{i}", "answer": "SELECT 1"}
            for i in range(4)]
    rows.append({**rows[0], "db_id": "..", "question": "q9"})
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["data", "check", str(source)]) == 2
    assert capsys.readouterr().err == ("error: row 5: db_id '..' cannot be a file or folder name: it starts "
                                       "with '.' (U+002E)\n")


def test_the_scoring_cli_refuses_a_db_id_that_leaves_the_database_folder(tmp_path, capsys):
    db_dir = tmp_path / "dbs"
    db_dir.mkdir()
    secret = tmp_path / "secret.sqlite"
    sqlite3.connect(secret).close()
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"id": 7, "db_id": "../secret", "question": "q", "gold_sql": "SELECT 1",
                                 "pred_sql": "SELECT 1"}) + "\n", encoding="utf-8")
    code = evaluation_main(["score", "--input", str(pairs), "--db-dir", str(db_dir),
                            "--output", str(tmp_path / "out.jsonl")])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: pair 7: db_id '../secret' cannot be a file name: it "
                                              "contains '/'")
    assert not (tmp_path / "out.jsonl").exists()


# --- the scan: no path is built from a non-literal without the helpers ---------------------------------

SCANNED = ("studio", "evaluation")
# A join is safe as written when what it adds is a literal, a module constant, or the result of a helper.
SAFE_CALLS = {"check_name", "checked_name", "named_path", "join_inside"}
# A `/` is a path join when its chain holds a string piece or starts from something path-like (numbers
# divide too: `cut / rows` is not a join).
PATHLIKE = ("path", "dir", "folder", "home", "root", "staging", "target", "file", "output")

# Joins of non-literal parts that are fine, each with the reason. Keyed by file and the join's source text;
# an entry the code no longer has fails the test too, so this list stays exact.
ALLOWED = {
    ("studio/data/prepare.py", "staging / name"): "the fixed names of the `files` dict above",
    ("studio/data/versions.py", "settings.home / r['path']"):
        "registry rows: written by save_version (checked) or the results import (join_inside)",
    ("studio/data/sample/__init__.py", "home / 'sample' / generator_key()"): "a hash of the generator",
    ("studio/data/sample/__init__.py", "self.path / 'databases' / f\"{d['db_id']}.sqlite\""):
        "the bundled sample's own domains (1..8)",
    ("studio/data/sample/__init__.py", "folder / 'databases' / f'{g.domain.db_id}.sqlite'"):
        "the bundled sample's own domains (1..8)",
    ("studio/data/sample/__init__.py", "folder / 'schema' / f'{g.domain.db_id}.sql'"):
        "the bundled sample's own domains (1..8)",
    ("evaluation/paths.py", "root.joinpath(*parts)"): "join_inside itself: the result is checked next",
    ("studio/hub/push.py", "folder / name"): "the fixed ADAPTER_FILES / TOKENIZER_FILES names",
    ("studio/export/merged.py", "folder / name"): "the fixed TOKENIZER_FILES names",
    ("studio/hub/results.py", "settings.home / dataset['path']"):
        "the registry's own rows, read to push them (nothing is written there)",
    ("studio/hub/results.py", "target / file.relative_to(files)"):
        "files found under the checked `files` folder, copied under the checked `target`",
    ("studio/hub/space.py", "root / entry"): "the fixed list of files a Space deployment copies",
    ("studio/hub/space.py", "root / source"): "the fixed list of files a Space deployment copies",
    ("studio/leaderboard.py", "jobs_dir(settings) / job['name']"): "a job name from the registry (checked)",
    ("studio/tools/convert_gguf.py", "Path(list(spec.submodule_search_locations)[0]) / filename"):
        "a file of an installed package, named by the built-in model table",
    ("studio/training/jobs.py", "self.folder / self.name"): "a job's name, checked by insert_job",
    ("studio/training/jobs.py", "jobs_dir(settings) / row['name']"): "a job name from the registry (checked)",
    ("studio/training/presets.py", "PRESETS_DIR / str(ref)"):
        "a config file the CLI names (any readable path is allowed there, as `--config FILE`)",
    ("studio/training/presets.py", "PRESETS_DIR / f'{ref}.yml'"):
        "a config file the CLI names (any readable path is allowed there, as `--config FILE`)",
    ("studio/training/presets.py", "path.parent / spec['preset']"):
        "a sweep file's base preset, read beside it (reading only, CLI or admin)",
    ("studio/training/spaces_backend.py", "staging / name"): "the fixed ADAPTER_FILES names",
    ("studio/training/worker.py", "output_dir / name"): "the fixed MERGED_FILES names",
    ("studio/training/runs.py", "folder / ('config.json' if merged else 'adapter_config.json')"):
        "fixed names",
    ("studio/ui/leaderboard_tab.py",
     "load_settings().home / 'cache' / 'exports' / f\"leaderboard-{time.strftime('%Y%m%d-%H%M%S')}.csv\""):
        "a time stamp",
    ("studio/ui/train.py", "load_settings().home / 'cache' / 'yaml' / f'{config.project_name}.yml'"):
        "project_name is checked by TrainingConfig (letters, digits, hyphens, at most 50)",
}


def _is_string_piece(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _is_safe_part(node: ast.expr) -> bool:
    if all(isinstance(n, ast.Constant | ast.operator | ast.BinOp) for n in ast.walk(node)):
        return True  # a literal (a number: `size / 2 ** 30` divides)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) for v in node.values)
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        return name.isupper()
    if isinstance(node, ast.Call):
        func = node.func
        return (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) in SAFE_CALLS
    return False


def _chain(node: ast.expr) -> list[ast.expr]:
    """The operands of a / b / c, left to right."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return [*_chain(node.left), node.right]
    return [node]


def _unchecked_joins(source: str) -> list[str]:
    """The source text of every path join in `source` that adds a non-literal part without the helpers:
    `a / b` (b not a literal, a constant or a helper's result) where the chain looks like a path, and
    joinpath / os.path.join calls with such parts."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts = _chain(node)
            pathlike = any(_is_string_piece(p) for p in parts) or any(
                word in ast.unparse(parts[0]).lower() for word in PATHLIKE)
            if pathlike and not _is_safe_part(node.right):
                found.append(ast.unparse(node))
        elif isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath")
            or ast.unparse(node.func) == "os.path.join"
        ):
            if not all(_is_safe_part(arg) for arg in node.args[1 if ast.unparse(node.func) == "os.path.join"
                                                              else 0:]):
                found.append(ast.unparse(node))
    return found


def _scan() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*.py")):
            for text in _unchecked_joins(path.read_text(encoding="utf-8")):
                key = (path.relative_to(REPO).as_posix(), text)
                found[key] = found.get(key, 0) + 1
    return found


def test_no_path_is_built_from_input_without_the_checks():
    """A new `root / name` (or f"{name}.x", joinpath, os.path.join) must use studio.names / evaluation.paths
    (named_path, check_name, join_inside, checked_name) or be listed in ALLOWED with why it is safe."""
    found = _scan()
    unlisted = sorted(key for key in found if key not in ALLOWED)
    assert unlisted == [], "path joins of unchecked input (use studio.names, or list them with a reason)"
    stale = sorted(key for key in ALLOWED if key not in found)
    assert stale == [], "ALLOWED entries the code no longer has: remove them"


def test_the_scan_sees_an_unchecked_join():
    """Guards the guard: the issue's own bug, and its variants, are found; the helpers' forms are not."""
    bad = [
        'out = staging / "databases" / f"{db_id}.sqlite"',
        "folder = settings.home / DATASETS_DIR / version_id",
        "path = root / name",
        'path = Path(db_dir) / f"{db_id}.sqlite"',
        "path = base.joinpath(name)",
        "path = os.path.join(folder, name)",
    ]
    good = [
        'out = join_inside(staging / "databases", db_files[db_id])',
        'out = named_path(staging / "databases", db_id, "db_id", ".sqlite")',
        'single = root / checked_name(str(db_id), ".sqlite")',
        'path = folder / "databases" / MANIFEST',
        "share = cut / rows",
    ]
    assert [len(_unchecked_joins(line)) for line in bad] == [1] * len(bad)
    assert [len(_unchecked_joins(line)) for line in good] == [0] * len(good)

