"""The path-traversal corpus through every input that names a file, folder, model, data set, run or job: on
the page (as a guest and as an admin of the shared deployment) and on the command line. Whatever the field,
nothing is read or written outside STUDIO_HOME, and the answer is a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from studio.guest_policy import ADMIN_ONLY, ENDPOINTS, GUEST_CAPPED
from studio.settings import REPO_ROOT
from tests.security.conftest import rows_csv
from tests.security.corpus import traversal_corpus
from tests.security.snapshots import registry_dump
from tests.security.test_endpoints import _info, with_args

CHOICES = "is not in the list of choices"  # Gradio's own check of a dropdown without custom values
GUEST_REFUSALS = ("Guests may only use", "takes no server paths", "only the studio's admins may", CHOICES)
ADMIN_REFUSALS = ("takes no server paths", "cannot be a file or folder name", CHOICES)
UNEXPECTED = "An unexpected error occurred"  # the UI's wrapper for a failure nobody checked for


@dataclass(frozen=True)
class Fields:
    """The parameters of an endpoint that name something (by parameter name or label; `list` ones take a
    list), and the other arguments the call needs to reach them."""

    names: dict[str, type]
    args: dict = field(default_factory=dict)
    loaded: bool = False  # the session needs rows loaded first (the Data tab's state)
    silent: bool = False  # it runs on page load and shows nothing rather than a refusal


NAME_FIELDS = {
    # guest-capped: a guest gets only what the page lists; nobody gets a server path
    "data_load": Fields({"hub_id": str}, {"kind": "hub", "hub_config": ""}),  # as the probe
    "data_tokens": Fields({"model": str}, loaded=True),
    "train_load_preset": Fields({"name": str}),
    "train_token_lengths": Fields({"dataset": str, "base_model": str}),
    "train_estimate": Fields({"dataset": str, "base_model": str}, silent=True),
    "evaluate_estimate": Fields({"runs": list, "bases": list, "dataset": str, "hubs": str},
                                {"mode": "execution", "bases": []}),
    "generate_sql": Fields({"model": str, "adapter": str, "server_url": str}),
    "playground_ask_database": Fields({"database": str, "model": str, "adapter": str},
                                      {"question": "레벨이 가장 높은 사람"}),
    "text2sql_answer": Fields({"database": str, "model": str, "adapter": str}, {"question": "레벨이 가장 높은 사람"}),
    # admin-only: an admin gets no server path either
    "evaluate": Fields({"runs": list, "bases": list, "dataset": str, "hubs": str},
                       {"mode": "execution", "limit": 1, "bases": []}),
    "train_start": Fields({"dataset": str, "base_model": str, "project_name": str}),
    "train_cancel": Fields({"job_name": str}),
    "leaderboard_reproduce": Fields({"name": str}),
    "leaderboard_delete": Fields({"name": str}, {"confirmed": True}),
    "leaderboard_export_model": Fields({"name": str}, {"format": "gguf"}),
    "hub_push": Fields({"run": str}),
    "data_judge_filter": Fields({"version_id": str}, {"model": "gpt-4o-mini"}),
    # open: names looked up among the records; nothing read or written beyond them
    "train_preview": Fields({"project_name": str}),
    "train_refresh": Fields({"job_name": str}),
    "leaderboard_loss": Fields({"runs": list}),
    "leaderboard_compare": Fields({"first": str, "second": str}),
    "hub_suggest_repo": Fields({"run": str}),
    "data_judge_estimate": Fields({"version_id": str}, {"model": "gpt-4o-mini"}),
}


def _parameter(parameters: list[dict], wanted: str) -> str:
    for parameter in parameters:
        if wanted in (parameter["parameter_name"], parameter.get("label")):
            return parameter["parameter_name"]
    raise AssertionError(f"no parameter {wanted!r}: the endpoint changed, update NAME_FIELDS")


@pytest.fixture(scope="module")
def endpoints(deployment):
    return _info(deployment)


@pytest.fixture(scope="module")
def corpus(deployment) -> dict[str, str]:
    return {**traversal_corpus(deployment.outside), "studio-registry": str(deployment.home / "studio")}


# The page's name fields all go through the same few checks, and each call costs ~50 ms of the suite's
# budget: an admin (past the guest check) meets a sample of every kind of name, a guest a few.
ADMIN_SAMPLE = ("server-folder", "server-file", "system-folder", "issue-probe", "dot-dot", "backslash",
                "nul", "very-long", "fullwidth-solidus", "home", "percent-encoded", "dot-dot-alone",
                "studio-registry")
GUEST_SAMPLE = ("server-folder", "server-file", "dot-dot", "nul", "studio-registry")


def _sample(corpus: dict[str, str], labels: tuple[str, ...]) -> dict[str, str]:
    return {label: corpus[label] for label in labels}


def _attack(deployment, endpoints, corpus, role: str, tmp_path) -> dict[str, list[tuple[str, object]]]:
    """The corpus through every name field of every endpoint, as `role`; the outcomes by endpoint."""
    caller = deployment.caller(role)
    outcomes = {}
    try:
        for name, fields in NAME_FIELDS.items():
            parameters = endpoints[name]
            if fields.loaded:
                upload = caller.upload(rows_csv(tmp_path / "up.csv", ["shop", "mall"]))
                assert caller.call("data_load", *with_args(endpoints["data_load"], kind="file",
                                                           upload=upload)).ok
            outcomes[name] = []
            for field_name, kind in fields.names.items():
                target = _parameter(parameters, field_name)
                for label, value in corpus.items():
                    given = {**fields.args, target: [value] if kind is list else value}
                    outcomes[name].append((f"{field_name}={label}", caller.call(name, *with_args(parameters,
                                                                                                 **given))))
    finally:
        caller.close()
    return outcomes


def _refused(outcome, refusals=GUEST_REFUSALS, silent=False) -> bool:
    """A refusal, as a toast (an error) or shown in place (a handler that reports problems inline); from a
    `silent` handler, an empty answer."""
    if silent and outcome.ok and not any(outcome.data or []):
        return True
    shown = outcome.error or ("" if outcome.data is None else str(outcome.data))
    return any(refusal in shown for refusal in refusals)


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problems:\n" + "\n".join(problem[:400] for problem in problems[:40])


def _clear(outcome) -> bool:
    """An answer, or a message a person can act on: no unchecked failure, no traceback."""
    return (outcome.ok or bool(outcome.error)) and UNEXPECTED not in (outcome.error or "") and \
        "Traceback" not in outcome.body


def test_the_corpus_through_every_name_field_as_a_guest(deployment, endpoints, corpus, nothing_escapes,
                                                        tmp_path):
    before = registry_dump(deployment.registry)
    outcomes = _attack(deployment, endpoints, _sample(corpus, GUEST_SAMPLE), "guest", tmp_path)
    problems = []
    for name, tried in outcomes.items():
        policy, silent = ENDPOINTS[name].policy, NAME_FIELDS[name].silent
        for what, outcome in tried:
            if policy in (GUEST_CAPPED, ADMIN_ONLY) and not _refused(outcome, silent=silent):
                problems.append(f"{name} {what}: not refused: {outcome}")
            elif not _clear(outcome):
                problems.append(f"{name} {what}: {outcome}")
            if str(deployment.home) in outcome.body and not what.endswith("=studio-registry"):
                problems.append(f"{name} {what}: shows STUDIO_HOME to a guest")
    assert not problems, _report(problems)
    assert registry_dump(deployment.registry) == before


def test_the_corpus_through_every_name_field_as_an_admin(deployment, endpoints, corpus, nothing_escapes,
                                                         tmp_path):
    """Admins may use Hub ids, but the page takes no server path or unsafe name from anyone."""
    before = registry_dump(deployment.registry)
    outcomes = _attack(deployment, endpoints, _sample(corpus, ADMIN_SAMPLE), "admin", tmp_path)
    problems = []
    for name, tried in outcomes.items():
        refuse = ENDPOINTS[name].policy in (GUEST_CAPPED, ADMIN_ONLY)
        silent = NAME_FIELDS[name].silent
        for what, outcome in tried:
            if refuse and outcome.ok and not _refused(outcome, ADMIN_REFUSALS, silent) or not _clear(outcome):
                problems.append(f"{name} {what}: {outcome}")
    assert not problems, _report(problems)
    assert registry_dump(deployment.registry) == before  # nothing queued, deleted, saved or evaluated


def test_uploads_name_no_server_files(deployment, endpoints, nothing_escapes):
    """A file input takes only what this session uploaded: a server path in its place is refused (Gradio),
    and nothing of that file comes back."""
    guest = deployment.caller("guest")
    try:
        for path in (deployment.outside / "dataset" / "train.jsonl", REPO_ROOT / "README.md"):
            forged = {"path": str(path), "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}
            for name, given in (("data_load", {"kind": "file", "upload": forged}),
                                ("evaluate_estimate", {"upload": forged, "mode": "execution"})):
                outcome = guest.call(name, *with_args(endpoints[name], **given))
                assert not outcome.ok, (name, path, outcome)
                assert "Text2SQL LoRA Studio" not in outcome.body
    finally:
        guest.close()


# --- db_id: a column of the uploaded rows that names each database file ---------------------------------


def test_db_ids_never_become_paths_on_the_page(deployment, endpoints, corpus, nothing_escapes, tmp_path):
    """The issue's probe: rows whose db_id is /tmp/x/pwned (or <STUDIO_HOME>/studio) loaded and saved made
    /tmp/x/pwned.sqlite and a table in the registry. Now each is refused or its rows dropped, with nothing
    written outside the version's folder."""
    admin = deployment.caller("admin")
    saved = []
    try:
        for label, db_id in corpus.items():
            upload = admin.upload(rows_csv(tmp_path / f"{len(saved)}.csv", [db_id] * 3 + ["shop", "mall"]))
            loaded = admin.call("data_load", *with_args(endpoints["data_load"], kind="file", upload=upload))
            assert _clear(loaded), (label, loaded)
            if not loaded.ok:
                continue
            outcome = admin.call("data_save", *with_args(endpoints["data_save"], split="random",
                                                         eval_fraction=0.4, exec_filter=False))
            assert _clear(outcome), (label, outcome)
            saved.append(label)
    finally:
        admin.close()
    for version in (deployment.home / "datasets").glob("ds-*"):
        databases = {path.name for path in (version / "databases").iterdir()}
        assert databases <= {"shop.sqlite", "mall.sqlite", "store.sqlite"}, databases


