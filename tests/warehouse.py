"""Open a built warehouse as the tests read it: every schema of the project on the search path.

The warehouse keeps its relations in schemas by audience (profiles.yml, dbt_project.yml):
`analytics` (the analysts' marts), `analytics_staging`, `analytics_intermediate` and
`analytics_personal`. Tests name relations unqualified; `main` comes last for the hand-made
warehouses some tests write. The analysts' view of the schemas is tested on its own
(tests/models/test_schemas.py), with plain connections.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SCHEMAS = (
    "analytics",
    "analytics_personal",
    "analytics_intermediate",
    "analytics_staging",
    "main",
)


def connect_warehouse(path: Path | str, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=read_only)
    # DuckDB refuses a search path naming a schema that is not there (an empty warehouse).
    present = {s for (s,) in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    con.execute(f"set search_path = '{','.join(s for s in SCHEMAS if s in present)}'")
    return con
