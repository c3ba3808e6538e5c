"""The publish rules in dbt (`preference_pairs`, `question_splits`) held to a Python oracle of
docs/architecture.md's rules, and the publish settings' way from study/settings into them:
study.yml's defaults for a landing zone from before they were landed, the landed values once
they are, quarantine for a value that does not type."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import Build, run_dbt
from warehouse_study import land_study, synthetic_study

from extract.landing import Landing
from extract.schemas import schema_of
from study_config import Publish
from tests.oracle import split_of

PUBLISH_COLUMNS = [
    "publish_min_ratings",
    "publish_min_margin",
    "publish_test_fraction",
    "publish_seed",
    "publish_validation_fraction",
]


def expected_pair(score: dict, min_ratings: int, min_margin: float) -> dict:
    """One pair_scores row as publish's rules make it (the first reason that applies)."""
    r1, r2, preferred = score["response_1_id"], score["response_2_id"], score["preferred"]
    if score["is_tie"] or preferred is None:
        reason = "tie"
    elif score["n_ratings"] < min_ratings:
        reason = "below_min_ratings"
    elif score["margin"] < min_margin:
        reason = "below_min_margin"
    elif preferred not in (r1, r2):
        reason = "invalid_preference"
    else:
        reason = None
    if preferred not in (r1, r2):
        sides = ("chosen_response_id", "rejected_response_id", "chosen", "rejected")
        return {"drop_reason": reason, **dict.fromkeys(sides), **dict.fromkeys(SCORES)}
    one = preferred == r1
    mirror = score["scale_min"] + score["scale_max"]
    # m: the mean oriented so that a low value means `chosen` is better; `rejected` scores m,
    # `chosen` its mirror (higher is better for both).
    mean = score["mean"] if one else mirror - score["mean"]
    median = score["median"] if one else mirror - score["median"]
    return {
        "drop_reason": reason,
        "chosen_response_id": r1 if one else r2,
        "rejected_response_id": r2 if one else r1,
        "chosen": score["text_1"] if one else score["text_2"],
        "rejected": score["text_2"] if one else score["text_1"],
        "score_chosen": mirror - mean,
        "score_rejected": mean,
        "median_score_chosen": mirror - median,
        "median_score_rejected": median,
    }


SCORES = ("score_chosen", "score_rejected", "median_score_chosen", "median_score_rejected")


def assert_marts_follow_the_rules(build: Build, publish: dict) -> dict[str | None, int]:
    """Both marts equal the oracle under `publish` (the stg settings' values); returns the
    pairs per drop reason."""
    settings = build.query(f"select {', '.join(PUBLISH_COLUMNS)} from stg_study__settings")
    assert settings == [tuple(publish[c] for c in PUBLISH_COLUMNS)]
    seed, fraction = publish["publish_seed"], publish["publish_test_fraction"]
    validation = publish["publish_validation_fraction"]
    splits = dict(build.query("select question_id, split from question_splits"))
    questions = build.query(
        "select question_id from pair_scores union select question_id from written_responses"
    )
    assert splits == {q: split_of(q, seed, fraction, validation) for (q,) in questions}
    # Every side of the rule is exercised.
    assert set(splits.values()) == {"train", "test"} | ({"validation"} if validation else set())

    cols = ["pair_id", "question_id", "response_1_id", "response_2_id", "preferred", "is_tie",
            "n_ratings", "margin", "mean", "median", "scale_min", "scale_max", "text_1",
            "text_2"]  # fmt: skip
    scores = [
        dict(zip(cols, row, strict=True))
        for row in build.query(
            "select pair_id, question_id, response_1_id, response_2_id, preferred_response_id, "
            "is_tie, n_ratings, margin, mean_rating, median_rating, scale_min, scale_max, "
            "response_1_text, response_2_text from pair_scores"
        )
    ]
    got_cols = ["pair_id", "split", "drop_reason", "is_published", "chosen_response_id",
                "rejected_response_id", "chosen", "rejected", *SCORES, "preference_strength",
                "min_ratings", "min_margin"]  # fmt: skip
    got = {
        row[0]: dict(zip(got_cols, row, strict=True))
        for row in build.query(f"select {', '.join(got_cols)} from preference_pairs")
    }
    assert set(got) == {s["pair_id"] for s in scores}
    reasons: dict[str | None, int] = {}
    for score in scores:
        want = expected_pair(score, publish["publish_min_ratings"], publish["publish_min_margin"])
        row = got[score["pair_id"]]
        chosen_score = row["score_chosen"]
        for key in SCORES:
            assert row.pop(key) == pytest.approx(want.pop(key)), score
        half_range = (score["scale_max"] - score["scale_min"]) / 2
        assert row.pop("preference_strength") == pytest.approx(score["margin"] / half_range)
        assert row == {
            **want,
            "pair_id": score["pair_id"],
            "split": splits[score["question_id"]],
            "is_published": want["drop_reason"] is None,
            "min_ratings": publish["publish_min_ratings"],
            "min_margin": publish["publish_min_margin"],
        }, score
        if row["is_published"]:  # higher is better: `chosen` scores above the midpoint
            assert 2 * chosen_score > score["scale_min"] + score["scale_max"], score
        reasons[want["drop_reason"]] = reasons.get(want["drop_reason"], 0) + 1
    return reasons


