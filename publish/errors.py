"""The exceptions the publish step raises for input it cannot use."""


class PublishError(RuntimeError):
    """Unusable input or a failed write. The message is one line, fit for a user."""


class NothingRated(PublishError):
    """The warehouse has no rated pair at all: a study whose rating study has not started. A
    refresh then stops after its build (the writing study's marts, rating_tasks among them,
    are what the team needs next); `rlhfw publish` alone reports it as bad input."""
