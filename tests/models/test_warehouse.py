"""Properties of the built warehouse: rebuilds, new batches, docs, paths, other readers."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import PROJECT_DIR, Build, build_study, release_duckdb, run_dbt
from warehouse_study import land_study, synthetic_study

from extract.landing import Landing
from extract.schemas import schema_of
from tests.warehouse import connect_warehouse

MARTS = [
    "pair_scores", "study_agreement", "question_quality", "annotator_quality",
    "collection_completeness", "exclusions", "written_responses", "pair_ratings", "quarantine",
]  # fmt: skip
DUCKDB_CLI = PROJECT_DIR / ".venv" / "bin" / "duckdb"

pytestmark = pytest.mark.slow  # each test runs dbt once more (10-30 s)


def _snapshot(build: Build) -> dict[str, list[tuple]]:
    with build.connect() as con:
        return {m: sorted(con.execute(f"select * from {m}").fetchall(), key=repr) for m in MARTS}


def test_a_second_build_with_no_new_data_changes_nothing(text_study: Build) -> None:
    before = _snapshot(text_study)
    ok, failures = run_dbt(
        text_study.workdir,
        text_study.landing,
        text_study.warehouse,
        "build",
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
    )
    assert ok, failures
    after = _snapshot(text_study)
    for mart in MARTS:
        assert after[mart] == before[mart], mart
    assert len(after["pair_scores"]) > 50


def test_a_new_batch_replaces_the_older_version(tmp_path: Path) -> None:
    data = synthetic_study("text")
    build = build_study(data, tmp_path)
    ((key, _),) = [
        (k, v) for k, v in data.expected.items() if v == ("written_response", "empty_text")
    ]
    n_before = build.query("select count(*) from written_responses")[0][0]
    row = next(
        r
        for r in data.rows[("argilla", "responses")]
        if (r["dataset"], r["workspace"], r["record_id"], r["user_id"], r["question_name"]) == key
    )
    fixed = {**row, "value_text": "Now written.", "value_json": '"Now written."'}
    landing = Landing(build.landing, extracted_at=datetime(2025, 3, 3, 12, tzinfo=UTC))
    landing.land(
        "argilla",
        "responses",
        pa.Table.from_pylist([fixed], schema=schema_of("argilla", "responses")),
        "test://argilla/responses",
        "1" * 64,
    )
    landing.close()
    ok, failures = run_dbt(build.workdir, build.landing, build.warehouse, "build")
    assert ok, failures
    assert build.query("select count(*) from written_responses")[0][0] == n_before + 1
    assert build.query("select count(*) from exclusions where exclusion_reason = 'empty_text'") == [
        (0,)
    ]


def test_docs_generate_offline_and_everything_is_documented(text_study: Build) -> None:
    ok, failures = run_dbt(
        text_study.workdir, text_study.landing, text_study.warehouse, "docs", "generate"
    )
    assert ok, failures
    target = text_study.workdir / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    missing = []
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model":
            continue
        if "one row" not in node["description"].lower():
            missing.append(f"{node['name']}: description without its grain")
        documented = {c for c, v in node["columns"].items() if v["description"].strip()}
        for column in catalog["nodes"][uid]["columns"]:
            if column not in documented:
                missing.append(f"{node['name']}.{column}")
    assert missing == []
    assert any(e["type"] == "ml" for e in manifest["exposures"].values())


def test_default_paths_make_views_readable_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain `dbt build` in the project folder (default, relative paths): the staging views
    still read an absolute landing path, so duckdb-cli can open the warehouse read-only from
    another folder and query them."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, project / name)
    for name in ("models", "macros", "tests/dbt"):
        shutil.copytree(PROJECT_DIR / name, project / name)
    data = synthetic_study("text")
    land_study(data, project / "data" / "landing")
    from dbt.cli.main import dbtRunner

    monkeypatch.delenv("RLHFW_LANDING", raising=False)
    monkeypatch.delenv("RLHFW_WAREHOUSE", raising=False)
    monkeypatch.chdir(project)
    try:
        result = dbtRunner().invoke([
            "build", "--select", "staging", "+written_responses", "--exclude",
            "resource_type:test", "--project-dir", str(project), "--profiles-dir", str(project),
            "--quiet",
        ])  # fmt: skip
    finally:
        release_duckdb()
    assert result.success, result.exception
    out = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", "-noheader",
         str(project / "data" / "warehouse.duckdb"),
         "-c", "select count(*) from analytics_personal.stg_argilla__users; "
         "select count(*) from analytics.written_responses"],
        cwd="/", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    n_users = len(data.rows[("argilla", "users")])
    assert out.stdout.split() == [str(n_users), "48"]


@pytest.mark.skipif(not DUCKDB_CLI.exists(), reason="duckdb-cli not installed")
def test_duckdb_cli_opens_the_built_warehouse_read_only(text_study: Build) -> None:
    out = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", "-noheader", str(text_study.warehouse),
         "-c", "select count(*) from analytics.pair_scores"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) == text_study.query("select count(*) from pair_scores")[0][0]


def test_a_missing_landing_table_fails_with_one_clear_line(tmp_path: Path) -> None:
    ok, failures = run_dbt(tmp_path, tmp_path / "landing", tmp_path / "w.duckdb", "build")
    assert not ok
    message = " ".join(failures)
    # Every missing table is named, in a stable (sorted) order.
    assert "has no argilla/records, argilla/responses," in message
    assert "study/settings" in message and "rlhfw extract" in message


def test_the_grain_test_fails_on_a_repeated_or_null_key(text_study: Build, tmp_path: Path) -> None:
    """`unique_combination_of_columns` groups by a hash first: a repeat must still fail it,
    and so must a key column left null."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(text_study.warehouse, warehouse)
    select = ["test", "-s", "stg_argilla__records,test_name:unique_combination_of_columns"]
    ok, failures = run_dbt(tmp_path, text_study.landing, warehouse, *select)
    assert ok, failures
    for change in (
        "insert into stg_argilla__records select * from stg_argilla__records limit 1",
        "update stg_argilla__records set record_id = null "
        "where rowid = (select min(rowid) from stg_argilla__records)",
    ):
        damaged = tmp_path / "damaged.duckdb"
        shutil.copyfile(warehouse, damaged)
        with connect_warehouse(damaged, read_only=False) as con:
            con.execute(change)
        ok, failures = run_dbt(tmp_path, text_study.landing, damaged, *select)
        assert not ok, change
        assert [f for f in failures if "unique_combination_of_columns_stg_argilla__records" in f]


def test_the_required_columns_test_counts_the_nulls_of_each_column(
    text_study: Build, tmp_path: Path
) -> None:
    """`not_null_columns` checks several columns in one scan: a null in any of them fails it,
    and the failure count is the number of null values, as separate `not_null` tests would
    add up."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(text_study.warehouse, warehouse)
    select = ["test", "-s", "written_responses,test_name:not_null_columns"]
    ok, failures = run_dbt(tmp_path, text_study.landing, warehouse, *select)
    assert ok, failures
    with connect_warehouse(warehouse, read_only=False) as con:
        con.execute(
            "update written_responses set dataset = null, record_id = null "
            "where rowid in (select rowid from written_responses order by rowid limit 2)"
        )
        con.execute(
            "update written_responses set question_text = null "
            "where rowid = (select max(rowid) from written_responses)"
        )
    ok, failures = run_dbt(tmp_path, text_study.landing, warehouse, *select)
    assert not ok
    (failure,) = [f for f in failures if "not_null_columns_written_responses" in f]
    assert "Got 5 results" in failure, failure
