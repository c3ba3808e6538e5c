"""Fixtures for the publish tests: a fresh copy of the fixture warehouse per test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Before anything imports huggingface_hub/datasets: nothing may reach a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

import pytest
from publish_warehouse import Fixture, build_warehouse, make_study

from study_config import Study  # noqa: E402


@pytest.fixture(scope="session")
def warehouse_template(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return build_warehouse(tmp_path_factory.mktemp("template") / "warehouse.duckdb")


@pytest.fixture
def study_env(
    tmp_path: Path, warehouse_template: Fixture, monkeypatch: pytest.MonkeyPatch
) -> tuple[Study, Fixture]:
    """A fresh copy of the fixture warehouse and a study pointing at it."""
    monkeypatch.delenv("RLHFW_PSEUDONYM_SALT", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    study = make_study(tmp_path)
    study.warehouse.parent.mkdir(parents=True)
    shutil.copy(warehouse_template.path, study.warehouse)
    return study, warehouse_template


@pytest.fixture
def torch_one_thread() -> object:
    """Tiny models on a shared 2-core machine: one thread is several times faster and steadier
    than two threads competing with other processes."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
