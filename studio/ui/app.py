"""Assemble the tabs into one Gradio app and launch it."""

from __future__ import annotations

import gradio as gr

from studio import access
from studio.hub import start_results_mirror
from studio.training import ensure_background_worker
from studio.ui import data_tab, evaluate_tab, leaderboard_tab, playground, train
from studio.ui.i18n import I18N, t

# Local font stacks only: the default theme fetches Google Fonts, which an offline laptop cannot reach.
THEME = gr.themes.Soft(
    font=["Pretendard", "Noto Sans KR", "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic", "sans-serif"],
    font_mono=["D2Coding", "Noto Sans Mono CJK KR", "ui-monospace", "monospace"],
)

# Tabs in the order users walk the book's workflow.
TABS = (
    ("tab.data", "tab-data", data_tab.build),
    ("tab.train", "tab-train", train.build),
    ("tab.evaluate", "tab-evaluate", evaluate_tab.build),
    ("tab.leaderboard", "tab-leaderboard", leaderboard_tab.build),
    ("tab.playground", "tab-playground", playground.build),
)


def build_app(policy: access.AccessPolicy | None = None) -> gr.Blocks:
    """The UI; with Hugging Face sign-in (a Space with hf_oauth), a Sign in button, which also makes Gradio
    add its OAuth routes."""
    policy = policy or access.current_policy()
    if policy.sign_in == access.OAUTH:
        access.check_oauth_support()
    with gr.Blocks(title="Text2SQL LoRA Studio") as demo:
        if policy.sign_in == access.OAUTH:
            gr.LoginButton(elem_id="login")
        gr.Markdown("# " + t("title"))
        gr.Markdown(t("subtitle"))
        with gr.Tabs():
            for label, elem_id, build in TABS:
                with gr.Tab(t(label), elem_id=elem_id):
                    build()
        gr.Markdown(t("footer"))
    return demo


def guarded_launch_options(policy: access.AccessPolicy) -> dict:
    """What Gradio enforces for the policy: password sign-in, and the largest upload it accepts. The MCP server
    (…/gradio_api/mcp/) serves the same endpoints as tools, through the same handlers and their guest policy;
    `?tools=text2sql_answer` narrows a client to the Text2SQL answer."""
    auth = access.password_logins() if policy.sign_in == access.PASSWORD else None
    return {"auth": auth, "max_file_size": access.max_upload_bytes(policy), "mcp_server": True}


def guarded_queue_options(policy: access.AccessPolicy) -> dict:
    """Off a Space, Gradio also opens REST routes (/gradio_api/run/NAME) that run a handler beside the queue,
    past its concurrency limits (one model generating at a time); on a shared deployment every call queues."""
    return {"api_open": not policy.shared}


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    policy = access.configure(host, share)  # refuses to expose the app without sign-in
    start_results_mirror()  # with STUDIO_RESULTS_REPO: import the mirrored results before the first page
    demo = build_app(policy)
    demo.queue(default_concurrency_limit=2, **guarded_queue_options(policy))
    ensure_background_worker()  # queued jobs run (and interrupted ones are noticed) from start-up on
    demo.launch(server_name=host, server_port=port, share=share, i18n=I18N, show_error=False, theme=THEME,
                **guarded_launch_options(policy))
