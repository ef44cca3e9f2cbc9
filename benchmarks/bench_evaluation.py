"""Benchmark of the evaluation library: execution-scoring throughput and judge calls saved by hybrid scoring.

    .venv/bin/python benchmarks/bench_evaluation.py [--output FILE]

Two data sets: the app's bundled evaluation set (the game domain of `studio.data.sample`, with its SQLite
database; skipped when the app is not importable) and a generated one (`evaluation.testing.sample_db`).
Predictions are made from the gold SQL to look like a fine-tuned model's output: mostly right (some
reformatted), some wrong results, some errors, a few empty answers, a few broken gold queries; no runaway
queries. Judge calls are counted on the project's OpenAI stand-in (127.0.0.1), in hybrid mode against
judging every row, with the databases and with DDL only (the book's situation).
Prints the result and writes it as JSON (default benchmarks/results/evaluation.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluation.judge import Judge, JudgeConfig  # noqa: E402
from evaluation.pairs import Pair  # noqa: E402
from evaluation.scoring import ScoringConfig, plan_scoring, score_pairs  # noqa: E402
from evaluation.sql import parse  # noqa: E402
from evaluation.testing.openai_standin import OpenAIStandin  # noqa: E402
from evaluation.testing.sample_db import GAME_DDL, build_game_database  # noqa: E402

DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "evaluation.json"
# How often a fine-tuned model's answer is of each kind (a plausible mix, not a measurement).
VARIANTS = {"same": 0.40, "reformatted": 0.15, "wrong": 0.25, "broken": 0.12, "empty": 0.03, "bad_gold": 0.05}
GENERATED_GOLD = [
    ("레벨이 {n} 이상인 플레이어의 이름은?", "SELECT username FROM players WHERE level >= {n}"),
    ("직업별 평균 골드는?", "SELECT class, AVG(gold) FROM players GROUP BY class"),
    ("길드에 속하지 않은 플레이어 수는?", "SELECT COUNT(*) FROM players WHERE guild_id IS NULL"),
    ("골드가 가장 많은 플레이어 {k}명은?", "SELECT username, gold FROM players ORDER BY gold DESC LIMIT {k}"),
    (
        "길드별 플레이어 수는?",
        "SELECT g.name, COUNT(p.player_id) FROM guilds g JOIN players p ON p.guild_id = g.guild_id "
        "GROUP BY g.name",
    ),
    (
        "퀘스트를 {k}개 이상 완료한 플레이어는?",
        "SELECT player_id FROM player_quests WHERE status = 'completed' "
        "GROUP BY player_id HAVING COUNT(*) >= {k}",
    ),
    (
        "가격이 {p} 이상인 무기는?",
        "SELECT name, attack FROM equipments WHERE type = 'weapon' AND price >= {p}",
    ),
    ("{n}레벨 이하가 받을 수 있는 퀘스트는?", "SELECT title FROM quests WHERE min_level <= {n}"),
]


def predicted(gold: str, kind: str) -> tuple[str, str]:
    """(gold, prediction) for one kind of answer, derived from the gold SQL."""
    gold = gold.strip().rstrip(";")
    broken = re.sub(r"\bFROM (\w+)", r"FROM \1_missing", gold, count=1)  # a table that does not exist
    if kind == "reformatted":
        return gold, parse(gold).sql(pretty=True)
    if kind == "wrong":
        return gold, _wrong(gold)
    if kind == "broken":
        return gold, broken
    if kind == "empty":
        return gold, ""
    if kind == "bad_gold":
        return broken, gold  # a typo in the data set's own answer
    return gold, gold


def _wrong(gold: str) -> str:
    number = re.search(r"(?<![\w.])(\d+)(?![\w.])", gold)
    if number:
        return gold[: number.start()] + str(int(number.group(1)) + 1) + gold[number.end() :]
    if " DESC" in gold:
        return gold.replace(" DESC", " ASC", 1)
    return f"SELECT * FROM ({gold}) LIMIT 0"


def make_pairs(rows: list[tuple[str, str, str, str]], seed: int = 42) -> list[Pair]:
    """Pairs from (db_id, question, gold, ddl) rows with the VARIANTS mix of predictions."""
    rng = random.Random(seed)
    kinds, weights = list(VARIANTS), list(VARIANTS.values())
    pairs = []
    for number, (db_id, question, gold_sql, ddl) in enumerate(rows):
        gold, pred = predicted(gold_sql, rng.choices(kinds, weights)[0])
        pairs.append(Pair(number, db_id, question, gold, pred, context=ddl))
    return pairs


def generated_rows(count: int, seed: int = 7) -> list[tuple[str, str, str, str]]:
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        question, gold = rng.choice(GENERATED_GOLD)
        values = {"n": rng.randint(2, 58), "k": rng.randint(1, 5), "p": rng.randint(100, 2000)}
        rows.append(("game", f"{question.format(**values)} (#{number})", gold.format(**values), GAME_DDL))
    return rows


def bundled_rows(home: Path) -> tuple[list[tuple[str, str, str, str]], Path] | None:
    """The app's evaluation set and its database folder, or None without the app."""
    try:
        from studio.data.sample import EVAL_DB_ID, ensure_sample
    except ImportError:
        return None
    sample = ensure_sample(home)
    frame = sample.frame()
    frame = frame[frame.db_id == EVAL_DB_ID]
    rows = list(zip(frame.db_id, frame.question, frame.answer, frame.context, strict=True))
    return rows, sample.databases[EVAL_DB_ID].parent


