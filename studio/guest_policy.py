"""What a guest may call on a shared deployment: one decided policy for every named Gradio endpoint.

Locally (loopback, no share link) the person at the keyboard may do everything, and none of this applies.
On a shared deployment (studio.access) every endpoint the app names (its `api_name`, as listed by
`/gradio_api/info`) has exactly one of these policies, enforced in its handler on the server, so an API
caller meets the same rule as the page:

| policy         | a guest (signed in, not in STUDIO_ADMINS)                                                    |
|----------------|----------------------------------------------------------------------------------------------|
| `open`         | may call it: it only reads the studio's records, or computes from what the caller sent       |
| `guest-capped` | may call it within limits: only the listed models, runs, presets and data sets (a Hub id,   |
|                | a local folder or a file path typed in is refused before anything is read or downloaded),  |
|                | and capped work (the Playground: tokens per answer, answers per minute)                     |
| `admin-only`   | refused with AccessDenied: it trains, writes shared state, downloads, pushes or spends       |

A visitor who has not signed in is a guest too (on a Space, Hugging Face sign-in is optional; with STUDIO_AUTH
passwords Gradio refuses them before any endpoint). A local folder or a server path as a
model, tokenizer, adapter or data source is CLI only: the UI refuses it for everyone on a shared deployment,
admins included (a signed-in admin still must not browse the server's disk through the page).

`tests/security/` enumerates `/gradio_api/info` and fails on an endpoint missing here; `tests/test_guest_policy.py`
checks this table against the app and the handlers' behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN, GUEST_CAPPED, ADMIN_ONLY = "open", "guest-capped", "admin-only"
POLICIES = (OPEN, GUEST_CAPPED, ADMIN_ONLY)


@dataclass(frozen=True)
class EndpointPolicy:
    policy: str  # one of POLICIES
    why: str  # what a guest may do there, in one line (the README's Security model says the same)


ENDPOINTS: dict[str, EndpointPolicy] = {
    # Data tab
    "data_load": EndpointPolicy(GUEST_CAPPED, "the bundled sample or a file uploaded through the page; a Hub data "
                                              "set is admin-only, a server path is refused"),
    "data_split": EndpointPolicy(OPEN, "counts the caller's loaded rows"),
    "data_tokens": EndpointPolicy(GUEST_CAPPED, "a listed model's tokenizer only"),
    "data_truncation": EndpointPolicy(OPEN, "arithmetic on the caller's token counts"),
    "data_save": EndpointPolicy(ADMIN_ONLY, "writes a data set version into the shared studio"),
    "data_versions": EndpointPolicy(OPEN, "lists the saved versions"),
    "saved_versions": EndpointPolicy(OPEN, "lists the saved versions (the table's value on page load)"),
    "data_judge_estimate": EndpointPolicy(OPEN, "counts tokens and prices; sends nothing"),
    "data_judge_filter": EndpointPolicy(ADMIN_ONLY, "spends judge credits and writes a version"),
    "data_adapt_schema": EndpointPolicy(OPEN, "reads the database and glossary the caller uploaded (bounded: "
                                              "tables, rows and time); writes nothing"),
    "data_adapt_synthesize": EndpointPolicy(ADMIN_ONLY, "runs many queries and writes a data set version"),
    "data_adapt_propose_estimate": EndpointPolicy(OPEN, "counts the tokens of the caller's upload; sends nothing"),
    "data_adapt_propose": EndpointPolicy(ADMIN_ONLY, "spends LLM credits"),
    # Train tab
    "train_load_preset": EndpointPolicy(GUEST_CAPPED, "a listed preset only (a file path is refused)"),
    "train_preview": EndpointPolicy(OPEN, "renders the form as YAML (bounded, validated values)"),
    "train_token_lengths": EndpointPolicy(GUEST_CAPPED, "a listed data set and model only"),
    "train_estimate": EndpointPolicy(GUEST_CAPPED, "the form's estimated training time: a listed data set and "
                                                   "model only"),
    "train_start": EndpointPolicy(ADMIN_ONLY, "queues training"),
    "train_cancel": EndpointPolicy(ADMIN_ONLY, "cancels training"),
    "train_environment": EndpointPolicy(OPEN, "describes where a job would train"),
    "train_refresh": EndpointPolicy(OPEN, "reads the queue and a job's log tail"),
    # Evaluate tab
    "evaluate_estimate": EndpointPolicy(GUEST_CAPPED, "listed runs, models and data sets only; sends nothing"),
    "evaluate": EndpointPolicy(ADMIN_ONLY, "minutes of the shared CPU per candidate, stored on the leaderboard"),
    "evaluate_rows": EndpointPolicy(OPEN, "reads stored evaluations"),
    "evaluate_refresh": EndpointPolicy(OPEN, "reads the pickers' choices"),
    # Leaderboard tab (and its Hub section)
    "leaderboard": EndpointPolicy(OPEN, "reads the board"),
    "leaderboard_choices": EndpointPolicy(OPEN, "reads the pickers' choices"),
    "leaderboard_export": EndpointPolicy(OPEN, "the board as a CSV file in the studio's cache"),
    "leaderboard_loss": EndpointPolicy(OPEN, "reads runs' loss curves"),
    "leaderboard_compare": EndpointPolicy(OPEN, "reads two candidates' records"),
    "leaderboard_reproduce": EndpointPolicy(ADMIN_ONLY, "queues training"),
    "leaderboard_delete": EndpointPolicy(ADMIN_ONLY, "deletes runs"),
    "leaderboard_export_model": EndpointPolicy(ADMIN_ONLY, "writes hundreds of MB and takes minutes of CPU"),
    "hub_suggest_repo": EndpointPolicy(OPEN, "a repo name from a run name (no network)"),
    "hub_push": EndpointPolicy(ADMIN_ONLY, "pushes to the Hub"),
    # Playground
    "generate_sql": EndpointPolicy(GUEST_CAPPED, "listed models and runs, capped tokens and answers a minute"),
    "playground_ask_database": EndpointPolicy(GUEST_CAPPED, "text2sql_answer for the page: the same checks"),
    "text2sql_answer": EndpointPolicy(GUEST_CAPPED, "listed databases, models and runs; the Playground's caps; "
                                                    "the SQL runs read-only in the sandbox"),
}


def policy_of(api_name: str) -> EndpointPolicy | None:
    """The decided policy of a named endpoint (with or without the leading slash), None if undecided."""
    return ENDPOINTS.get(api_name.lstrip("/"))
