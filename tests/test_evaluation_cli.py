"""The CLI contract: `python -m evaluation score --input PAIRS.jsonl --db-dir DIR --output OUT.jsonl`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.testing.openai_standin import OpenAIStandin
from evaluation.testing.sample_db import GAME_DDL, build_game_database

ROOT = Path(__file__).resolve().parents[1]
GOLD = "SELECT username FROM players WHERE level >= 55"
ROWS = [
    {"id": 1, "db_id": "game", "question": "레벨 55 이상?", "gold_sql": GOLD, "pred_sql": GOLD, "model": "m"},
    {"id": 2, "db_id": "game", "question": "q", "gold_sql": GOLD, "pred_sql": "SELECT username FROM players"},
    {
        "id": 3,
        "db_id": "spider",
        "question": "q",
        "gold_sql": "SELECT COUNT(*) FROM players",
        "pred_sql": "```sql\nSELECT count(player_id) FROM players;\n```",
    },
    {"id": 4, "db_id": "game", "question": "q", "gold_sql": "SELECT usernme FROM players", "pred_sql": GOLD},
    {
        "id": 5,
        "db_id": 1,
        "question": "q",
        "gold_sql": GOLD,
        "pred_sql": "SELECT username FROM players",
        "context": GAME_DDL,
    },
]


def run_cli(*args, env=None, cwd=ROOT):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    environment.update(PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "evaluation", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
    )


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dbs")
    build_game_database(folder / "game.sqlite", players=120)
    (folder / "spider").mkdir()
    build_game_database(folder / "spider" / "spider.sqlite", players=50, seed=1)
    return folder


def test_scores_by_execution_and_writes_the_contract(tmp_path, db_dir):
    pairs, out = write_jsonl(tmp_path / "pairs.jsonl", ROWS), tmp_path / "out.jsonl"
    result = run_cli(
        "score",
        "--input",
        pairs,
        "--db-dir",
        db_dir,
        "--output",
        out,
        "--mode",
        "execution",
        env={"STUDIO_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["match"] for row in rows] == [True, False, True, False, False]
    reasons = [row["reason"] for row in rows]
    assert reasons[0] == reasons[2] == "match"
    assert reasons[1].startswith("wrong result: 120 rows, expected ")
    assert reasons[3] == "gold error: no such column: usernme"
    assert reasons[4] == "runs against the schema (no rows to compare)"
    for given, written in zip(ROWS, rows, strict=True):
        assert {key: written[key] for key in given} == given  # the input is repeated unchanged
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["total"] == 5 and summary["matches"] == 2 and summary["ex_evaluated"] == 3


def test_hybrid_with_a_judge_endpoint_and_a_persistent_cache(tmp_path, db_dir):
    pairs, out, cache = (
        write_jsonl(tmp_path / "pairs.jsonl", ROWS),
        tmp_path / "out.jsonl",
        tmp_path / "cache.sqlite",
    )
    args = [
        "score",
        "--input",
        pairs,
        "--db-dir",
        db_dir,
        "--output",
        out,
        "--judge-cache",
        cache,
        "--judge-model",
        "gpt-4o-mini",
    ]
    with OpenAIStandin() as server:
        env = {"OPENAI_API_KEY": "sk-cli-test-key-12345"}
        first = run_cli(*args, "--judge-base-url", server.base_url, env=env)
        assert first.returncode == 0, first.stderr
        asked = server.count()
        second = run_cli(*args, "--judge-base-url", server.base_url, env=env)
        assert server.count() == asked  # the re-run costs nothing
    assert asked == 2  # the broken gold and the DDL-only row
    assert "judge: 2 requests (0 cached)" in first.stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[3]["decided_by"] == "judge" and rows[3]["judge"] == "no"
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    assert summary["judge_calls"] == 0 and summary["judge_cached"] == 2
    assert b"sk-cli-test-key-12345" not in cache.read_bytes()


def test_estimate_only_sends_nothing(tmp_path, db_dir):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    with OpenAIStandin() as server:
        result = run_cli(
            "score",
            "--input",
            pairs,
            "--db-dir",
            db_dir,
            "--output",
            tmp_path / "o.jsonl",
            "--estimate-only",
            "--judge-base-url",
            server.base_url,
            "--no-judge-cache",
        )
        assert server.count() == 0
    estimate = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0 and estimate["requests"] == 2 and estimate["cost_usd"] > 0


def test_hybrid_without_a_key_warns_and_still_scores(tmp_path, db_dir):
    pairs, out = write_jsonl(tmp_path / "pairs.jsonl", ROWS), tmp_path / "out.jsonl"
    result = run_cli("score", "--input", pairs, "--db-dir", db_dir, "--output", out)
    assert result.returncode == 0
    assert "2 rows left undecided" in result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["matches"] == 2


def bad_input_cases(tmp_path, db_dir):
    good = write_jsonl(tmp_path / "good.jsonl", ROWS[:1])
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(ROWS[0]) + "\n" + json.dumps(ROWS[1]) + "\n{not json\n", encoding="utf-8")
    missing = write_jsonl(
        tmp_path / "missing.jsonl", [ROWS[0], {"id": 9, "question": "q", "pred_sql": "SELECT 1"}]
    )
    scalar = write_jsonl(tmp_path / "scalar.jsonl", [[1, 2]])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    return {
        "missing file": (["--input", tmp_path / "nope.jsonl", "--output", out], "input file not found"),
        "broken line": (["--input", broken, "--output", out], "broken.jsonl line 3: invalid JSON"),
        "missing fields": (
            ["--input", missing, "--output", out],
            "missing.jsonl line 2: missing field(s) db_id, gold_sql",
        ),
        "not an object": (
            ["--input", scalar, "--output", out],
            "scalar.jsonl line 1: expected a JSON object",
        ),
        "empty file": (["--input", empty, "--output", out], "no pairs"),
        "missing db dir": (
            ["--input", good, "--output", out, "--db-dir", tmp_path / "nodir"],
            "database folder not found",
        ),
        "bad mode": (["--input", good, "--output", out, "--mode", "vibes"], "invalid choice"),
        "zero timeout": (["--input", good, "--output", out, "--timeout", "0"], "must be in (0, 600]"),
        "negative timeout": (["--input", good, "--output", out, "--timeout", "-1"], "must be in (0, 600]"),
        "huge timeout": (["--input", good, "--output", out, "--timeout", "1e9"], "must be in (0, 600]"),
        "nan timeout": (["--input", good, "--output", out, "--timeout", "nan"], "must be a finite number"),
        "inf timeout": (["--input", good, "--output", out, "--timeout", "inf"], "must be a finite number"),
        "zero row cap": (["--input", good, "--output", out, "--max-rows", "0"], "must be in [1, 10,000,000]"),
        "nan judge timeout": (["--input", good, "--output", out, "--judge-timeout", "nan"], "finite"),
        "no output": (["--input", good], "required: --output"),
        "judge without key": (["--input", good, "--output", out, "--mode", "judge"], "OPENAI_API_KEY"),
        "template without prediction": (
            [
                "--input",
                good,
                "--output",
                out,
                "--judge-template",
                write_jsonl(tmp_path / "t.txt", ["{question}"]),
            ],
            "must contain {gen_sql}",
        ),
    }


def test_bad_input_gives_one_error_line_and_exit_code_2(tmp_path, db_dir):
    for name, (args, message) in bad_input_cases(tmp_path, db_dir).items():
        result = run_cli("score", *args, env={"STUDIO_HOME": str(tmp_path)})
        assert result.returncode == 2, name
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, result.stderr)
        assert message in lines[0], (name, lines[0])
        assert "Traceback" not in result.stderr + result.stdout


def test_no_command_is_an_error():
    result = run_cli()
    assert result.returncode == 2 and result.stderr.startswith("error: ")
