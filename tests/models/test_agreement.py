"""Krippendorff's alpha in SQL equals the `krippendorff` package on the same counted data."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from conftest import Build

VALUES_SQL = {
    "rating": "select workspace || '/' || dataset, pair_id, rater_user_id, oriented_rating "
    "from pair_ratings",
    "writing": "select workspace || '/' || dataset, question_id, writer_user_id, quality_rating "
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


@pytest.mark.parametrize("level", ["interval", "ordinal"])
def test_alpha_equals_the_krippendorff_package(study: Build, level: str) -> None:
    mart = {
        (s, scope): alpha
        for s, scope, alpha in study.query(
            "select study, scope, alpha from study_agreement where level = ?", [level]
        )
    }
    checked = 0
    for study_name, sql in VALUES_SQL.items():
        rows = study.query(sql)
        scopes = {"overall": [(u, c, v) for _, u, c, v in rows]}
        for scope, unit, coder, value in rows:
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
    assert checked >= 4  # both studies, overall and at least one dataset


def test_agreement_is_informative(text_study: Build) -> None:
    """The planted ratings follow a latent quality: raters agree well above chance."""
    alpha = text_study.query(
        "select alpha from study_agreement "
        "where study = 'rating' and scope = 'overall' and level = 'interval'"
    )[0][0]
    assert 0.3 < alpha < 1
