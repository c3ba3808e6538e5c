"""Nothing landed is lost: every current landed response and Prolific submission is counted,
excluded with a reason, or quarantined with a reason (docs/architecture.md, "Versions" and the
counting rules), including the cases that used to vanish or be settled without a word."""

from __future__ import annotations

import copy

import pytest
from conftest import Build, build_study
from warehouse_study import synthetic_study

pytestmark = pytest.mark.slow  # builds a study of its own with dbt (10-20 s)


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Build:
    data = synthetic_study("text")
    responses = data.rows[("argilla", "responses")]
    submissions = data.rows[("prolific", "submissions")]

    # 1. An answer to a question study.yml does not name (a renamed or extra question).
    written = next(r for r in responses if r["question_name"] == "response" and r["value_text"])
    responses.append({**written, "question_name": "comment", "value_text": "extra"})

    # 2. One export holding the same submission twice with different statuses.
    first = next(s for s in submissions if s["status"] == "APPROVED")
    for status in ("APPROVED", "REJECTED"):
        submissions.append({**first, "submission_id": "sub9999", "status": status})

    # 3. One export holding the same response twice, different values, one timestamp.
    other = next(
        r
        for r in responses
        if r["question_name"] == "response" and r["value_text"] and r is not written
    )
    responses.append({**copy.deepcopy(other), "value_text": other["value_text"] + " (edited)"})

    # 4. A rater rating one pair in two records with different values and no timestamps.
    rec_1, rec_2 = data.duplicate_records
    for row in responses:
        if row["record_id"] in (rec_1, rec_2) and row["question_name"] == "preference":
            row["inserted_at"] = row["updated_at"] = None
            if row["record_id"] == rec_2:
                row["value_number"], row["value_json"] = 5.0, "5"  # oriented 4, against 2
    data.conflicting_response = other
    data.unconfigured_response = written
    return build_study(data, tmp_path_factory.mktemp("messy_study"))


def test_an_answer_to_an_unconfigured_question_is_excluded_with_its_reason(messy: Build) -> None:
    row = messy.data.unconfigured_response
    got = messy.query(
        "select item_type, exclusion_reason, landed_value from exclusions "
        "where record_id = ? and user_id = ? and question_name = 'comment'",
        [row["record_id"], row["user_id"]],
    )
    assert got == [("other_response", "question_not_configured", "extra")]


def test_a_submission_repeated_with_another_status_is_quarantined(messy: Build) -> None:
    got = messy.query(
        "select landed_table, quarantine_reason from quarantine where entity_key = 'sub9999'"
    )
    assert got == [("prolific/submissions", "conflicting_versions")]
    # Neither version counts, and it is not reported twice.
    assert messy.query("select count(*) from exclusions where record_id = 'sub9999'") == [(0,)]


def test_a_response_repeated_with_another_value_in_one_export_is_quarantined(
    messy: Build,
) -> None:
    row = messy.data.conflicting_response
    got = messy.query(
        "select quarantine_reason, quarantine_detail from stg_argilla__responses "
        "where record_id = ? and user_id = ? and question_name = 'response'",
        [row["record_id"], row["user_id"]],
    )
    assert got == [("conflicting_versions", "different versions in one observation")]
    assert messy.query(
        "select count(*) from written_responses where record_id = ? and writer_user_id = ?",
        [row["record_id"], row["user_id"]],
    ) == [(0,)]


def test_a_conflicting_repeat_rating_without_timestamps_is_shown_as_a_conflict(
    messy: Build,
) -> None:
    rec_1, rec_2 = messy.data.duplicate_records
    got = messy.query(
        "select record_id, is_counted, exclusion_reason from int_ratings_oriented_to_pairs "
        "where record_id in (?, ?) and rater_user_id in (select user_id from exclusions "
        "where exclusion_reason = 'conflicting_duplicate_rating') order by record_id",
        [rec_1, rec_2],
    )
    assert sorted((counted, reason) for _, counted, reason in got) == [
        (False, "conflicting_duplicate_rating"),
        (True, None),
    ]
    # No timestamps, one source: the record id decides, whatever the load order.
    winner = max(rec_1, rec_2)
    assert [r for r, counted, _ in got if counted] == [winner]


def test_landed_equals_counted_plus_excluded_plus_quarantined(messy: Build) -> None:
    landed = messy.query("select count(*) from stg_argilla__responses")[0][0]
    counted = messy.query(
        "select (select count(*) from written_responses) + (select count(*) from pair_ratings)"
        " + (select count(*) from int_quality_ratings_evaluated where is_counted)"
    )[0][0]
    excluded = messy.query(
        "select count(*) from exclusions where item_type <> 'submission' and not is_quarantined"
    )[0][0]
    quarantined = messy.query(
        "select count(*) from quarantine where landed_table = 'argilla/responses'"
    )[0][0]
    assert landed == counted + excluded + quarantined
    submissions = messy.query("select count(*) from stg_prolific__submissions")[0][0]
    counted_submissions = messy.query(
        "select count(*) from stg_prolific__submissions where quarantine_reason is null "
        "and submission_status in ('APPROVED', 'AWAITING REVIEW')"
    )[0][0]
    other = messy.query(
        "select (select count(*) from exclusions where item_type = 'submission')"
        " + (select count(*) from quarantine where landed_table = 'prolific/submissions')"
    )[0][0]
    assert submissions == counted_submissions + other
