"""A LoRA adapter on the Hub as an evaluation candidate (`python -m studio eval --hub`, the Evaluate tab's Hub
box): downloaded once from the stand-in Hub through the real client, labelled by its commit, and the stored
evaluation mirrored to STUDIO_RESULTS_REPO."""

import json
import os
import subprocess
import sys

import pytest
from gradio_client import Client, handle_file

from studio.errors import StudioError
from studio.evaluate import hub_candidate
from studio.hub import PushSource, push_run
from studio.settings import REPO_ROOT
from tests.app_support import free_port, served_app
from tests.test_hub_push import make_adapter, tiny_base  # noqa: F401 - the tiny model fixture
from tests.test_hub_standin import ALICE, standin_hub

hub = pytest.fixture(standin_hub)

DDL = "CREATE TABLE players (player_id INT, name VARCHAR(50), level INT);"


@pytest.fixture
def pushed(hub, tiny_base, tmp_path):  # noqa: F811
    """An adapter on the tiny base pushed to alice/tiny-lora; its config names the local base folder."""
    adapter = make_adapter(tiny_base, tmp_path / "adapter")
    push_run(PushSource(folder=adapter, name="tiny-lora", base_model=str(tiny_base)), "tiny-lora")
    return f"{ALICE}/tiny-lora"


@pytest.fixture
def eval_file(tmp_path):
    gold = "SELECT name FROM players WHERE level >= 10"
    rows = [{"db_id": "game", "context": DDL, "question": q, "answer": gold}
            for q in ("레벨이 10 이상인 플레이어는?", "플레이어 이름은?")]
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_a_hub_adapter_is_a_candidate_labelled_by_its_commit_and_cached(  # noqa: F811 - tiny_base
        hub, pushed, tiny_base, tmp_path, monkeypatch):
    candidate = hub_candidate(pushed)
    commit = hub.repo(pushed).head.oid
    assert candidate.label == f"hub:{pushed}@{commit[:7]}" and candidate.base_model == str(tiny_base)
    assert (candidate.adapter / "adapter_model.safetensors").read_bytes() == \
        hub.repo(pushed).head.files["adapter_model.safetensors"]

    downloads = len(hub.calls("GET", "/resolve/"))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # the Hub is gone: cache serves
    assert hub_candidate(pushed) == candidate and len(hub.calls("GET", "/resolve/")) == downloads

    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)  # a new push is a new candidate: no stale answers reused
    push_run(PushSource(folder=make_adapter(tiny_base, tmp_path / "again", seed=1), name="tiny-lora",
                        base_model=str(tiny_base)), "tiny-lora")
    assert hub_candidate(pushed).label == f"hub:{pushed}@{hub.repo(pushed).head.oid[:7]}" != candidate.label


def test_bad_hub_candidates_are_clear_errors(hub):
    with pytest.raises(StudioError, match="not a Hub repo id: give owner/name"):
        hub_candidate("just-a-name")
    with pytest.raises(StudioError, match="was not found on the Hub"):
        hub_candidate(f"{ALICE}/no-such-adapter")


def test_eval_command_takes_a_hub_adapter_and_mirrors_the_result(hub, pushed, eval_file):
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "STUDIO_RESULTS_REPO": f"{ALICE}/studio-results"}
    done = subprocess.run(
        [sys.executable, "-m", "studio", "eval", "--hub", pushed, "--file", str(eval_file),
         "--mode", "execution", "--max-new-tokens", "4"],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.splitlines()[-1])
    label = f"hub:{pushed}@{hub.repo(pushed).head.oid[:7]}"
    assert printed["candidate"] == label and printed["total"] == 2 and printed["generated"] == 2

    files = hub.repo(f"{ALICE}/studio-results", "dataset").head.files
    evaluations = [json.loads(content) for path, content in files.items() if path.startswith("evaluations/")]
    assert [(e["candidate"], len(e["scored_rows"])) for e in evaluations] == [(label, 2)]
    assert label in files["leaderboard.csv"].decode("utf-8-sig")


@pytest.fixture
def app(hub):
    with served_app() as url:
        yield url


def test_the_evaluate_tab_takes_hub_adapters(app, hub, pushed, eval_file):
    client = Client(app, verbose=False, headers={"Accept-Language": "en-US"})
    inputs = {"runs": [], "bases": [], "dataset": "", "upload": handle_file(str(eval_file)), "mode": "execution",
              "judge_model": "", "judge_url": "", "judge_key": "", "max_new_tokens": 8, "limit": 0,
              "hubs": f" {pushed}, "}
    notice, summary, _agreement, _stored = client.predict(*inputs.values(), api_name="/evaluate")
    assert notice.startswith("1 evaluation(s) done")
    row = dict(zip(summary["headers"], summary["data"][0]))
    assert row["candidate"] == f"hub:{pushed}@{hub.repo(pushed).head.oid[:7]}" and row["rows"] == 2
    with pytest.raises(Exception, match="was not found on the Hub"):
        client.predict(*{**inputs, "hubs": f"{ALICE}/missing"}.values(), api_name="/evaluate")
