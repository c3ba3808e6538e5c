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

# Tests that take more than a few seconds in files this worktree does not edit, marked `slow`
# here so that `make test-fast` skips them (their owners may move the marks into the files):
# path -> test names (None: every test of the file).
SLOW_ELSEWHERE: dict[str, set[str] | None] = {
    # several dbt runs per test (20-80 s each)
    "tests/models/test_memo.py": None,
    # a dbt build or a whole refresh each, on top of the module's shared one (7-35 s each)
    "tests/test_pipeline_demo.py": {
        "test_a_prepared_build_runs_in_its_child_or_here",
        "test_a_refresh_with_nothing_new_skips_build_and_publish",
        "test_a_failed_build_exits_1_and_leaves_the_dataset_untouched",
        "test_a_second_build_changes_nothing_and_republish_scores_nothing",
    },
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            path = item.path.relative_to(config.rootpath).as_posix()
        except ValueError:
            continue
        if path in SLOW_ELSEWHERE:
            names = SLOW_ELSEWHERE[path]
            if names is None or getattr(item, "originalname", item.name) in names:
                item.add_marker(pytest.mark.slow)


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
