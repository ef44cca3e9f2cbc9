"""Pickers whose choices come from the registry: refreshed whenever the user opens them, so a data set
saved or a run finished in another tab (or another session) is there without reloading the page. The same
lists bound what a guest may pick on a shared deployment (studio.access.require_offered)."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr


def refresh_on_focus(dropdown: gr.Dropdown, choices: Callable[[], list]) -> None:
    dropdown.focus(lambda: gr.update(choices=choices()), None, dropdown, api_visibility="private",
                   show_progress="hidden")


def model_names() -> list[str]:
    """The models the pickers offer: the built-ins (the offline default first), then the prepared model
    folders under STUDIO_HOME/models (already on this machine: nothing to download)."""
    from studio.models import list_model_choices

    return list_model_choices()


def run_names() -> list[str]:
    """The runs trained here, as the adapter pickers offer them."""
    from studio.training.runs import list_runs

    return [run.name for run in list_runs()]


def database_names() -> list[str]:
    """The prepared versions' databases, "<version>/<db_id>" (what a guest may query)."""
    from studio.data.versions import listed_databases

    return list(listed_databases())
