"""`python -m studio deploy`: create or update the studio's Hugging Face Space."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("deploy", help="create or update the studio as a Hugging Face Space (Docker)")
    parser.add_argument("--space", required=True, help="owner/name, or name in your namespace")
    parser.add_argument("--hardware", help="request Space hardware, e.g. t4-small, l4x1 (paid; default: as is)")
    parser.add_argument("--private", action="store_true", help="create the Space private (default: public)")
    parser.set_defaults(func=deploy)


def deploy(args) -> int:
    from studio.hub import deploy_space

    result = deploy_space(args.space, hardware=args.hardware, private=args.private)
    push = result.push
    print(f"{'deployed to' if push.changed else 'already up to date:'} {push.url}")
    print("secrets set: " + (", ".join(result.secrets) or "none (set HF_TOKEN / OPENAI_API_KEY to pass them)"))
    print(json.dumps({"space": push.repo_id, "url": push.url, "commit": push.commit, "changed": push.changed,
                      "secrets": list(result.secrets), "variables": result.variables,
                      "hardware": result.hardware}))
    return 0
