"""The one exception the publish step raises for input it cannot use."""


class PublishError(RuntimeError):
    """Unusable input or a failed write. The message is one line, fit for a user."""
