"""A refresh that keeps unchanged tables and reuses linked rows (macros/memo.sql) must give the
very warehouse a from-scratch build gives, whatever the new batches change."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import run_dbt
from warehouse_study import StudyData, land_study, synthetic_study

from extract.landing import Landing
from extract.schemas import schema_of

MEMO = ["--vars", json.dumps({"rlhfw_code_version": "test-memo"})]
# The writing side reads only the writing study's rows: new ratings must keep these tables.
WRITING_SIDE = [
    "int_writing_records_identified",
    "int_questions_identified_from_records",
    "int_writing_responses_joined_to_participants",
    "int_written_responses_evaluated",
    "int_quality_ratings_evaluated",
    "written_responses",
    "question_quality",
]
LINKED = "int_rating_records_linked_to_responses"
ORIENTED = "int_ratings_oriented_to_pairs"
# Grouped by pair from the oriented ratings' merge, like the pair scores.
GROUPED = "int_coded_values_grouped_by_unit"
# The users of the responses, updated for the users of new responses only.
RESPONDERS = "int_users_seen_in_responses"
# Memoized tables computed from all ratings (and participants): kept only when nothing changed.
READ_ALL_RATINGS = [
    "int_participants_joined_to_submissions",
    "annotator_quality",
    "collection_completeness",
    "quarantine",
    "study_agreement",
]
# Tables of landed versions, updated from new batches only (macros/landed_current.sql).
LANDED_CURRENT = ["stg_argilla__records", "stg_argilla__responses"]
# Agreement's counts and the raters' sums, moved by the grouped values' merge: its new rows
# less those it replaced.
AGREEMENT_STATE = {
    "int_value_profiles_counted_by_scope",
    "int_coders_counted_by_scope",
    "int_rater_agreement_summed_by_pair_size",
}
# The tables a refresh with new ratings only merges from the rows their inputs' merges wrote.
FROM_RATING_CHANGES = {LINKED, ORIENTED, "pair_scores", GROUPED, RESPONDERS, *AGREEMENT_STATE}


def _land(root: Path, rows: dict[tuple[str, str], list[dict]], uri: str, hour: int) -> None:
    landing = Landing(root, extracted_at=datetime(2025, 3, 3, hour, tzinfo=UTC))
    try:
        for (source, table), batch in rows.items():
            arrow = pa.Table.from_pylist(batch, schema=schema_of(source, table))
            landing.land(source, table, arrow, f"test://{uri}/{source}/{table}", "0" * 64)
    finally:
        landing.close()


def _models_with_message(workdir: Path, prefix: str) -> set[str]:
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]
        for r in results
        if r["unique_id"].startswith("model.") and str(r.get("message", "")).startswith(prefix)
    }


def _kept(workdir: Path) -> set[str]:
    """The models the last dbt run kept as they were (its run_results say so)."""
    return _models_with_message(workdir, "KEPT")


def _merged(workdir: Path) -> set[str]:
    """The models the last dbt run updated by changed keys only."""
    return _models_with_message(workdir, "MERGED")


def _from_changes(workdir: Path) -> set[str]:
    """The models the last dbt run merged from the rows their inputs' merges wrote (instead of
    comparing every source row): their SQL carries memo's marker."""
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]
        for r in results
        if "rlhfw-memo: from upstream changes" in (r.get("compiled_code") or "")
    }


def _counts(warehouse: Path, *tables: str) -> tuple[int, ...]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return tuple(con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)


def _differences(built: Path, fresh: Path) -> dict[str, tuple[int, int]]:
    """Per table: rows only in `built`, rows only in `fresh` (memo bookkeeping left out)."""
    out = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{built}' as built (read_only)")
        con.execute(f"attach '{fresh}' as fresh (read_only)")
        tables = con.execute(
            "select table_name from duckdb_tables() where database_name = 'fresh' order by 1"
        ).fetchall()
        assert len(tables) >= 15
        for (table,) in tables:
            columns = ", ".join(
                f'"{c}"'
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'fresh' "
                    "and table_name = ? and column_name <> 'memo_inputs_fingerprint'",
                    [table],
                ).fetchall()
            )
            one = f"select {columns} from built.main.{table}"
            two = f"select {columns} from fresh.main.{table}"
            only_built = con.execute(f"select count(*) from ({one} except all {two})").fetchone()
            only_fresh = con.execute(f"select count(*) from ({two} except all {one})").fetchone()
            out[table] = (only_built[0], only_fresh[0])
    return out


