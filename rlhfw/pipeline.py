"""The stages as plain functions: extract, build, publish, and refresh (all three), and the lock
every command that writes takes (`writing`), which also records the run (rlhfw/runs.py)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from engines import is_duckdb, target_type
from extract.landing import Landing, LandResult
from rlhfw.dbt import (
    DbtOutcome,
    code_version,
    last_build_code,
    last_build_path,
    record_build,
    run_dbt,
)
from rlhfw.runs import Run, write_run, write_snapshot
from study_config import ConfigError, Study

Log = Callable[[str], None]


class StageFailed(RuntimeError):
    """A stage ran but its checks failed (dbt test failure, ...): exit code 1."""


class Busy(RuntimeError):
    """The warehouse is not free: another rlhfw command holds its lock, or another process has
    it open. Exit code 3."""


class RefreshLocked(Busy):
    """Another rlhfw command (extract, build, publish, refresh) holds the warehouse's lock."""


class WarehouseBusy(Busy):
    """Another process has the warehouse open (an analyst's DuckDB session, a plain `dbt build`):
    DuckDB lets only one process open a file for writing."""


@dataclass
class ExtractReport:
    results: list[LandResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def new_rows(self) -> int:
        return sum(r.new_rows for r in self.results)


def summarize(results: list[LandResult]) -> list[str]:
    """One line per landed table: rows new / unchanged, summed over its sources."""
    totals: dict[str, list[int]] = {}
    for r in results:
        t = totals.setdefault(f"{r.source}/{r.table}", [0, 0])
        t[0] += r.new_rows
        t[1] += r.unchanged_rows
    return [f"{name:<28} {new:>9,} new {old:>9,} unchanged" for name, (new, old) in totals.items()]


def extract(study: Study, log: Log = print, run: Run | None = None) -> ExtractReport:
    """Land Prolific and Argilla data and the study's settings; fills `run`'s extract figures."""
    from extract.argilla import land_argilla, read_argilla
    from extract.prolific import land_prolific, read_prolific
    from extract.settings import land_settings, source_positions

    # Sources are recorded relative to the study's folder (the same study run from another
    # folder lands the same rows) with their slot in study.yml (extract/settings.py).
    t0 = time.perf_counter()
    base = study.root
    landing = Landing(study.landing, base=base, position_of=source_positions(study, base))
    report = ExtractReport()
    try:
        # Read every source first: a bad file stops the run before anything lands.
        prolific = read_prolific(study.prolific, progress=log, landing=landing)
        argilla = read_argilla(study.argilla, landing, root=base, log=log)
        report.results.extend(land_prolific(prolific, landing, progress=log))
        landed = land_argilla(argilla, landing)
        report.results.extend(landed.results)
        report.warnings.extend(landed.warnings)
        report.results.extend(land_settings(study, landing, landed.formats))
    finally:
        landing.close()
    for warning in dict.fromkeys(report.warnings):  # each distinct warning once
        log(f"warning: {warning}")
    for line in summarize(report.results):
        log(line)
    if run is not None:
        run.extract_seconds = time.perf_counter() - t0
        landed: dict[str, int] = {}
        for r in report.results:
            landed[f"{r.source}/{r.table}"] = landed.get(f"{r.source}/{r.table}", 0) + r.new_rows
        run.rows_landed_by_table = landed
    return report


def build(
    study: Study,
    log: Log = print,
    full_refresh: bool = False,
    run: Run | None = None,
    verbose: bool = True,
) -> DbtOutcome:
    """`dbt build` (models + tests), with `--full-refresh` when asked. Raises StageFailed when
    anything fails, WarehouseBusy when dbt could not open the warehouse.

    Notes the code version after a build that leaves every table as this code computes it (a
    full one, or one under the code of the last such build), so that a refresh knows when its
    incremental tables were built by other code (`needs_full_refresh`). `verbose` shows dbt's
    line per node; fills `run`'s build figures."""
    t0 = time.perf_counter()
    version = code_version()
    # A first build, into no warehouse, builds every table from scratch too.
    current = full_refresh or not built_before(study) or last_build_code(study) == version
    extra = ["--full-refresh"] if full_refresh else None
    try:
        if target_type(study) == "postgres":
            from engines.postgres import load_landing

            load_landing(study, log)
        outcome = run_dbt(study, "build", extra, quiet=not verbose)
    finally:
        if run is not None:
            run.build_seconds = time.perf_counter() - t0
    if run is not None:
        run.build_passed = outcome.passed
        run.build_other = {s: n for s, n in outcome.counts.items() if s not in ("success", "pass")}
    if outcome.ok and current:
        record_build(study, version)
    elif not current:
        last_build_path(study).unlink(missing_ok=True)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(outcome.counts.items()))
    log(f"dbt build: {counts or 'nothing ran'} in {time.perf_counter() - t0:.1f} s")
    # A process that opened the warehouse between the check and dbt's connecting: the same
    # one line and exit code as when the check finds it.
    holder = next(filter(None, map(duckdb_holder, outcome.failures)), None)
    if not outcome.ok and holder:
        raise WarehouseBusy(
            f"dbt could not open warehouse {study.warehouse}: it is open in {holder}; "
            "nothing published"
        )
    if not outcome.ok:
        for failure in outcome.failures[:20]:
            log(failure)
        # Failing node names only: their messages may quote rows (the run history keeps this).
        failing = [
            f.split(": ")[1] for f in outcome.failures if f.startswith(("fail: ", "error: "))
        ]
        named = f" ({len(failing)} failing: {', '.join(failing[:3])}{', ...' * (len(failing) > 3)})"
        raise StageFailed(
            f"dbt build failed{named if failing else ''}: nothing published; see the lines above"
        )
    return outcome


