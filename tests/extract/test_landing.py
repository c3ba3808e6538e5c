"""The landing writer: append-only batches, row-level idempotence, atomic files, log recovery."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from extract.landing import SCHEMA_FILE, Landing


def users(*pairs: tuple[str, str]) -> pa.Table:
    return pa.table({"user_id": [p[0] for p in pairs], "username": [p[1] for p in pairs]})


def landed(root) -> list[tuple]:
    return duckdb.sql(
        f"select user_id, username, _source_uri from read_parquet('{root}/argilla/users/*.parquet',"
        " union_by_name = true) order by all"
    ).fetchall()


def test_same_rows_twice_land_once(tmp_path):
    first = Landing(tmp_path).land("argilla", "users", users(("1", "a"), ("2", "b")), "u", "s1")
    again = Landing(tmp_path).land("argilla", "users", users(("2", "b"), ("1", "a")), "u", "s1")
    assert (first.new_rows, first.unchanged_rows) == (2, 0)
    assert (again.new_rows, again.unchanged_rows, again.batch_id) == (0, 2, None)
    assert landed(tmp_path) == [("1", "a", "u"), ("2", "b", "u")]


def test_changed_rows_land_as_a_new_batch_and_old_files_stay(tmp_path):
    landing = Landing(tmp_path)
    first = landing.land("argilla", "users", users(("1", "a"), ("2", "b")), "u", "s1")
    before = {p.name: p.read_bytes() for p in landing.data_files("argilla", "users")}
    second = landing.land("argilla", "users", users(("1", "a"), ("2", "bb")), "u", "s2")
    assert second.new_rows == 1 and second.batch_id != first.batch_id
    after = {p.name: p.read_bytes() for p in landing.data_files("argilla", "users")}
    assert all(after[name] == data for name, data in before.items())  # never rewritten
    assert len(after) == 2
    assert landed(tmp_path) == [("1", "a", "u"), ("2", "b", "u"), ("2", "bb", "u")]
    log = landing.batch_log().to_pylist()
    assert sorted(r["rows"] for r in log) == [1, 2]


def test_sources_are_deduplicated_separately(tmp_path):
    landing = Landing(tmp_path)
    landing.land("argilla", "users", users(("1", "a")), "export-1", "s")
    other = landing.land("argilla", "users", users(("1", "a")), "export-2", "s")
    assert other.new_rows == 1


def test_empty_table_gets_a_schema_file_dbt_can_read(tmp_path):
    Landing(tmp_path).ensure_table("prolific", "demographics")
    cols = duckdb.sql(
        f"select * from read_parquet('{tmp_path}/prolific/demographics/*.parquet')"
    ).columns
    assert "participant_id" in cols and "_row_sha256" in cols
    assert (tmp_path / "prolific" / "demographics" / SCHEMA_FILE).exists()


def test_unknown_column_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not in the contract"):
        Landing(tmp_path).land("argilla", "users", pa.table({"nope": ["x"]}), "u", "s")


def test_a_data_file_without_its_log_entry_is_recovered(tmp_path):
    landing = Landing(tmp_path)
    result = landing.land("argilla", "users", users(("1", "a")), "u", "s")
    log_file = next((tmp_path / "_meta" / "batches").glob("*.parquet"))
    log_file.unlink()  # as if the run died between the rename and the log write
    again = Landing(tmp_path)
    assert again.land("argilla", "users", users(("1", "a")), "u", "s").new_rows == 0
    entries = again.batch_log().to_pylist()
    assert [(e["batch_id"], e["status"]) for e in entries] == [(result.batch_id, "recovered")]


def test_no_temporary_files_are_left_behind(tmp_path):
    Landing(tmp_path).land("argilla", "users", users(("1", "a")), "u", "s")
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_damaged_landed_file_is_a_clear_error(tmp_path):
    from extract.errors import ExtractError

    landing = Landing(tmp_path)
    landing.land("argilla", "users", users(("1", "a")), "u", "s")
    damaged = landing.data_files("argilla", "users")[0]
    damaged.write_bytes(b"not parquet any more")
    with pytest.raises(ExtractError, match="a landed file cannot be read"):
        Landing(tmp_path).land("argilla", "users", users(("2", "b")), "u", "s")
