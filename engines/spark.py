"""The spark target's tables, read without Spark: dbt-spark writes each table as Parquet files
under the Spark warehouse folder (`<warehouse>.spark/<schema>.db/<table>/`), which DuckDB
reads directly, so publish needs no JVM of its own.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from engines import spark_warehouse
from study_config import Study


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_folder(study: Study, schema: str, table: str) -> Path:
    return spark_warehouse(study) / f"{schema}.db" / table


def copy_tables_to_duckdb(
    duck: duckdb.DuckDBPyConnection, study: Study, schema: str, tables: list[str], into: str
) -> None:
    """Copy each of `tables` (Spark tables of `schema`) into DuckDB's schema `into`."""
    duck.execute(f"create schema if not exists {_ident(into)}")
    for table in tables:
        files = sorted(str(f) for f in table_folder(study, schema, table).glob("*.parquet"))
        if not files:
            continue  # find_marts names what is missing
        duck.execute(
            f"create or replace table {_ident(into)}.{_ident(table)} as "
            "select * from read_parquet(?)",
            [files],
        )
