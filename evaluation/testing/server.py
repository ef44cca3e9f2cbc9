"""A FastAPI app served by uvicorn in a background thread on 127.0.0.1: the base of the local stand-ins
for services these machines cannot reach (the OpenAI API here, the Hugging Face Hub in studio.testing)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Self

import uvicorn
from fastapi import FastAPI


class LocalServer:
    """Subclasses set `self.app` (and `self.port` to pin one) in `__init__`; `with Server() as s:` runs it."""

    name = "local server"
    app: FastAPI
    port: int | None = None
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Self:
        sock = socket.socket()
        sock.bind(("127.0.0.1", self.port or 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
