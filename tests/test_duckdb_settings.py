"""DuckDB's memory_limit, threads and temp_directory reach the build from the env vars that
profiles.yml reads (README, "Memory, threads and spilling"): what a user sets is what the
models run under, and unset, rlhfw's defaults apply."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from rlhfw.dbt import dbt_args, release_duckdb, study_env
from study_config import load_study

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


@pytest.mark.slow  # dbt parses the project
def test_the_env_vars_set_duckdb_for_the_build(demo_copy, tmp_path, monkeypatch):
    spill = tmp_path / "spill here"
    monkeypatch.setenv("RLHFW_DUCKDB_MEMORY_LIMIT", "700MB")
    monkeypatch.setenv("RLHFW_DUCKDB_THREADS", "1")
    monkeypatch.setenv("RLHFW_DUCKDB_TEMP_DIRECTORY", str(spill))
    got = _settings_in_build(load_study(demo_copy / "study.yml"))
    assert got["memory_limit"] == _as_duckdb_shows("memory_limit", "700MB")
    assert str(got["threads"]) == "1"
    assert got["temp_directory"] == str(spill)


@pytest.mark.slow
def test_defaults_one_thread_per_core_and_spill_beside_the_warehouse(demo_copy, no_settings_vars):
    study = load_study(demo_copy / "study.yml")
    got = _settings_in_build(study)
    assert got["memory_limit"] == _as_duckdb_shows("memory_limit", "3GB")
    assert str(got["threads"]) == str(os.cpu_count())
    assert got["temp_directory"] == f"{study.warehouse}.tmp"


def test_extract_and_publish_run_under_the_same_memory_limit(tmp_path, monkeypatch):
    from extract.landing import Landing
    from publish.warehouse import connect

    monkeypatch.setenv("RLHFW_DUCKDB_MEMORY_LIMIT", "700MB")
    monkeypatch.setenv("RLHFW_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "spill"))
    expected = _as_duckdb_shows("memory_limit", "700MB")
    landing = Landing(tmp_path / "landing")
    try:
        limit, spill = landing._db.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
    finally:
        landing.close()
    assert limit == expected
    # Its own folder inside the one named: several extracts may spill at once.
    assert Path(spill).parent == tmp_path / "spill"
    con = connect(tmp_path / "warehouse.duckdb", create=True)
    try:
        assert con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone() == (expected, str(tmp_path / "spill"))
    finally:
        con.close()
