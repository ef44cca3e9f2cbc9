"""The Leaderboard tab's Hub section: push a run's adapter (or the merged fp16 model) to the Hugging Face Hub
with its model card, and see the repo's URL and commit. Pushing is an admin action on a shared deployment.

Logic: studio.training.publish (push_registered_run records the repo with the run only once the push
succeeded) over studio.hub.
"""

from __future__ import annotations

import gradio as gr

from studio.access import PUSH_TO_HUB, require_admin
from studio.errors import StudioError
from studio.hub import notify_results_changed, suggest_repo_name
from studio.training.publish import push_registered_run
from studio.settings import Secret
from studio.ui.choices import refresh_on_focus, run_names
from studio.ui.errors import user_errors
from studio.ui.i18n import error_text, say, t


def build() -> None:
    """Lay out the section's widgets and wire them; call inside the Leaderboard tab."""
    with gr.Accordion(t("hub.title"), open=False, elem_id="hub-push"):
        gr.Markdown(t("hub.intro"))
        with gr.Row():
            run = gr.Dropdown([], allow_custom_value=True, label=t("hub.run"), scale=2, elem_id="hub-run")
            repo = gr.Textbox("", label=t("hub.repo"), info=t("hub.repo_info"), scale=2, elem_id="hub-repo")
            token = gr.Textbox("", type="password", label=t("hub.token"), info=t("hub.token_info"), scale=2,
                               elem_id="hub-token")
        with gr.Row():
            private = gr.Checkbox(True, label=t("hub.private"), elem_id="hub-private")
            merged = gr.Checkbox(False, label=t("hub.merged"), info=t("hub.merged_info"),
                                 elem_id="hub-merged")
            push = gr.Button(t("hub.push"), variant="primary", elem_id="hub-push-button")
        result = gr.Markdown(elem_id="hub-result")
    refresh_on_focus(run, run_names)
    run.change(suggest_repo, run, repo, api_name="hub_suggest_repo", show_progress="hidden")
    # Merging loads the base model: one push at a time.
    push.click(push_to_hub, [run, repo, private, merged, token], result, api_name="hub_push",
               concurrency_limit=1, concurrency_id="hub_push")


def suggest_repo(run: str | None) -> str:
    """A repo name from the run's name (in the token's own namespace)."""
    return suggest_repo_name(run) if (run or "").strip() else ""


@user_errors
def push_to_hub(run: str, repo: str, private: bool, merged: bool, token: str, request: gr.Request,
                profile: gr.OAuthProfile | None, progress=gr.Progress()) -> str:
    require_admin(request, profile, action=PUSH_TO_HUB)
    if not (run or "").strip():
        raise gr.Error(say("lb_pick_run", request))
    progress(0.1, desc=say("hub_pushing", request, run=run))
    secret = Secret(token.strip()) if (token or "").strip() else None  # this request only: never stored
    try:
        result = push_registered_run(run.strip(), (repo or "").strip() or None, private=bool(private),
                                     merged=bool(merged), token=secret)
    except StudioError as exc:
        raise gr.Error(say("hub_failed", request, run=run, error=error_text(exc, request))) from None
    notify_results_changed()  # the leaderboard links the repo now
    key = "hub_pushed" if result.changed else "hub_unchanged"
    return say(key, request, run=run, repo=result.repo_id, url=result.url, commit=result.commit)
