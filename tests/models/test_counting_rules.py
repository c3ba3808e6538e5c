"""The counting rules of docs/architecture.md, checked on the marts of a planted study."""

from __future__ import annotations

from collections import Counter

from conftest import Build
from warehouse_study import uid


def _exclusions(build: Build) -> dict[tuple, tuple[str, str]]:
    rows = build.query(
        "select dataset, workspace, record_id, user_id, question_name, item_type, exclusion_reason "
        "from exclusions where item_type in ('written_response', 'question_quality', 'rating')"
    )
    return {tuple(r[:5]): (r[5], r[6]) for r in rows}


def test_every_planted_exclusion_gets_its_reason(study: Build) -> None:
    excluded = _exclusions(study)
    expected = {k: v for k, v in study.data.expected.items() if v[1] is not None}
    assert excluded == expected


def test_counted_items_are_exactly_the_unexcluded_ones(study: Build) -> None:
    plan = study.data
    written = study.query(
        "select dataset, workspace, record_id, writer_user_id from written_responses"
    )
    assert sorted((*r, "response") for r in written) == sorted(
        k for k, r in plan.expected_reasons("written_response").items() if r is None
    )
    ratings = study.query("select dataset, workspace, record_id, rater_user_id from pair_ratings")
    assert sorted((*r, "preference") for r in ratings) == sorted(
        k for k, r in plan.expected_reasons("rating").items() if r is None
    )
    quality = study.query(
        "select dataset, workspace, record_id, writer_user_id, question_name "
        "from int_quality_ratings_evaluated where is_counted"
    )
    assert sorted(quality) == sorted(
        k for k, r in plan.expected_reasons("question_quality").items() if r is None
    )


def test_exclusion_counts_by_reason(text_study: Build) -> None:
    counts = Counter(
        dict(
            ((t, r), n)
            for t, r, n in text_study.query(
                "select item_type, exclusion_reason, count(*) from exclusions group by all"
            )
        )
    )
    # Submissions whose status does not count: w07 and w08 RETURNED, r10 REJECTED, r12 TIMED-OUT.
    assert counts.pop(("submission", "status_not_counted")) == 4
    # Answers to a question the study does not name (a note beside the rating) are listed too.
    notes = sum(
        1
        for r in text_study.data.rows[("argilla", "responses")]
        if r["question_name"] == "preference_note"
    )
    assert notes > 0
    assert counts.pop(("other_response", "question_not_configured")) == notes
    assert counts[("written_response", "writer_not_counted")] == 2
    assert counts[("rating", "out_of_range")] == 2
    assert counts[("rating", "unlinkable")] == 1
    assert counts[("question_quality", "duplicate_response")] == 1
    assert counts[("rating", "invalid_timestamp")] == 1  # quarantined, still reported
    assert sum(counts.values()) == sum(
        1 for _, r in text_study.data.expected.values() if r is not None
    )


def test_quarantined_rows_are_reported_with_their_value(text_study: Build) -> None:
    rows = text_study.query(
        "select landed_table, quarantine_reason, quarantine_detail from quarantine order by all"
    )
    assert rows == [
        ("argilla/responses", "invalid_timestamp", "inserted_at=31/02/2025 25:00"),
        ("argilla/responses", "invalid_timestamp", "inserted_at=the day after tomorrow"),
    ]


def test_same_question_in_two_workspaces_is_one_question(study: Build) -> None:
    ids = study.query(
        "select distinct question_id from int_writing_records_identified "
        "where question_text_normalized like 'Question 1:%'"
    )
    assert len(ids) == 1
    scopes = study.query("select scopes from question_quality where question_id = ?", [ids[0][0]])
    assert scopes == [("ws_a/writing_main, ws_b/writing_extra",)]


def test_later_answer_of_a_writer_wins(study: Build) -> None:
    rows = study.query(
        "select dataset, response_text from written_responses where response_text like '%Revised.'"
    )
    assert rows == [("writing_extra", rows[0][1])]
    # Its question keeps the planned number of counted answers.
    per_question = study.query(
        "select question_id, count(*) from written_responses group by 1 having count(*) <> 4"
    )
    assert per_question == []


def test_writer_and_rater_counting_uses_any_counted_submission(study: Build) -> None:
    rows = dict(
        study.query(
            "select username, is_counted_writer or is_counted_rater "
            "from int_participants_joined_to_submissions"
        )
    )
    by_person = {
        name: rows[u]
        for name in ("w07", "w08", "w09", "r10", "r11", "r12")
        for u in rows
        if name in u
    }
    assert by_person == {
        "w07": False,  # RETURNED only
        "w08": True,  # RETURNED, then APPROVED
        "w09": False,  # no submission
        "r10": False,  # REJECTED
        "r11": True,  # AWAITING REVIEW counts
        "r12": False,  # TIMED-OUT
    }


def test_unlinkable_and_uncounted_sides_are_reported_not_dropped(study: Build) -> None:
    rows = study.query(
        "select exclusion_reason, pair_id is null from exclusions "
        "where exclusion_reason in ('unlinkable', 'same_response', 'response_not_counted') "
        "order by 1"
    )
    # Only a record whose two sides link to two responses has a pair.
    assert rows == [
        ("response_not_counted", False),
        ("same_response", True),
        ("unlinkable", True),
    ]


def test_completeness_reports_short_units(text_study: Build) -> None:
    rows = text_study.query(
        "select study, scope, n_units, n_units_short_of_target, n_counted_items "
        "from collection_completeness where scope = 'overall' order by study"
    )
    n_counted_ratings = text_study.query("select count(*) from pair_ratings")[0][0]
    n_pairs = text_study.query(
        "select count(distinct pair_id) from int_rating_records_linked_to_responses "
        "where link_problem is null"
    )[0][0]
    # The tie pair has 2 of 3 ratings; every question has its 4 answers.
    assert rows == [
        ("rating", "overall", n_pairs, 1, n_counted_ratings),
        ("writing", "overall", 12, 0, 48),
    ]


def test_metadata_links_and_participant_mapping(metadata_study: Build) -> None:
    ids = {q for (q,) in metadata_study.query("select distinct question_id from written_responses")}
    assert ids == {f"Q{q:03d}" for q in range(1, 13)}
    pids = metadata_study.query(
        "select prolific_pid from int_participants_joined_to_submissions "
        "where username = 'user_r01'"
    )
    assert pids == [("pidr01".ljust(24, "0"),)]
    # The rating prompt field has another name in this variant; sides link by writer id.
    linked = metadata_study.query(
        "select count(*) from int_rating_records_linked_to_responses where link_problem is null"
    )[0][0]
    assert linked == len(metadata_study.data.rating_sides) - 3  # unlinkable, same, not counted
    assert uid("w01") in {
        u for (u,) in metadata_study.query("select writer_user_id from written_responses")
    }
