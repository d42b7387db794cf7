"""The one exception type users see: its message is printed as a single ``Error: ...`` line."""


class LCEError(Exception):
    """A failure caused by input or configuration, reported to the user without a traceback."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint
