"""Setting a study up: the Argilla datasets (`setup writing`, `setup rating`), participants'
access (`portal`) and the writing study's blocklist for the rating study (`blocklist`).

Each module is a few plain functions over the Argilla SDK, the warehouse or the Prolific API;
rlhfw.cli is the thin layer on top."""


class SetupError(RuntimeError):
    """Bad input or an unusable server/warehouse for a setup command: one line, exit 2."""


def open_warehouse(path):
    """The warehouse opened read-only (the report's connection: a missing file is a
    SetupError, a warehouse another process writes is WarehouseBusy, exit 3)."""
    from rlhfw.report.warehouse import ReportError, connect

    try:
        return connect(path)
    except ReportError as exc:
        raise SetupError(str(exc)) from None
