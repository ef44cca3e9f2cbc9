"""Turn failures into messages users can read: never a traceback in the browser."""

from __future__ import annotations

import functools
import logging

import gradio as gr

from studio.errors import StudioError
from studio.ui.i18n import error_text, say

log = logging.getLogger("studio.ui")


def user_errors(handler):
    """Wrap an event handler so a failure shows as a Gradio error toast with a clear message, in the language
    of the handler's gr.Request (Korean when it takes none)."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except gr.Error:
            raise
        except StudioError as exc:
            raise gr.Error(error_text(exc, _request(args, kwargs))) from None
        except Exception as exc:  # noqa: BLE001 - logged for us, one line for the user
            log.exception("unexpected failure in %s", handler.__name__)
            error = f"{type(exc).__name__}: {exc}"
            raise gr.Error(say("unexpected", _request(args, kwargs), error=error)) from None

    return wrapper


def _request(args: tuple, kwargs: dict) -> gr.Request | None:
    return next((a for a in (*args, *kwargs.values()) if isinstance(a, gr.Request)), None)
