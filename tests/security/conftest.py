"""The shared deployment under attack: the whole app served as `serve --host 0.0.0.0` serves it (password
sign-in, an admin and a guest, the launch options the policy asks for), bound to 127.0.0.1 for the tests,
with recognizable secrets in its environment and a few records to attack."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.security.api import Caller
from tests.security.corpus import (
    ADMIN,
    GUEST,
    HF_TOKEN,
    OPENAI_API_KEY,
    NEVER_STORED,
    PROBE_DIR,
    plant_server_files,
)
from tests.security.snapshots import FileSystemSnapshot, registry_schema, top_level

SEED_RUN = "seed-run"
SHOP_DDL = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price INTEGER);"


def rows_csv(path: Path, db_ids: list[str]) -> Path:
    """A small valid upload: two rows per db_id (so a random split keeps some of each side)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["db_id", "context", "question", "answer"])
        for number, db_id in enumerate(db_ids * 2):
            writer.writerow([db_id, SHOP_DDL, f"{number}번 상품의 가격은?",
                             f"SELECT price FROM items WHERE id = {number};"])
    return path


@dataclass
class Deployment:
    url: str
    home: Path
    outside: Path  # a folder beyond STUDIO_HOME that the corpus aims at
    dataset: str  # a prepared data set version
    run: str  # a run trained here (as far as the registry knows)

    def caller(self, role: str, language: str = "en-US") -> Caller:
        login = {"admin": ADMIN, "guest": GUEST, "anonymous": None}[role]
        return Caller(self.url, login, language)

    @property
    def registry(self) -> Path:
        return self.home / "studio.sqlite"


@pytest.fixture(scope="package")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    from studio import access
    from studio.data import PrepareOptions, prepare_dataset
    from studio.settings import load_settings
    from studio.ui.app import guarded_launch_options, guarded_queue_options
    from tests.app_support import served_app
    from tests.test_leaderboard import Registry

    root = tmp_path_factory.mktemp("shared")
    home, outside = root / "studio-home", tmp_path_factory.mktemp("outside")
    plant_server_files(outside)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"STUDIO_HOME": str(home), "HF_TOKEN": HF_TOKEN, "OPENAI_API_KEY": OPENAI_API_KEY,
                            "STUDIO_AUTH": f"{ADMIN[0]}:{ADMIN[1]},{GUEST[0]}:{GUEST[1]}",
                            "STUDIO_ADMINS": ADMIN[0],
                            # a job queued by mistake fails at once instead of training
                            "STUDIO_AUTOTRAIN_PYTHON": "/bin/false"}.items():
            patch.setenv(name, value)
        for name in ("SPACE_ID", "OAUTH_CLIENT_ID", "STUDIO_RESULTS_REPO", "STUDIO_MAX_UPLOAD_MB"):
            patch.delenv(name, raising=False)
        patch.setattr(access, "_policy", None)
        patch.setattr(access, "_playground", access.RateLimiter())
        policy = access.configure("0.0.0.0")  # what `serve --host 0.0.0.0` decides
        assert policy.shared
        settings = load_settings()
        dataset = prepare_dataset(str(rows_csv(root / "shop.csv", ["shop", "mall", "store"])),
                                  PrepareOptions(eval_fraction=0.4, exec_filter=False)).id
        Registry(settings).run(SEED_RUN, dataset=dataset)
        schema = registry_schema(settings.registry_path)
        with served_app(guarded_queue_options(policy), **guarded_launch_options(policy)) as url:
            yield Deployment(url=url, home=home, outside=outside, dataset=dataset, run=SEED_RUN)
    assert registry_schema(settings.registry_path) == schema, "hostile input changed the registry's schema"
    _assert_no_secret_stored(home)


def _assert_no_secret_stored(home: Path) -> None:
    """No secret in any file the deployment wrote (logs, the registry, caches)."""
    for path in home.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            leaked = [secret for secret in NEVER_STORED if secret.encode() in content]
            assert not leaked, f"{path} holds a secret"


@pytest.fixture
def nothing_escapes(deployment):
    """Nothing appears or changes outside STUDIO_HOME during a test: the corpus's target folder, the issue's
    /tmp/x, the folder around STUDIO_HOME; and no new `pwned` name in the shared folders around."""
    from studio.settings import REPO_ROOT

    shared = [Path("/tmp"), Path.home(), REPO_ROOT, Path.cwd()]
    names = {folder: top_level(folder) for folder in shared}
    files = FileSystemSnapshot([deployment.outside, PROBE_DIR, deployment.home.parent],
                               skip=[deployment.home])
    yield
    files.assert_unchanged()
    for folder in shared:
        appeared = sorted(name for name in top_level(folder) - names[folder] if "pwned" in name)
        assert not appeared, f"{appeared} appeared in {folder}"
