"""`rlhfw`: a thin command line over rlhfw.pipeline. No logic lives here.

Exit codes: 0 ok; 1 a check or test failed (dbt test, publish blocked); 2 bad input or config;
3 the warehouse is busy: another rlhfw command holds its lock, or another process (a DuckDB
session, a plain `dbt build`) has it open.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from extract.errors import ExtractError
from rlhfw.pipeline import Busy, StageFailed, exit_status
from rlhfw.runs import Run
from study_config import ConfigError, Study, load_study

app = typer.Typer(
    help="Turn Prolific + Argilla human-feedback studies into RLHF preference datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Not a terminal (a pipe, a log file, cron): rich would wrap at 80 columns and break a path or
# a long line in two; soft wrap leaves every line whole.
out = Console(highlight=False, soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, highlight=False, soft_wrap=not sys.stderr.isatty())

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="The study file.", envvar="RLHFW_CONFIG")
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="Wait up to SECONDS for another rlhfw command's lock and for other processes to "
        "close the warehouse, instead of exiting 3 at once.",
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show dbt's line for every model and test.")
]
SnapshotOpt = Annotated[
    bool,
    typer.Option(
        help="After a successful build, copy the warehouse to <warehouse>.snapshot.duckdb "
        "(atomically), for analysts to read while the next refresh runs."
    ),
]


def _log(line: str) -> None:
    # One line stays one line (rich would wrap it at 80 columns in a log file or a pipe).
    out.print(line, markup=False, soft_wrap=True)


def _fail(message: str, code: int) -> None:
    err.print(f"error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def _user_errors(fn: Callable) -> Callable:
    """Map expected failures to one line on stderr and the documented exit code."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from publish import PublishError  # noqa: PLC0415 - keeps `--help` fast
        from rlhfw.report import ReportError
        from rlhfw.setup import SetupError

        try:
            return fn(*args, **kwargs)
        except (ConfigError, ExtractError, PublishError, StageFailed, Busy) as exc:
            _fail(str(exc), exit_status(exc)[0])
        except (ReportError, SetupError) as exc:
            _fail(str(exc), 2)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
            # A failure nobody foresaw is a bug, not bad input: one line on the terminal, the
            # traceback in a file for the bug report (RLHFW_DEBUG=1 raises it instead).
            if os.environ.get("RLHFW_DEBUG"):
                raise
            report = _save_traceback()
            _fail(f"unexpected {type(exc).__name__}: {exc}; traceback in {report}", 1)

    return wrapper


def _save_traceback() -> str:
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="rlhfw-error-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(traceback.format_exc())
    return path


# `rlhfw --target NAME`: overrides study.yml's `target:` for this run (engines/__init__.py).
_target: dict[str, str | None] = {"name": None}


@app.callback()
def _options(
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            metavar="NAME",
            envvar="RLHFW_TARGET",
            help="The profiles.yml target that builds the models: dev (DuckDB, the default), "
            "postgres or spark. Overrides study.yml's `target:`.",
        ),
    ] = None,
) -> None:
    _target["name"] = target


def _study(config: Path) -> Study:
    from engines import target_name

    study = load_study(config)
    if _target["name"]:
        study = study.model_copy(update={"target": _target["name"]})
    target_name(study)  # an unknown target is a config error (exit 2), before anything runs
    return study