DEFAULTS = {
    "publish_min_ratings": Publish().min_ratings,
    "publish_min_margin": Publish().min_margin,
    "publish_test_fraction": Publish().test_fraction,
    "publish_seed": str(Publish().seed),
    "publish_validation_fraction": Publish().validation_fraction,
}


def test_the_marts_follow_the_publish_rules(study: Build) -> None:
    """The fixtures land the settings without publish values (null): study.yml's defaults."""
    reasons = assert_marts_follow_the_rules(study, DEFAULTS)
    assert reasons.get(None) and reasons.get("tie")


def _strip_publish_columns(landing: Path) -> None:
    """Rewrite the landed settings as a version before the publish settings landed wrote them."""
    for path in (landing / "study" / "settings").glob("*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(PUBLISH_COLUMNS), path)


def _land_settings(landing: Path, when: datetime, **publish: object) -> None:
    row = {**synthetic_study("text").rows[("study", "settings")][0], **publish}
    with_load = Landing(landing, extracted_at=when)
    try:
        table = pa.Table.from_pylist([row], schema=schema_of("study", "settings"))
        with_load.land("study", "settings", table, "test://study/settings", "1" * 64)
    finally:
        with_load.close()


@pytest.mark.slow  # runs dbt on a warehouse of its own
def test_an_older_landing_builds_with_the_defaults_then_takes_the_landed_settings(
    tmp_path: Path,
) -> None:
    data = synthetic_study("text")
    workdir = tmp_path / "old"
    landing = workdir / "landing"
    # The landing of an older version: no publish column in any settings batch.
    land_study(data, landing)
    _strip_publish_columns(landing)
    for path in (landing / "study" / "settings").glob("*.parquet"):
        assert "publish_seed" not in pq.read_schema(path).names
    ok, failures = run_dbt(workdir, landing, workdir / "warehouse.duckdb", "build")
    assert ok, failures
    build = Build(data, landing, workdir / "warehouse.duckdb", workdir, 0.0)
    assert_marts_follow_the_rules(build, DEFAULTS)

    # The next extract lands study.yml's publish settings beside the old batches.
    settings = {"publish_min_ratings": 4, "publish_min_margin": 2.0,
                "publish_test_fraction": 0.3, "publish_seed": "-7",
                "publish_validation_fraction": 0.3}  # fmt: skip
    _land_settings(landing, datetime(2025, 3, 3, 12, tzinfo=UTC), **settings)
    ok, failures = run_dbt(workdir, landing, workdir / "warehouse.duckdb", "build")
    assert ok, failures
    reasons = assert_marts_follow_the_rules(build, settings)
    # Every rule is exercised: one pair has 4 ratings (margin 1.75), the others 3 or fewer.
    assert set(reasons) == {"tie", "below_min_ratings", "below_min_margin"}, reasons

    # A value that does not type, or that study.yml would refuse, is quarantined (the
    # staging view reads the landing as it is: no build needed to see it).
    for when, bad, reason in [
        (datetime(2025, 3, 4, tzinfo=UTC), {"publish_seed": "seven"}, "invalid_number"),
        (datetime(2025, 3, 5, tzinfo=UTC), {"publish_seed": "07"}, "invalid_number"),
        (datetime(2025, 3, 6, tzinfo=UTC), {"publish_test_fraction": 1.0}, "invalid_value"),
        (datetime(2025, 3, 7, tzinfo=UTC), {"publish_min_ratings": 0}, "invalid_value"),
        (datetime(2025, 3, 9, tzinfo=UTC), {"publish_validation_fraction": 0.7}, "invalid_value"),
        (datetime(2025, 3, 10, tzinfo=UTC), {"publish_validation_fraction": -0.1}, "invalid_value"),
        (datetime(2025, 3, 8, tzinfo=UTC), {"publish_min_margin": -0.5}, "invalid_value"),
    ]:
        _land_settings(landing, when, **{**settings, **bad})
        got = build.query("select quarantine_reason from stg_study__settings")
        assert got == [(reason,)], bad