def _assert_stamps_are_content(warehouse: Path) -> None:
    """Every content stamp (rows and sum of row hashes, which readers' fingerprints use) is
    that of the table as it is, including those a merge updated by its changed rows only."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stamped = con.execute(
            "select table_name, comment from duckdb_tables() where comment like 'rlhfw-memo:%|%'"
        ).fetchall()
        assert len(stamped) >= 10
        for table, comment in stamped:
            n, total = con.execute(f"select count(*), sum(hash(t)) from {table} as t").fetchone()
            assert comment.split("|")[1] == f"{n}:{total}", table


def _assert_same_as_fresh(workdir: Path, landing: Path, warehouse: Path, name: str) -> None:
    """Rebuild everything from scratch (`--full-refresh` turns memo off) and compare. The same
    warehouse path and vars keep dbt's partial parsing; the memo build is put back after."""
    _assert_stamps_are_content(warehouse)
    memo_built = workdir / f"memo-{name}.duckdb"
    shutil.copyfile(warehouse, memo_built)
    ok, failures = run_dbt(workdir, landing, warehouse, "run", *MEMO, "--full-refresh")
    assert ok, failures
    differences = {t: d for t, d in _differences(memo_built, warehouse).items() if d != (0, 0)}
    assert differences == {}, f"after {name}, memo build differs from a fresh build"
    shutil.copyfile(memo_built, warehouse)


def _rating_copies(
    data: StudyData, n: int, prefix: str = "copy-"
) -> dict[tuple[str, str], list[dict]]:
    """n rating records again under new ids, with their ratings (same raters, new records)."""
    records = [r for r in data.rows[("argilla", "records")] if r["study_role"] == "rating"][:n]
    ids = {r["record_id"] for r in records}
    responses = [r for r in data.rows[("argilla", "responses")] if r["record_id"] in ids]
    return {
        ("argilla", "records"): [{**r, "record_id": prefix + r["record_id"]} for r in records],
        ("argilla", "responses"): [{**r, "record_id": prefix + r["record_id"]} for r in responses],
    }


def _pair_of(record: dict) -> tuple:
    """The question and the two texts a rating record shows (either variant's field names)."""
    fields = json.loads(record["fields"])
    sides = frozenset((fields.pop("response_a"), fields.pop("response_b")))
    return tuple(sorted(fields.values())), sides


def _gone_keys(data: StudyData) -> dict[tuple[str, str], list[dict]]:
    """A record quarantined by its new version (its linked row must go) and a pair whose every
    rating turns out of range (its score must go)."""
    rating_records = [r for r in data.rows[("argilla", "records")] if r["study_role"] == "rating"]
    pairs = [_pair_of(r) for r in rating_records]
    lonely = next(r for r, p in zip(rating_records, pairs, strict=True) if pairs.count(p) == 1)
    out_of_range = [
        {**r, "value_json": "99", "value_number": 99.0, "updated_at": "2025-03-04T09:00:00Z"}
        for r in data.rows[("argilla", "responses")]
        if r["record_id"] == lonely["record_id"] and r["dataset"] == lonely["dataset"]
    ]
    assert out_of_range
    quarantined = {**rating_records[-1], "updated_at": "not a time"}
    return {("argilla", "responses"): out_of_range, ("argilla", "records"): [quarantined]}


