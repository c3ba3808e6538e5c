"""The same models on Spark (dbt-spark in session mode: pyspark and the system Java), for a
100-question study: every public mart equals the DuckDB build's, and publish gives the same
dataset. `make test-spark` runs this module (it takes minutes); `make test` does not.

Each Spark build runs `rlhfw` in a process of its own: a Spark session lives as long as its
process and keeps its first configuration (the study's warehouse folder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.postgres import assert_same_datasets, mart_differences, public_marts

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def _rlhfw(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", "from rlhfw.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def spark_and_duckdb_builds(tmp_path_factory):
    from rlhfw.demo import generate_demo

    root = tmp_path_factory.mktemp("spark")
    duck_study, spark_study = root / "duckdb", root / "spark"
    generate_demo(duck_study, questions=100, seed=11)
    _rlhfw("refresh", "--config", str(duck_study / "study.yml"))
    shutil.copytree(
        duck_study, spark_study, ignore=shutil.ignore_patterns("*dataset*", "*.duckdb*")
    )
    salt = "warehouse.duckdb.pseudonym-salt"  # the same pseudonyms in both datasets
    shutil.copy2(duck_study / "data" / salt, spark_study / "data" / salt)
    _rlhfw("--target", "spark", "refresh", "--config", str(spark_study / "study.yml"))
    con = duckdb.connect(str(duck_study / "data" / "warehouse.duckdb"))
    from engines.spark import copy_tables_to_duckdb
    from study_config import load_study

    study = load_study(spark_study / "study.yml")
    copy_tables_to_duckdb(con, study, "analytics", public_marts(), "target_spark")
    yield con, duck_study, spark_study
    con.close()


@pytest.mark.parametrize("mart", public_marts())
def test_spark_build_equals_duckdb_build(spark_and_duckdb_builds, mart):
    con, _, _ = spark_and_duckdb_builds
    assert mart_differences(con, "analytics", "target_spark", [mart]) == {}


def test_spark_publish_gives_the_same_dataset(spark_and_duckdb_builds):
    _, duck_study, spark_study = spark_and_duckdb_builds
    assert_same_datasets(duck_study / "data" / "dataset", spark_study / "data" / "dataset")
