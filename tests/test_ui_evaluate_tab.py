"""The Evaluate tab over real HTTP, through Gradio's own client."""

import pytest
from gradio_client import Client

from tests.test_app import running_app  # noqa: F401 - the launched app fixture

MODEL = "smollm2-135m-instruct"


def _inputs(dataset, **overrides):
    values = {"runs": [], "bases": [MODEL], "dataset": dataset, "upload": None, "mode": "execution",
              "judge_model": "", "judge_url": "", "judge_key": "", "max_new_tokens": 16, "limit": 2}
    values.update(overrides)
    return list(values.values())


def test_evaluating_the_base_model_fills_summary_and_rows(running_app, sample_version_id):  # noqa: F811
    client = Client(running_app, verbose=False, headers={"Accept-Language": "en-US"})
    notice, summary, agreement, stored = client.predict(*_inputs(sample_version_id), api_name="/evaluate")
    assert notice.startswith("1 evaluation(s) done")
    table = [dict(zip(summary["headers"], row)) for row in summary["data"]]
    assert len(table) == 1 and table[0]["candidate"] == f"base:{MODEL}" and table[0]["rows"] == 2
    assert table[0]["adapted_to"] == ""  # a base model is adapted to nothing
    ids = stored["value"]  # the dropdown update selects the new evaluation
    rows, side = client.predict(ids, "all", api_name="/evaluate_rows")
    assert len(rows["data"]) == 2
    assert all(row[0] == f"base:{MODEL}" and row[5] for row in rows["data"])  # candidate and a reason
    assert side["headers"][:2] == ["question", "gold_sql"] and len(side["data"]) == 2
    failures, _ = client.predict(ids, "failures", api_name="/evaluate_rows")
    assert len(failures["data"]) == 2  # the untrained model matches nothing


def test_missing_choices_give_clear_messages(running_app, sample_version_id):  # noqa: F811
    client = Client(running_app, verbose=False, headers={"Accept-Language": "en-US"})
    with pytest.raises(Exception, match="Choose runs or base models"):
        client.predict(*_inputs(sample_version_id, bases=[]), api_name="/evaluate")
    with pytest.raises(Exception, match="needs a judge model"):
        client.predict(*_inputs(sample_version_id, mode="judge"), api_name="/evaluate")
    notice = client.predict(*_inputs(sample_version_id), api_name="/evaluate_estimate")
    assert notice.startswith("No judge model set")


def test_a_server_is_one_more_candidate_with_its_decoding(running_app, sample_version_id):  # noqa: F811
    from evaluation.testing.openai_standin import OpenAIStandin

    client = Client(running_app, verbose=False, headers={"Accept-Language": "en-US"})
    with OpenAIStandin(reply=lambda prompt: "SELECT username FROM players;") as server:  # chat only
        server_fields = {"hubs": "", "constrained": True, "candidates": 1, "server_urls": server.base_url,
                         "server_model": "standin-sql", "server_key": "sk-local", "server_api": "auto",
                         "server_concurrency": 2}
        _, summary, _, _ = client.predict(*_inputs(sample_version_id, bases=[], **server_fields),
                                          api_name="/evaluate")
        asked = server.count()
    table = [dict(zip(summary["headers"], row)) for row in summary["data"]]
    assert [(r["candidate"], r["decoding"], r["rows"]) for r in table] == [("server:standin-sql", "server-chat", 2)]
    assert asked == 2 and all(r.authorization == "Bearer sk-local" for r in server.requests)
    with pytest.raises(Exception, match="not a server base URL"):
        client.predict(*_inputs(sample_version_id, bases=[], **{**server_fields, "server_urls": "file:///etc"}),
                       api_name="/evaluate")
