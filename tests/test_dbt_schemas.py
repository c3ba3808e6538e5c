"""The disk cache of dbt's JSON schemas (rlhfw/dbt_schemas.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt.contracts.project import Project
from dbt_common.dataclass_schema import ValidationError, dbtClassMixin

from rlhfw.dbt_schemas import CACHE_NAME, use_cached_schemas

NAME = f"{Project.__module__}.{Project.__qualname__}"


@pytest.fixture
def restore_dbt(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test installs the cache on dbt's class: put dbt's own method back afterwards.
    monkeypatch.setattr(dbtClassMixin, "json_schema", dbtClassMixin.__dict__["json_schema"])


def test_schemas_are_built_once_then_read_from_the_cache(tmp_path: Path, restore_dbt) -> None:
    built = dbtClassMixin.__dict__["json_schema"].__func__(Project)
    save = use_cached_schemas(tmp_path)
    assert Project.json_schema() == built
    save()
    cache = json.loads((tmp_path / CACHE_NAME).read_text())
    assert cache["schemas"][NAME] == built and "dbt-core==" in cache["key"]

    # A later run serves what the cache holds (marked here to tell it from a rebuilt schema),
    # and a second install in the same process does not stack on the first.
    cache["schemas"][NAME] = {**built, "rlhfw-test-mark": True}
    (tmp_path / CACHE_NAME).write_text(json.dumps(cache))
    use_cached_schemas(tmp_path)
    assert Project.json_schema()["rlhfw-test-mark"] is True
    # It still validates: a good project passes, a bad version is rejected.
    Project.validate({"name": "p", "version": "1.0.0", "profile": "p"})
    with pytest.raises(ValidationError, match="version"):
        Project.validate({"name": "p", "version": "one", "profile": "p"})

    # Other package versions: the cache is not used.
    cache["key"] = "dbt-core==0.0.0"
    (tmp_path / CACHE_NAME).write_text(json.dumps(cache))
    use_cached_schemas(tmp_path)
    assert Project.json_schema() == built


def test_an_unreadable_cache_is_rebuilt(tmp_path: Path, restore_dbt) -> None:
    (tmp_path / CACHE_NAME).write_text("{not json")
    save = use_cached_schemas(tmp_path)
    schema = Project.json_schema()
    save()
    assert json.loads((tmp_path / CACHE_NAME).read_text())["schemas"][NAME] == schema
