"""`python -m studio data …`: the check contract (ARCHITECTURE.md) and the other actions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main
from tests.data_fixtures import install_sample

REPO = Path(__file__).resolve().parent.parent
GOOD = "db_id,context,question,answer\n1,CREATE TABLE t (x INT);,몇 개?,SELECT COUNT(*) FROM t;\n1,,q,a\n"


def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "studio", "data", "check", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_contract_in_a_real_process(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    ok = run_check(str(good))
    assert ok.returncode == 0, ok.stderr
    last = json.loads(ok.stdout.strip().splitlines()[-1])
    assert (last["rows"], last["dropped"]) == (1, 1)

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "q"\n', encoding="utf-8")
    bad = run_check(str(broken))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == ["error: line 1 is not valid JSON: Expecting ',' delimiter (column 17)"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "error: the file is empty"),
        (b"db_id,context,question,answer\n", "error: the file has a header but no data rows"),
        (b"\x00\x01\x02binary", "error: the file is binary data, not CSV text"),
    ],
)
def test_check_rejections_are_one_line_with_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    assert main(["data", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [message] and captured.out == ""


def test_check_with_a_column_mapping(tmp_path, capsys):
    path = tmp_path / "data.tsv"
    path.write_text("db\tddl\tq\tgold\n1\tc\tq\ta\n", encoding="utf-8")
    assert main(["data", "check", str(path), "--map", "question=q", "--map", "answer=gold"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    report = json.loads(out[-1])
    assert report["mapping"] == {"question": "q", "answer": "gold", "db_id": "db", "context": "ddl"}
    guesses = ["using column 'db' as db_id", "using column 'ddl' as context"]
    assert out[1:3] == [f"note: {guess}" for guess in guesses] and report["notes"] == guesses
    assert main(["data", "check", str(path), "--map", "question"]) == 2
    assert "error: --map takes OURS=THEIRS" in capsys.readouterr().err


def test_prepare_sample_and_list(studio_home, tmp_path, capsys):
    install_sample(studio_home)
    assert main(["data", "prepare", "--fraction", "0.2", "--seed", "7", "--name", "small"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert out[0].startswith(f"version {result['version']}:") and result["eval"] >= 300
    assert Path(result["path"], "autotrain", "train.csv").exists()

    assert main(["data", "prepare", "--holdout-db", "9"]) == 2
    assert "error: held-out database(s) 9 not in the data" in capsys.readouterr().err

    assert main(["data", "list"]) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [row["id"] for row in listed] == [result["version"]] and listed[0]["name"] == "small"

    assert main(["data", "sample", "--out", str(tmp_path / "out")]) == 0
    exported = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert exported["templates"] >= 60 and (tmp_path / "out" / "databases" / "1.sqlite").exists()
    assert (tmp_path / "out" / "sample.csv").exists() and (tmp_path / "out" / "schema" / "1.sql").exists()
