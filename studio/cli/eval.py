"""`python -m studio eval`: generate with runs, Hub adapters and base models, score, store for the leaderboard
(and mirror it to STUDIO_RESULTS_REPO when that is set)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from studio.errors import StudioError
from studio.evaluate import (
    MAX_CANDIDATES,
    MODES,
    EvalOptions,
    base_candidate,
    eval_set_from_file,
    eval_set_from_version,
    estimate_judge_cost,
    evaluate,
    hub_candidate,
    open_judge,
    run_candidate,
    server_candidate,
)
from studio.server_engine import APIS, ServerConfig, server_from_fields
from studio.settings import load_settings


def register(subparsers) -> None:
    parser = subparsers.add_parser("eval", help="evaluate runs and base models on a held-out set")
    parser.add_argument("--run", action="append", default=[], help="a run name (repeat for several)")
    parser.add_argument("--hub", action="append", default=[], metavar="REPO",
                        help="a LoRA adapter (or merged model) on the Hub, owner/name; downloaded once (repeatable)")
    parser.add_argument("--base", action="append", default=[], help="a base model evaluated alone (repeatable)")
    parser.add_argument("--server-url", action="append", default=[], metavar="URL",
                        help="an OpenAI-compatible server's base URL, e.g. http://gpu-host:8000/v1 (vLLM, TGI, "
                             "llama.cpp, Ollama, transformers serve); repeat to spread the rows over several. The "
                             "key, if the server wants one, comes from STUDIO_SERVER_API_KEY")
    parser.add_argument("--server-model", help="the model the server serves (its id in /v1/models)")
    parser.add_argument("--server-api", choices=APIS, default="auto",
                        help="completions (the book's prompt as it is), chat, or auto: completions, else chat")
    parser.add_argument("--server-concurrency", type=int, default=ServerConfig.concurrency,
                        help="requests in flight per server")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="a prepared data set version: its held-out split is evaluated")
    source.add_argument("--file", type=Path, help="an evaluation file (CSV/JSONL/…; DDL-only unless --db-dir)")
    parser.add_argument("--db-dir", type=Path, help="databases for --file: DIR/<db_id>.sqlite")
    parser.add_argument("--mode", choices=MODES, default="hybrid")
    parser.add_argument("--free", action="store_true",
                        help="decode without the schema grammar (by default answers may only name the tables and "
                             "columns of each row's DDL); recorded as a different leaderboard row")
    parser.add_argument("--candidates", type=int, default=EvalOptions.candidates, metavar="N",
                        help="execution-guided selection: the greedy answer and N-1 sampled ones run on the "
                             "evaluation database, the answer most agree on is kept (default 1: off; at most "
                             f"{MAX_CANDIDATES}); recorded as a different leaderboard row")
    parser.add_argument("--judge-model", help="e.g. gpt-4-turbo-preview; the key comes from OPENAI_API_KEY")
    parser.add_argument("--judge-base-url", help="an OpenAI-compatible endpoint (default: OPENAI_BASE_URL or OpenAI)")
    parser.add_argument("--max-new-tokens", type=int, default=EvalOptions.max_new_tokens)
    parser.add_argument("--batch-size", type=int, default=EvalOptions.batch_size)
    parser.add_argument("--limit", type=int, help="evaluate only the first N rows")
    parser.add_argument("--estimate-only", action="store_true", help="print the judge cost estimate and stop")
    parser.set_defaults(func=run_eval)


def run_eval(args) -> int:
    settings = load_settings()
    candidates = ([run_candidate(name, settings) for name in args.run]
                  + [hub_candidate(repo, settings) for repo in args.hub] + [base_candidate(m) for m in args.base]
                  + _server_candidates(args))
    if not candidates:
        raise StudioError("nothing to evaluate: give --run RUN, --hub REPO, --base MODEL and/or --server-url URL "
                          "with --server-model MODEL")
    eval_set = eval_set_from_version(args.dataset, settings) if args.dataset else eval_set_from_file(args.file, args.db_dir)
    options = EvalOptions(mode=args.mode, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                          limit=args.limit, judge_model=args.judge_model, judge_base_url=args.judge_base_url,
                          constrained=not args.free, candidates=args.candidates)
    judge = open_judge(options, settings)
    if args.estimate_only:
        if judge is None:
            raise StudioError("--estimate-only needs --judge-model")
        print(json.dumps(estimate_judge_cost(eval_set, options, judge)))
        return 0
    for candidate in candidates:
        result = evaluate(candidate, eval_set, options, judge=judge, progress=_print_progress, settings=settings)
        summary = result.summary.to_dict()
        print(json.dumps({"evaluation": result.id, "candidate": candidate.label, "eval_set": eval_set.label,
                          "decoding": result.decoding,
                          "generated": result.new_generations, "generate_seconds": round(result.generate_seconds, 1),
                          "adapted_to": result.adapted_to, **summary}, ensure_ascii=False))
    _mirror(settings)
    return 0


def _server_candidates(args) -> list:
    config = server_from_fields(args.server_url, args.server_model, api=args.server_api,
                                concurrency=args.server_concurrency, key=os.environ.get("STUDIO_SERVER_API_KEY"))
    return [server_candidate(config)] if config else []


def _mirror(settings) -> None:
    from studio.hub import push_results_now

    if settings.results_repo and push_results_now(settings) is None:
        print(f"warning: the results could not be mirrored to {settings.results_repo} (see above); they are "
              "stored here and go with the next push", file=sys.stderr)


def _print_progress(stage: str, done: int, total: int) -> None:
    print(f"\r{stage}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)
