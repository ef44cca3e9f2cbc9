"""Limits that hold on the shared deployment: uploads, training parameters, numbers out of range, the queue
(one model generating at a time), and handlers that have no name but can still be called."""

from __future__ import annotations

import pytest

from studio.guest_policy import ENDPOINTS, OPEN
from tests.security.conftest import rows_csv
from tests.security.snapshots import registry_dump
from tests.security.test_endpoints import _info, default_args, with_args
from tests.security.test_names import _clear

HOSTILE_NUMBERS = (-1, 0, 1e308, -1e308, 99999999999, 2**63)


@pytest.fixture(scope="module")
def endpoints(deployment):
    return _info(deployment)


def test_an_upload_over_the_limit_is_refused_whole(deployment):
    """The issue's guest POSTed 256 MB in 1.1 s; a shared deployment takes at most 50 MB (the default)."""
    from studio.access import SHARED_UPLOAD_MB

    guest = deployment.caller("guest")
    try:
        too_big = b"a,b\n" * (SHARED_UPLOAD_MB * 1024 * 1024 // 4 + 1)
        response = guest.post("gradio_api/upload", files={"files": ("big.csv", too_big)})
        assert response.status_code == 413, (response.status_code, response.text[:200])
        assert "exceeded maximum allowed size" in response.text
    finally:
        guest.close()


@pytest.mark.parametrize("parameter, value", [("epochs", 1e9), ("batch_size", 99999999999), ("lr", 1e308),
                                              ("block_size", 2**40), ("seed", -1)])
def test_training_parameters_out_of_bounds_are_refused_before_queueing(parameter, value, deployment,
                                                                         endpoints, nothing_escapes):
    admin = deployment.caller("admin")
    try:
        before = registry_dump(deployment.registry)
        parameters = endpoints["train_start"]
        target = next(p["parameter_name"] for p in parameters if p.get("label") == parameter)
        given = {"dataset": deployment.dataset, target: value}
        outcome = admin.call("train_start", *with_args(parameters, **given))
        assert not outcome.ok and parameter in (outcome.error or ""), outcome
        assert _clear(outcome), outcome
        assert registry_dump(deployment.registry) == before, "queued anyway"
    finally:
        admin.close()


def test_numbers_out_of_range_get_clear_messages(deployment, endpoints, nothing_escapes, tmp_path):
    """Every number a guest may send to an open endpoint, and the Data tab's seed on saving (an admin's),
    at absurd values: an answer or a clear message, never an unchecked failure."""
    guest, admin = deployment.caller("guest"), deployment.caller("admin")
    problems = []
    try:
        upload = admin.upload(rows_csv(tmp_path / "up.csv", ["shop", "mall", "store"]))
        assert admin.call("data_load", *with_args(endpoints["data_load"], kind="file", upload=upload)).ok
        for value in HOSTILE_NUMBERS:
            given = {"split": "random", "eval_fraction": 0.3, "exec_filter": False, "seed": value}
            outcome = admin.call("data_save", *with_args(endpoints["data_save"], **given))
            if not _clear(outcome):
                problems.append(f"data_save seed={value}: {outcome}")
        for name in sorted(n for n, e in ENDPOINTS.items() if e.policy == OPEN):
            parameters = endpoints[name]
            numbers = [p["parameter_name"] for p in parameters
                       if p.get("python_type", {}).get("type") in ("int", "float")]
            for parameter in numbers:
                for value in HOSTILE_NUMBERS:
                    outcome = guest.call(name, *with_args(parameters, **{parameter: value}))
                    if not _clear(outcome):
                        problems.append(f"{name} {parameter}={value}: {outcome}")
    finally:
        guest.close()
        admin.close()
    assert not problems, "\n".join(problem[:300] for problem in problems)


def test_a_guest_cannot_skip_the_queue(deployment, endpoints):
    """The queue runs one generation at a time (concurrency limits); Gradio's REST routes would run a call
    beside it. On a shared deployment they are closed: every call joins the queue."""
    guest = deployment.caller("guest")
    try:
        for name in ("hub_suggest_repo", "generate_sql"):
            for route in ("gradio_api/run", "gradio_api/api"):
                response = guest.post(f"{route}/{name}", json={"data": default_args(endpoints[name])})
                assert response.status_code != 200, (route, name, response.text[:200])
    finally:
        guest.close()


PLUMBING = {"<lambda>", "redraw"}  # UI-only helpers: visibility, choices, plot captions


def test_handlers_without_a_name_are_plumbing_or_a_named_endpoints(deployment):
    """The page calls unnamed handlers by index, and so can anyone signed in: each must be one a named
    endpoint also runs (its policy holds) or UI plumbing that reads nothing a guest may not see."""
    from studio.ui.app import build_app

    demo = build_app()
    named = {id(fn.fn) for fn in demo.fns.values()
             if fn.fn and fn.api_name and fn.api_visibility != "private"}
    unnamed = [fn for fn in demo.fns.values() if fn.fn and id(fn.fn) not in named]
    odd = sorted({f"{fn.fn.__module__}.{fn.fn.__name__}" for fn in unnamed if fn.fn.__name__ not in PLUMBING})
    assert odd == [], "give these handlers an api_name and a guest policy (studio.guest_policy)"
    modules = {fn.fn.__module__ for fn in unnamed}
    assert all(module.startswith("studio.ui.") for module in modules), modules
