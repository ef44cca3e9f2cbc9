"""An in-memory stand-in for the Hugging Face Hub's HTTP API on 127.0.0.1, for tests of the real client.

The Hub cannot be reached from development machines and no emulator on PyPI works with huggingface_hub 2.x,
so this server answers the part of the API the studio uses, the way the Hub does: whoami, repo creation,
preupload + NDJSON commit (every file "regular", sent inline), repo info, the file tree, downloads
(`resolve`), repo deletion, and a Space's secrets, variables, hardware, sleep time, runtime stage, run log
(server-sent events, as `fetch_space_logs` reads them), pause and restart. A Space's stage moves only when
a test says so (`set_space_stage`), its app logs only what a test writes (`write_space_log`), and
`put_files` commits what a job on a Space would push, so a test can play the Space's part. Like the Hub it
checks tokens: an unknown token gets 401, a read token or another user's namespace 403, and a private repo
is invisible (404) to anyone else.
Every request is recorded (method, path, user, JSON body) for tests to assert on.

    with HubStandin() as hub:
        token = hub.add_user("alice")
        HfApi(endpoint=hub.endpoint, token=token).create_repo("alice/demo")

Run it alone with `python -m studio.testing.hub_standin --port 8012 --user alice:hf_alice`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from evaluation.testing.server import LocalServer

KINDS = {"models": "model", "datasets": "dataset", "spaces": "space"}  # URL segment -> repo type
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\n"


def git_blob_id(content: bytes) -> str:
    """The git object id of a file, which the Hub reports as a regular file's `oid` and ETag."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    role: str = "write"  # "read": may read private repos of its namespaces, never create or commit
    orgs: tuple[str, ...] = ()

    def owns(self, namespace: str) -> bool:
        return namespace in (self.name, *self.orgs)


@dataclass(frozen=True)
class Commit:
    oid: str
    title: str
    files: dict[str, bytes]  # the whole tree at this commit
    changed: tuple[str, ...] = ()  # the paths this commit added, replaced or deleted


@dataclass
class StoredRepo:
    repo_type: str
    repo_id: str
    private: bool
    commits: list[Commit]
    sdk: str | None = None
    hardware: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    stage: str = "BUILDING"  # a Space's runtime stage; tests move it (set_space_stage) as the Hub would
    error_message: str | None = None  # the Hub's errorMessage for BUILD_ERROR / RUNTIME_ERROR
    sleep_time: int | None = None
    run_log: list[dict] = field(default_factory=list)  # the Space app's output: {"data", "timestamp"} events

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/")[0]

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def at(self, revision: str) -> Commit | None:
        if revision in ("main", "HEAD"):
            return self.head
        return next((c for c in self.commits if c.oid.startswith(revision) and len(revision) >= 7), None)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    user: str | None
    body: dict | list | None


