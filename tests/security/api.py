"""Gradio's HTTP API as an attacker uses it: plain requests (sign-in cookie, /gradio_api/call, uploads),
every response body kept whole, so a leaked secret or path anywhere in it is seen."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.security.corpus import SECRETS


@dataclass
class Outcome:
    """What one call came back with: the outputs, or the error a user would read (None: no message)."""

    ok: bool
    data: Any = None
    error: str | None = None
    status: int = 200
    body: str = ""

    def __str__(self) -> str:
        return f"ok={self.ok} status={self.status} error={self.error!r} data={str(self.data)[:300]}"


class Caller:
    """One browser session against the app: signed in as `login` (user, password), or anonymous."""

    def __init__(self, url: str, login: tuple[str, str] | None = None, language: str = "en-US"):
        self.url = url.rstrip("/") + "/"
        self.http = httpx.Client(base_url=self.url, headers={"Accept-Language": language}, timeout=120)
        self.session_hash = uuid.uuid4().hex  # gr.State (the Data tab's loaded rows) lives per session
        self.user = login[0] if login else None
        if login:
            response = self.http.post("login", data={"username": login[0], "password": login[1]})
            assert response.status_code == 200, response.text

    def close(self) -> None:
        self.http.close()

    def get(self, path: str) -> httpx.Response:
        return self._checked(self.http.get(path))

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self._checked(self.http.post(path, **kwargs))

    def call(self, api_name: str, *data) -> Outcome:
        """Call a named endpoint as a browser would, through Gradio's queue; wait for its last event."""
        name = api_name.strip("/")
        body = {"data": list(data), "session_hash": self.session_hash}
        started = self.post(f"gradio_api/call/{name}", json=body)
        if started.status_code != 200:
            return Outcome(ok=False, status=started.status_code, body=started.text, error=started.text)
        event_id = started.json()["event_id"]
        stream = self.get(f"gradio_api/call/{name}/{event_id}")
        return _last_event(stream.text, stream.status_code)

    def upload(self, path: Path) -> dict:
        """Upload a file as the page does; returns the FileData to pass to an endpoint."""
        response = self.post("gradio_api/upload", files={"files": (path.name, path.read_bytes())})
        assert response.status_code == 200, response.text
        return {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}

    def _checked(self, response: httpx.Response) -> httpx.Response:
        """Every body, whole, is searched for the deployment's secrets."""
        text = response.text
        leaked = [secret for secret in SECRETS if secret in text]
        assert not leaked, f"a response of {response.request.url} holds a secret"
        return response


def _last_event(text: str, status: int) -> Outcome:
    """The final `complete` or `error` event of a /gradio_api/call stream."""
    event, outcome = None, Outcome(ok=False, status=status, body=text, error="no final event")
    for line in text.splitlines():
        if line.startswith("event: "):
            event = line[len("event: "):].strip()
        elif line.startswith("data: ") and event in ("complete", "error"):
            payload = json.loads(line[len("data: "):])
            if event == "complete":
                outcome = Outcome(ok=True, data=payload, status=status, body=text)
            else:
                message = payload.get("error") if isinstance(payload, dict) else payload
                outcome = Outcome(ok=False, error=message, status=status, body=text)
    return outcome
