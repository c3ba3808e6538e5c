"""One small demo study per test session, shared read-only by the demo tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from demo_helpers import QUESTIONS, SEED  # noqa: E402

from rlhfw.demo import DemoSummary, generate_demo  # noqa: E402
from study_config import load_study  # noqa: E402
from tests.oracle import compute_truth  # noqa: E402


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_demo(tmp_path_factory.mktemp("demo"), QUESTIONS, SEED)


@pytest.fixture(scope="session")
def truth(demo: DemoSummary) -> dict:
    """The oracle's ground truth of the demo study (tests/oracle.py)."""
    return compute_truth(load_study(demo.study_path))
