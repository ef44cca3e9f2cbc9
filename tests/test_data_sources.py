"""Sources: the sample, files, and the real Hugging Face loading code against a local stand-in."""

from __future__ import annotations

import pytest

from studio.data.sources import BOOK_DATASET, SourceSpec, load_hub, load_source
from studio.errors import StudioError
from tests.data_fixtures import install_sample, write_hub_standin


def test_source_specs_parse():
    assert SourceSpec.parse("sample") == SourceSpec("sample")
    assert SourceSpec.parse("data/train.csv") == SourceSpec("file", "data/train.csv")
    spec = SourceSpec.parse(f"hub:{BOOK_DATASET}:origin")
    assert (spec.kind, spec.ref, spec.config, spec.split) == ("hub", BOOK_DATASET, "origin", None)
    assert SourceSpec.parse("hub:a/b:clean:train").label() == "hub:a/b:clean:train"
    with pytest.raises(StudioError, match="hub:ID"):
        SourceSpec.parse("hub:")


def test_hub_loading_reads_every_split_of_a_config(tmp_path, studio_home):
    repo = write_hub_standin(tmp_path / "ko_text2sql")
    loaded = load_source(f"hub:{repo}:origin")
    assert sorted(loaded.frame["db_id"]) == [
        "1",
        "2",
        "3",
        "3",
    ]  # train (4 rows, one without a question) + test
    assert loaded.report.dropped_by_reason["missing"] == 1
    assert loaded.source.config == "origin" and loaded.databases == {}
    assert (studio_home / "cache" / "datasets").is_dir()  # the Hub cache stays under STUDIO_HOME
    clean_test = load_hub(str(repo), "clean", "test")
    assert list(clean_test["question"]) == ["사용자 이름에 'admin'이 포함되어 있는 계정의 수를 알려주세요."]
    assert len(load_source(f"hub:{repo}:clean:train").frame) == 2


def test_an_unreachable_hub_data_set_is_a_clear_error(studio_home, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        StudioError, match=f"cannot load the Hugging Face data set {BOOK_DATASET} \\(origin\\)"
    ):
        load_source(f"hub:{BOOK_DATASET}:origin")


def test_sample_source_comes_with_its_databases(studio_home):
    install_sample(studio_home)
    loaded = load_source("sample")
    assert sorted(loaded.databases) == [str(i) for i in range(1, 9)] + [f"s{i:03d}" for i in range(1, 121)]
    assert all(path.exists() for path in loaded.databases.values())
    counts = loaded.counts()
    assert counts.loc[counts["db_id"] == "total", "total"].item() == len(loaded.frame)
    assert set(loaded.frame.columns) == {"db_id", "context", "question", "answer", "difficulty"}
    assert load_source("sample").fingerprint == loaded.fingerprint


def test_file_source_with_a_database_folder(tmp_path, studio_home):
    (tmp_path / "dbs" / "spider_db").mkdir(parents=True)
    (tmp_path / "dbs" / "spider_db" / "spider_db.sqlite").write_bytes(b"")
    (tmp_path / "dbs" / "7.sqlite").write_bytes(b"")
    path = tmp_path / "rows.csv"
    path.write_text("db_id,context,question,answer\n7,c,q,a\n", encoding="utf-8")
    loaded = load_source(path, db_dir=tmp_path / "dbs")
    assert sorted(loaded.databases) == ["7", "spider_db"]
    with pytest.raises(StudioError, match="database folder not found"):
        load_source(path, db_dir=tmp_path / "missing")
