"""The one exception type whose message is meant for users (CLI, UI): clear, actionable, no traceback."""


class StudioError(Exception):
    """A failure the user can act on; its message is shown as is."""
