"""Crash leftovers (issue 18): a prepare killed at the folder rename leaves a `.staging-*` folder, one killed
after it a version folder without a registry row. The next process that looks at the versions removes the
first and registers the second when it is whole (else removes it), and never touches a live prepare's."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from studio.data import versions
from studio.data.prepare import PrepareOptions, prepare_dataset
from studio.data.versions import list_versions, recover_leftovers, writing_versions
from studio.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
ROWS = "db_id,context,question,answer\n" + "".join(
    f"d{i % 3},CREATE TABLE t (x INT);,question {i}?,SELECT x FROM t WHERE x = {i};\n" for i in range(12))
OPTIONS = dict(eval_fraction=0.3, exec_filter=False)


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def new_process(monkeypatch):
    """Each test starts as a fresh process would: no home recovered yet."""
    monkeypatch.setattr(versions, "_RECOVERED", set())


def _killed_prepare(source: Path, where: str) -> subprocess.CompletedProcess:
    """`python -m studio data prepare` in a process that dies (os._exit, no clean-up) at `where`."""
    script = textwrap.dedent(f"""
        import os, sys
        from studio.data import prepare
        from studio.cli import main
        die = lambda *args, **kwargs: os._exit(9)
        if {where!r} == "rename":
            prepare.os.replace = die
        else:
            prepare.save_version = die
        sys.exit(main(["data", "prepare", "--source", {str(source)!r}, "--random-split", "0.3",
                       "--no-exec-filter"]))
    """)
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def _registered(home: Path) -> list[str]:
    with closing(sqlite3.connect(load_settings().registry_path)) as db:
        return [row[0] for row in db.execute("SELECT id FROM datasets")]


def _data_list() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", "data", "list"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_a_prepare_killed_at_the_rename_leaves_staging_that_the_next_start_removes(studio_home, source):
    killed = _killed_prepare(source, "rename")
    assert killed.returncode == 9, killed.stderr
    datasets = studio_home / "datasets"
    assert [p.name.startswith(".staging-") for p in datasets.iterdir() if p.is_dir()] == [True]
    listed = _data_list()
    assert listed.returncode == 0, listed.stderr
    assert [p.name for p in datasets.iterdir() if p.is_dir()] == []
    assert _registered(studio_home) == []


def test_a_prepare_killed_before_its_row_is_registered_at_the_next_start(studio_home, source):
    killed = _killed_prepare(source, "registry")
    assert killed.returncode == 9, killed.stderr
    folders = [p for p in (studio_home / "datasets").iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.startswith("ds-")
    assert _registered(studio_home) == []
    listed = _data_list()
    assert listed.returncode == 0, listed.stderr
    assert folders[0].name in listed.stdout
    assert _registered(studio_home) == [folders[0].name]
    # The same prepare, run again, finds it: the same version, not a second one.
    again = prepare_dataset(source, PrepareOptions(**OPTIONS))
    assert again.id == folders[0].name and again.train_frame().shape[0] == again.train_rows


def test_an_incomplete_version_folder_without_a_row_is_removed_the_registered_one_kept(studio_home, source):
    kept = prepare_dataset(source, PrepareOptions(**OPTIONS))
    orphan = prepare_dataset(source, PrepareOptions(**OPTIONS, seed=7))
    with closing(sqlite3.connect(load_settings().registry_path)) as db, db:
        db.execute("DELETE FROM datasets WHERE id = ?", (orphan.id,))
    lines = orphan.eval_file.read_text(encoding="utf-8").splitlines(keepends=True)
    orphan.eval_file.write_text("".join(lines[:-1]), encoding="utf-8")  # a row short: not what it counts
    stray = studio_home / "datasets" / "notes"  # not a version's name: the user's, left alone
    stray.mkdir()
    versions._RECOVERED.clear()
    assert [v.id for v in list_versions()] == [kept.id]
    assert not orphan.path.exists() and kept.path.exists() and stray.exists()
    assert _registered(studio_home) == [kept.id]


def test_recovery_leaves_a_live_prepare_alone_and_tries_again_later(studio_home, source):
    settings = load_settings()
    prepare_dataset(source, PrepareOptions(**OPTIONS))
    staging = studio_home / "datasets" / ".staging-live"
    versions._RECOVERED.clear()  # as in a new process
    with writing_versions(settings):  # a prepare in progress (in this or another process)
        staging.mkdir()
        assert recover_leftovers(settings).skipped
        assert len(list_versions()) == 1 and staging.exists()
        assert settings.home not in versions._RECOVERED  # not done: the next look tries again
        shutil.rmtree(staging)
    staging.mkdir()  # now a leftover: its prepare is gone
    assert list_versions() and not staging.exists()
    assert settings.home in versions._RECOVERED


def test_a_version_record_names_its_own_folder(studio_home, source):
    """A folder whose version.json names another id is not that version: it is removed, never registered
    under the wrong name."""
    version = prepare_dataset(source, PrepareOptions(**OPTIONS))
    with closing(sqlite3.connect(load_settings().registry_path)) as db, db:
        db.execute("DELETE FROM datasets")
    renamed = version.path.with_name("ds-000000000000")
    version.path.rename(renamed)
    report = recover_leftovers(load_settings())
    assert (report.removed, report.registered) == (["ds-000000000000"], [])
    assert _registered(studio_home) == [] and not renamed.exists()
