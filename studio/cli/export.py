"""`python -m studio export RUN --format merged|gguf|ollama`: a run as files other engines load, and with
`--check DATASET` the exported GGUF's held-out EX through a real server next to the run's own."""

from __future__ import annotations

import json
import sys

from studio.errors import StudioError
from studio.export import FORMATS, export_run
from studio.export.gguf import KINDS
from studio.export.merged import DTYPES


def register(subparsers) -> None:
    parser = subparsers.add_parser("export", help="export a run: merged model, GGUF (llama.cpp), Ollama Modelfile")
    parser.add_argument("run", help="the run's name")
    parser.add_argument("--format", choices=FORMATS, default="gguf",
                        help="merged: a model folder (vLLM, TGI, transformers); gguf: one file for llama.cpp; "
                             "ollama: the GGUF and a Modelfile with the book's prompt")
    parser.add_argument("--type", choices=tuple(KINDS), default="q8_0", dest="gguf_type", help="the GGUF's type")
    parser.add_argument("--dtype", choices=DTYPES, default="float16", help="the merged folder's precision")
    parser.add_argument("--check", metavar="DATASET",
                        help="then evaluate the GGUF on this version's held-out rows through transformers serve, "
                             "next to the run itself (execution match, greedy, free decoding)")
    parser.add_argument("--limit", type=int, help="with --check: only the first N rows")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.set_defaults(func=run_export)


def run_export(args) -> int:
    if args.check and args.format == "merged":
        raise StudioError("--check evaluates a GGUF: use it with --format gguf or ollama")
    done = export_run(args.run, args.format, gguf_type=args.gguf_type, dtype=args.dtype, progress=_print_progress)
    print(json.dumps(done.to_dict(), ensure_ascii=False))
    if args.check:
        from studio.export.check import check_export

        checked = check_export(args.run, done.files[0], args.check, limit=args.limit,
                               max_new_tokens=args.max_new_tokens, progress=_print_progress)
        print(json.dumps(checked.to_dict(), ensure_ascii=False))
    return 0


def _print_progress(stage: str, done: int, total: int) -> None:
    print(f"\r{stage}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)
