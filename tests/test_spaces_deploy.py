"""The Space: its Dockerfile builds what `make envs` builds, its card configures a Docker Space with OAuth, its
entry point refuses to serve without sign-in, and `deploy` makes the right calls against the stand-in Hub."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from studio.hub import deploy_space, space_files
from studio.settings import REPO_ROOT
from tests.test_hub_standin import ALICE, standin_hub

hub = pytest.fixture(standin_hub)

SPACES = REPO_ROOT / "spaces"


def ensure_env_kinds(text: str) -> list[str]:
    """The environments a Makefile or Dockerfile builds: the arguments of scripts/ensure_env.sh."""
    return re.findall(r"scripts/ensure_env\.sh (\w+)", text)


def requirement_files(kinds: list[str]) -> set[str]:
    """The requirement file ensure_env.sh installs for each kind (its `case` table)."""
    table = dict(re.findall(r'^\s*(\w+)\)\s+reqs="\$root/([\w.-]+)"', (REPO_ROOT / "scripts" / "ensure_env.sh")
                            .read_text(), re.MULTILINE))
    return {table[kind] for kind in kinds}


def test_the_dockerfile_installs_exactly_the_requirement_files_the_makefile_uses():
    dockerfile = (SPACES / "Dockerfile").read_text()
    instructions = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    runs = " ".join(line for line in instructions if line.startswith("RUN"))
    make_kinds = ensure_env_kinds((REPO_ROOT / "Makefile").read_text())
    docker_kinds = ensure_env_kinds(runs)
    assert sorted(docker_kinds) == sorted(make_kinds) == ["app", "autotrain"]
    assert requirement_files(docker_kinds) == requirement_files(make_kinds) == {
        "requirements.txt", "requirements-autotrain.txt"}
    build = next(i for i, line in enumerate(instructions) if "ensure_env.sh" in line and line.startswith("RUN"))
    copied_before = " ".join(line for line in instructions[:build] if line.startswith("COPY"))
    assert all(name in copied_before.split() for name in requirement_files(docker_kinds))
    assert not re.search(r"pip3? install|requirements[\w.-]*\.txt", runs)  # nothing installed around it


def test_the_space_card_asks_for_docker_oauth_a_gpu_and_persistent_storage():
    from huggingface_hub import SpaceCard

    card = SpaceCard((SPACES / "README.md").read_text())
    data = card.data.to_dict()
    assert (data["sdk"], data["app_port"], data["hf_oauth"]) == ("docker", 7860, True)
    assert data["suggested_hardware"].startswith(("t4", "l4", "a10g")) and data["suggested_storage"]
    assert "STUDIO_HOME=/data/studio" in card.text
    assert 'CMD ["sh", "spaces/start.sh"]' in (SPACES / "Dockerfile").read_text()


def test_the_space_entry_point_refuses_to_serve_without_sign_in(tmp_path):
    # A Space without `hf_oauth` (no OAUTH_CLIENT_ID) and no password: exposed without sign-in.
    env = {k: v for k, v in os.environ.items() if k not in ("OAUTH_CLIENT_ID", "STUDIO_AUTH", "STUDIO_HOME")}
    done = subprocess.run(["sh", str(SPACES / "start.sh")], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={**env, "SPACE_ID": f"{ALICE}/studio", "PORT": "7861"}, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: refusing to serve the studio on this Space without sign-in")


@pytest.fixture
def project(tmp_path):
    """A snapshot of the project's Space files, so edits in the working tree do not race the asserts."""
    root = tmp_path / "project"
    for source in space_files().values():
        target = root / source.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return root


def test_deploy_creates_the_space_sets_its_secrets_and_uploads_the_project(hub, project, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-judge")
    monkeypatch.delenv("STUDIO_ADMINS", raising=False)
    result = deploy_space("studio", hardware="t4-small", private=True, root=project)

    space = hub.repo(f"{ALICE}/studio", "space")
    assert (space.sdk, space.private, space.hardware) == ("docker", True, "t4-small")
    assert space.secrets == {"HF_TOKEN": os.environ["HF_TOKEN"], "OPENAI_API_KEY": "sk-judge"}
    assert space.variables == {"STUDIO_ADMINS": ALICE}  # the deploying user administers the Space
    assert result.secrets == ("HF_TOKEN", "OPENAI_API_KEY") and result.push.commit == space.head.oid
    files = space.head.files
    assert files["README.md"] == (project / "spaces" / "README.md").read_bytes()
    assert files["Dockerfile"] == (project / "spaces" / "Dockerfile").read_bytes()
    assert {"app.py", "requirements.txt", "requirements-autotrain.txt", "scripts/ensure_env.sh",
            "spaces/start.sh", "studio/hub/space.py", "evaluation/judge.py"} <= set(files)
    assert not [path for path in files if path.startswith(("tests/", "workspace/")) or "__pycache__" in path]
    order = [r.path.rsplit("/", 1)[-1] for r in hub.requests if r.method == "POST"]
    assert order.index("secrets") < order.index("main") < order.index("hardware")  # secrets before the build


def test_the_space_mirrors_its_results_where_this_studio_does(hub, project, monkeypatch):
    monkeypatch.setenv("STUDIO_RESULTS_REPO", f"{ALICE}/studio-results")
    monkeypatch.setenv("STUDIO_ADMINS", "alice,carol")
    deploy_space("studio", root=project)
    assert hub.repo(f"{ALICE}/studio", "space").variables == {
        "STUDIO_ADMINS": "alice,carol", "STUDIO_RESULTS_REPO": f"{ALICE}/studio-results"}


def test_deploying_again_sends_only_the_difference_and_drops_removed_files(hub, project):
    from huggingface_hub import CommitOperationAdd, HfApi

    first = deploy_space("studio", root=project).push
    assert not deploy_space("studio", root=project).push.changed
    api = HfApi(endpoint=hub.endpoint, token=os.environ["HF_TOKEN"])
    api.create_commit(f"{ALICE}/studio", [CommitOperationAdd("old_module.py", b"x = 1\n")],
                      commit_message="a file the project no longer has", repo_type="space")
    (project / "app.py").write_text((project / "app.py").read_text() + "# changed\n")
    again = deploy_space("studio", root=project).push
    space = hub.repo(f"{ALICE}/studio", "space")
    assert again.changed and set(space.head.changed) == {"app.py", "old_module.py"}
    assert space.head.files.keys() == space.commits[-3].files.keys() and first.commit == space.commits[-3].oid


def test_deploy_command_prints_the_space_and_never_a_secret(hub):
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "OPENAI_API_KEY": "sk-judge"}
    done = subprocess.run([sys.executable, "-m", "studio", "deploy", "--space", f"{ALICE}/studio-cli"],
                          capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.splitlines()[-1])
    assert printed["url"] == f"{hub.endpoint}/spaces/{ALICE}/studio-cli"
    assert printed["commit"] == hub.repo(f"{ALICE}/studio-cli", "space").head.oid
    assert printed["secrets"] == ["HF_TOKEN", "OPENAI_API_KEY"]
    assert "sk-judge" not in done.stdout + done.stderr and env["HF_TOKEN"] not in done.stdout + done.stderr