def bench_execution(pairs: list[Pair], db_dir: Path, repeats: int = 3) -> dict:
    config = ScoringConfig(mode="execution")
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        plan = plan_scoring(pairs, db_dir=db_dir, config=config)
        timings.append(time.perf_counter() - started)
    statuses: dict[str, int] = {}
    for verdict in plan.executions:
        statuses[verdict.status] = statuses.get(verdict.status, 0) + 1
    seconds = statistics.median(timings)
    return {
        "pairs": len(pairs),
        "seconds": round(seconds, 4),
        "pairs_per_second": round(len(pairs) / seconds, 1),
        "statuses": statuses,
    }


def count_judge_calls(pairs: list[Pair], db_dir: Path | None, mode: str) -> int:
    with OpenAIStandin() as server:
        config = JudgeConfig(
            model="gpt-4o-mini", base_url=server.base_url, requests_per_minute=None, tokens_per_minute=None
        )
        with Judge(config, api_key="sk-bench") as judge:
            score_pairs(pairs, db_dir=db_dir, judge=judge, config=ScoringConfig(mode=mode))
        return server.count()


def bench_judge_calls(pairs: list[Pair], db_dir: Path) -> dict:
    result = {}
    for name, folder in (("with_databases", db_dir), ("ddl_only", None)):
        every_row = count_judge_calls(pairs, folder, "judge")
        hybrid = count_judge_calls(pairs, folder, "hybrid")
        reduction = round(100 * (1 - hybrid / every_row), 1) if every_row else None
        result[name] = {"judge_every_row": every_row, "hybrid": hybrid, "reduction_percent": reduction}
    return result


def table(name: str, result: dict) -> list[dict]:
    execution, calls = result["execution"], result["judge_calls"]
    note = f"{execution['pairs']} pairs, no runaway queries; target ≥ 100"
    rows = [_row(f"execution scoring ({name})", execution["pairs_per_second"], "pairs/s", note)]
    for key, label, target in (
        ("with_databases", "databases", "; target ≥ 70"),
        ("ddl_only", "DDL only", ""),
    ):
        saved = calls[key]
        note = f"judged {saved['hybrid']} of {saved['judge_every_row']} rows{target}"
        rows.append(
            _row(f"judge calls saved by hybrid ({name}, {label})", saved["reduction_percent"], "%", note)
        )
    return rows


def _row(measure: str, value, unit: str, note: str) -> dict:
    return {"benchmark": "evaluation", "measure": measure, "value": value, "unit": unit, "note": note}


def environment() -> dict:
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400, help="generated pairs (default 400)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    result: dict = {"benchmark": "evaluation", "environment": environment(), "data_sets": {}, "table": []}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        build_game_database(scratch / "game.sqlite", players=2000, seed=7)
        data_sets = {"generated": (generated_rows(args.count), scratch)}
        bundled = bundled_rows(scratch / "studio-home")
        if bundled:
            data_sets = {"bundled evaluation set": bundled, **data_sets}
        for name, (rows, db_dir) in data_sets.items():
            pairs = make_pairs(rows)
            measured = {
                "execution": bench_execution(pairs, db_dir),
                "judge_calls": bench_judge_calls(pairs, db_dir),
            }
            result["data_sets"][name] = measured
            result["table"] += table(name, measured)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
