"""bench/RESULTS.md holds only what `make bench` measured: it is exactly what bench/results.json
(and the hand-taken profile, bench/PROFILE.md) render to, so no figure in it was typed by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.run import growth_exponent, markdown

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_results_md_is_rendered_from_results_json():
    results = json.loads((BENCH / "results.json").read_text())
    assert markdown(results) == (BENCH / "RESULTS.md").read_text()


def test_growth_exponent_is_the_slope_of_log_time_over_log_size():
    sizes = [10_000, 100_000, 1_000_000]
    assert math.isclose(growth_exponent([(q, 3e-3 * q) for q in sizes]), 1.0)
    assert math.isclose(growth_exponent([(q, 1e-9 * q**2) for q in sizes]), 2.0)
    assert math.isclose(growth_exponent([(q, 5.0) for q in sizes]), 0.0, abs_tol=1e-12)
    assert growth_exponent([(10_000, 1.0)]) is None  # one point fits no slope
