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
