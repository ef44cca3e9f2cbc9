"""Before/after pictures of what hostile input must not change: folders outside STUDIO_HOME, the registry."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def _entries(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple]:
    """Every file and folder under `root` (not following links) as relative path -> (kind, size, mtime)."""
    if not root.exists() and not root.is_symlink():
        return {}
    found = {".": ("dir" if root.is_dir() else "file", 0, 0)}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if (here / d) not in skip]
        for name in dirs + files:
            path = here / name
            info = path.lstat()
            kind = "dir" if path.is_dir() else "file"
            found[str(path.relative_to(root))] = (kind, 0 if kind == "dir" else info.st_size,
                                                  0 if kind == "dir" else info.st_mtime_ns)
    return found


class FileSystemSnapshot:
    """The contents of some folders (recursively, minus `skip`), to show later that nothing appeared,
    changed or went; a folder that does not exist must not appear."""

    def __init__(self, roots, skip=()):
        self.roots = [Path(r) for r in roots]
        self.skip = tuple(Path(s) for s in skip)
        self.before = {root: _entries(root, self.skip) for root in self.roots}

    def changes(self) -> dict[str, list[str]]:
        found = {}
        for root in self.roots:
            before, after = self.before[root], _entries(root, self.skip)
            changed = sorted(name for name in before.keys() | after.keys()
                             if before.get(name) != after.get(name))
            if changed:
                found[str(root)] = changed[:20]
        return found

    def assert_unchanged(self) -> None:
        assert self.changes() == {}, "files appeared or changed outside STUDIO_HOME"


def top_level(folder: Path) -> set[str]:
    """The names directly in `folder` (for shared folders like the repo root, where only new names count)."""
    return {entry.name for entry in folder.iterdir()} if folder.is_dir() else set()


def registry_schema(path: Path) -> list[tuple]:
    """The registry's tables, indexes and triggers as sqlite_master holds them."""
    if not path.exists():
        return []
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        rows = rows.fetchall()
    db.close()
    return rows


def registry_dump(path: Path) -> list[str]:
    """Schema and every row, to show that a refused call changed nothing."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        lines = list(db.iterdump())
    db.close()
    return lines
