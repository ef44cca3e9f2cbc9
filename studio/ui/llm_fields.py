"""The fields that name an OpenAI-compatible model: the model, its base URL and a key typed for this session
only (never stored: the handler gets it with the call). Shared by the sections that spend LLM credits."""

from __future__ import annotations

import gradio as gr

from studio.ui.i18n import t


def llm_fields(model: str, prefix: str) -> tuple[gr.Textbox, gr.Textbox, gr.Textbox]:
    """(model, base URL, key) textboxes, laid out in the current row; element ids start with `prefix`."""
    return (gr.Textbox(model, label=t("evaluate.judge_model"), elem_id=f"{prefix}-model"),
            gr.Textbox(label=t("evaluate.judge_url"), placeholder="https://api.openai.com/v1",
                       elem_id=f"{prefix}-url"),
            gr.Textbox(label=t("evaluate.judge_key"), type="password", info=t("evaluate.judge_key_info"),
                       elem_id=f"{prefix}-key"))