class HubError(Exception):
    """An error answered the Hub's way: JSON `error` plus the X-Error-Code/-Message headers the client reads."""

    def __init__(self, status: int, message: str, code: str | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


class HubStandin(LocalServer):
    """The server; `with HubStandin() as hub:` runs it on a free port in a background thread."""

    name = "Hub stand-in"

    def __init__(self):
        self.repos: dict[tuple[str, str], StoredRepo] = {}
        self.requests: list[RecordedRequest] = []
        self.port: int | None = None
        self._tokens: dict[str, User] = {}
        self._lock = threading.Lock()
        self.app = self._build_app()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_user(self, name: str, *, token: str | None = None, role: str = "write",
                 orgs: tuple[str, ...] = ()) -> str:
        """Register a user; returns its token."""
        token = token or f"hf_standin_{name}_{role}"
        self._tokens[token] = User(name, role, orgs)
        return token

    def repo(self, repo_id: str, repo_type: str = "model") -> StoredRepo:
        return self.repos[(repo_type, repo_id)]

    def calls(self, method: str, path_part: str = "") -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    # --- what happens on the Hub without a client call (tests drive it) -----------------------------

    def set_space_stage(self, space_id: str, stage: str, error: str | None = None) -> None:
        """Move a Space to `stage` (RUNNING, RUNTIME_ERROR, PAUSED, ...) as its build and app would; `error`
        is the Hub's errorMessage for a failed build or run."""
        with self._lock:
            repo = self.repo(space_id, "space")
            repo.stage, repo.error_message = stage, error

    def write_space_log(self, space_id: str, *lines: str) -> None:
        """What the Space's app prints (one event a line), as its run log shows it."""
        with self._lock:
            repo = self.repo(space_id, "space")
            for line in lines:
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the Hub's form
                repo.run_log.append({"data": line, "timestamp": stamp})

    def put_files(self, repo_id: str, files: dict[str, bytes], *, repo_type: str = "model",
                  private: bool = True, title: str = "Upload folder using huggingface_hub") -> str:
        """Commit `files`, creating the repo if needed, the way a job on a Space pushes its result
        (AutoTrain: create_repo(private=True, exist_ok=True), then upload_folder). Returns the commit id."""
        with self._lock:
            repo = self.repos.get((repo_type, repo_id))
            if repo is None:
                first = _commit(None, "initial commit", {".gitattributes": GITATTRIBUTES})
                repo = self.repos[(repo_type, repo_id)] = StoredRepo(repo_type, repo_id, private, [first])
            commit = _commit(repo.head.oid, title, {**repo.head.files, **files}, tuple(sorted(files)))
            repo.commits.append(commit)
        return commit.oid

    # --- lifecycle ----------------------------------------------------------------------------------

    # --- behaviour ----------------------------------------------------------------------------------

    def _user(self, request: Request) -> User | None:
        header = request.headers.get("authorization", "")
        if not header:
            return None
        user = self._tokens.get(header.removeprefix("Bearer ").strip())
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return user

    def _readable(self, repo_type: str, repo_id: str, user: User | None) -> StoredRepo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not (user and user.owns(repo.namespace))):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _writable(self, repo_type: str, repo_id: str, user: User | None) -> StoredRepo:
        if user is None:
            raise HubError(401, "You must be authenticated to write to a repository")
        repo = self._readable(repo_type, repo_id, user)
        if user.role != "write" or not user.owns(repo.namespace):
            raise HubError(403, f"You don't have the rights to write to {repo_id}")
        return repo

    def create_repo(self, body: dict, user: User | None) -> dict:
        if user is None:
            raise HubError(401, "You must be authenticated to create a repository")
        namespace = body.get("organization") or user.name
        repo_type = body.get("type") or "model"
        repo_id = f"{namespace}/{body['name']}"
        if user.role != "write" or not user.owns(namespace):
            raise HubError(403, f"You don't have the rights to create a {repo_type} under the namespace {namespace}")
        if repo_type == "space" and not body.get("sdk"):
            raise HubError(400, "a Space needs an sdk")
        url = f"{self.endpoint}/{URL_PREFIX[repo_type]}{repo_id}"
        with self._lock:
            if (repo_type, repo_id) in self.repos:  # the Hub's 409 names the existing repo's URL
                raise HubError(409, f"You already created this {repo_type} repo", url=url)
            first = _commit(None, "initial commit", {".gitattributes": GITATTRIBUTES})
            self.repos[(repo_type, repo_id)] = StoredRepo(
                repo_type, repo_id, private=_is_private(body), commits=[first], sdk=body.get("sdk"),
                hardware=body.get("hardware"),
                secrets={s["key"]: s["value"] for s in body.get("secrets") or []},
                variables={v["key"]: v["value"] for v in body.get("variables") or []},
            )
        return {"url": url, "name": repo_id}

    def preupload(self, repo: StoredRepo, revision: str, body: dict) -> dict:
        tree = self._commit_at(repo, revision).files
        return {"files": [
            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
             "oid": git_blob_id(tree[f["path"]]) if f["path"] in tree else None}
            for f in body["files"]
        ]}

    def commit(self, repo: StoredRepo, revision: str, lines: list[dict]) -> dict:
        if revision != "main":
            raise HubError(400, "the stand-in commits to main only")
        header = lines[0]["value"] if lines and lines[0]["key"] == "header" else {}
        with self._lock:
            files = dict(repo.head.files)
            for line in lines[1:]:
                _apply(files, line["key"], line["value"])
            changed = tuple(line["value"]["path"] for line in lines[1:])
            commit = _commit(repo.head.oid, header.get("summary", ""), files, changed)
            repo.commits.append(commit)
        url = f"{self.endpoint}/{URL_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{commit.oid}"
        return {"success": True, "commitOid": commit.oid, "commitUrl": url}

    def _commit_at(self, repo: StoredRepo, revision: str) -> Commit:
        commit = repo.at(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    def info(self, repo: StoredRepo, revision: str) -> dict:
        commit = self._commit_at(repo, revision)
        data = {
            "id": repo.repo_id, "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "author": repo.namespace, "sha": commit.oid, "private": repo.private, "disabled": False,
            "gated": False, "tags": [], "downloads": 0, "likes": 0,
            "createdAt": "2026-01-01T00:00:00.000Z", "lastModified": "2026-01-01T00:00:00.000Z",
            "siblings": [{"rfilename": path} for path in sorted(commit.files)],
        }
        if repo.repo_type == "space":
            data.update(sdk=repo.sdk, runtime=self.runtime(repo))
        return data

    @staticmethod
    def runtime(repo: StoredRepo) -> dict:
        current = repo.hardware if repo.stage.startswith("RUNNING") else None  # the Hub's: only while it runs
        runtime = {"stage": repo.stage, "hardware": {"current": current, "requested": repo.hardware},
                   "storage": None, "gcTimeout": repo.sleep_time}
        return {**runtime, "errorMessage": repo.error_message} if repo.error_message else runtime

    def _update_space(self, space_id: str, request: Request, **changes) -> dict:
        """The owner changes a Space (sleep time, pause, restart); the answer is its runtime, as on the Hub."""
        repo = self._writable("space", space_id, self._user(request))
        with self._lock:
            for key, value in changes.items():
                setattr(repo, key, value)
        return self.runtime(repo)

    def tree(self, repo: StoredRepo, revision: str, prefix: str) -> list[dict]:
        files = self._commit_at(repo, revision).files
        prefix = prefix.strip("/")
        return [
            {"type": "file", "oid": git_blob_id(content), "size": len(content), "path": path}
            for path, content in sorted(files.items())
            if not prefix or path.startswith(prefix + "/")
        ]

    # --- HTTP ---------------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.exception_handler(HubError)
        async def hub_error(request: Request, exc: HubError):
            headers = {"X-Error-Message": exc.message, **({"X-Error-Code": exc.code} if exc.code else {})}
            return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status, headers=headers)

        @app.middleware("http")
        async def record(request: Request, call_next):
            body = await request.body()
            try:
                user = self._user(request)
            except HubError:
                user = None
            with self._lock:
                self.requests.append(RecordedRequest(request.method, request.url.path,
                                                     user.name if user else None, _json_or_none(body)))
            return await call_next(request)

        @app.get("/api/whoami-v2")
        async def whoami(request: Request):
            user = self._user(request)
            if user is None:
                raise HubError(401, "Invalid credentials in Authorization header")
            return {
                "type": "user", "id": hashlib.md5(user.name.encode()).hexdigest()[:24], "name": user.name,
                "fullname": user.name.title(), "email": None, "avatarUrl": "", "isPro": False,
                "orgs": [{"type": "org", "name": org, "roleInOrg": "write"} for org in user.orgs],
                "auth": {"type": "access_token", "accessToken": {"displayName": "standin", "role": user.role}},
            }

        @app.post("/api/repos/create")
        async def create(request: Request):
            return self.create_repo(await request.json(), self._user(request))

        @app.post("/api/validate-yaml")
        async def validate_yaml(request: Request):
            return {"errors": [], "warnings": []}

        @app.get("/api/{kind}/{owner}/{name}")
        @app.get("/api/{kind}/{owner}/{name}/revision/{revision}")
        async def repo_info(kind: str, owner: str, name: str, request: Request, revision: str = "main"):
            return self.info(self._readable(_type(kind), f"{owner}/{name}", self._user(request)), revision)

        @app.get("/api/{kind}/{owner}/{name}/tree/{revision}")
        @app.get("/api/{kind}/{owner}/{name}/tree/{revision}/{path:path}")
        async def tree(kind: str, owner: str, name: str, revision: str, request: Request, path: str = ""):
            repo = self._readable(_type(kind), f"{owner}/{name}", self._user(request))
            return self.tree(repo, revision, path)

        @app.post("/api/{kind}/{owner}/{name}/preupload/{revision}")
        async def preupload(kind: str, owner: str, name: str, revision: str, request: Request):
            repo = self._writable(_type(kind), f"{owner}/{name}", self._user(request))
            return self.preupload(repo, revision, await request.json())

        @app.post("/api/{kind}/{owner}/{name}/commit/{revision}")
        async def commit(kind: str, owner: str, name: str, revision: str, request: Request):
            repo = self._writable(_type(kind), f"{owner}/{name}", self._user(request))
            lines = [json.loads(line) for line in (await request.body()).splitlines() if line.strip()]
            return self.commit(repo, revision, lines)

        @app.post("/api/spaces/{owner}/{name}/secrets")
        async def add_secret(owner: str, name: str, request: Request):
            repo = self._writable("space", f"{owner}/{name}", self._user(request))
            body = await request.json()
            repo.secrets[body["key"]] = body["value"]
            return {}

        @app.post("/api/spaces/{owner}/{name}/variables")
        async def add_variable(owner: str, name: str, request: Request):
            repo = self._writable("space", f"{owner}/{name}", self._user(request))
            body = await request.json()
            repo.variables[body["key"]] = body["value"]
            return {key: {"value": value} for key, value in repo.variables.items()}

        @app.post("/api/spaces/{owner}/{name}/hardware")
        async def hardware(owner: str, name: str, request: Request):
            repo = self._writable("space", f"{owner}/{name}", self._user(request))
            repo.hardware = (await request.json())["flavor"]
            return self.runtime(repo)

        @app.get("/api/spaces/{owner}/{name}/runtime")
        async def space_runtime(owner: str, name: str, request: Request):
            return self.runtime(self._readable("space", f"{owner}/{name}", self._user(request)))

        @app.get("/api/spaces/{owner}/{name}/logs/{kind}")
        async def space_logs(owner: str, name: str, kind: str, request: Request):
            # The Hub replays the buffered log as server-sent events; this one then ends the stream (the
            # client's no-follow read stops there, as it stops at the Hub's first newer event).
            repo = self._readable("space", f"{owner}/{name}", self._user(request))
            events = list(repo.run_log) if kind == "run" else []
            body = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
            return StreamingResponse(iter([body.encode()]), media_type="text/event-stream")

        @app.post("/api/spaces/{owner}/{name}/sleeptime")
        async def space_sleep_time(owner: str, name: str, request: Request):
            seconds = (await request.json())["seconds"]
            return self._update_space(f"{owner}/{name}", request, sleep_time=seconds)

        @app.post("/api/spaces/{owner}/{name}/pause")
        async def pause_space(owner: str, name: str, request: Request):
            return self._update_space(f"{owner}/{name}", request, stage="PAUSED", error_message=None)

        @app.post("/api/spaces/{owner}/{name}/restart")
        async def restart_space(owner: str, name: str, request: Request):
            # The Hub rebuilds the Space, then starts it: a new container, a new log.
            repo = self._writable("space", f"{owner}/{name}", self._user(request))
            repo.run_log.clear()
            return self._update_space(f"{owner}/{name}", request, stage="BUILDING", error_message=None)

        @app.delete("/api/repos/delete")
        async def delete_repo(request: Request):
            body, user = await request.json(), self._user(request)
            namespace = body.get("organization") or (user.name if user else "")
            repo = self._writable(body.get("type") or "model", f"{namespace}/{body['name']}", user)
            with self._lock:
                del self.repos[(repo.repo_type, repo.repo_id)]
            return {}

        @app.post("/_standin/spaces/{owner}/{name}/stage")
        async def drive_space_stage(owner: str, name: str, request: Request):
            # Not the Hub's API: moves a Space's stage when the stand-in runs alone (tests in the same
            # process call set_space_stage).
            if ("space", f"{owner}/{name}") not in self.repos:
                raise HubError(404, "Repository not found", "RepoNotFound")
            body = await request.json()
            self.set_space_stage(f"{owner}/{name}", body["stage"], body.get("error"))
            return self.runtime(self.repo(f"{owner}/{name}", "space"))

        @app.api_route("/{owner}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
        async def resolve_model(owner: str, name: str, revision: str, path: str, request: Request):
            return self._download("model", f"{owner}/{name}", revision, path, request)

        @app.api_route("/{kind}/{owner}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
        async def resolve_other(kind: str, owner: str, name: str, revision: str, path: str, request: Request):
            return self._download(_type(kind), f"{owner}/{name}", revision, path, request)

        return app

    def _download(self, repo_type: str, repo_id: str, revision: str, path: str, request: Request) -> Response:
        repo = self._readable(repo_type, repo_id, self._user(request))
        commit = self._commit_at(repo, revision)
        if path not in commit.files:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        content = commit.files[path]
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{git_blob_id(content)}"',
                   "Content-Length": str(len(content))}
        if request.method == "HEAD":
            return Response(status_code=200, headers=headers)
        return Response(content, headers=headers, media_type="application/octet-stream")


def _type(kind: str) -> str:
    if kind not in KINDS:
        raise HubError(404, f"unknown repo kind {kind}")
    return KINDS[kind]


def _is_private(body: dict) -> bool:
    if "visibility" in body:
        return body["visibility"] != "public"
    return bool(body.get("private", False))


def _commit(parent: str | None, title: str, files: dict[str, bytes], changed: tuple[str, ...] = ()) -> Commit:
    digest = hashlib.sha1((parent or "").encode() + title.encode())
    for path in sorted(files):
        digest.update(path.encode() + git_blob_id(files[path]).encode())
    return Commit(digest.hexdigest(), title, files, changed)


def _apply(files: dict[str, bytes], key: str, value: dict) -> None:
    """One NDJSON operation of a commit."""
    path = value["path"]
    if key == "file":
        files[path] = base64.b64decode(value["content"]) if value.get("encoding") == "base64" else \
            value["content"].encode()
    elif key == "deletedFile":
        if files.pop(path, None) is None:
            raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
    elif key == "deletedFolder":
        for name in [p for p in files if p.startswith(path.rstrip("/") + "/")]:
            del files[name]
    else:  # lfsFile, copies: the stand-in answers "regular" at preupload, so a client never sends these
        raise HubError(400, f"the stand-in does not support {key!r} operations")


def _json_or_none(body: bytes) -> dict | list | None:
    try:
        return json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None  # NDJSON commits and binary bodies are not recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8012)
    parser.add_argument("--user", action="append", default=[], metavar="NAME:TOKEN",
                        help="a user with write access and its token (repeatable)")
    args = parser.parse_args()
    hub = HubStandin()
    for entry in args.user:
        name, _, token = entry.partition(":")
        hub.add_user(name, token=token or None)
    hub.port = args.port
    with hub:
        print(f"Hub stand-in on {hub.endpoint} (Ctrl+C stops it)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
