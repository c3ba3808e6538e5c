"""The run history (`analytics.refresh_runs`) and the analysts' snapshot of the warehouse.

Every `rlhfw extract | build | publish | refresh` fills a `Run` as it goes (stage seconds, rows
landed, dbt's counts, rows per published config) and, when it ends, writes it as one row into
the warehouse it ran on, under the lock it already holds. dbt never builds or drops the table
(it is a dbt source, `models/marts/_analytics__sources.yml`), so the history survives every
`--full-refresh`. A successful build or refresh then copies the warehouse to its snapshot, a
file analysts can keep open while the next refresh writes the warehouse.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rlhfw.dbt import code_version
from study_config import Study

Log = Callable[[str], None]

SCHEMA = "analytics"
TABLE = "refresh_runs"
# Named in the dbt source, the README and docs/architecture.md ("Run history"): keep in step.
DDL = f"""
create table if not exists {SCHEMA}.{TABLE} (
    run_id varchar primary key,
    command varchar not null,
    started_at timestamp with time zone not null,
    finished_at timestamp with time zone not null,
    status varchar not null,
    exit_code integer not null,
    error_line varchar,
    code_version varchar not null,
    extract_seconds double,
    build_seconds double,
    publish_seconds double,
    rows_landed bigint,
    rows_landed_by_table map(varchar, bigint)
)
"""
# The storage version dbt's profile creates the warehouse with (profiles.yml): a history row
# written before the first build creates the file, and the PyPI duckdb CLI must still read it.
STORAGE = {"storage_compatibility_version": "v1.5.0"}


@dataclass
class Run:
    """One rlhfw command's run: what it did and how it ended, filled in by the stages."""

    command: str
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    status: str = "ok"  # ok | nothing_new | failed
    exit_code: int = 0
    error_line: str | None = None
    extract_seconds: float | None = None
    build_seconds: float | None = None
    publish_seconds: float | None = None
    rows_landed_by_table: dict[str, int] | None = None  # None: extract did not run
    build_passed: dict[str, int] = field(default_factory=dict)  # resource type -> passed
    build_other: dict[str, int] = field(default_factory=dict)  # status -> nodes not passed
    publish_rows: dict[str, int] = field(default_factory=dict)  # config -> rows
    snapshot: Path | None = None  # the snapshot this run wrote

    @property
    def rows_landed(self) -> int | None:
        if self.rows_landed_by_table is None:
            return None
        return sum(self.rows_landed_by_table.values())

    def end(self, exit_code: int = 0, error_line: str | None = None) -> None:
        self.finished_at = datetime.now(UTC)
        self.exit_code = exit_code
        if exit_code:
            self.status = "failed"
            self.error_line = error_line

    def summary(self) -> list[str]:
        """One line per stage that ran: what it did and its seconds."""
        lines = []
        if self.extract_seconds is not None:
            tables = sum(1 for n in (self.rows_landed_by_table or {}).values() if n)
            lines.append(
                f"extract: {_count(self.rows_landed or 0, 'row')} landed in "
                f"{_count(tables, 'table')}; {self.extract_seconds:.1f} s"
            )
        if self.build_seconds is not None:
            passed = ", ".join(
                _count(n, KINDS.get(kind, kind.replace("_", " ")))
                for kind, n in sorted(self.build_passed.items(), key=_models_first)
            )
            other = "".join(f"; {n:,} {s}" for s, n in sorted(self.build_other.items()))
            lines.append(f"build: {passed or 'nothing'} passed{other}; {self.build_seconds:.1f} s")
        if self.publish_seconds is not None:
            rows = ", ".join(f"{config} {n:,}" for config, n in self.publish_rows.items())
            lines.append(f"publish: rows {rows or 'none'}; {self.publish_seconds:.1f} s")
        return lines


# dbt's resource types as the summary names them.
KINDS = {"operation": "hook"}


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _models_first(item: tuple[str, int]) -> tuple[int, str]:
    order = ("model", "test", "unit_test", "seed")
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def write_run(study: Study, run: Run, log: Log) -> bool:
    """Append the run's row to `analytics.refresh_runs`. Never raises: a history that cannot be
    written must not hide the run's own result, so a failure is one warning line instead."""
    import duckdb

    if run.finished_at is None:
        run.end()
    row = [
        run.run_id,
        run.command,
        run.started_at,
        run.finished_at,
        run.status,
        run.exit_code,
        run.error_line,
        code_version(),
        run.extract_seconds,
        run.build_seconds,
        run.publish_seconds,
        run.rows_landed,
        run.rows_landed_by_table,
    ]
    try:
        study.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(study.warehouse), config=STORAGE) as con:
            con.execute(f"create schema if not exists {SCHEMA}")
            con.execute(DDL)
            con.execute(f"insert into {SCHEMA}.{TABLE} values (?{', ?' * (len(row) - 1)})", row)
    except (duckdb.Error, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log(f"warning: run not recorded in {SCHEMA}.{TABLE} of {study.warehouse}: {first}")
        return False
    return True


def snapshot_path(study: Study) -> Path:
    """The analysts' copy of the warehouse, beside it."""
    return study.warehouse.with_name(study.warehouse.name + ".snapshot.duckdb")


def write_snapshot(study: Study, log: Log) -> Path | None:
    """Copy the warehouse to `snapshot_path` atomically (a temp file beside it, then
    os.replace): a reader has the old snapshot or the new one open, never half a file.

    Called under the run's lock once every connection of the run is closed (closing
    checkpoints DuckDB's write-ahead log into the file), so no writer holds the file: another
    writer would have to take the lock first, and a plain `dbt build` or a writing DuckDB
    session leaves a `.wal` beside it, which this refuses to copy. Never raises: the run's
    result stands, a failure is one warning line."""
    target = snapshot_path(study)
    wal = Path(f"{study.warehouse}.wal")
    if wal.exists():
        log(f"warning: snapshot not written: {wal} exists (another process writes the warehouse)")
        return None
    try:
        copy_atomically(study.warehouse, target)
    except OSError as exc:
        log(f"warning: snapshot {target} not written: {exc.strerror or exc}")
        return None
    return target


def copy_atomically(source: Path, target: Path) -> None:
    """Copy `source` to a temp file beside `target`, flush it to disk, rename it over `target`.
    Raises OSError (and leaves no temp file)."""
    import shutil

    # Under the lock no other copy runs: a temp file there is a killed run's leftover.
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        leftover.unlink(missing_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, temp)
        with open(temp, "rb") as f:
            os.fsync(f.fileno())  # the rename must not publish a file still in the page cache
        os.replace(temp, target)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
