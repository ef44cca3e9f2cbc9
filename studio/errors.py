"""The one exception type whose message is meant for users (CLI, UI): clear, actionable, no traceback."""

from __future__ import annotations


class StudioError(Exception):
    """A failure the user can act on; its message is shown as is.

    With a `key`, `template` is an English `str.format` template and the message is
    `template.format(**params)`; the UI shows the key's Korean template (studio.ui.i18n.ERRORS_KO) to Korean
    browsers, formatted with the same params. A param may itself be a StudioError (a wrapped cause, or a piece
    of the sentence): it is formatted as its message, and translated with the message it is part of. Without
    a key, `template` is the message.
    """

    def __init__(self, template: str, /, *, key: str | None = None, **params: object) -> None:
        if key is None and params:
            raise TypeError("StudioError params need a key")
        super().__init__(template.format(**params) if key is not None else template)
        self.template, self.key, self.params = template, key, params