def _mixed_changes(data: StudyData) -> dict[tuple[str, str], list[dict]]:
    """A changed rating, a record showing its sides swapped, an edited written answer, a
    response without a user id and a rater whose Prolific submission is returned."""
    responses = data.rows[("argilla", "responses")]
    rating = copy.copy(
        next(
            r
            for r in responses
            if r["study_role"] == "rating" and r["value_number"] not in (None, 1.0)
        )
    )
    rating.update(value_json="1", value_number=1.0, updated_at="2025-03-03T09:00:00Z")
    record = copy.copy(
        next(r for r in data.rows[("argilla", "records")] if r["study_role"] == "rating")
    )
    fields = json.loads(record["fields"])
    fields["response_a"], fields["response_b"] = fields["response_b"], fields["response_a"]
    record.update(fields=json.dumps(fields), updated_at="2025-03-03T09:00:00Z")
    answer = copy.copy(
        next(
            r
            for r in responses
            if r["study_role"] == "writing" and r["question_name"] == "response"
        )
    )
    answer.update(value_json=json.dumps("An edited answer."), value_text="An edited answer.")
    answer["updated_at"] = "2025-03-03T09:00:00Z"
    submission = copy.copy(
        next(
            s
            for s in data.rows[("prolific", "submissions")]
            if s["study_role"] == "rating" and s["status"] == "APPROVED"
        )
    )
    submission["status"] = "RETURNED"
    # A response missing its user id is its own entity (quarantined, never merged away).
    keyless = {**rating, "user_id": None, "value_json": "2", "value_number": 2.0}
    return {
        ("argilla", "responses"): [rating, answer, keyless],
        ("argilla", "records"): [record],
        ("prolific", "submissions"): [submission],
    }


def _rater_and_source_changes(data: StudyData) -> dict[tuple[str, str], list[dict]]:
    """The last approved rater returns their submission; a rating source's missing status
    flips from 'exclude' to 'submitted'."""
    submission = copy.copy(
        [
            s
            for s in data.rows[("prolific", "submissions")]
            if s["study_role"] == "rating" and s["status"] == "APPROVED"
        ][-1]
    )
    submission["status"] = "RETURNED"
    source = copy.copy(
        next(
            s
            for s in data.rows[("study", "sources")]
            if s["study_role"] == "rating" and s["status_if_missing"] == "exclude"
        )
    )
    source["status_if_missing"] = "submitted"
    return {("prolific", "submissions"): [submission], ("study", "sources"): [source]}


