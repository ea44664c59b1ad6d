"""Errors with a message meant for the person who acted."""


class UserError(Exception):
    """Refuse what the person asked, with a clear message. Nothing they asked for is changed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
