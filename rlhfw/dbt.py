"""Run dbt in-process (dbtRunner) against a study's warehouse and landing zone.

The study's paths reach dbt through the env vars that `profiles.yml` and the sources read, so a
plain `dbt build` in the repo root (with the defaults, or those env vars set) and `rlhfw build`
run the same project and the same SQL.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from engines import spark_warehouse, target_name, target_type
from study_config import Study

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass
class DbtOutcome:
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    # Nodes that succeeded, by resource type (model, test, seed): the summary's "passed".
    passed: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def study_env_vars(study: Study) -> dict[str, str]:
    """The env vars that point profiles.yml and the sources at the study's files."""
    return {
        "RLHFW_WAREHOUSE": str(study.warehouse),
        "RLHFW_LANDING": str(study.landing),
        # The spark target's tables and metastore (profiles.yml); unused by the others.
        "RLHFW_SPARK_WAREHOUSE": str(spark_warehouse(study)),
        # DuckDB's threads (profiles.yml): the user's choice, else one per core.
        "RLHFW_DUCKDB_THREADS": os.environ.get("RLHFW_DUCKDB_THREADS") or str(os.cpu_count() or 1),
    }


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
    seeds, the project file and the dbt / DuckDB versions. A refresh builds from scratch when
    it differs from the last build's (`pipeline.refresh`)."""
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


def dbt_args(
    command: str, extra: list[str] | None = None, quiet: bool = False, target: str | None = None
) -> list[str]:
    """dbt's arguments for `command` on this project; `quiet` keeps dbt's per-node lines out of
    stdout (its warnings and errors still show; logs/dbt.log has every line either way)."""
    args = [
        command,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        *(["--target", target] if target else []),
        *(extra or []),
    ]
    if "DBT_LOG_LEVEL_FILE" not in os.environ:
        # logs/dbt.log records each node's start, result and errors; at dbt's default (debug)
        # it also holds every SQL statement (megabytes per build). DBT_LOG_LEVEL_FILE=debug
        # brings them back.
        args += ["--log-level-file", "info"]
    if quiet:
        args += ["--log-level", "warn"]
    if not sys.stdout.isatty():
        args.append("--no-use-colors")  # plain text in logs and CI
    return args


def _outcome(result) -> DbtOutcome:
    """Success and per-status counts of a dbtRunner result's nodes."""
    outcome = DbtOutcome(ok=bool(result.success))
    if result.exception is not None:
        outcome.failures.append(f"dbt crashed: {result.exception}")
    for node in getattr(result.result, "results", None) or []:
        status = str(getattr(node, "status", "unknown"))
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        if status in ("success", "pass"):
            kind = str(getattr(getattr(node, "node", None), "resource_type", "node"))
            outcome.passed[kind] = outcome.passed.get(kind, 0) + 1
        if status in ("error", "fail"):
            name = getattr(getattr(node, "node", None), "name", "?")
            outcome.failures.append(f"{status}: {name}: {getattr(node, 'message', '')}")
    if not outcome.ok and not outcome.failures:
        outcome.failures.append("dbt stopped before running any node (see its output above)")
    return outcome


def run_dbt(
    study: Study, command: str = "build", extra: list[str] | None = None, quiet: bool = False
) -> DbtOutcome:
    """`dbt <command> [extra]` for the study; returns success and per-status counts."""
    from dbt.cli.main import dbtRunner  # heavy import: only when dbt really runs

    study.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with study_env(study):
        try:
            result = dbtRunner().invoke(dbt_args(command, extra, quiet, target_name(study)))
        finally:
            release_duckdb()
    return _outcome(result)


def last_build_path(study: Study) -> Path:
    """Where a refresh notes the code version of the last successful build, beside the
    warehouse (one file per target): what it compares to decide on `--full-refresh`."""
    target = target_name(study)
    suffix = "" if target_type(study) == "duckdb" else f".{target}"
    return study.warehouse.with_name(f"{study.warehouse.name}.last-build{suffix}.json")


def last_build_code(study: Study) -> str | None:
    try:
        return json.loads(last_build_path(study).read_text("utf-8")).get("code_version")
    except (OSError, ValueError, AttributeError):
        return None


def record_build(study: Study, version: str) -> None:
    last_build_path(study).write_text(json.dumps({"code_version": version}) + "\n", "utf-8")