@pytest.mark.parametrize("variant", ["text", "metadata"])
def test_memo_refresh_equals_a_fresh_build(variant: str, tmp_path: Path) -> None:
    data = synthetic_study(variant)
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    land_study(data, landing)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "run", *MEMO)
    assert ok, failures
    assert _kept(tmp_path) == set()

    # Only the rating study changed: the writing side is kept, the linking runs again.
    _land(landing, _rating_copies(data, 5), "copies", hour=8)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "run", *MEMO)
    assert ok, failures
    # The copies repeat their raters' values on the same pairs: each pair's counted values
    # are as they were, so its grouped row hashes the same and agreement is kept too; they
    # come from users seen before under the same names, so participants are kept.
    participants = "int_participants_joined_to_submissions"
    assert _kept(tmp_path) == {*WRITING_SIDE, "study_agreement", participants}
    assert _merged(tmp_path) == {*FROM_RATING_CHANGES, *LANDED_CURRENT}
    assert _from_changes(tmp_path) == FROM_RATING_CHANGES
    with duckdb.connect(str(warehouse), read_only=True) as con:
        copies = con.execute(
            f"select count(*) from {LINKED} where record_id like 'copy-%'"
        ).fetchone()[0]
    assert copies == 5
    _assert_same_as_fresh(tmp_path, landing, warehouse, "new-ratings")

    # Changes on both sides and in Prolific: everything they touch is rebuilt.
    _land(landing, _mixed_changes(data), "changes", hour=9)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "run", *MEMO)
    assert ok, failures
    # The edited answer changes these; the writing records (questions) did not change.
    edited = {
        "int_writing_responses_joined_to_participants",
        "int_written_responses_evaluated",
        "written_responses",
    }
    assert "int_questions_identified_from_records" in _kept(tmp_path)
    assert not edited & _kept(tmp_path)
    # A rater's submission changed: the oriented ratings compare every rating again.
    assert ORIENTED not in _from_changes(tmp_path)
    _assert_same_as_fresh(tmp_path, landing, warehouse, "mixed-changes")

    # Ratings only again: keys that are gone leave the linked records and the pair scores.
    before = _counts(warehouse, LINKED, "pair_scores")
    _land(landing, _gone_keys(data), "gone", hour=10)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "run", *MEMO)
    assert ok, failures
    assert _merged(tmp_path) == {*FROM_RATING_CHANGES, *LANDED_CURRENT}
    assert _from_changes(tmp_path) == FROM_RATING_CHANGES
    assert _counts(warehouse, LINKED, "pair_scores") == (before[0] - 1, before[1] - 1)
    _assert_same_as_fresh(tmp_path, landing, warehouse, "gone-keys")

    # A rater's submission is returned and a rating source's rule for a missing status flips:
    # the ratings those touch are ranked again, found against what each row keeps of them.
    _land(landing, _rater_and_source_changes(data), "rater-and-source", hour=11)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "run", *MEMO)
    assert ok, failures
    assert ORIENTED in _from_changes(tmp_path)
    _assert_same_as_fresh(tmp_path, landing, warehouse, "rater-and-source")

    # The staging tables merge new ratings twice while their readers are not built: those
    # readers missed the first merge's rows, so they compare every row instead (or rebuild).
    _land(landing, _rating_copies(data, 3, "again-"), "again", hour=12)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "run", "-s", *LANDED_CURRENT, *MEMO)
    assert ok, failures
    assert _merged(tmp_path) == set(LANDED_CURRENT)
    _land(landing, _rating_copies(data, 2, "third-"), "third", hour=13)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "run", *MEMO)
    assert ok, failures
    # The users of the responses have no comparison: they are rebuilt.
    rebuilt_from_changes = {LINKED, ORIENTED, "pair_scores", GROUPED, *AGREEMENT_STATE}
    assert _merged(tmp_path) == {*rebuilt_from_changes, *LANDED_CURRENT}
    assert _from_changes(tmp_path) == {"pair_scores", GROUPED, *AGREEMENT_STATE}
    _assert_same_as_fresh(tmp_path, landing, warehouse, "missed-merge")


def _test_codes(workdir: Path) -> dict[str, str | None]:
    """Per data test of the last dbt build: its adapter response code (KEPT: passed from memo,
    DELTA: run on the rows the last merge of its table wrote)."""
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"]: (r.get("adapter_response") or {}).get("code")
        for r in results
        if r["unique_id"].startswith("test.")
    }


def _tests_kept(workdir: Path) -> dict[str, bool]:
    """Per data test of the last dbt build: whether memo passed it without running it."""
    return {test: code == "KEPT" for test, code in _test_codes(workdir).items()}


