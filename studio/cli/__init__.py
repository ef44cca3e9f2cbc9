"""`python -m studio`: one CLI, one module per subcommand group (each exposes `register(subparsers)`).

Every subcommand sets `func(args) -> int`. A `StudioError` becomes `error: <message>` on stderr with exit
code 2; anything unexpected is reported in one line too (set STUDIO_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from studio.errors import StudioError

# Subcommand groups, in the order `--help` lists them: module name under studio.cli.
COMMAND_MODULES = ("serve", "data", "train", "runs", "eval", "infer", "models", "push", "export", "deploy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m studio", description="Text2SQL LoRA Studio: data, training, inference, evaluation."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"studio.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into one line
        if os.environ.get("STUDIO_DEBUG"):
            raise
        print(f"error: unexpected failure ({type(exc).__name__}: {exc}); STUDIO_DEBUG=1 shows details",
              file=sys.stderr)
        return 1
