"""Token statistics with a tokenizer loaded the way the base model's is (AutoTokenizer from a folder)."""

from __future__ import annotations

import pandas as pd
import pytest

from studio.data.tokens import load_tokenizer, token_stats
from studio.errors import StudioError
from tests.data_fixtures import tiny_tokenizer

TEMPLATE = "{ddl} | {question} | {query}"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return load_tokenizer(tiny_tokenizer(tmp_path_factory.mktemp("tok")))


def test_lengths_and_truncation_are_counted(tokenizer):
    frame = pd.DataFrame(
        {
            "context": ["a b c", "a b c d e f g h"],
            "question": ["q", "q r"],
            "answer": ["SELECT x", "SELECT x FROM y WHERE z"],
        }
    )
    stats = token_stats(frame, tokenizer, block_size=12, template=TEMPLATE)
    # whitespace words: "a b c | q | " = 6 tokens, then the answer's words; +1 for the EOS AutoTrain appends
    assert stats.prompt.tolist() == [6, 12] and stats.answer.tolist() == [2, 6]
    assert stats.total.tolist() == [9, 19]
    assert stats.truncated == 1 and stats.truncated_at(19) == 0 and stats.truncated_at(8) == 2
    summary = stats.summary().set_index("series")
    assert summary.loc["total", "max"] == 19 and summary.loc["answer", "p50"] == 4
    histogram = stats.histogram(bins=4)
    assert histogram.groupby("series")["count"].sum().to_dict() == {"answer": 2, "prompt": 2, "total": 2}
    report = stats.to_dict()
    assert report["truncated"] == 1 and report["truncated_at"]["256"] == 0


def test_a_tokenizer_folder_path_works_and_bad_input_is_a_message(tmp_path, tokenizer):
    frame = pd.DataFrame({"context": ["a"], "question": ["b"], "answer": ["c"]})
    folder = tiny_tokenizer(tmp_path / "tok")
    assert token_stats(frame, folder, template=TEMPLATE).total.tolist() == [
        token_stats(frame, tokenizer, template=TEMPLATE).total.item()
    ]
    with pytest.raises(StudioError, match="cannot load a tokenizer from"):
        load_tokenizer(tmp_path / "missing")
    with pytest.raises(StudioError, match="block size must be positive"):
        token_stats(frame, tokenizer, block_size=0)


def test_prepare_records_token_statistics(tmp_path, studio_home, tokenizer):
    from studio.data.prepare import PrepareOptions, prepare_dataset

    path = tmp_path / "rows.csv"
    pd.DataFrame(
        {
            "db_id": ["1", "2", "2"],
            "context": ["CREATE TABLE t (x INT);"] * 3,
            "question": ["a", "b", "c"],
            "answer": ["SELECT x FROM t;"] * 3,
        }
    ).to_csv(path, index=False)
    version = prepare_dataset(path, PrepareOptions(), tokenizer=tokenizer, block_size=64)
    assert version.counts["tokens"]["rows"] == 2 and version.counts["tokens"]["block_size"] == 64