def test_full_refresh_rebuilds_memoized_tables(tmp_path: Path) -> None:
    """A build with nothing new keeps every memoized table and passes every test it passed on
    the same inputs without running it; new ratings run again the tests that read them;
    `--full-refresh` and a plain `dbt build` (without the code-version var) keep nothing."""
    data = synthetic_study("text")
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    land_study(data, landing)
    assert run_dbt(tmp_path, landing, warehouse, "build", *MEMO)[0]
    assert not any(_tests_kept(tmp_path).values())
    assert run_dbt(tmp_path, landing, warehouse, "build", *MEMO)[0]
    # Nothing new: every memoized table is kept, every test passes on its memo.
    assert _kept(tmp_path) == set(WRITING_SIDE) | set(READ_ALL_RATINGS)
    assert len(_tests_kept(tmp_path)) > 50
    assert all(_tests_kept(tmp_path).values())

    # New ratings: tests reading only the writing side stay passed, those reading ratings run.
    _land(landing, _rating_copies(data, 5), "copies", hour=8)
    assert run_dbt(tmp_path, landing, warehouse, "build", *MEMO)[0]
    tests = _tests_kept(tmp_path)
    writing_only = [t for t in tests if ".unique_written_responses_response_id." in t]
    ratings = [t for t in tests if ".unique_int_ratings_oriented_to_pairs_row_sha256." in t]
    assert writing_only and ratings
    assert all(tests[t] for t in writing_only)
    assert not any(tests[t] for t in ratings)
    # Tests of the merged tables that a check of the merged rows settles ran on those only:
    # also a relationships test whose parent is unchanged, a singular test that checks row by
    # row, and the tests of a view of one merged table's rows (pair_ratings). A comparison of
    # two tables ran in full.
    codes = {t.split(".")[2]: code for t, code in _test_codes(tmp_path).items()}
    assert codes["unique_int_ratings_oriented_to_pairs_row_sha256"] == "DELTA"
    assert codes["not_null_int_ratings_oriented_to_pairs_is_counted"] == "DELTA"
    grain = [t for t in codes if t.startswith("unique_combination_of_columns_stg_argilla__resp")]
    assert grain and all(codes[t] == "DELTA" for t in grain)
    delta = [t for t in codes if t.startswith("relationships_pair_ratings_response_")]
    delta += [t for t in codes if t.startswith("unique_combination_of_columns_pair_ratings_")]
    delta += [t for t in codes if t.startswith("not_null_columns_pair_ratings_")]
    delta.append("assert_counted_ratings_meet_the_rules")
    assert len(delta) == 5 and {codes[t] for t in delta} == {"DELTA"}
    assert codes["assert_pair_scores_agree_with_pair_ratings"] not in ("KEPT", "DELTA")
    # Those of the view read its rows for the merged keys, kept by its hook: the same rows.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kept_rows = con.execute("select * from pair_ratings__memo_changes order by all").fetchall()
        merged = f"select * from {ORIENTED}__memo_changes where row_sha256 is not null"
        picked = con.execute(
            f"select v.* from pair_ratings as v semi join ({merged}) as k "
            "on v.pair_id = k.pair_id and v.rater_user_id = k.rater_user_id order by all"
        ).fetchall()
    assert kept_rows and kept_rows == picked

    # Keys a merge removes are in its changes too (tombstones, for the merges downstream);
    # the tests run on merged rows leave them out, so they pass.
    _land(landing, _gone_keys(data), "gone", hour=10)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "build", *MEMO)
    assert ok, failures
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tombstones = con.execute(
            f"select count(*) from {ORIENTED}__memo_changes where row_sha256 is null"
        ).fetchone()[0]
    assert tombstones >= 1
    codes = {t.split(".")[2]: code for t, code in _test_codes(tmp_path).items()}
    assert codes["not_null_int_ratings_oriented_to_pairs_row_sha256"] == "DELTA"
    # A pair score is gone: the relationships test into the pair scores reads a changed
    # parent, so it runs in full.
    (to_scores,) = [t for t in codes if t.startswith("relationships_pair_ratings_pair_id_")]
    assert codes[to_scores] not in ("KEPT", "DELTA")

    assert run_dbt(tmp_path, landing, warehouse, "build", *MEMO, "--full-refresh")[0]
    assert _kept(tmp_path) == set()
    assert not any(_tests_kept(tmp_path).values())
    assert run_dbt(tmp_path, landing, warehouse, "build")[0]
    assert _kept(tmp_path) == set()
    assert not any(_tests_kept(tmp_path).values())