def _studio(*args, home, timeout=120) -> subprocess.CompletedProcess:
    env = {**os.environ, "STUDIO_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "studio", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("label", ["absolute", "dot-dot", "studio-registry"])
def test_db_ids_never_become_paths_on_the_command_line(label, deployment, corpus, nothing_escapes, tmp_path):
    """The issue's command, the db_id a path on six rows (its probe made /tmp/x/pwned.sqlite, and
    <STUDIO_HOME>/studio added a table to the registry): a clear refusal, nothing written outside the
    version's folder, the registry's schema unchanged (checked when the deployment closes)."""
    source = rows_csv(tmp_path / "up.csv", [corpus[label]] * 3 + ["shop", "mall", "store"])
    done = _studio("data", "prepare", "--source", str(source), "--random-split", "0.3", "--no-exec-filter",
                   home=deployment.home)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert "unexpected" not in done.stderr


UP = "../" * 24


@pytest.mark.parametrize("args", [
    ("train", "--config", "cpu-lora.yml", "--dataset", "{dataset}", "--set", "project_name=../../../pwned"),
    ("train", "--config", "cpu-lora.yml", "--dataset", UP + "{outside}/dataset"),
    ("runs", "delete", UP + "{outside}", "--yes"),
], ids=["project-name", "dataset-path", "run-name"])
def test_names_on_the_command_line_stay_names(args, deployment, nothing_escapes):
    """The CLI takes paths where it says so (--config FILE, --source FILE); names stay names."""
    before = registry_dump(deployment.registry)
    outside = str(deployment.outside).lstrip("/")
    filled = [a.format(dataset=deployment.dataset, outside=outside) for a in args]
    done = _studio(*filled, home=deployment.home)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert registry_dump(deployment.registry) == before

