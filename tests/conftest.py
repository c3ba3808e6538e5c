"""Shared test settings: never reach a hub; keep thread pools small on a 2-core machine."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

DEMO_QUESTIONS = 60
DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A small demo study generated once per session (exports, study.yml), and beside it the
    test oracle's ground_truth.json (tests/oracle.py: the figures the warehouse must give)."""
    from rlhfw.demo import generate_demo
    from tests.oracle import write_ground_truth

    out = tmp_path_factory.mktemp("demo-template") / "study"
    demo = generate_demo(out, questions=DEMO_QUESTIONS, seed=DEMO_SEED)
    write_ground_truth(demo.study_path)
    return out


@pytest.fixture()
def demo_copy(demo_template, tmp_path) -> Path:
    """A private copy of the demo study, so a test can land and build without sharing state."""
    dest = tmp_path / "study"
    shutil.copytree(demo_template, dest)
    return dest
