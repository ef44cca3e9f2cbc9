"""The studio's app served in a test: the whole UI on a free port of 127.0.0.1, closed afterwards."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@contextmanager
def served_app(queue_options: dict | None = None, **launch_options) -> Iterator[str]:
    """Build and launch the app (as `launch` does, minus the worker; sign-in only through `launch_options`,
    e.g. auth=...); yields its URL."""
    from studio.ui.app import build_app
    from studio.ui.i18n import I18N

    demo = build_app()
    demo.queue(**(queue_options or {}))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, i18n=I18N, quiet=True,
                **launch_options)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
