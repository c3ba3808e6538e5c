"""Krippendorff's alpha in SQL equals the `krippendorff` package on the same counted data."""

from __future__ import annotations

from dataclasses import replace

import krippendorff
import numpy as np
import pytest
from conftest import Build, build_study
from warehouse_study import synthetic_study

VALUES_SQL = {
    "rating": "select workspace, dataset, pair_id, rater_user_id, oriented_rating "
    "from pair_ratings",
    "writing": "select workspace, dataset, question_id, writer_user_id, quality_rating "
    "from int_quality_ratings_evaluated where is_counted",
}


def _package_alpha(rows: list[tuple[str, str, int]], level: str) -> float | None:
    units = sorted({u for u, _, _ in rows})
    coders = sorted({c for _, c, _ in rows})
    matrix = np.full((len(coders), len(units)), np.nan)
    for unit, coder, value in rows:
        matrix[coders.index(coder), units.index(unit)] = value
    try:
        alpha = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    except ValueError:  # no pairable unit, or a single value: undefined
        return None
    return None if np.isnan(alpha) else float(alpha)


def _check_against_package(study: Build, level: str) -> dict[tuple[str, str], float | None]:
    mart = {
        (s, scope): alpha
        for s, scope, alpha in study.query(
            "select study, scope, alpha from study_agreement where level = ?", [level]
        )
    }
    checked = 0
    for study_name, sql in VALUES_SQL.items():
        rows = study.query(sql)
        # Every scope's values as the package sees them: overall, each workspace (a unit seen in
        # several of its datasets is one unit there), each workspace/dataset.
        scopes = {"overall": [(u, c, v) for _, _, u, c, v in rows]}
        for workspace, dataset, unit, coder, value in rows:
            for scope in (f"workspace:{workspace}", f"{workspace}/{dataset}"):
                scopes.setdefault(scope, []).append((unit, coder, value))
        assert {k for k in mart if k[0] == study_name} == {(study_name, s) for s in scopes}
        for scope, values in scopes.items():
            expected = _package_alpha(values, level)
            got = mart[(study_name, scope)]
            if expected is None:
                assert got is None, (study_name, scope)
            else:
                assert got == pytest.approx(expected, abs=1e-9), (study_name, scope)
                checked += 1
    assert checked >= 6  # both studies, overall, at least one workspace and one dataset
    assert any(s.startswith("workspace:") for _, s in mart), "no workspace scope"
    return mart


@pytest.mark.parametrize("level", ["interval", "ordinal"])
def test_alpha_equals_the_krippendorff_package(study: Build, level: str) -> None:
    _check_against_package(study, level)


@pytest.mark.slow  # runs dbt on a warehouse of its own
def test_workspace_of_several_datasets_equals_the_krippendorff_package(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Both workspaces made one: its scope holds two datasets, and a question seen in both
    (the writing study's) is one unit there with all its values."""
    data = synthetic_study("text")
    rows = {
        key: [{k: "ws_a" if v == "ws_b" else v for k, v in row.items()} for row in table]
        for key, table in data.rows.items()
    }
    build = build_study(replace(data, rows=rows), tmp_path_factory.mktemp("one_workspace"))
    for level in ("interval", "ordinal"):
        mart = _check_against_package(build, level)
        assert {s for _, s in mart if s.startswith("workspace:")} == {"workspace:ws_a"}
    shared = build.query(
        "select count(*) from int_coded_values_grouped_by_unit where scope = 'workspace:ws_a'"
    )[0][0]
    assert shared >= 1  # a unit seen in two datasets of the workspace


def test_agreement_is_informative(text_study: Build) -> None:
    """The planted ratings follow a latent quality: raters agree well above chance."""
    alpha = text_study.query(
        "select alpha from study_agreement "
        "where study = 'rating' and scope = 'overall' and level = 'interval'"
    )[0][0]
    assert 0.3 < alpha < 1


def test_annotator_quality_follows_its_definitions(study: Build) -> None:
    """Each rater's agreement with the other raters of their pairs, recomputed in Python from
    the counted ratings: |rating - mean of the others| and agreement with the others' majority
    side (a strict plurality of prefer-1 / neutral / prefer-2, by the scale's midpoint)."""
    ((low, high),) = study.query("select scale_min, scale_max from stg_study__settings")
    by_pair: dict[str, list[tuple[str, int]]] = {}
    for pair, rater, rating in study.query(
        "select pair_id, rater_user_id, oriented_rating from pair_ratings"
    ):
        by_pair.setdefault(pair, []).append((rater, rating))
    deviations: dict[str, list[float]] = {}
    majority: dict[str, list[bool]] = {}
    counted: dict[str, int] = {}
    for ratings in by_pair.values():
        for i, (rater, rating) in enumerate(ratings):
            counted[rater] = counted.get(rater, 0) + 1
            others = [r for j, (_, r) in enumerate(ratings) if j != i]
            if not others:
                continue
            deviations.setdefault(rater, []).append(abs(rating - sum(others) / len(others)))
            sides = [int(np.sign(2 * r - (low + high))) for r in others]
            tally = {side: sides.count(side) for side in (-1, 0, 1)}
            top = max(tally.values())
            winners = [side for side, n in tally.items() if n == top]
            if len(winners) == 1:
                side = int(np.sign(2 * rating - (low + high)))
                majority.setdefault(rater, []).append(side == winners[0])
    mart = {
        row[0]: row[1:]
        for row in study.query(
            "select rater_user_id, n_counted_ratings, n_ratings_with_others, "
            "mean_abs_deviation_from_others, n_ratings_with_majority, majority_agreement "
            "from annotator_quality"
        )
    }
    assert len(deviations) >= 5 and any(majority.values())
    for rater, n in counted.items():
        n_counted, n_with_others, deviation, n_with_majority, agreement = mart[rater]
        assert n_counted == n
        assert n_with_others == len(deviations.get(rater, []))
        if rater in deviations:
            assert deviation == pytest.approx(np.mean(deviations[rater]), abs=1e-12)
        else:
            assert deviation is None
        votes = majority.get(rater, [])
        assert n_with_majority == len(votes)
        if votes:
            assert agreement == pytest.approx(sum(votes) / len(votes), abs=1e-12)
        else:
            assert agreement is None