def publish(
    study: Study,
    log: Log = print,
    push_to_hub: str | None = None,
    state: dict | None = None,
    run: Run | None = None,
):
    """Score toxicity and write the dataset; fills `run`'s publish figures."""
    from publish import PublishError, run_publish

    t0 = time.perf_counter()
    try:
        # A progress bar only for a person watching: in a log file it is noise.
        report = run_publish(
            study, push_to_hub=push_to_hub, refresh_state=state, progress=sys.stdout.isatty()
        )
        if run is not None:
            pairs = sum(report.pairs.values())
            run.publish_rows = {
                "pairs": pairs,
                "conversational": pairs,  # the same pairs, as chat messages
                "ratings": report.ratings,
                "responses": report.responses,
            }
        return report
    except PublishError:
        # publish reports a warehouse it cannot open as bad input (exit 2) without naming who
        # has it open: when another process does, say who, with the busy exit code.
        holder = warehouse_holder(study)
        if holder is None:
            raise
        raise WarehouseBusy(
            f"warehouse {study.warehouse} is open in {holder}; nothing published"
        ) from None
    finally:
        if run is not None:
            run.publish_seconds = time.perf_counter() - t0


def refresh_state(study: Study) -> dict[str, str]:
    """What a refresh's outputs are a function of: the landed files (immutable, so their names
    and sizes), the resolved study settings (and the card's guidelines file), and the code of
    the models and of publish."""
    from rlhfw.dbt import PROJECT_DIR

    landed = hashlib.sha256()
    for path in sorted(study.landing.rglob("*.parquet")):
        rel = path.relative_to(study.landing)
        if rel.parts[0] != "_meta":
            landed.update(f"{rel}:{path.stat().st_size}\n".encode())
    code = hashlib.sha256(code_version().encode())
    for path in sorted((PROJECT_DIR / "publish").glob("*.py")):
        code.update(path.read_bytes())
    settings = hashlib.sha256(study.model_dump_json().encode())
    guidelines = study.publish.card.guidelines
    if guidelines is not None and guidelines.is_file():
        settings.update(guidelines.read_bytes())  # the card includes its text
    return {
        "landing": landed.hexdigest()[:16],
        "study": settings.hexdigest()[:16],
        "code": code.hexdigest()[:16],
    }


