"""Benchmark of the Leaderboard: its default view and a filter, with 1,000 runs and 100,000 evaluation rows.

    .venv/bin/python benchmarks/bench_leaderboard.py [--runs 1000] [--rows 100000] [--output FILE]

A temporary STUDIO_HOME gets synthetic data through SQL: 5 data set versions (the book's 20–100 %), 1,000
runs over 3 base models and the lora_r × lora_alpha grid, two evaluations per run (execution and hybrid),
base models evaluated alone, and the evaluation rows spread over them (100,000 in all). Timed, on at most 2
cores, the median of several calls after one warm-up (the first, cold call is reported too):
- the tab's default view: what its page-load handler returns (count line, table, three plots), in-process
  and through the running app over HTTP (Gradio's own client, JSON included);
- a filter (evaluation set, mode, a lora_r range, best per base model) and a search, the same two ways;
- a two-run comparison (configuration, scores, differing rows) and the CSV export.
Writes benchmarks/results/leaderboard.json (a `table` of rows for benchmarks/results/README.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "leaderboard.json"
BASE_MODELS = ("smollm2-135m-instruct", "qwen2.5-0.5b-instruct", "qwen2.5-1.5b-instruct")
FRACTIONS = (0.2, 0.4, 0.6, 0.8, 1.0)
GRID = list(itertools.product((4, 8, 16, 32, 64), (8, 16, 32, 64)))  # lora_r × lora_alpha
MODES = ("execution", "hybrid")
EVAL_SET = "ds-eval"
REPEATS = 7


def fill_registry(db, runs: int, rows: int, seed: int = 7) -> dict:
    """Synthetic runs, evaluations and evaluation rows, written straight into the registry tables."""
    from studio.training.config import TrainingConfig

    rng = random.Random(seed)
    db.executemany(
        "INSERT INTO datasets VALUES (?, ?, '2026-11-01T00:00:00', 'h', '{}', '{}', ?, ?, 800, 100, ?)",
        [(f"ds-{int(f * 100):03d}", f"{int(f * 100)}%", json.dumps({"fraction": f, "exec_filter": True}),
          json.dumps({"train": int(800 * f), "eval": 100}), f"datasets/ds-{int(f * 100):03d}")
         for f in FRACTIONS])
    jobs, run_rows, evaluations = [], [], []
    for i in range(1, runs + 1):
        name = f"sweep-{i}"
        lora_r, lora_alpha = GRID[i % len(GRID)]
        base = BASE_MODELS[i % len(BASE_MODELS)]
        dataset = f"ds-{int(FRACTIONS[i % len(FRACTIONS)] * 100):03d}"
        config = TrainingConfig(base_model=base, project_name="sweep", lora_r=lora_r, lora_alpha=lora_alpha,
                                lr=rng.choice((1e-4, 2e-4)), epochs=rng.choice((1, 2, 3))).to_json()
        stamp = f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00.000+00:00"
        jobs.append((i, name, config, dataset, dataset, base, stamp))
        run_rows.append((i, name, i, stamp, base, base, dataset, dataset, f"/jobs/{name}/{name}", config,
                         rng.uniform(60, 3600), rng.uniform(0.3, 2.0)))
        evaluations += [(name, name, base, mode, rng.random()) for mode in MODES]
    evaluations += [(f"base:{b}", None, b, mode, rng.random() / 3) for b in BASE_MODELS for mode in MODES]
    db.executemany("INSERT INTO jobs (id, name, status, config, dataset_ref, dataset_version, train_rows,"
                   " model_path, created_at) VALUES (?, ?, 'succeeded', ?, ?, ?, 800, ?, ?)", jobs)
    db.executemany("INSERT INTO runs (id, name, job_id, created_at, base_model, base_model_path, dataset_ref,"
                   " dataset_version, train_rows, adapter_path, config, duration_s, final_loss, hardware,"
                   " software) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 800, ?, ?, ?, ?, '{}', '{}')", run_rows)
    db.executemany("INSERT INTO evaluations (id, created_at, candidate, run_name, base_model, eval_set, mode,"
                   " options, summary, rows, accuracy, ex_score, judge_score, agreement)"
                   f" VALUES (?, '2026-11-20', ?, ?, ?, '{EVAL_SET}', ?, '{{}}', '{{}}', ?, ?, ?, ?, ?)",
                   [(n, c, r, b, m, rows // len(evaluations), s, s, s if m == "hybrid" else None, 0.9)
                    for n, (c, r, b, m, s) in enumerate(evaluations, start=1)])
    per = rows // len(evaluations)
    extra = rows - per * len(evaluations)
    db.executemany("INSERT INTO evaluation_rows (evaluation_id, row_index, row_id, db_id, question, gold_sql,"
                   " pred_sql, match, reason, decided_by) VALUES (?, ?, ?, '1', ?, 'SELECT 1', 'SELECT 1', ?,"
                   " 'match', 'execution')",
                   ((e, i, str(i), f"질문 {i}", rng.random() < 0.6)
                    for e in range(1, len(evaluations) + 1) for i in range(per + (1 if e <= extra else 0))))
    return {"runs": runs, "evaluations": len(evaluations), "evaluation_rows": rows}


def timed(fn, repeats: int = REPEATS) -> dict:
    started = time.perf_counter()
    fn()
    cold = time.perf_counter() - started
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return {"cold_ms": round(cold * 1000, 1), "median_ms": round(statistics.median(samples) * 1000, 1),
            "max_ms": round(max(samples) * 1000, 1)}


def measure(client) -> dict:
    from studio import leaderboard as lb
    from studio.ui import leaderboard_tab as tab

    everything = {"search": "", "metric": "accuracy", "best_per": "", "base_models": [], "datasets": [],
                  "eval_sets": [], "modes": [], "include_base": True, "lora_r": "", "lora_alpha": "",
                  "fraction": "", "columns": list(lb.DEFAULT_COLUMNS)}
    narrowed = {**everything, "eval_sets": [EVAL_SET], "modes": ["execution"], "lora_r": "8-32",
                "best_per": "base_model"}
    searched = {**everything, "search": "qwen2.5-1.5b hybrid"}
    views = {"default view": everything, "filter": narrowed, "search": searched}
    results = {}
    for label, values in views.items():
        results[f"{label}, handler"] = timed(lambda v=values: tab.show_board(**v, request=None))
        results[f"{label}, HTTP"] = timed(lambda v=values: client.predict(**v, api_name="/leaderboard"))
        results[f"{label}, handler"]["rows"] = len(tab.show_board(**values, request=None)[1])
    results["compare two runs"] = timed(lambda: lb.compare("sweep-1", "sweep-2"))
    export = [v for k, v in everything.items() if k != "columns"]
    results["CSV export (all rows)"] = timed(lambda: client.predict(*export, api_name="/leaderboard_export"))
    return results


def launch():
    from gradio_client import Client

    from studio.ui.app import build_app
    from studio.ui.i18n import I18N

    demo = build_app()
    demo.queue()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, i18n=I18N, quiet=True)
    return demo, Client(f"http://127.0.0.1:{port}/", verbose=False)


def table(result: dict) -> list[dict]:
    data = result["data"]
    note = (f"{data['runs']} runs, {data['evaluations']} evaluations, {data['evaluation_rows']} evaluation "
            f"rows; {result['environment']['cores']} cores; median of {REPEATS} after a warm-up")
    rows = []
    for measure_name, timing in result["timings"].items():
        rows.append({"benchmark": "leaderboard", "measure": measure_name, "value": timing["median_ms"],
                     "unit": "ms", "note": f"cold {timing['cold_ms']} ms, max {timing['max_ms']} ms; {note}"})
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])  # the budget: 2 cores
    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as home:
        os.environ["STUDIO_HOME"] = home
        from studio import registry
        from studio.settings import load_settings

        with registry.session(load_settings().registry_path, begin="DEFERRED") as db:
            started = time.perf_counter()  # the fill and its commit, not the registry's creation
            data = fill_registry(db, args.runs, args.rows)
        data["fill_s"] = round(time.perf_counter() - started, 1)
        demo, client = launch()
        try:
            timings = measure(client)
        finally:
            demo.close()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    environment = {"cores": cores, "python": platform.python_version(), "machine": platform.machine()}
    result = {"benchmark": "leaderboard", "environment": environment, "data": data, "timings": timings}
    result["table"] = table(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for row in result["table"]:
        print(f"{row['measure']:<28} {row['value']:>8} {row['unit']}  ({row['note'].split(';')[0]})")
    return result


if __name__ == "__main__":
    main()
