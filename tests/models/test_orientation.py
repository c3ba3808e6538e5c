"""Pairs are canonical and every counted rating is oriented so that low = response_1 better."""

from __future__ import annotations

from conftest import Build
from warehouse_study import SCALE_MAX, SCALE_MIN, uid

MID = (SCALE_MIN + SCALE_MAX) / 2


def _response_ids(build: Build) -> dict[tuple[str, str], str]:
    rows = build.query("select question_id, writer_user_id, response_id from written_responses")
    return {(q, w): r for q, w, r in rows}


def test_every_counted_rating_points_at_the_response_the_rater_preferred(study: Build) -> None:
    responses = _response_ids(study)
    rows = study.query(
        "select record_id, question_id, rating, oriented_rating, response_1_id, response_2_id "
        "from pair_ratings"
    )
    assert rows
    low_means_a = study.data.low_means == "response_a"
    for record_id, question_id, rating, oriented, r1, r2 in rows:
        person_a, person_b = study.data.rating_sides[record_id]
        a, b = responses[(question_id, uid(person_a))], responses[(question_id, uid(person_b))]
        assert {a, b} == {r1, r2} and r1 < r2
        # The rater's preference, read with the scale's own meaning.
        prefers_a = rating < MID if low_means_a else rating > MID
        preferred = a if prefers_a else b
        assert (oriented < MID) == (preferred == r1), (record_id, rating, oriented)
        assert abs(oriented - MID) == abs(rating - MID)


def test_a_rater_rating_a_pair_twice_keeps_the_later_mirrored_rating(study: Build) -> None:
    first, second = study.data.duplicate_records
    rows = study.query(
        "select record_id, is_counted, exclusion_reason, rating, oriented_rating, is_mirrored "
        "from int_ratings_oriented_to_pairs where record_id in (?, ?) order by record_id",
        [first, second],
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (first, False, "duplicate_rating"),
        (second, True, None),
    ]
    # The two records show the pair in opposite orders: exactly one of them is mirrored, and
    # the rater's two ratings (2 then 7: the same opinion) orient to the same value.
    assert rows[0][5] != rows[1][5]
    assert rows[0][4] == rows[1][4]


def test_pair_ids_are_order_free(study: Build) -> None:
    rows = study.query(
        "select pair_id, count(distinct is_swapped) from int_rating_records_linked_to_responses "
        "where pair_id is not null group by 1 having count(*) > 1"
    )
    # The duplicate record pair shows one pair both ways, and it is one pair.
    assert any(n == 2 for _, n in rows)


def test_a_pair_rated_exactly_at_the_midpoint_is_a_tie(study: Build) -> None:
    rows = study.query(
        "select is_tie, preferred_response_id, margin, mean_rating, n_ratings, agreement "
        "from pair_scores where pair_id = ("
        "select pair_id from int_rating_records_linked_to_responses where record_id = ?)",
        [study.data.tie_record],
    )
    assert rows == [(True, None, 0.0, MID, 2, 0.5)]
    assert study.query("select count(*) from pair_scores where is_tie")[0][0] == 1


def test_pair_scores_prefer_the_side_of_the_mean(study: Build) -> None:
    rows = study.query(
        "select s.preferred_response_id, s.response_1_id, s.response_2_id, avg(r.oriented_rating)"
        " from pair_scores s join pair_ratings r using (pair_id) where not s.is_tie group by all"
    )
    for preferred, r1, r2, mean in rows:
        assert preferred == (r1 if mean < MID else r2)
