"""The analyst marts recomputed in Python from the counted rows: position bias, the bootstrap
interval of agreement, the counted quality ratings, the pairs' standard errors, and BIGINT
counts everywhere."""

from __future__ import annotations

import hashlib
import math
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import krippendorff
import numpy as np
import pytest
import yaml
from conftest import PROJECT_DIR, Build, run_dbt
from scipy import stats

MART_NAMES = sorted(p.stem for p in (PROJECT_DIR / "models" / "marts").glob("*.sql"))
BOOTSTRAP_VARS = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
WEIGHTS_SQL = (
    "select study, scope, resample, coded_values, n_units, uniform, weight "
    "from int_agreement_resample_weights"
)
# The bootstrap's draws: resample 0 is the observed sample (weight = n_units, no uniform).
DRAWS_SQL = WEIGHTS_SQL + " where resample >= 1"


def _scopes(workspace: str, dataset: str) -> tuple[str, ...]:
    return ("overall", f"workspace:{workspace}", f"{workspace}/{dataset}")


# ---------------------------------------------------------------------------- position bias


def test_position_bias_equals_python(study: Build) -> None:
    """Counts from the side each rating prefers, found two ways: the raw rating read with the
    study's low_means, and the oriented rating read against which response was shown as A."""
    ((low, high),) = study.query("select scale_min, scale_max from stg_study__settings")
    rows = study.query(
        "select workspace, dataset, rating, oriented_rating, response_a_id, response_1_id "
        "from pair_ratings"
    )
    a_side = -1 if study.data.low_means == "response_a" else 1  # the raw side meaning A
    tally: dict[str, Counter] = defaultdict(Counter)
    for workspace, dataset, rating, oriented, response_a, response_1 in rows:
        raw_side = int(np.sign(2 * rating - low - high))
        oriented_side = int(np.sign(2 * oriented - low - high))  # -1 prefers response 1
        a_is_1 = response_a == response_1
        prefers_a_oriented = oriented_side == (-1 if a_is_1 else 1)
        assert (raw_side == a_side) == prefers_a_oriented or raw_side == 0
        for scope in _scopes(workspace, dataset):
            if raw_side == 0:
                tally[scope]["neutral"] += 1
            else:
                tally[scope]["rated"] += 1
                tally[scope]["first"] += raw_side == a_side
    mart = {
        row[0]: row[1:]
        for row in study.query(
            "select scope, study, n_ratings, n_neutral, n_prefer_first, share_prefer_first, z, "
            "p_value from position_bias"
        )
    }
    agreement_scopes = {
        s for (s,) in study.query("select scope from study_agreement where study = 'rating'")
    }
    assert set(mart) == set(tally) == agreement_scopes
    assert any(t["first"] not in (0, t["rated"]) for t in tally.values())
    for scope, counts in tally.items():
        study_name, n, n_neutral, n_first, share, z, p_value = mart[scope]
        assert study_name == "rating"
        assert (n, n_neutral, n_first) == (counts["rated"], counts["neutral"], counts["first"])
        expected_z = (n_first - n / 2) / math.sqrt(n / 4)
        assert share == pytest.approx(n_first / n, abs=1e-12)
        assert z == pytest.approx(expected_z, abs=1e-12)
        assert p_value == pytest.approx(2 * stats.norm.sf(abs(expected_z)), abs=2e-7)
        assert p_value == pytest.approx(math.erfc(abs(expected_z) / math.sqrt(2)), abs=2e-7)


# -------------------------------------------------------------------- bootstrap of agreement


def _alpha(profiles: list[tuple[tuple[int, ...], int]], level: str) -> float | None:
    """Krippendorff's alpha of units given as (sorted values, how many units), exactly in
    integers; ordinal on the doubled mid-ranks of these units' values."""
    profiles = [(values, w) for values, w in profiles if w > 0]
    if level == "ordinal":
        freq: Counter = Counter()
        for values, w in profiles:
            for v in values:
                freq[v] += w
        ranks, below = {}, 0
        for v in sorted(freq):
            ranks[v] = 2 * below + freq[v]
            below += freq[v]
        profiles = [(tuple(ranks[v] for v in values), w) for values, w in profiles]
    n = sum(w * len(values) for values, w in profiles)
    sum_x = sum(w * sum(values) for values, w in profiles)
    sum_x2 = sum(w * sum(x * x for x in values) for values, w in profiles)
    total = n * sum_x2 - sum_x * sum_x
    if total <= 0:
        return None
    within: dict[int, int] = defaultdict(int)
    for values, w in profiles:
        m = len(values)
        within[m] += w * (m * sum(x * x for x in values) - sum(values) ** 2)
    observed = sum(within[m] / (m - 1) for m in sorted(within))
    return 1 - observed * (n - 1) / total


def _package_alpha(profiles: list[tuple[tuple[int, ...], int]], level: str) -> float:
    units = [values for values, w in profiles for _ in range(w)]
    matrix = np.full((max(len(u) for u in units), len(units)), np.nan)
    for j, values in enumerate(units):
        matrix[: len(values), j] = values
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