@app.command()
@_user_errors
def demo(
    dir: Annotated[Path, typer.Option("--dir", help="Folder to write the demo study into.")] = Path(
        "data/demo"
    ),
    questions: Annotated[int, typer.Option(min=10, help="Questions in the writing study.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 42,
    warehouse: Annotated[
        str, typer.Option(help="study.yml's warehouse, relative to --dir.")
    ] = "data/warehouse.duckdb",
    landing: Annotated[str, typer.Option(help="study.yml's landing, relative to --dir.")] = (
        "data/landing"
    ),
    out: Annotated[str, typer.Option(help="study.yml's publish.out, relative to --dir.")] = (
        "data/dataset"
    ),
) -> None:
    """Write a realistic synthetic study (exports in every format, study.yml, a README)."""
    from rlhfw.demo import generate_demo

    summary = generate_demo(
        dir,
        questions=questions,
        seed=seed,
        warehouse=warehouse,
        landing=landing,
        publish_out=out,
        progress=_log,
    )
    _log(f"demo study written to {dir}: {summary}")
    _log(f"next: rlhfw refresh --config {dir / 'study.yml'}")


@app.command()
@_user_errors
def extract(config: ConfigOpt = Path("study.yml"), wait: WaitOpt = 0.0) -> None:
    """Land Prolific and Argilla data as Parquet (append-only, idempotent)."""
    from rlhfw import pipeline

    study = _study(config)
    run = pipeline.Run("extract")
    with pipeline.writing(study, "extract", wait, _log, warehouse=False, run=run):
        pipeline.extract(study, _log, run)
    _summary(run)


@app.command()
@_user_errors
def build(
    config: ConfigOpt = Path("study.yml"),
    wait: WaitOpt = 0.0,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild the incremental tables from scratch.")
    ] = False,
    verbose: VerboseOpt = False,
    snapshot: SnapshotOpt = True,
) -> None:
    """Run `dbt build` (models and tests) on the study's warehouse: the same as `dbt build`
    in the repo root with RLHFW_WAREHOUSE and RLHFW_LANDING set to the study's paths."""
    from rlhfw import pipeline

    study = _study(config)
    run = pipeline.Run("build")
    with pipeline.writing(study, "build", wait, _log, run=run, snapshot=snapshot):
        pipeline.build(study, _log, full_refresh=full_refresh, run=run, verbose=verbose)
    if run.snapshot:
        _log(f"snapshot: {run.snapshot}")
    _summary(run)


@app.command()
@_user_errors
def publish(
    config: ConfigOpt = Path("study.yml"),
    push_to_hub: Annotated[
        str | None, typer.Option(help="Also upload to this Hub repo (token from HF_TOKEN).")
    ] = None,
    wait: WaitOpt = 0.0,
) -> None:
    """Score toxicity and write the Hugging Face preference dataset."""
    from rlhfw import pipeline

    study = _study(config)
    run = pipeline.Run("publish")
    with pipeline.writing(study, "publish", wait, _log, run=run):
        report = pipeline.publish(study, _log, push_to_hub, run=run)
    for line in report.lines():
        _log(line)
    _summary(run)


@app.command()
@_user_errors
def refresh(
    config: ConfigOpt = Path("study.yml"),
    push_to_hub: Annotated[
        str | None, typer.Option(help="Also upload to this Hub repo (token from HF_TOKEN).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Build and publish even when nothing changed since the last.")
    ] = False,
    wait: WaitOpt = 0.0,
    verbose: VerboseOpt = False,
    snapshot: SnapshotOpt = True,
) -> None:
    """Extract, build and publish, under a lock so two refreshes never overlap; each run is
    recorded in the warehouse's analytics.refresh_runs."""
    from rlhfw import pipeline

    study = _study(config)
    run = pipeline.Run("refresh")
    report = pipeline.refresh(
        study,
        _log,
        push_to_hub,
        force=force,
        wait=wait,
        run=run,
        snapshot=snapshot,
        verbose=verbose,
    )
    for line in report.lines() if report else []:
        _log(line)
    _log(f"warehouse: {study.warehouse}")
    if run.snapshot:
        _log(f"snapshot:  {run.snapshot}")
    _log(f"dataset:   {study.publish.out}")
    _summary(run)


def _summary(run: Run) -> None:
    """The run's last lines: one per stage that ran (what it did, its seconds)."""
    for line in run.summary():
        _log(line)


@app.command()
@_user_errors
def report(
    config: ConfigOpt = Path("study.yml"),
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The HTML file to write (default: next to the warehouse, "
            "<warehouse stem>.report.html). A file there that rlhfw report did not write is "
            "never overwritten.",
        ),
    ] = None,
) -> None:
    """Write a self-contained HTML report of the study (funnel, ratings, agreement, raters,
    completeness, toxicity, refresh runs) from the warehouse's analysts' schema, read-only."""
    from rlhfw.report import write_report

    # The report reads only the warehouse: the study's input files need not be here.
    study = load_study(config, check_files=False)
    path = write_report(study, out)
    _log(f"report written to {path}")


def _setup_study(config: Path) -> Study:
    # A study is set up before its exports exist: only the files a command reads must be there
    # (each command checks its own).
    return load_study(config, check_files=False)


setup_app = typer.Typer(
    help="Create the studies' Argilla datasets (idempotent: a re-run adds only what is new).",
    no_args_is_help=True,
)
app.add_typer(setup_app, name="setup")
participants_app = typer.Typer(help="The studies' participants.", no_args_is_help=True)
app.add_typer(participants_app, name="participants")


@setup_app.command("writing")
@_user_errors
def setup_writing(
    config: ConfigOpt = Path("study.yml"),
    questions: Annotated[
        Path,
        typer.Option(
            "--questions",
            help="The questions: a CSV or JSONL file with a `question` column (and an optional "
            "`id`).",
        ),
    ] = Path("questions.csv"),
) -> None:
    """Create the writing datasets on the live Argilla server (ARGILLA_API_URL,
    ARGILLA_API_KEY) and add the questions they do not hold yet."""
    from rlhfw.setup.writing import setup_writing as run_setup

    _log(run_setup(_setup_study(config), questions, _log))


@setup_app.command("rating")
@_user_errors
def setup_rating(config: ConfigOpt = Path("study.yml")) -> None:
    """Push the warehouse's `rating_tasks` to the rating dataset(s) on the live Argilla server:
    only pairs not there yet."""
    from rlhfw.setup.rating import setup_rating as run_setup

    _log(run_setup(_setup_study(config), _log))


@app.command()
@_user_errors
def portal(
    config: ConfigOpt = Path("study.yml"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the page Prolific's study URL points to: each participant gets an Argilla account
    in a workspace of their study (RLHFW_PORTAL_SECRET, ARGILLA_API_URL, ARGILLA_API_KEY)."""
    from rlhfw.setup.portal import serve

    serve(_setup_study(config), host, port, _log)


@participants_app.command("blocklist")
@_user_errors
def blocklist(
    config: ConfigOpt = Path("study.yml"),
    from_: Annotated[
        str, typer.Option("--from", help="The study whose participants are blocked.")
    ] = "writing",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The CSV to write (default: <warehouse stem>.blocklist.csv)."),
    ] = None,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Also set it as the rating study's custom blocklist through the Prolific API "
            "(PROLIFIC_API_TOKEN).",
        ),
    ] = False,
) -> None:
    """Write the writing study's participant ids as a CSV for Prolific's custom blocklist (and
    with --apply, apply it to the rating study)."""
    from rlhfw.setup.blocklist import blocklist as run_blocklist

    _log(run_blocklist(_setup_study(config), from_, out, apply, _log))


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
