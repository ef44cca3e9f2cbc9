"""Exports appear whole or not at all: a folder is built under a `.partial` name and renamed into place, a
file is written under one and replaced into place; an interrupted or failed export leaves nothing half-made."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def folder_built_whole(target: Path, build: Callable[[Path], object]) -> Path:
    """`target` made by `build(staging)`, replacing what was there only once the build succeeded."""
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        build(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def file_written_whole(path: Path, write: Callable[[Path], object]) -> Path:
    """`path` written by `write(partial)` and then moved into place."""
    partial = path.with_name(path.name + ".partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
