"""Run dbt in-process (dbtRunner) against a study's warehouse and landing zone.

In-process avoids a second Python start and lets partial parsing reuse `target/`. The study's
paths reach dbt through the env vars that `profiles.yml` and the sources read, so a plain
`dbt build` in the repo root (with the defaults) and `rlhfw build` run the same project.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from study_config import Study

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass
class DbtOutcome:
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    peak_rss_mb: float | None = None  # of the child process, when a prepared build ran it


def study_env_vars(study: Study) -> dict[str, str]:
    """The env vars that point profiles.yml and the sources at the study's files."""
    return {"RLHFW_WAREHOUSE": str(study.warehouse), "RLHFW_LANDING": str(study.landing)}


@contextmanager
def study_env(study: Study):
    """Point profiles.yml and the sources at this study's warehouse and landing zone."""
    values = study_env_vars(study)
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the life of the process.

    Without this the warehouse stays locked to dbt's configuration, and the publish step in the
    same process (a refresh) cannot open it. dbt-duckdb has no public call for it; the attribute
    is stable across the 1.11 series pinned here."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing is held
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None:
        env.close()
        DuckDBConnectionManager._ENV = None


def code_version() -> str:
    """A hash of everything that decides what the models compute: their SQL, the macros, the
    seeds, the project file and the dbt / DuckDB versions. Passed to dbt as the var
    `rlhfw_code_version`, it lets `memoized_table` keep a table whose inputs are unchanged
    (macros/memo.sql); any code change rebuilds everything."""
    # Versions from the installed packages' metadata: importing dbt to ask it takes ~0.3 s,
    # and a refresh computes this before it starts dbt's child.
    versions = f"dbt={metadata.version('dbt-core')};duckdb={metadata.version('duckdb')}"
    digest = hashlib.sha256(versions.encode())
    files = [PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds"):
        files += (PROJECT_DIR / folder).rglob("*")
    # Markdown (READMEs, docs blocks) only describes: editing it must not rebuild everything.
    for path in sorted(p for p in files if p.is_file() and p.suffix != ".md"):
        digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _invocation(
    study: Study, command: str, extra: list[str] | None, memo: bool
) -> tuple[list[str], str | None, bool]:
    """dbt's arguments for `command` on the study, the code version (with memo) and whether
    the unit tests are skipped."""
    args = [
        command,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        *(extra or []),
    ]
    version = code_version() if memo else None
    # Unit tests read only fixtures and code, so a pass under this code version holds: a
    # refresh skips them once a build passed them (a plain `dbt build` always runs them).
    skip_unit = (
        memo
        and command == "build"
        and _unit_marker(study).exists()
        and _unit_marker(study).read_text().strip() == version
    )
    if memo:
        args += ["--vars", json.dumps({"rlhfw_code_version": version})]
    if "DBT_LOG_LEVEL_FILE" not in os.environ:
        # logs/dbt.log records each node's start, result and errors; at dbt's default (debug)
        # it also holds every SQL statement, ~9 MB per 100x refresh, and writing those lines
        # took ~14% of dbt's own time per node. DBT_LOG_LEVEL_FILE=debug brings them back.
        args += ["--log-level-file", "info"]
    if skip_unit:
        args += ["--exclude-resource-type", "unit_test"]
    if not sys.stdout.isatty():
        args.append("--no-use-colors")  # plain text in logs and CI
    return args, version, skip_unit


def _unit_marker(study: Study) -> Path:
    return study.warehouse.with_name(study.warehouse.name + ".unit-tests-passed")


def _outcome(result) -> DbtOutcome:
    """Success and per-status counts of a dbtRunner result's nodes."""
    outcome = DbtOutcome(ok=bool(result.success))
    if result.exception is not None:
        outcome.failures.append(f"dbt crashed: {result.exception}")
    for node in getattr(result.result, "results", None) or []:
        status = str(getattr(node, "status", "unknown"))
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        if status in ("error", "fail"):
            name = getattr(getattr(node, "node", None), "name", "?")
            outcome.failures.append(f"{status}: {name}: {getattr(node, 'message', '')}")
    if not outcome.ok and not outcome.failures:
        outcome.failures.append("dbt stopped before running any node (see its output above)")
    return outcome


def _record_unit_pass(
    study: Study, outcome: DbtOutcome, version: str | None, skip_unit: bool, plain: bool
) -> None:
    if version is not None and plain and outcome.ok and not skip_unit:
        _unit_marker(study).write_text(f"{version}\n")


def run_dbt(
    study: Study, command: str = "build", extra: list[str] | None = None, memo: bool = True
) -> DbtOutcome:
    """`dbt <command>` for the study; returns success and per-status counts of the nodes.

    With `memo`, tables whose inputs did not change since they were built are kept."""
    from dbt.cli.main import dbtRunner  # heavy import: only when dbt really runs

    from rlhfw.dbt_schemas import use_cached_schemas

    study.warehouse.parent.mkdir(parents=True, exist_ok=True)
    args, version, skip_unit = _invocation(study, command, extra, memo)
    save_schemas = use_cached_schemas(PROJECT_DIR / "target")
    with study_env(study):
        try:
            result = dbtRunner().invoke(args)
        finally:
            release_duckdb()
    save_schemas()
    outcome = _outcome(result)
    _record_unit_pass(study, outcome, version, skip_unit, command == "build" and not extra)
    return outcome


class PreparedBuild:
    """A refresh's `dbt build`, made ready in a child process while the extract runs.

    Importing dbt and loading the project take about 4 s whatever the study's size, a fixed
    cost on every refresh; the extract of a small increment takes about as long and leaves the
    second core mostly idle. The child does that work meanwhile, with the arguments the build
    will use (the code version, the study's paths), then waits: `run()` lets it build and
    returns the outcome as soon as the child has closed the warehouse (its exit, about a
    second at 100x, overlaps what comes next; `wait()` reaps it), `cancel()` (nothing new to
    build) stops it. Its dbt output goes to
    this process's stdout and stderr, as an in-process build's would. Should the child fail
    before building, `run()` builds in-process instead.

    The child dies with this process (`rlhfw.dbt_child._die_with_parent`), so a killed refresh
    leaves no build writing the warehouse. `lock_fd`, the refresh's lock (pipeline.refresh_lock),
    is kept open in the child too: the lock is held until both processes are gone, and a next
    refresh cannot start while a dying child still has the warehouse open."""

    def __init__(self, study: Study, lock_fd: int | None = None) -> None:
        self.study = study
        study.warehouse.parent.mkdir(parents=True, exist_ok=True)
        self.args, self.version, self.skip_unit = _invocation(study, "build", None, True)
        fd, name = tempfile.mkstemp(prefix="rlhfw-dbt-", suffix=".json")
        os.close(fd)
        self.result_path = Path(name)
        self.built = False
        env = {**os.environ, **study_env_vars(study)}
        # The child writes a byte here once the warehouse is closed; end of file if it died.
        self._done, done_w = os.pipe()
        request = {
            "args": self.args,
            "result": str(self.result_path),
            "done_fd": done_w,
            "parent_pid": os.getpid(),
        }
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rlhfw.dbt_child", json.dumps(request)],
                stdin=subprocess.PIPE,
                env=env,
                cwd=PROJECT_DIR,
                pass_fds=(done_w,) if lock_fd is None else (done_w, lock_fd),
            )
        finally:
            os.close(done_w)

    def run(self) -> DbtOutcome:
        """Build and return the outcome as soon as the child has closed the warehouse, without
        waiting for it to exit (`wait()` does)."""
        try:
            self.process.stdin.write(b"build\n")
            self.process.stdin.close()
        except BrokenPipeError:  # the child is gone: build here
            pass
        done, self._done = self._done, None
        with os.fdopen(done, "rb") as pipe:
            released = pipe.read(1) == b"1"
        if not released:
            self.process.wait()  # it failed: make sure it no longer holds the warehouse
        self.built = True
        try:
            data = json.loads(self.result_path.read_text()) if released else None
        except (OSError, ValueError):
            data = None
        finally:
            self.result_path.unlink(missing_ok=True)
        if data is None:
            return run_dbt(self.study)
        outcome = DbtOutcome(**data)
        _record_unit_pass(self.study, outcome, self.version, self.skip_unit, True)
        return outcome

    def wait(self) -> None:
        """Wait for the child to exit (after `run()`, it is finishing on its own)."""
        self.process.wait()

    def cancel(self) -> None:
        """Stop the child if it has not been asked to build (nothing new to build)."""
        if self.built:
            return
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        if self._done is not None:
            os.close(self._done)
            self._done = None
        self.result_path.unlink(missing_ok=True)
