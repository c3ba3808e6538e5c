"""The same models on a real PostgreSQL server: the demo study built there equals its DuckDB
build, mart by mart and row by row, and publishes the same dataset.

The server is Debian's PostgreSQL, started for this module as a non-root user on 127.0.0.1
(tests/postgres.py); nothing here is a double. `pytest -k postgres` runs these alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.postgres import assert_same_datasets, mart_differences, postgres_server, public_marts

pytestmark = pytest.mark.slow  # runs dbt on warehouses of its own (and a server)


def _refresh(config: Path, target: str | None) -> None:
    """`rlhfw [--target NAME] refresh`, through the CLI (which records the run)."""
    from typer.testing import CliRunner

    from rlhfw.cli import app

    args = ["--target", target] if target else []
    result = CliRunner().invoke(app, [*args, "refresh", "--config", str(config)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def postgres_and_duckdb_builds(demo_template, tmp_path_factory):
    """The demo study refreshed twice, from one landing zone: on DuckDB (the warehouse file)
    and on PostgreSQL; PostgreSQL's marts are then copied into the DuckDB file's schema
    `target_postgres` (publish did that already) for comparison."""
    root = tmp_path_factory.mktemp("engines")
    duck_study, pg_study = root / "duckdb", root / "postgres"
    shutil.copytree(demo_template, duck_study)
    _refresh(duck_study / "study.yml", None)
    # The same landed files (copied: extract would land new batch ids), its own outputs.
    shutil.copytree(duck_study, pg_study, ignore=shutil.ignore_patterns("*dataset*", "*.duckdb*"))
    # The same pseudonym salt, so that the two datasets' annotator ids can be compared.
    salt = "warehouse.duckdb.pseudonym-salt"
    shutil.copy2(duck_study / "data" / salt, pg_study / "data" / salt)
    with postgres_server() as server, pytest.MonkeyPatch.context() as env:
        server.create_database("rlhfw_demo")
        for key, value in server.env("rlhfw_demo").items():
            env.setenv(key, value)
        _refresh(pg_study / "study.yml", "postgres")
        from engines.postgres import copy_tables_to_duckdb

        con = duckdb.connect(str(duck_study / "data" / "warehouse.duckdb"))
        copy_tables_to_duckdb(con, "analytics", public_marts(), "target_postgres")
        yield con, duck_study, pg_study
        con.close()


@pytest.mark.parametrize("mart", public_marts())
def test_postgres_build_equals_duckdb_build(postgres_and_duckdb_builds, mart):
    con, _, _ = postgres_and_duckdb_builds
    assert mart_differences(con, "analytics", "target_postgres", [mart]) == {}


def test_postgres_publish_gives_the_same_dataset(postgres_and_duckdb_builds):
    """Publish read the marts from PostgreSQL: every published table (pairs, chat pairs,
    ratings, responses, each split) holds the same rows and columns as the one published from
    the DuckDB build."""
    _, duck_study, pg_study = postgres_and_duckdb_builds
    assert_same_datasets(duck_study / "data" / "dataset", pg_study / "data" / "dataset")


def test_postgres_target_is_chosen_by_the_command_line(postgres_and_duckdb_builds):
    """The PostgreSQL run left no marts in the study's DuckDB file, only rlhfw's own tables
    and the copy publish read (schema target_postgres)."""
    _, _, pg_study = postgres_and_duckdb_builds
    con = duckdb.connect(str(pg_study / "data" / "warehouse.duckdb"), read_only=True)
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables"
    ).fetchall()
    con.close()
    assert ("analytics", "refresh_runs") in tables
    assert not [t for s, t in tables if s == "analytics" and t == "pair_scores"]
    assert ("target_postgres", "preference_pairs") in tables
