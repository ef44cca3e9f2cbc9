"""Pickers whose choices come from the registry: refreshed whenever the user opens them, so a data set
saved or a run finished in another tab (or another session) is there without reloading the page."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr


def refresh_on_focus(dropdown: gr.Dropdown, choices: Callable[[], list]) -> None:
    dropdown.focus(lambda: gr.update(choices=choices()), None, dropdown, api_visibility="private",
                   show_progress="hidden")
