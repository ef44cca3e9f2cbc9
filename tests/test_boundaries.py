"""The architecture's import boundaries (ARCHITECTURE.md), checked on the source."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The one composition root outside studio/ui/ that may start the UI: the `serve` subcommand.
UI_ENTRY_POINTS = {ROOT / "studio" / "cli" / "serve.py"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_evaluation_imports_nothing_from_studio():
    for path in (ROOT / "evaluation").rglob("*.py"):
        bad = {m for m in imported_modules(path) if m == "studio" or m.startswith("studio.")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_the_ui_imports_gradio_and_the_ui():
    for path in (ROOT / "studio").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "studio").parts or path in UI_ENTRY_POINTS:
            continue
        bad = {m for m in imported_modules(path) if m.split(".")[0] == "gradio" or m.startswith("studio.ui")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_tools_run_by_path_import_nothing_from_studio():
    for path in (ROOT / "studio" / "tools").glob("*.py"):
        assert not {m for m in imported_modules(path) if m.startswith("studio")}, path


def test_the_hub_layer_knows_no_training_runs():
    """studio/hub pushes what it is given (a PushSource); studio.training.publish turns a run into one."""
    for path in (ROOT / "studio" / "hub").rglob("*.py"):
        bad = {m for m in imported_modules(path) if m.startswith("studio.training")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def registry_connections(path: Path) -> list[str]:
    """Where a module opens the registry other than through `registry.session`: `registry.connect`, or a
    plain `sqlite3.connect` on a `registry_path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        text = ast.unparse(node) if isinstance(node, (ast.Attribute, ast.Call)) else ""
        if isinstance(node, ast.ImportFrom) and node.module == "studio.registry":
            found += [f"from studio.registry import {a.name}" for a in node.names if a.name == "connect"]
        elif text == "registry.connect" or (text.startswith("sqlite3.connect(") and "registry_path" in text):
            found.append(f"line {node.lineno}: {text}")
    return found


def test_the_registry_is_opened_only_through_its_session():
    """registry.session connects, transacts and always closes: no module keeps its own try/finally."""
    for path in (ROOT / "studio").rglob("*.py"):
        found = [] if path == ROOT / "studio" / "registry.py" else registry_connections(path)
        assert not found, f"{path.relative_to(ROOT)}: {found}"
