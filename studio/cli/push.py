"""`python -m studio push`: push a run's adapter (or the merged model) to the Hugging Face Hub."""

from __future__ import annotations

import json
from pathlib import Path

from studio.errors import StudioError


def register(subparsers) -> None:
    parser = subparsers.add_parser("push", help="push a run's adapter (or merged model) to the Hub, with a model card")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="a run name or id (python -m studio runs list)")
    source.add_argument("--adapter", type=Path, help="any LoRA adapter folder")
    parser.add_argument("--repo", help="owner/name, or name in your namespace (default: from the run name)")
    parser.add_argument("--public", action="store_true", help="create the repo public (default: private)")
    parser.add_argument("--merged", action="store_true",
                        help="push the base model with the adapter merged in (fp16) instead of the adapter")
    parser.add_argument("--eval", type=Path, metavar="SUMMARY.json",
                        help="an evaluation summary (ex_score, judge_score, ...) for the card and the repo")
    parser.add_argument("--base-model", help="with --adapter: the base model (default: the one it names)")
    parser.set_defaults(func=push)


def push(args) -> int:
    from studio.hub import push_results_now, push_run
    from studio.training.publish import push_registered_run

    evaluation = _read_json(args.eval) if args.eval else None
    options = {"private": not args.public, "merged": args.merged}
    if args.run:
        result = push_registered_run(args.run, args.repo, evaluation=evaluation, **options)
        push_results_now()  # the leaderboard links the run's repo now; a failure there is only logged
    else:
        result = push_run(_adapter_source(args, evaluation), args.repo, **options)
    print(f"{'pushed to' if result.changed else 'already up to date:'} {result.url}")
    print(json.dumps({"repo": result.repo_id, "url": result.url, "commit": result.commit,
                      "changed": result.changed}))
    return 0


def _adapter_source(args, evaluation):
    from studio.hub import PushSource
    from studio.models import adapter_base_model, resolve_adapter

    folder = resolve_adapter(str(args.adapter))
    base = args.base_model or adapter_base_model(folder)
    if not base:
        raise StudioError(f"{folder} names no base model: give --base-model")
    return PushSource(folder=folder, name=folder.name, base_model=base, evaluation=evaluation)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StudioError(f"cannot read the evaluation summary {path}: {exc}") from None
