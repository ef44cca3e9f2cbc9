"""Serving a run elsewhere, measured on this machine: evaluation through a real OpenAI-compatible server
(`transformers serve`) next to the built-in engine, and a GGUF Q8_0 export's EX next to the run's own.

    python benchmarks/bench_serving.py [--home STUDIO_HOME --run RUN --dataset VERSION] [--rows N]

Without --run it measures the offline default model alone (no export), in the default STUDIO_HOME on the
bundled sample's version. Both engines decode greedily and freely (a server has no schema grammar), so the
agreement rate is the share of held-out rows on which the two wrote the same SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "results" / "serving.json"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.home:
        os.environ["STUDIO_HOME"] = str(Path(args.home).resolve())
    from studio.data.prepare import PrepareOptions, prepare_dataset
    from studio.evaluate import base_candidate, run_candidate
    from studio.models import resolve_model
    from studio.settings import DEFAULT_MODEL

    dataset = args.dataset or prepare_dataset("sample", PrepareOptions(name="bench-serving")).id
    if args.run:
        candidate, folder = run_candidate(args.run), None
    else:
        candidate, folder = base_candidate(DEFAULT_MODEL), resolve_model(DEFAULT_MODEL)
    engines = compare_engines(candidate, folder, dataset, args.rows, args.concurrency)
    exported = export_check(args.run, dataset, args.rows) if args.run else None
    write(engines, exported, candidate.label, dataset, args)
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", help="a STUDIO_HOME holding --run and --dataset")
    parser.add_argument("--run", help="a run: served merged, and exported to GGUF Q8_0")
    parser.add_argument("--dataset", help="the version whose held-out rows are evaluated")
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_SERVING_ROWS", "48")))
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight to the server")
    return parser.parse_args(argv)


def compare_engines(candidate, folder: Path | None, dataset: str, rows: int, concurrency: int) -> dict:
    """The same held-out prompts through the built-in engine and through `transformers serve` on the same
    weights (a run's merged folder): rows/s each, and how often they wrote the same SQL."""
    from studio.evaluate import EvalOptions, eval_set_from_version, evaluate, server_candidate
    from studio.export import model_folder
    from studio.export.check import same_sql_share
    from studio.export.serve import TransformersServer
    from studio.server_engine import ServerConfig
    from studio.settings import load_settings

    settings = load_settings()
    eval_set = eval_set_from_version(dataset, settings)
    options = EvalOptions(mode="execution", limit=rows, constrained=False)
    if folder is None:  # a run: served as its merged weights (fp32, as the built-in engine computes)
        folder = model_folder(candidate.label, candidate.base_model, candidate.adapter, "float32", settings)
    server_label = f"{candidate.label} (transformers serve)"
    forget_answers(settings, candidate.label, f"server:{server_label}")  # both generate now: timed fairly
    started = time.perf_counter()
    own = evaluate(candidate, eval_set, options, settings=settings)
    own_s = time.perf_counter() - started
    with TransformersServer(folder) as server:
        config = ServerConfig((server.base_url,), server.model, concurrency=concurrency, name=server_label)
        started = time.perf_counter()
        served = evaluate(server_candidate(config), eval_set, options, settings=settings)
        served_s = time.perf_counter() - started
    return {"rows": own.summary.total, "built_in_s": round(own_s, 1), "server_s": round(served_s, 1),
            "built_in_rows_per_s": round(own.summary.total / own_s, 3),
            "server_rows_per_s": round(served.summary.total / served_s, 3),
            "agreement": round(same_sql_share(own.rows, served.rows), 4),
            "built_in_ex": own.summary.ex_score, "server_ex": served.summary.ex_score}


def forget_answers(settings, *labels: str) -> None:
    from studio import registry

    with registry.session(settings.registry_path) as db:
        db.executemany("DELETE FROM generations WHERE candidate = ?", [(label,) for label in labels])


def export_check(run: str, dataset: str, rows: int) -> dict:
    from studio.export import export_run
    from studio.export.check import check_export
    from transformers import AutoModelForCausalLM

    done = export_run(run, "gguf", gguf_type="q8_0")
    gguf = done.files[0]
    started = time.perf_counter()
    AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    load_s = time.perf_counter() - started
    checked = check_export(run, gguf, dataset, limit=rows)
    return {**checked.to_dict(), "export_s": round(done.seconds, 1), "bytes": gguf.stat().st_size,
            "load_s": round(load_s, 1)}


def write(engines: dict, exported: dict | None, label: str, dataset: str, args) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    ratio = engines["server_rows_per_s"] / engines["built_in_rows_per_s"]
    table = [
        {"benchmark": "serving", "measure": f"evaluation through transformers serve vs the built-in engine ({label})",
         "value": round(ratio, 2), "unit": "x rows/s",
         "note": f"{engines['server_rows_per_s']} vs {engines['built_in_rows_per_s']} rows/s, {engines['rows']} "
                 f"held-out rows, {args.concurrency} requests in flight, {machine}"},
        {"benchmark": "serving", "measure": "same SQL as the built-in engine (greedy, free decoding)",
         "value": round(100 * engines["agreement"], 1), "unit": "%", "note": f"{engines['rows']} rows of {dataset}"},
    ]
    if exported:
        table += [
            {"benchmark": "serving", "measure": f"GGUF Q8_0 EX vs the run's own ({exported['run']})",
             "value": round(100 * (exported["gguf_ex"] - exported["run_ex"]), 1), "unit": "points",
             "note": f"{100 * exported['gguf_ex']:.1f} % vs {100 * exported['run_ex']:.1f} % on {exported['rows']} "
                     f"rows; same SQL on {100 * exported['same_sql']:.1f} %"},
            {"benchmark": "serving", "measure": "GGUF Q8_0 file size / load time (transformers)",
             "value": round(exported["bytes"] / 1e6), "unit": "MB",
             "note": f"loads (de-quantized) in {exported['load_s']} s; written in {exported['export_s']} s"},
        ]
    result = {"machine": machine, "candidate": label, "dataset": dataset, "engines": engines, "export": exported,
              "table": table}
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(table, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