def published_state(study: Study) -> dict | None:
    """The refresh state recorded with the published dataset, if a refresh published it."""
    from publish.dataset import MARKER

    try:
        marker = json.loads((Path(study.publish.out) / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return marker.get("refresh_state") if isinstance(marker, dict) else None


# How often a command told to --wait looks again.
POLL_SECONDS = 0.5
# How long any command waits, --wait or not, when the lock is held by a process other than the
# one its file names (a child that shares it, e.g. one a killed command started, is still
# exiting). Exiting takes moments; this only bounds an unexpected case.
LEFTOVER_SECONDS = 10.0
# The lock file holds "<pid> <command>", space-padded to a fixed size and written in place, so
# a reader never finds it empty or half old (truncating first would show it empty a moment).
LOCK_RECORD = 64


def lock_path(study: Study) -> Path:
    """The lock file next to the warehouse (named for the refresh, which took it first)."""
    return Path(str(study.warehouse) + ".refresh.lock")


@contextmanager
def refresh_lock(
    study: Study, command: str = "refresh", wait: float = 0.0, log: Log = print
) -> Iterator[int]:
    """The lock of every rlhfw command that writes the warehouse or the landing zone: an
    exclusive flock on `lock_path`, waited for up to `wait` seconds. Yields its descriptor: a
    child process that keeps it open holds the lock too.

    The kernel releases a flock when the last process holding it exits, so a killed command
    leaves no stale lock, whatever pid the file still names; the file's content only names
    the holder in messages. The file is never deleted: a deleted lock file would let two
    processes lock two different files."""
    path = lock_path(study)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, study, time.monotonic() + wait, log)
        record = f"{os.getpid()} {command}".ljust(LOCK_RECORD - 1) + "\n"
        os.pwrite(fd, record.encode(), 0)
        os.ftruncate(fd, LOCK_RECORD)
        yield fd
    finally:
        os.close(fd)


def _acquire(fd: int, study: Study, deadline: float, log: Log) -> None:
    """Take the flock on `fd`, looking again until `deadline` (time.monotonic()); raises
    RefreshLocked, naming the holder, if it is still held then."""
    announced = None
    leftover_deadline = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        pid, command = _lock_record(fd)
        if pid is None:
            holder = "another process"
        elif _running(pid):
            holder = f"another rlhfw {command} (pid {pid})"
        else:
            # The process the file names is gone but the lock is held: a child that shares it
            # (the dbt build of a killed refresh) is still exiting. Worth a short wait even
            # without --wait: the next command would otherwise fail for no lasting reason.
            holder = f"a process left by rlhfw {command} (pid {pid}, which has exited)"
            leftover_deadline = leftover_deadline or time.monotonic() + LEFTOVER_SECONDS
        if time.monotonic() >= max(deadline, leftover_deadline or deadline):
            if announced:
                raise RefreshLocked(f"{holder} still holds the lock on {study.warehouse}")
            raise RefreshLocked(
                f"{holder} holds the lock on {study.warehouse}; not starting "
                "(--wait SECONDS waits for it)"
            )
        if holder != announced:
            log(f"waiting for {holder} to release the lock on {study.warehouse}")
            announced = holder
        time.sleep(POLL_SECONDS)


def _lock_record(fd: int) -> tuple[int | None, str]:
    """The pid and command the lock file names; (None, "") if it names none."""
    for _ in range(3):
        fields = os.pread(fd, LOCK_RECORD, 0).decode("ascii", errors="replace").split()
        if fields and fields[0].isdigit():
            # A file written before commands were recorded holds only a refresh's pid.
            return int(fields[0]), (fields[1] if len(fields) > 1 else "refresh")
        time.sleep(0.05)  # a holder that has just taken the lock writes its record next
    return None, ""


def _running(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (an exited, unreaped one is a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return True  # no /proc to ask (not Linux), or it exited this instant
    return stat.rpartition(")")[2].split()[0] != "Z"


# DuckDB's error when another process has the file open: "... Conflicting lock is held in
# /usr/bin/python3.11 (PID 1234) ...".
_DUCKDB_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def duckdb_holder(error: str) -> str | None:
    """The process named by a DuckDB lock error ("<program> (PID n)"), None for another error."""
    found = _DUCKDB_HOLDER.search(error)
    if found:
        return f"{found[1]} (PID {found[2]})"
    return "another process" if "Could not set lock on file" in error else None


def warehouse_holder(study: Study) -> str | None:
    """Who else has the warehouse open ("<program> (PID n)"), or None when this process can
    open it for writing. Opens it for a moment: DuckDB lets one process write a file, or any
    number read it, and its lock error names the holder. Opening read-only would miss an
    analyst's read-only session, which blocks dbt just the same."""
    import duckdb

    if not study.warehouse.is_file():
        # Nobody holds a file that is not there; connecting would create it without the
        # storage settings dbt's profile gives it.
        return None
    try:
        duckdb.connect(str(study.warehouse)).close()
    except duckdb.IOException as exc:
        return duckdb_holder(str(exc))
    except duckdb.Error:
        return None  # not a lock: dbt or publish, opening it next, reports what is wrong
    return None


def wait_for_warehouse(study: Study, wait: float = 0.0, log: Log = print) -> None:
    """Return once no other process has the warehouse open, looking again for up to `wait`
    seconds; raises WarehouseBusy, naming the holder, if one still has it open then."""
    deadline = time.monotonic() + wait
    announced = None
    while (holder := warehouse_holder(study)) is not None:
        if time.monotonic() >= deadline:
            if announced:
                raise WarehouseBusy(f"warehouse {study.warehouse} is still open in {holder}")
            raise WarehouseBusy(
                f"warehouse {study.warehouse} is open in {holder}; not starting "
                "(close it, or --wait SECONDS waits for it)"
            )
        if holder != announced:
            log(f"waiting for {holder} to close warehouse {study.warehouse}")
            announced = holder
        time.sleep(POLL_SECONDS)


def exit_status(exc: BaseException) -> tuple[int, str]:
    """The documented exit code of a command that raised `exc`, and its one-line error."""
    from extract.errors import ExtractError
    from publish.errors import PublishError

    first = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, ConfigError | ExtractError | PublishError):
        return 2, first
    if isinstance(exc, StageFailed):
        return 1, first
    if isinstance(exc, Busy):
        return 3, first
    if isinstance(exc, KeyboardInterrupt):
        return 130, "interrupted"
    # A bug: its message could hold anything (a value from a row), so only its type; the
    # traceback is in the file the command named.
    return 1, f"unexpected {type(exc).__name__} (a bug; the command printed where its traceback is)"


@contextmanager
def writing(
    study: Study,
    command: str,
    wait: float = 0.0,
    log: Log = print,
    warehouse: bool = True,
    run: Run | None = None,
    snapshot: bool = False,
) -> Iterator[int]:
    """What every command that writes runs under: the lock, then, for those that write the
    warehouse, a check that no other process has it open, so a busy warehouse stops the
    command in one line before it starts rather than in dbt's tracebacks halfway. `wait` is
    shared by both. Yields the lock's descriptor (see refresh_lock).

    With a `run`, its row goes into `analytics.refresh_runs` when the command ends, ok or
    failed, still under the lock (rlhfw/runs.py); and with `snapshot`, a run that built and
    ended well copies the warehouse to its snapshot. A command refused because the warehouse
    is busy (exit 3) is not recorded: it never started, and the warehouse is another's."""
    deadline = time.monotonic() + wait
    with refresh_lock(study, command, wait, log) as fd:
        if warehouse:
            wait_for_warehouse(study, max(0.0, deadline - time.monotonic()), log)
        if run is None:
            yield fd
            return
        run.started_at = datetime.now(UTC)
        try:
            yield fd
        except BaseException as exc:
            code, line = exit_status(exc)
            if code != 3:
                run.end(code, line)
                write_run(study, run, log)  # never raises: the run's own error goes on up
            raise
        run.end()
        write_run(study, run, log)
        if snapshot and run.build_seconds is not None and is_duckdb(study):
            run.snapshot = write_snapshot(study, log)


def built_before(study: Study) -> bool:
    """Whether the study's target holds a build: the DuckDB file, or (on a server, which rlhfw
    cannot see from here) a build noted beside the warehouse file."""
    if is_duckdb(study):
        return study.warehouse.exists()
    return last_build_path(study).exists()


def needs_full_refresh(study: Study) -> str | None:
    """Why a refresh must rebuild every table (`--full-refresh`), or None. The incremental
    tables (the two large staging tables) are correct for any new landed data, but not for
    other code: they are rebuilt when the models, macros, seeds or pins changed since the last
    build noted its code version (`build`), or when there is no warehouse yet."""
    if not built_before(study):
        return "no warehouse yet"
    previous = last_build_code(study)
    if previous is None:
        return "no build of this warehouse noted its code version"
    if previous != code_version():
        return "the models' code changed since the last build"
    return None


def refresh(
    study: Study,
    log: Log = print,
    push_to_hub: str | None = None,
    force: bool = False,
    wait: float = 0.0,
    run: Run | None = None,
    snapshot: bool = False,
    verbose: bool = True,
):
    """Extract, build, publish; one at a time per warehouse (waiting up to `wait` seconds for
    the lock and the warehouse, see `writing`). With a `run`, it is filled and recorded in the
    run history (and `snapshot` copies the warehouse after a build), as the CLI does.

    When the extract landed nothing and the landed files, the study settings and the code are
    those the published dataset was refreshed from, build and publish are skipped (returns
    None): the scheduled refresh of a study with nothing new costs only its extract."""
    with writing(study, "refresh", wait, log, run=run, snapshot=snapshot):
        t0 = time.perf_counter()
        report = extract(study, log, run)
        state = refresh_state(study)
        unchanged = (
            not force
            and not push_to_hub
            and report.new_rows == 0
            and built_before(study)
            and published_state(study) == state
        )
        if unchanged:
            # Publish removes a killed publish's temp folder; a refresh that skips publish
            # must too, or the leftover stays for good on a study that sees nothing new.
            from publish.dataset import remove_leftover_temp

            for leftover in remove_leftover_temp(study.publish.out):
                log(f"removed {leftover}, left by a publish that was killed")
            log(
                "nothing new since the last refresh (same landed data, settings and code): "
                f"build and publish skipped in {time.perf_counter() - t0:.1f} s; "
                "--force redoes them"
            )
            if run is not None:
                run.status = "nothing_new"
            return None
        # Checked again: a session opened during the extract would fail dbt's build in a
        # page of tracebacks (build() still maps one that slips in after this).
        wait_for_warehouse(study, wait, log)
        reason = needs_full_refresh(study)
        if reason:
            log(f"dbt build --full-refresh: {reason}")
        build(study, log, full_refresh=reason is not None, run=run, verbose=verbose)
        from publish import NothingRated

        try:
            result = publish(study, log, push_to_hub, state, run)
        except NothingRated as exc:
            # The writing study is in and the rating study has not started: the build made
            # what the team needs next (rating_tasks); there is nothing to publish yet.
            log(f"publish skipped: {exc}")
            result = None
        log(f"refresh done in {time.perf_counter() - t0:.1f} s")
        return result
