"""`python -m studio models list|prepare`: the built-in models and their one-time conversion."""

from __future__ import annotations

import json
import time

from studio.models import BUILTIN_MODELS, builtin_path, resolve_model
from studio.settings import DEFAULT_MODEL, load_settings


def register(subparsers) -> None:
    parser = subparsers.add_parser("models", help="list built-in models; prepare (convert) one for offline use")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="built-in models and whether they are prepared").set_defaults(func=list_models)
    prepare = actions.add_parser("prepare", help="resolve a model reference, converting a built-in one once")
    prepare.add_argument("model", nargs="?", default=DEFAULT_MODEL, help=f"default: {DEFAULT_MODEL}")
    prepare.set_defaults(func=prepare_model)


def list_models(args) -> int:
    settings = load_settings()
    for model in BUILTIN_MODELS.values():
        state = "prepared" if builtin_path(model, settings).is_dir() else "not prepared yet"
        print(f"{model.name}\t{state}\t{model.description}")
    return 0


def prepare_model(args) -> int:
    started = time.perf_counter()
    path = resolve_model(args.model)
    print(json.dumps({"model": args.model, "path": str(path), "seconds": round(time.perf_counter() - started, 1)}))
    return 0
