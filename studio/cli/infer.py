"""`python -m studio infer`: generate SQL for one question, with the book's prompt."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from studio.errors import StudioError
from studio.inference import GenerationOptions
from studio.settings import DEFAULT_MODEL
from studio.text2sql import ask


def register(subparsers) -> None:
    parser = subparsers.add_parser("infer", help="generate SQL for a question over a DDL file")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="built-in name, local folder or Hub id")
    parser.add_argument("--adapter", help="a run's name (it answers on the model it was trained on), or a LoRA adapter "
                        "to apply on --model: a folder or a Hub repo id")
    parser.add_argument("--ddl", required=True, type=Path, help="a file with the CREATE TABLE statements")
    parser.add_argument("--question", required=True, help="the question, e.g. in Korean")
    parser.add_argument("--max-new-tokens", type=int, default=GenerationOptions.max_new_tokens)
    parser.add_argument("--free", action="store_true",
                        help="decode without the schema grammar (by default the SQL may only name the DDL's "
                             "tables and columns)")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of the bare SQL")
    parser.set_defaults(func=infer)


def infer(args) -> int:
    answer = ask(args.model, _read_ddl(args.ddl), args.question, adapter=args.adapter,
                 generation=GenerationOptions(max_new_tokens=args.max_new_tokens,
                                                         constrained=not args.free))
    if args.json:
        fields = asdict(answer)
        fields.pop("prompt")
        print(json.dumps(fields, ensure_ascii=False))
    else:
        print(answer.sql)
    return 0


def _read_ddl(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise StudioError(f"DDL file not found: {path}") from None
    except UnicodeDecodeError:
        raise StudioError(f"DDL file is not UTF-8 text: {path}") from None
    except OSError as exc:
        raise StudioError(f"cannot read the DDL file {path}: {exc.strerror}") from None
