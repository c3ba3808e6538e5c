"""Land a synthetic study and build the warehouse from it with dbt, in-process.

Each build gets its own landing zone, warehouse and dbt target/log folders under a tmp dir, so
runs never clobber each other or the repo's `target/`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from warehouse_study import StudyData, land_study, synthetic_study

from tests.warehouse import connect_warehouse

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass
class Build:
    """A landed study and the warehouse dbt built from it."""

    data: StudyData
    landing: Path
    warehouse: Path
    workdir: Path
    seconds: float

    def connect(self) -> duckdb.DuckDBPyConnection:
        return connect_warehouse(self.warehouse)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.connect() as con:
            return con.execute(sql, params or []).fetchall()


@contextmanager
def _env(**values: str) -> Iterator[None]:
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
    """Close the DuckDB database dbt-duckdb keeps open in-process after a run: until then this
    process cannot open the warehouse with another configuration (e.g. read-only)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def run_dbt(workdir: Path, landing: Path, warehouse: Path, *args: str) -> tuple[bool, list[str]]:
    """`dbt <args>` in-process against this landing zone and warehouse. Returns (ok, failures)."""
    from dbt.cli.main import dbtRunner

    argv = [
        *args,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(workdir / "target"),
        "--log-path", str(workdir / "logs"),
        "--quiet",
    ]  # fmt: skip
    with _env(RLHFW_LANDING=str(landing), RLHFW_WAREHOUSE=str(warehouse)):
        try:
            result = dbtRunner().invoke(argv)
        finally:
            release_duckdb()
    failures = []
    if result.exception is not None:
        failures.append(f"dbt crashed: {result.exception}")
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in ("error", "fail", "runtime error"):
            failures.append(f"{node.status}: {node.node.name}: {node.message}")
    return bool(result.success), failures


def build_study(data: StudyData, workdir: Path) -> Build:
    """Land `data` under `workdir` and `dbt build` it; fails the test if dbt fails."""
    landing, warehouse = workdir / "landing", workdir / "warehouse.duckdb"
    land_study(data, landing)
    started = time.perf_counter()
    ok, failures = run_dbt(workdir, landing, warehouse, "build")
    seconds = time.perf_counter() - started
    assert ok, "dbt build failed:\n" + "\n".join(failures)
    return Build(data, landing, warehouse, workdir, seconds)


@pytest.fixture(scope="session")
def text_study(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Sides linked by text, usernames are Prolific ids, low ratings mean response A."""
    return build_study(synthetic_study("text"), tmp_path_factory.mktemp("text_study"))


@pytest.fixture(scope="session")
def metadata_study(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Sides linked by metadata keys, a participant mapping, low ratings mean response B."""
    return build_study(synthetic_study("metadata"), tmp_path_factory.mktemp("metadata_study"))


@pytest.fixture(params=["text", "metadata"])
def study(request: pytest.FixtureRequest) -> Build:
    return request.getfixturevalue(f"{request.param}_study")
