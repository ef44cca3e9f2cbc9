"""The Leaderboard tab over real HTTP (Gradio's own client): the board and its filters, the plots, the CSV,
loss curves, a two-run comparison, reproducing a run (queued with its exact configuration) and deleting one
(only once confirmed); a Hub adapter evaluated here is compared like a run but never managed as one."""

import json

import pandas as pd
import pytest
from gradio_client import Client

from studio import leaderboard as lb
from studio import registry
from studio.settings import load_settings
from studio.training.jobs import jobs_dir
from studio.training.runs import get_run
from tests.app_support import served_app
from tests.test_leaderboard import EVAL_SET, HUB_LABEL, LARGE, SMALL, Registry, fill
from tests.test_hub_push import tiny_base  # noqa: F401
from tests.training_fixtures.support import fake_autotrain, fake_python  # noqa: F401

NO_FILTERS = {"search": "", "metric": "accuracy", "best_per": "", "base_models": [], "datasets": [],
              "eval_sets": [], "modes": [], "include_base": True, "lora_r": "", "lora_alpha": "",
              "fraction": ""}


@pytest.fixture
def app(fake_autotrain):
    """The app over a registry holding the sweep, and a run the stand-in trainer could train again."""
    registry = fill(Registry(load_settings()))
    registry.run("tiny", base_model=str(fake_autotrain["model"]), dataset=str(fake_autotrain["data"]),
                 block_size=64, lora_r=4, lora_alpha=8)
    with served_app() as url:
        yield url


def board(client, **filters):
    count, table, *plots = client.predict(**{**NO_FILTERS, **filters}, api_name="/leaderboard")
    return count, pd.DataFrame(table["data"], columns=table["headers"]), plots


