"""Assemble the tabs into one Gradio app and launch it."""

from __future__ import annotations

import gradio as gr

from studio.ui import playground
from studio.ui.i18n import I18N, t

# Local font stacks only: the default theme fetches Google Fonts, which an offline laptop cannot reach.
THEME = gr.themes.Soft(
    font=["Pretendard", "Noto Sans KR", "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic", "sans-serif"],
    font_mono=["D2Coding", "Noto Sans Mono CJK KR", "ui-monospace", "monospace"],
)

# Tabs in the order users walk the book's workflow; later issues add Data, Train, Evaluate, Leaderboard.
TABS = (("tab.playground", "tab-playground", playground.build),)


def build_app() -> gr.Blocks:
    with gr.Blocks(title="Text2SQL LoRA Studio") as demo:
        gr.Markdown("# " + t("title"))
        gr.Markdown(t("subtitle"))
        with gr.Tabs():
            for label, elem_id, build in TABS:
                with gr.Tab(t(label), elem_id=elem_id):
                    build()
        gr.Markdown(t("footer"))
    return demo


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    demo = build_app()
    demo.queue(default_concurrency_limit=2)
    demo.launch(server_name=host, server_port=port, share=share, i18n=I18N, show_error=False, theme=THEME)
