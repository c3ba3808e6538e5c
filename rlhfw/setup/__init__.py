"""Setting a study up: the Argilla datasets (`setup writing`, `setup rating`), participants'
access (`portal`) and the writing study's blocklist for the rating study (`blocklist`).

Each module is a few plain functions over the Argilla SDK, the warehouse or the Prolific API;
rlhfw.cli is the thin layer on top."""


class SetupError(RuntimeError):
    """Bad input or an unusable server/warehouse for a setup command: one line, exit 2."""
