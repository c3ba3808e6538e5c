"""DuckDB's memory_limit, threads and temp_directory reach the build from the env vars that
profiles.yml reads (README, "Memory, threads and spilling"): what a user sets is what the
models run under, and unset, rlhfw's defaults apply."""

from __future__ import annotations

import os

import duckdb
import pytest

from rlhfw.dbt import dbt_args, release_duckdb, study_env
from study_config import load_study

pytestmark = pytest.mark.slow  # two dbt invocations

SETTINGS = ("memory_limit", "threads", "temp_directory")
VARS = ("RLHFW_DUCKDB_MEMORY_LIMIT", "RLHFW_DUCKDB_THREADS", "RLHFW_DUCKDB_TEMP_DIRECTORY")


def _settings_in_build(study) -> dict[str, str]:
    """The settings as a model sees them: `dbt show` on the study's warehouse."""
    from dbt.cli.main import dbtRunner

    columns = ", ".join(f"current_setting('{s}') as {s}" for s in SETTINGS)
    study.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with study_env(study):
        try:
            result = dbtRunner().invoke(dbt_args("show", ["--inline", f"select {columns}"]))
        finally:
            release_duckdb()
    assert result.success, result.exception
    table = result.result.results[0].agate_table
    return dict(zip(table.column_names, table.rows[0], strict=True))


def _as_duckdb_shows(name: str, value: str) -> str:
    """A value as DuckDB reports it back (it prints a memory limit in its own units)."""
    con = duckdb.connect()
    con.execute(f"set {name} = '{value}'")
    return str(con.execute(f"select current_setting('{name}')").fetchone()[0])


@pytest.fixture()
def no_settings_vars(monkeypatch):
    for var in VARS:
        monkeypatch.delenv(var, raising=False)


def test_the_env_vars_set_duckdb_for_the_build(demo_copy, tmp_path, monkeypatch):
    spill = tmp_path / "spill here"
    monkeypatch.setenv("RLHFW_DUCKDB_MEMORY_LIMIT", "700MB")
    monkeypatch.setenv("RLHFW_DUCKDB_THREADS", "1")
    monkeypatch.setenv("RLHFW_DUCKDB_TEMP_DIRECTORY", str(spill))
    got = _settings_in_build(load_study(demo_copy / "study.yml"))
    assert got["memory_limit"] == _as_duckdb_shows("memory_limit", "700MB")
    assert str(got["threads"]) == "1"
    assert got["temp_directory"] == str(spill)


def test_defaults_one_thread_per_core_and_spill_beside_the_warehouse(demo_copy, no_settings_vars):
    study = load_study(demo_copy / "study.yml")
    got = _settings_in_build(study)
    assert got["memory_limit"] == _as_duckdb_shows("memory_limit", "3GB")
    assert str(got["threads"]) == str(os.cpu_count())
    assert got["temp_directory"] == f"{study.warehouse}.tmp"
