"""`transformers serve` on a local model folder, on 127.0.0.1, offline, on the CPU: the OpenAI-compatible server
the export check evaluates a GGUF through (studio.export.check), and tests and benchmarks use. Its model id is
the folder's path (what requests name as `model`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


class TransformersServer:
    """`transformers serve <folder>` in a process of its own; use as a context manager."""

    def __init__(self, folder: Path, startup_timeout_s: float = 180.0):
        self.folder = Path(folder)
        self.model = str(self.folder)
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.startup_timeout_s = startup_timeout_s
        self._cache = tempfile.TemporaryDirectory(prefix="hf-cache-")  # /v1/models answers 500 without one
        self._log = tempfile.TemporaryFile()
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> TransformersServer:
        executable = Path(sys.executable).with_name("transformers")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": self._cache.name}
        self._process = subprocess.Popen(
            [str(executable), "serve", self.model, "--host", "127.0.0.1", "--port", str(self.port),
             "--device", "cpu"], stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._wait_until_up()
        return self

    def __exit__(self, *exc) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        self._cache.cleanup()

    def log_tail(self, chars: int = 3000) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-chars:]

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"transformers serve exited ({self._process.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"transformers serve did not answer within {self.startup_timeout_s:.0f} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
