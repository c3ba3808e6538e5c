"""The same models on a real PostgreSQL server: the demo study built there equals its DuckDB
build, mart by mart and row by row, and publishes the same dataset.

The server is Debian's PostgreSQL, started for this module as a non-root user on 127.0.0.1
(tests/postgres.py); nothing here is a double. `pytest -k postgres` runs these alone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.postgres import mart_differences, postgres_server, public_marts

pytestmark = pytest.mark.slow  # runs dbt on warehouses of its own (and a server)


def _refresh(config: Path, target: str | None) -> None:
    from rlhfw import pipeline
    from study_config import load_study

    study = load_study(config)
    if target:
        study = study.model_copy(update={"target": target})
    pipeline.refresh(study, log=lambda line: None, verbose=False)


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
    with postgres_server() as server:
        server.create_database("rlhfw_demo")
        saved = {k: os.environ.get(k) for k in server.env()}
        os.environ.update(server.env("rlhfw_demo"))
        try:
            _refresh(pg_study / "study.yml", "postgres")
            from engines.postgres import copy_tables_to_duckdb

            con = duckdb.connect(str(duck_study / "data" / "warehouse.duckdb"))
            copy_tables_to_duckdb(con, "analytics", public_marts(), "target_postgres")
            yield con, duck_study, pg_study
            con.close()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.mark.parametrize("mart", public_marts())
def test_postgres_build_equals_duckdb_build(postgres_and_duckdb_builds, mart):
    con, _, _ = postgres_and_duckdb_builds
    assert mart_differences(con, "analytics", "target_postgres", [mart]) == {}


def test_postgres_publish_gives_the_same_dataset(postgres_and_duckdb_builds):
    """Publish read the marts from PostgreSQL: every published table (pairs, ratings,
    responses, each split) equals the one published from the DuckDB build."""
    _, duck_study, pg_study = postgres_and_duckdb_builds
    duck_out, pg_out = duck_study / "data" / "dataset", pg_study / "data" / "dataset"
    files = sorted(p.relative_to(duck_out) for p in duck_out.rglob("*.parquet"))
    assert any("pairs" in str(f) for f in files)
    assert sorted(p.relative_to(pg_out) for p in pg_out.rglob("*.parquet")) == files
    for name in files:
        assert pq.read_table(pg_out / name).equals(pq.read_table(duck_out / name)), name


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