def test_board_filters_plots_export_and_comparison(app):
    client = Client(app, verbose=False, headers={"Accept-Language": "en-US"})
    count, table, _ = board(client)
    assert count == "11 of 11 rows" and list(table.columns) == list(lb.DEFAULT_COLUMNS)
    assert table.iloc[0]["accuracy"] == 1.0 and table.iloc[-1]["run"] in ("fresh", "tiny")  # unscored last

    chosen = {"eval_sets": [EVAL_SET], "modes": ["execution"], "best_per": "base_model", "lora_r": "16-",
              "columns": ["run", "base_model", "lora_r", "EX"]}
    count, table, (by_r, by_alpha, by_fraction) = board(client, **chosen)
    assert count == "2 of 11 rows" and list(table.columns) == ["run", "base_model", "lora_r", "EX"]
    assert sorted(table["run"]) == ["large-r16", "r16-a32"]
    assert by_r["columns"][:3] == ["lora_r", "score", "base_model"] and len(by_r["data"]) == 2

    choices = client.predict(api_name="/leaderboard_choices")
    assert {LARGE, SMALL} < {value for _label, value in choices[0]["choices"]}  # base models
    assert ["base:" + SMALL] * 2 in choices[5]["choices"]  # candidates to compare

    exported = client.predict(*[v for k, v in {**NO_FILTERS, **chosen}.items() if k != "columns"],
                              api_name="/leaderboard_export")
    assert exported["visible"] is True  # the file appears once there is one
    csv = pd.read_csv(exported["value"], encoding="utf-8-sig")
    assert list(csv.columns) == list(lb.COLUMNS) and sorted(csv["run"]) == ["large-r16", "r16-a32"]

    curves = client.predict(["r8-a16", "large-r16"], api_name="/leaderboard_loss")
    assert [row[2] for row in curves["data"]] == [2.0, 1.5, 1.0, 2.0, 1.0]

    summary, config, scores, rows = client.predict("r8-a16", "r16-a32", api_name="/leaderboard_compare")
    assert summary == (f"Questions whose verdicts differ on evaluation set **{EVAL_SET}**, "
                       "mode **execution**: **3**")
    assert config["data"] == [["lora_r", "8", "16"], ["lora_alpha", "16", "32"]]
    assert scores["headers"] == ["eval_set", "mode", "metric", "r8-a16", "r16-a32", "diff"]
    assert len(rows["data"]) == 3

    korean = Client(app, verbose=False, headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert board(korean, include_base=False)[0] == "전체 11행 중 9행"


def _newest_job():
    with registry.session(load_settings().registry_path) as db:
        return db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT 1").fetchone()


def test_reproduce_queues_the_same_configuration_and_delete_asks_first(app):
    client = Client(app, verbose=False, headers={"Accept-Language": "en-US"})
    status = client.predict("tiny", api_name="/leaderboard_reproduce")
    job = _newest_job()
    assert status.startswith("Queued run **tiny**'s configuration again")
    assert f"job **{job['name']}**" in status
    run = get_run("tiny")
    assert json.loads(job["config"]) == run.config.to_dict() and job["dataset_ref"] == run.dataset_ref
    with pytest.raises(Exception, match="a base model is not a run"):
        client.predict("base:" + SMALL, False, api_name="/leaderboard_delete")

    status, confirmed = client.predict("r8-a16", False, api_name="/leaderboard_delete")
    assert "1 evaluation(s) with 4 row(s)" in status and "Tick **Confirm deletion**" in status
    assert (jobs_dir(load_settings()) / "r8-a16").exists() and confirmed is False
    status, confirmed = client.predict("r8-a16", True, api_name="/leaderboard_delete")
    assert status == "Deleted run **r8-a16**: 1 evaluation(s), 1 folder(s)." and confirmed is False
    assert not (jobs_dir(load_settings()) / "r8-a16").exists()
    assert "r8-a16" not in board(client)[1]["run"].tolist()


def test_a_hub_adapter_is_offered_for_comparing_only(app):
    Registry(load_settings()).evaluation(HUB_LABEL, [1, 1, 0, 1])  # the board reads the registry every time
    client = Client(app, verbose=False, headers={"Accept-Language": "en-US"})
    assert HUB_LABEL in board(client, search="alice")[1]["run"].tolist()
    pickers = client.predict(api_name="/leaderboard_choices")
    offered = [{value for _label, value in picker["choices"]} for picker in pickers]
    assert HUB_LABEL in offered[5] and HUB_LABEL in offered[6]  # the two candidates to compare
    assert HUB_LABEL not in offered[4] | offered[7]  # loss curves, reproduce and delete: runs only

    summary, config, scores, rows = client.predict(HUB_LABEL, "r16-a32", api_name="/leaderboard_compare")
    assert summary.endswith("mode **execution**: **1**")
    assert config["data"][:2] == [["hub_repo", "alice/r16-adapter", ""], ["hub_commit", "abc1234", ""]]
    assert scores["headers"][3:5] == [HUB_LABEL, "r16-a32"] and len(rows["data"]) == 1

    refusals = {"/leaderboard_reproduce": (HUB_LABEL,), "/leaderboard_delete": (HUB_LABEL, True),
                "/leaderboard_loss": ([HUB_LABEL],)}
    for endpoint, args in refusals.items():
        with pytest.raises(Exception, match=r"a Hub adapter \(alice/r16-adapter, commit abc1234\) was only "
                                            "evaluated here and is not a run"):
            client.predict(*args, api_name=endpoint)
    korean = Client(app, verbose=False, headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    with pytest.raises(Exception, match="여기서 평가만 했을 뿐 이 스튜디오의 run이 아니어서"):
        korean.predict(HUB_LABEL, True, api_name="/leaderboard_delete")
    assert HUB_LABEL in board(client)[1]["run"].tolist()  # refused: its evaluation is still there


def test_export_writes_the_run_and_says_how_to_serve_it(app, tiny_base, tmp_path):  # noqa: F811
    from tests.test_hub_push import make_adapter

    Registry(load_settings()).run("exportable", base_model=str(tiny_base),
                                  adapter=make_adapter(tiny_base, tmp_path / "adapter"))
    client = Client(app, verbose=False, headers={"Accept-Language": "en-US"})
    status = client.predict("exportable", "merged", api_name="/leaderboard_export_model")
    folder = load_settings().home / "exports" / "exportable" / "merged-float16"
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert status.startswith("Exported run **exportable** as a merged model folder") and f"vllm serve {folder}" in status
    with pytest.raises(Exception, match="a base model is not a run"):
        client.predict("base:" + SMALL, "gguf", api_name="/leaderboard_export_model")
    with pytest.raises(Exception, match="Choose a run"):
        client.predict("", "gguf", api_name="/leaderboard_export_model")