def _weights(build: Build, sql: str = DRAWS_SQL) -> dict[tuple[str, str], dict[int, list]]:
    by_scope: dict[tuple[str, str], dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for study_name, scope, resample, values, _, _, weight in build.query(sql):
        by_scope[(study_name, scope)][resample].append((tuple(values), weight))
    return by_scope


def test_bootstrap_interval_equals_python(study: Build) -> None:
    """Alpha of every bootstrap resample (1 and up) recomputed from the exposed weights; the
    interval is numpy's 2.5th and 97.5th percentiles (linear, as quantile_cont) of the defined
    ones. Resample 0 is the observed sample: its profiles and weights are the counted ones,
    and its alpha, n_units and n_values are the mart's, to the bit."""
    full = defaultdict(list)
    for study_name, scope, values, n_units in study.query(
        "select study, scope, coded_values, n_units from int_value_profiles_counted_by_scope "
        "where n_unit_values >= 2"
    ):
        full[(study_name, scope)].append((tuple(values), n_units))
    weights = _weights(study)
    assert set(weights) == set(full)
    observed = _weights(study, WEIGHTS_SQL + " where resample = 0")
    assert {key: sorted(r[0]) for key, r in observed.items()} == {
        key: sorted(profiles) for key, profiles in full.items()
    }
    resample_zero = {
        row[:3]: row[3:]
        for row in study.query(
            "select study, scope, level, alpha, n_units, n_values "
            "from int_agreement_alpha_by_resample where resample = 0"
        )
    }
    mart = study.query(
        "select study, scope, level, alpha, alpha_ci_low, alpha_ci_high, n_resamples, n_units, "
        "n_values from study_agreement"
    )
    checked = 0
    for study_name, scope, level, alpha, low, high, n_resamples, n_units, n_values in mart:
        # The mart's alpha is resample 0's (the same bits), or NULL with no pairable unit.
        expected = resample_zero.get((study_name, scope, level), (None, 0, 0))
        assert (alpha, n_units, n_values) == expected
        resamples = weights.get((study_name, scope), {})
        if not resamples:
            assert (low, high, n_resamples) == (None, None, 0)
            continue
        assert sorted(resamples) == list(
            range(1, BOOTSTRAP_VARS["agreement_bootstrap_resamples"] + 1)
        )
        # The Python alpha is the mart's on the full sample (weights = counts of units).
        assert alpha == pytest.approx(_alpha(full[(study_name, scope)], level), abs=1e-9)
        alphas = [_alpha(profiles, level) for profiles in resamples.values()]
        defined = [a for a in alphas if a is not None]
        assert n_resamples == len(defined)
        expected_low, expected_high = np.percentile(defined, [2.5, 97.5])
        assert low == pytest.approx(expected_low, abs=1e-9), (study_name, scope, level)
        assert high == pytest.approx(expected_high, abs=1e-9), (study_name, scope, level)
        assert low < high
        checked += 1
    assert checked >= 8


def test_resampled_alpha_equals_the_krippendorff_package(text_study: Build) -> None:
    """One resample per study, expanded to units: the package on it equals the per-resample
    alpha in SQL (int_agreement_alpha_by_resample), ordinal ranks recomputed per resample."""
    weights = _weights(text_study)
    resampled = {
        row[:4]: row[4]
        for row in text_study.query(
            "select study, scope, level, resample, alpha from int_agreement_alpha_by_resample"
        )
    }
    for study_name in ("rating", "writing"):
        profiles = weights[(study_name, "overall")][1]
        for level in ("interval", "ordinal"):
            expected = _package_alpha(profiles, level)
            assert resampled[(study_name, "overall", level, 1)] == pytest.approx(expected, abs=1e-9)


def _uniform(seed: int, study_name: str, scope: str, values: list[int], resample: int) -> float:
    key = f"{seed}:{study_name}:{scope}:{','.join(map(str, values))}:{resample}"
    return int(hashlib.md5(key.encode()).hexdigest()[:13], 16) / 2**52


def test_bootstrap_draws_are_seeded_poisson(text_study: Build) -> None:
    """Each weight is the Poisson(n_units) quantile of its uniform, the uniform the documented
    hash of the seed; over all draws (W - n) / sqrt(n) has mean 0 and variance 1."""
    seed = BOOTSTRAP_VARS["agreement_bootstrap_seed"]
    rows = text_study.query(DRAWS_SQL)
    standardized = []
    for study_name, scope, resample, values, n_units, uniform, weight in rows:
        assert uniform == _uniform(seed, study_name, scope, values, resample)
        assert weight == stats.poisson.ppf(uniform, n_units)
        standardized.append((weight - n_units) / math.sqrt(n_units))
    assert len(standardized) >= 5000
    assert abs(np.mean(standardized)) < 4 / math.sqrt(len(standardized))
    assert np.var(standardized) == pytest.approx(1, abs=0.05)
    by_profile: dict[tuple, list[int]] = defaultdict(list)
    for study_name, scope, _, values, n_units, _, weight in rows:
        by_profile[(study_name, scope, tuple(values), n_units)].append(weight)
    big = [(key[3], w) for key, w in by_profile.items() if key[3] >= 5]
    assert big, "no profile held by five or more units"
    for n_units, draws in big:
        assert np.mean(draws) == pytest.approx(n_units, abs=5 * math.sqrt(n_units / len(draws)))


@pytest.mark.slow  # runs dbt on a warehouse of its own
def test_rebuild_gives_the_same_draws_and_another_seed_others(
    text_study: Build, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(text_study.warehouse, copy)
    rebuilt = Build(text_study.data, text_study.landing, copy, tmp_path, 0.0)
    select = ("--select", "int_agreement_resample_weights")
    ok, failures = run_dbt(tmp_path, text_study.landing, copy, "run", *select)
    assert ok, failures
    order = " order by study, scope, resample, coded_values"
    assert rebuilt.query(WEIGHTS_SQL + order) == text_study.query(WEIGHTS_SQL + order)
    observed = " where resample = 0" + order
    observed_before = text_study.query(WEIGHTS_SQL + observed)
    ok, failures = run_dbt(
        tmp_path, text_study.landing, copy, "run", *select,
        "--vars", "{agreement_bootstrap_seed: 7}",
    )  # fmt: skip
    assert ok, failures
    # Resample 0 is the observed sample whatever the seed.
    assert rebuilt.query(WEIGHTS_SQL + observed) == observed_before
    before = text_study.query(DRAWS_SQL + order)
    after = rebuilt.query(DRAWS_SQL + order)
    assert [r[:5] for r in after] == [r[:5] for r in before]
    changed = sum(a[6] != b[6] for a, b in zip(after, before, strict=True))
    assert changed > len(before) / 4
    assert all(a[5] == _uniform(7, *a[:2], a[3], a[2]) for a in after)


# ------------------------------------------------------------ quality ratings, pairs, types


def test_quality_ratings_are_the_counted_rows(study: Build) -> None:
    columns = "question_id, rater_user_id, dataset, workspace, record_id, quality_rating, rated_at"
    mart = study.query(f"select {columns} from quality_ratings")
    counted = study.query(
        "select question_id, writer_user_id, dataset, workspace, record_id, quality_rating, "
        "rated_at from int_quality_ratings_evaluated where is_counted"
    )
    ((low, high),) = study.query("select quality_min, quality_max from stg_study__settings")
    assert len(mart) == len(counted) > 0
    assert Counter(mart) == Counter(counted)
    assert len({(q, r) for q, r, *_ in mart}) == len(mart)
    assert all(low <= rating <= high for *_, rating, _ in mart)
    names = {c for (c,) in study.query(
        "select column_name from information_schema.columns where table_name = 'quality_ratings'"
    )}  # fmt: skip
    assert not {c for c in names if "username" in c or "prolific" in c}
    per_question = Counter(q for q, *_ in mart)
    for question, n in study.query("select question_id, n_quality_ratings from question_quality"):
        assert n == per_question.get(question, 0)


def test_pair_scores_standard_error_and_lower_bound(study: Build) -> None:
    ((low, high),) = study.query("select scale_min, scale_max from stg_study__settings")
    ratings: dict[str, list[int]] = defaultdict(list)
    for pair, rating in study.query("select pair_id, oriented_rating from pair_ratings"):
        ratings[pair].append(rating)
    mart = {
        row[0]: row[1:]
        for row in study.query(
            "select pair_id, rating_se, preferred_share_lower_bound from pair_scores"
        )
    }
    assert set(mart) == set(ratings)
    z = 1.96
    for pair, values in ratings.items():
        se, bound = mart[pair]
        n = len(values)
        if n < 2:
            assert se is None
        else:
            assert se == pytest.approx(np.std(values, ddof=1) / math.sqrt(n), abs=1e-12)
        mean_side = np.sign(2 * np.mean(values) - low - high)
        if mean_side == 0:
            assert bound is None
            continue
        k = sum(np.sign(2 * v - low - high) == mean_side for v in values)
        centre = (k / n + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(k / n * (1 - k / n) / n + z * z / (4 * n * n))
        assert bound == pytest.approx(centre - half, abs=1e-12)
    assert any(se is not None and se > 0 for se, _ in mart.values())


def test_no_mart_has_a_hugeint_column(study: Build) -> None:
    rows = study.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'analytics'"
    )
    tables = {t for t, _, _ in rows}
    assert {"position_bias", "quality_ratings", "study_agreement"} <= tables
    assert set(MART_NAMES) <= tables
    # Anywhere in the analysts' schema, not only in the marts named here.
    hugeint = [(t, c) for t, c, d in rows if d == "HUGEINT"]
    assert hugeint == []
    types = {(t, c): d for t, c, d in rows}
    for column in ("n_ratings", "n_neutral", "n_prefer_first"):
        assert types[("position_bias", column)] == "BIGINT"
    for column in ("n_units", "n_values", "n_resamples"):
        assert types[("study_agreement", column)] == "BIGINT"
