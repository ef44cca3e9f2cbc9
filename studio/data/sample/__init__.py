"""The bundled Korean Text2SQL sample: 8 hand-written domains and 120 synthesized ones (small random
schemas over a broad vocabulary, `synth/`), each with a real SQLite database, generated on first use.

Generation is deterministic and takes a few seconds, so nothing large is committed: the sample is built
into `STUDIO_HOME/sample/<key>/`, where the key is a hash of this package's source code, and reused until
the generator changes. Two builds of the same code produce the same content hash on any machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from studio.data.sample.domains import DOMAINS
from studio.data.sample.generate import SEED, Progress, content_hash, generate
from studio.data.sample.synth import SYNTHESIZED
from studio.data.sample.templates import TEMPLATES
from studio.data.validation import Note
from studio.settings import load_settings

__all__ = [
    "DOMAINS",
    "EVAL_DB_ID",
    "SCHEMA_CHOICES",
    "SYNTHESIZED",
    "SYNTHESIZED_DB_IDS",
    "TEMPLATES",
    "SampleInfo",
    "ensure_sample",
    "export_sample",
    "generator_key",
]

EVAL_DB_ID = DOMAINS[0].db_id  # the game domain, held out for evaluation as in the book
SYNTHESIZED_DB_IDS = frozenset(d.db_id for d in SYNTHESIZED)
# Which of the sample's schemas to train on: all, the 8 hand-written ones (7 after the held-out game),
# or only the synthesized ones. The held-out domain stays in every choice.
SCHEMA_CHOICES = ("all", "hand", "synthesized")
SAMPLE_FILE = "sample.csv"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class SampleInfo:
    path: Path
    manifest: dict

    @property
    def content_hash(self) -> str:
        return self.manifest["content_hash"]

    @property
    def csv_path(self) -> Path:
        return self.path / SAMPLE_FILE

    @property
    def databases(self) -> dict[str, Path]:
        return {
            d["db_id"]: self.path / "databases" / f"{d['db_id']}.sqlite" for d in self.manifest["domains"]
        }

    def frame(self) -> pd.DataFrame:
        return pd.read_csv(self.csv_path, dtype=str, keep_default_na=False)

    def summary(self) -> Note:
        """How many domains, how many synthesized, which one is held out: '128 domains (120 synthesized),
        1 held out (game)' as a note of the sample's validation report."""
        domains = self.manifest["domains"]
        synthesized = sum(d.get("kind") == "synthesized" for d in domains)
        held = next((d["name"] for d in domains if d["db_id"] == EVAL_DB_ID), EVAL_DB_ID)
        return Note("sample_domains", {"domains": len(domains), "synthesized": synthesized, "held": held})


def generator_key() -> str:
    """A hash of the generator's source: a changed generator gets a fresh build, never a stale cache."""
    digest = hashlib.sha256(SEED.encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.relative_to(Path(__file__).parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_sample(home: Path | None = None, progress: Progress | None = None) -> SampleInfo:
    """The sample's folder under STUDIO_HOME, generating it first if this generator has not yet."""
    home = home or load_settings().home
    target = home / "sample" / generator_key()
    if (target / MANIFEST).exists():
        return SampleInfo(target, json.loads((target / MANIFEST).read_text()))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    staging.chmod(0o755)
    try:
        _build(staging, progress)
        try:
            os.replace(staging, target)  # atomic: readers see a whole sample or none
        except OSError:
            if not (target / MANIFEST).exists():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SampleInfo(target, json.loads((target / MANIFEST).read_text()))


def _build(folder: Path, progress: Progress | None) -> None:
    started = time.perf_counter()
    domains = generate(progress)
    (folder / "databases").mkdir()
    (folder / "schema").mkdir()
    for g in domains:
        with sqlite3.connect(folder / "databases" / f"{g.domain.db_id}.sqlite") as out:
            g.connection.backup(out)
        out.close()
        (folder / "schema" / f"{g.domain.db_id}.sql").write_text(g.domain.ddl() + "\n", encoding="utf-8")
    rows = [q for g in domains for q in g.questions]
    pd.DataFrame(rows).to_csv(folder / SAMPLE_FILE, index=False)
    manifest = {
        "content_hash": content_hash(domains),
        "generator_key": generator_key(),
        "seed": SEED,
        "templates": len(TEMPLATES),
        "rows": len(rows),
        "synthesized": len(SYNTHESIZED),
        "generated_in_s": round(time.perf_counter() - started, 2),
        "domains": [
            {
                "db_id": g.domain.db_id,
                "name": g.domain.name,
                "title": g.domain.title,
                "kind": "synthesized" if g.domain.db_id in SYNTHESIZED_DB_IDS else "hand",
                "tables": {t.name: len(g.rows[t.name]) for t in g.domain.tables},
                "questions": len(g.questions),
                "difficulty": dict(sorted(Counter(q["difficulty"] for q in g.questions).items())),
            }
            for g in domains
        ],
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    if progress:
        progress(1.0, "sample ready")


def export_sample(out_dir: Path, home: Path | None = None) -> SampleInfo:
    """Copy the sample (CSV, databases, DDL, manifest) into `out_dir` for use outside the studio."""
    info = ensure_sample(home)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(info.path, out_dir, dirs_exist_ok=True)
    return SampleInfo(out_dir, info.manifest)
