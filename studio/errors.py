"""Words meant for users (CLI, UI): the one exception type whose message is shown, clear, actionable and
without a traceback, and the phrases that go into messages. Both carry a key the UI translates."""

from __future__ import annotations

from collections.abc import Iterable


class StudioError(Exception):
    """A failure the user can act on; its message is shown as is.

    With a `key`, `template` is an English `str.format` template and the message is
    `template.format(**params)`; the UI shows the key's Korean template (studio.ui.i18n.ERRORS_KO) to Korean
    browsers, formatted with the same params. A param may itself be a StudioError (a wrapped cause), a Phrase
    or Phrases (a piece of the sentence): it is formatted as its English, and translated with the message it
    is part of. Without a key, `template` is the message.
    """

    def __init__(self, template: str, /, *, key: str | None = None, **params: object) -> None:
        if key is None and params:
            raise TypeError("StudioError params need a key")
        super().__init__(template.format(**params) if key is not None else template)
        self.template, self.key, self.params = template, key, params


class Phrase(str):
    """Words for people that are not a failure of their own: a problem in a list, the action a message names,
    a reason. Like a keyed StudioError it is the English `template` formatted with `params` (and, being a
    str, it goes wherever text goes), and the UI shows the key's Korean (studio.ui.i18n.ERRORS_KO)."""

    template: str
    key: str
    params: dict[str, object]

    def __new__(cls, template: str, /, *, key: str, **params: object) -> Phrase:
        phrase = super().__new__(cls, template.format(**params))
        phrase.template, phrase.key, phrase.params = template, key, params
        return phrase


class Phrases(tuple):
    """Several phrases shown as one text, `separator` between them; the UI translates each."""

    separator: str

    def __new__(cls, phrases: Iterable[str], separator: str = "; ") -> Phrases:
        joined = super().__new__(cls, phrases)
        joined.separator = separator
        return joined

    def __str__(self) -> str:
        return self.separator.join(self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)
