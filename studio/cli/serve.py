"""`python -m studio serve`: start the web app."""

from __future__ import annotations

from studio.settings import DEFAULT_HOST, DEFAULT_PORT


def register(subparsers) -> None:
    parser = subparsers.add_parser("serve", help="start the web app (Gradio)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (needs internet)")
    parser.set_defaults(func=serve)


def serve(args) -> int:
    from studio import access

    access.configure(args.host, args.share)  # refuses to expose the app without sign-in, before Gradio loads
    from studio.ui.app import launch  # the only CLI path that imports Gradio

    launch(host=args.host, port=args.port, share=args.share)
    return 0
