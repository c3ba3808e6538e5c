"""Which engine builds the study: a target of the project's profiles.yml.

`dev` (the default) is the DuckDB file at `warehouse:`; `postgres` and `spark` build the same
models on those engines (docs/architecture.md, "Engines"). A study picks one with `target:` in
study.yml, a run with `rlhfw --target NAME`. Whatever the target, rlhfw's own tables (the run
history, the toxicity cache) stay in the study's DuckDB file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from study_config import ConfigError, Study

PROFILES = Path(__file__).resolve().parents[1] / "profiles.yml"
PROFILE = "rlhf_warehouse"
# Targets for tools, not studies (sqlfluff's compile-only one).
INTERNAL = {"lint"}


@cache
def _outputs() -> tuple[str, dict[str, str]]:
    profile = yaml.safe_load(PROFILES.read_text("utf-8"))[PROFILE]
    types = {name: str(out["type"]) for name, out in profile["outputs"].items()}
    return str(profile["target"]), types


def target_name(study: Study) -> str:
    """The study's target, checked against profiles.yml (ConfigError, exit 2, if unknown)."""
    default, types = _outputs()
    name = study.target or default
    if name not in types or name in INTERNAL:
        known = ", ".join(sorted(t for t in types if t not in INTERNAL))
        raise ConfigError(f"{study.path}: target: no target {name!r} in profiles.yml ({known})")
    return name


def target_type(study: Study) -> str:
    """The adapter type of the study's target: duckdb, postgres or spark."""
    return _outputs()[1][target_name(study)]


def is_duckdb(study: Study) -> bool:
    return target_type(study) == "duckdb"


def spark_warehouse(study: Study) -> Path:
    """Where the spark target keeps its tables and metastore (profiles.yml): a folder beside
    the study's DuckDB file, `<warehouse>.spark`."""
    return study.warehouse.with_name(study.warehouse.name.removesuffix(".duckdb") + ".spark")
