"""Execution-guided selection (issue 15, lever 2): what it costs in generation time.

The untrained offline default model, decoding constrained to the schema grammar, on a seeded sample of the
held-out game rows (bench_quality.py's sample, its data set and databases), in a scratch STUDIO_HOME
(benchmarks/results/tmp/selection/, gitignored). Each round evaluates the rows greedily and then with
selection among N candidates (the greedy answer and N-1 sampled ones, run on the game database), so both
ways see the same background load; every answer is generated afresh (the generations cache is emptied before
each evaluation). Rows/s counts generation and, with selection, running the candidates and choosing. The
model is loaded and warmed up before the first round.

    python benchmarks/bench_selection.py                 # 24 rows, 5 candidates, 2 rounds
    python benchmarks/bench_selection.py --rows 48 --candidates 3 --rounds 3 --max-new-tokens 64
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import bench_quality  # noqa: E402
from benchmarks.bench_experiments import prepare_home, runnable_share  # noqa: E402
from studio import registry  # noqa: E402
from studio.evaluate import EvalOptions, base_candidate, eval_set_from_file, evaluate  # noqa: E402
from studio.settings import DEFAULT_MODEL, load_settings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = RESULTS / "tmp" / "selection"


def measure_once(eval_set, candidates: int, max_new_tokens: int) -> dict:
    """One evaluation with every answer generated now; its speed and scores."""
    with registry.session(load_settings().registry_path) as db:
        db.execute("DELETE FROM generations")
    load = os.getloadavg()[0]
    options = EvalOptions(mode="execution", max_new_tokens=max_new_tokens, candidates=candidates)
    result = evaluate(base_candidate(DEFAULT_MODEL), eval_set, options)
    return {"candidates": candidates, "decoding": options.decoding, "rows": result.summary.total,
            "seconds": round(result.generate_seconds, 1), "rows_per_s": result.summary.total / result.generate_seconds,
            "EX": result.summary.ex_score or 0.0, "runs": runnable_share(result.id), "load_before": load,
            "load_after": os.getloadavg()[0]}


def measure(rows: int, candidates: int, rounds: int, max_new_tokens: int) -> list[dict]:
    prepare_home(SCRATCH)
    pool = bench_quality.prepare("all")
    bench_quality.SCRATCH = SCRATCH  # the sample file goes to this benchmark's scratch folder
    eval_file = bench_quality.eval_sample(bench_quality.Plan(eval_rows=rows), pool)
    eval_set = eval_set_from_file(eval_file, Path(pool["path"], "databases"))
    evaluate(base_candidate(DEFAULT_MODEL), eval_set, EvalOptions(mode="execution", limit=2, max_new_tokens=8))
    lines = []
    for number in range(1, rounds + 1):
        for count in (1, candidates):
            lines.append({"round": number, **measure_once(eval_set, count, max_new_tokens)})
            print(json.dumps(lines[-1]), flush=True)
    return lines


def summary(lines: list[dict]) -> list[dict]:
    out = []
    for count in dict.fromkeys(line["candidates"] for line in lines):
        mine = [line for line in lines if line["candidates"] == count]
        out.append({"decoding": mine[0]["decoding"], "rounds": len(mine),
                    "rows_per_s": statistics.mean(line["rows_per_s"] for line in mine),
                    "seconds": statistics.mean(line["seconds"] for line in mine),
                    "EX": statistics.mean(line["EX"] for line in mine),
                    "runs": statistics.mean(line["runs"] for line in mine)})
    return out


def markdown(rows: int, max_new_tokens: int, table: list[dict]) -> str:
    greedy = table[0]["rows_per_s"]
    out = [f"| decoding ({rows} held-out game rows, base model, at most {max_new_tokens} new tokens) | generation "
           "| time | cost | runnable SQL | EX |",
           "|---|---|---|---|---|---|"]
    for line in table:
        out.append(f"| {line['decoding']} | {line['rows_per_s']:.2f} rows/s | {line['seconds']:.0f} s | "
                   f"{greedy / line['rows_per_s']:.1f}x | {100 * line['runs']:.0f} % | {100 * line['EX']:.1f} % |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=24)
    parser.add_argument("--candidates", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=bench_quality.Plan.max_new_tokens)
    args = parser.parse_args(argv)
    started = time.monotonic()
    lines = measure(args.rows, args.candidates, args.rounds, args.max_new_tokens)
    table = summary(lines)
    result = {"plan": vars(args), "lines": lines, "table": table, "seconds": round(time.monotonic() - started),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    (RESULTS / "selection.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    text = markdown(args.rows, args.max_new_tokens, table)
    (RESULTS / "selection.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
