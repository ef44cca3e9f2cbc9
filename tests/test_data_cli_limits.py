"""`python -m studio data …` with hostile or absurd options (issue 18, item 6): every number is checked finite and
in range, a template file that is not UTF-8 is a clear error, and a file with 100k columns does not print
megabytes of column names. Each refusal is one `error:` line with exit 2, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.data.prepare import PrepareOptions
from studio.errors import StudioError
from studio.ui.i18n import error_text

ROWS = "db_id,context,question,answer\n" + "".join(
    f"d{i % 3},CREATE TABLE t (x INT);,question {i}?,SELECT x FROM t WHERE x = {i};\n" for i in range(12))


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def _prepare(source: Path, *options: str) -> list[str]:
    return ["data", "prepare", "--source", str(source), "--random-split", "0.3", *options]


@pytest.mark.parametrize("options, message", [
    (["--seed", "-1"], "the seed must be a whole number from 0 to 4294967295, not -1"),
    (["--seed", "4294967296"], "the seed must be a whole number from 0 to 4294967295, not 4294967296"),
    (["--exec-timeout", "-1"], "the execution timeout must be more than 0 and at most 600 seconds, not -1.0"),
    (["--exec-timeout", "0"], "the execution timeout must be more than 0 and at most 600 seconds, not 0.0"),
    (["--exec-timeout", "nan"], "the execution timeout must be more than 0 and at most 600 seconds, not nan"),
    (["--exec-timeout", "inf"], "the execution timeout must be more than 0 and at most 600 seconds, not inf"),
    (["--fraction", "nan"], "the fraction must be in (0, 1], not nan"),
    (["--tokenizer", "any", "--block-size", "-5"], "the block size must be from 1 to 1048576 tokens, not -5"),
])
def test_out_of_range_numbers_are_refused_before_anything_is_written(studio_home, source, capsys, options,
                                                                      message):
    assert main(_prepare(source, *options)) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {message}\n" and captured.out == ""
    assert not (studio_home / "datasets").exists()


def test_the_ui_gets_the_same_refusal_in_korean_too():
    with pytest.raises(StudioError) as caught:
        PrepareOptions(exec_timeout_s=float("nan")).check()
    assert str(caught.value) == "the execution timeout must be more than 0 and at most 600 seconds, not nan"
    assert error_text(caught.value, None) == "실행 제한 시간은 0초보다 길고 600초 이하여야 합니다: nan"


def test_a_template_file_that_is_not_utf8_or_too_big_is_a_clear_error(studio_home, source, tmp_path, capsys):
    template = tmp_path / "template.txt"
    template.write_bytes("{ddl}\n{question}\n".encode() + b"\xff\xfe{query}")
    assert main(_prepare(source, "--template", str(template))) == 2
    assert capsys.readouterr().err == (f"error: the template file {template} is not UTF-8 text (undecodable byte "
                                       "at offset 17); save it as UTF-8\n")
    template.write_text("{ddl} {question} " + "x" * 70_000 + " {query}", encoding="utf-8")
    assert main(_prepare(source, "--template", str(template))) == 2
    assert "is over 64 KiB" in capsys.readouterr().err
    assert not (studio_home / "datasets").exists()


def test_checking_a_file_with_100k_columns_prints_a_few_names_not_megabytes(tmp_path, capsys):
    wide = tmp_path / "wide.csv"
    extra = [f"extra_column_{i}" for i in range(100_000)]
    wide.write_text(",".join(["db_id", "context", "question", "answer", *extra]) + "\n"
                    + ",".join(["1", "CREATE TABLE t (x INT);", "q?", "SELECT 1", *["v"] * len(extra)]) + "\n",
                    encoding="utf-8")
    assert main(["data", "check", str(wide)]) == 0
    out = capsys.readouterr().out
    assert len(out) < 10_000
    assert "note: ignored column(s): extra_column_0, extra_column_1," in out
    assert "extra_column_9 and 99990 more\n" in out
    report = json.loads(out.splitlines()[-1])
    assert (report["rows"], report["column_count"], len(report["columns"])) == (1, 100_004, 100)

    assert main(["data", "check", str(wide), "--map", "question=nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: mapped column(s) not in the data: nope (found: db_id, context, question,")
    assert err.endswith("extra_column_5 and 99994 more)\n") and len(err) < 1000
