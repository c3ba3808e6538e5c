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


def test_a_value_that_goes_back_to_an_earlier_version_lands_again(tmp_path):
    landing = Landing(tmp_path)
    first = landing.land("argilla", "users", users(("1", "a"), ("2", "b")), "u", "s1")
    second = landing.land("argilla", "users", users(("1", "a"), ("2", "X")), "u", "s2")
    back = landing.land("argilla", "users", users(("1", "a"), ("2", "b")), "u", "s1")
    # The earlier value is not current any more, so it is a new observation: it lands again.
    assert (second.new_rows, back.new_rows, back.unchanged_rows) == (1, 1, 1)
    assert len({first.batch_id, second.batch_id, back.batch_id}) == 3
    again = landing.land("argilla", "users", users(("1", "a"), ("2", "b")), "u", "s1")
    assert again.new_rows == 0


def test_an_entity_a_source_repeats_with_different_values_stays_unchanged(tmp_path):
    landing = Landing(tmp_path)
    landing.land("argilla", "users", users(("1", "a"), ("1", "b")), "u", "s")
    again = landing.land("argilla", "users", users(("1", "b"), ("1", "a")), "u", "s")
    assert again.new_rows == 0
    changed = landing.land("argilla", "users", users(("1", "a")), "u", "s")
    assert changed.new_rows == 1  # the pair of versions became one: a new observation


def test_sources_compare_with_their_own_current_versions(tmp_path):
    landing = Landing(tmp_path)
    landing.land("argilla", "users", users(("1", "a")), "export-1", "s")
    landing.land("argilla", "users", users(("1", "b")), "export-2", "s")
    assert landing.land("argilla", "users", users(("1", "a")), "export-1", "s").new_rows == 0


def test_batch_ids_depend_on_content_not_on_time_or_folder(tmp_path):
    from datetime import UTC, datetime

    def run(folder, hour):
        base = tmp_path / folder / "study"
        landing = Landing(
            tmp_path / folder / "landing",
            extracted_at=datetime(2025, 1, 1, hour, tzinfo=UTC),
            base=base,
        )
        one = landing.land("argilla", "users", users(("1", "a")), str(base / "users.csv"), "s")
        two = landing.land("argilla", "users", users(("1", "b")), str(base / "users.csv"), "s")
        return one, two

    here, there = run("here", 1), run("elsewhere/deeper", 9)
    assert [r.batch_id for r in here] == [r.batch_id for r in there]
    assert here[0].source_uri == "users.csv"  # relative to the study's folder
    assert landed(tmp_path / "here" / "landing") == landed(
        tmp_path / "elsewhere" / "deeper" / "landing"
    )


def test_only_the_last_landed_content_of_a_source_counts_as_complete(tmp_path):
    landing = Landing(tmp_path)
    landing.mark_complete("export.csv", "sha-a", rows=1)
    assert landing.completed("export.csv", "sha-a") == {
        "source_uri": "export.csv",
        "source_sha256": "sha-a",
        "rows": 1,
    }
    landing.mark_complete("export.csv", "sha-b", rows=2)
    # The file went back to content a: it must be read again, not skipped.
    assert landing.completed("export.csv", "sha-a") is None
    assert landing.completed("export.csv", "sha-b")["rows"] == 2


def test_each_row_carries_its_source_position(tmp_path):
    positions = {"writing.parquet": 0, "rating.parquet": 3}
    landing = Landing(tmp_path, position_of=positions.get)
    landing.land("argilla", "users", users(("1", "a")), "rating.parquet", "s")
    landing.land("argilla", "users", users(("2", "b")), "other.csv", "s")
    got = duckdb.sql(
        f"select user_id, _source_position from read_parquet('{tmp_path}/argilla/users/*.parquet'"
        ", union_by_name = true) order by 1"
    ).fetchall()
    assert got == [("1", 3), ("2", None)]


def test_every_source_of_a_study_has_its_slot(demo_template):
    from extract.landing import recorded_uri
    from extract.settings import source_positions
    from study_config import load_study

    study = load_study(demo_template / "study.yml")
    base = study.path.parent
    slot = source_positions(study, base)
    assert slot("study.yml") == 0
    assert slot("exports/prolific_writing.csv") == 2
    assert slot("exports/prolific_rating.csv") == 3
    assert slot("exports/argilla_users.csv") == 4
    assert slot("argilla+http://127.0.0.1:6900/users") == 5
    datasets = [*study.argilla.writing.sources, *study.argilla.rating.sources]
    got = [slot(recorded_uri(str(s.export), base)) for s in datasets]
    assert got == list(range(6, 6 + len(datasets)))  # in the order study.yml lists them
    assert slot("somewhere/else.parquet") is None
