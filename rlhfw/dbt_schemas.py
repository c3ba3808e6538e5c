"""A disk cache of the JSON schemas dbt validates the project and profile files against.

dbt builds each schema from its dataclasses the first time a process validates against it
(mashumaro generates them): about 0.5 s of every `dbt parse` on this machine, and the same
result every time for the same packages. A refresh's dbt child waits on that parse after its
extract is done, so rlhfw's dbt runs read the schemas from `<target>/rlhfw-json-schemas.json`,
keyed by the versions of the packages that shape them. A missing, unreadable or other-version
cache is rebuilt; anything unexpected in dbt leaves it as it is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

CACHE_NAME = "rlhfw-json-schemas.json"
# The packages whose code decides the schemas.
_PACKAGES = ("dbt-core", "dbt-common", "dbt-adapters", "dbt-duckdb", "mashumaro", "jsonschema")


def _versions() -> str:
    parts = []
    for package in _PACKAGES:
        try:
            parts.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package}==none")
    return ";".join(parts)


def use_cached_schemas(target: Path) -> Callable[[], None]:
    """Serve dbt's JSON schemas from the cache in `target` for the rest of this process.

    Returns `save()`, which writes the cache when this process built schemas it lacked."""
    try:
        from dbt_common.dataclass_schema import dbtClassMixin

        current = dbtClassMixin.__dict__["json_schema"].__func__
    except (ImportError, KeyError, AttributeError):
        return lambda: None
    # dbt's own builder, also when an earlier call in this process installed a cache.
    build = getattr(current, "rlhfw_build", current)
    path = target / CACHE_NAME
    key = _versions()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cached = dict(data["schemas"]) if data.get("key") == key else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        cached = {}
    added: set[str] = set()

    def json_schema(cls) -> dict:
        name = f"{cls.__module__}.{cls.__qualname__}"
        schema = cached.get(name)
        if schema is None:
            schema = cached[name] = build(cls)
            added.add(name)
        return schema

    json_schema.rlhfw_build = build
    dbtClassMixin.json_schema = classmethod(json_schema)

    def save() -> None:
        if not added:
            return
        try:
            target.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": key, "schemas": cached}), encoding="utf-8")
            os.replace(tmp, path)
            added.clear()
        except OSError:
            pass  # a cache only: the next run builds the schemas again

    return save