def test_a_test_run_on_merged_rows_fails_on_a_bad_merged_row(tmp_path: Path) -> None:
    """A test run on the rows a merge wrote (DELTA) reads them: a repeated key among them
    fails the grain test, as the same test on the whole table would."""
    data = synthetic_study("text")
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    land_study(data, landing)
    assert run_dbt(tmp_path, landing, warehouse, "build", *MEMO)[0]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        passed_before = con.execute("select * from _rlhfw_memo_tests").fetchall()
    _land(landing, _rating_copies(data, 5), "copies", hour=8)
    assert run_dbt(tmp_path, landing, warehouse, "build", *MEMO)[0]

    # As if the merge had written one (rater, pair) twice, and a counted rating of a response
    # that does not exist; the tests last passed before it.
    with duckdb.connect(str(warehouse)) as con:
        row = f"select * from {ORIENTED}__memo_changes where is_counted limit 1"
        assert con.execute(f"select count(*) from ({row})").fetchone()[0] == 1
        stray = (
            "select * replace ('stray' as rater_user_id, 'gone' as response_1_id, "
            f"null as question_id) from ({row})"
        )
        for bad in (row, stray):
            con.execute(f"insert into {ORIENTED} by name {bad}")
            con.execute(f"insert into {ORIENTED}__memo_changes by name {bad}")
        con.execute("delete from _rlhfw_memo_tests")
        con.executemany("insert into _rlhfw_memo_tests values (?, ?)", passed_before)
    selected = [ORIENTED, "pair_ratings", "assert_counted_ratings_meet_the_rules"]
    ok, failures = run_dbt(tmp_path, landing, warehouse, "test", "-s", *selected, *MEMO)
    assert not ok
    failed = {f.split(": ")[1] for f in failures}
    grain = [t for t in failed if t.startswith("unique_combination_of_columns_int_ratings_orien")]
    view_grain = [t for t in failed if t.startswith("unique_combination_of_columns_pair_ratings_")]
    parent = [t for t in failed if t.startswith("relationships_pair_ratings_response_1_id_")]
    required = [t for t in failed if t.startswith("not_null_columns_pair_ratings_")]
    assert grain and view_grain and parent and required
    rows = [
        "unique_int_ratings_oriented_to_pairs_row_sha256",
        "assert_counted_ratings_meet_the_rules",
    ]
    assert set(rows) <= failed
    codes = {t.split(".")[2]: code for t, code in _test_codes(tmp_path).items()}
    assert {codes[t] for t in [*grain, *view_grain, *parent, *required, *rows]} == {"DELTA"}
    # The run's outcomes are recorded when it ends: a failure forgets the test's earlier pass
    # (so it runs, and fails, again next time), a pass is remembered.
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    passed = {
        r["unique_id"].split(".")[2]
        for r in results
        if r["unique_id"].startswith("test.") and r["status"] == "pass"
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        remembered = {
            test_id.split(".")[2]
            for (test_id,) in con.execute("select test_id from _rlhfw_memo_tests").fetchall()
        }
    assert passed and passed <= remembered
    assert failed <= {t.split(".")[2] for t, _ in passed_before}
    assert not failed & remembered


def test_a_merge_stops_when_its_key_hash_matches_another_key(tmp_path: Path) -> None:
    """A merge finds the rows of the keys it rewrites by their stored 64-bit hash
    (`memo_key_hash`). Two keys with one hash would replace a row of another key: the merge
    checks every row found against the full keys and fails the build before deleting, so no
    row is lost."""
    data = synthetic_study("text")
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    land_study(data, landing)
    assert run_dbt(tmp_path, landing, warehouse, "build", *MEMO)[0]
    copies = _rating_copies(data, 1)
    (record,) = copies[("argilla", "records")]
    original = record["record_id"].removeprefix("copy-")
    with duckdb.connect(str(warehouse)) as con:
        (pair_id,) = con.execute(
            f"select pair_id from {LINKED} where record_id = ? and pair_id is not null",
            [original],
        ).fetchone()
        # A row of another key that carries the hash of the pair the refresh will score again.
        con.execute(
            "insert into pair_scores by name select * replace ('collider' as pair_id) "
            "from pair_scores where pair_id = ?",
            [pair_id],
        )
        before = con.execute("select count(*), sum(hash(s)) from pair_scores as s").fetchone()
    _land(landing, copies, "copies", hour=8)
    ok, failures = run_dbt(tmp_path, landing, warehouse, "build", *MEMO)
    assert not ok
    assert any("of other keys share the key hash" in f for f in failures), failures
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = con.execute("select count(*), sum(hash(s)) from pair_scores as s").fetchone()
        kept = con.execute(
            "select count(*) from pair_scores where pair_id in (?, 'collider')", [pair_id]
        ).fetchone()[0]
    assert after == before and kept == 2
