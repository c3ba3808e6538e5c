"""The report's view of the warehouse: opened read-only, only the analysts' schema."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The public marts the report reads (and the ones the schema is recognised by).
RELATIONS = (
    "exclusions",
    "quarantine",
    "collection_completeness",
    "preference_pairs",
    "pair_ratings",
    "pair_scores",
    "position_bias",
    "study_agreement",
    "annotator_quality",
    "quality_ratings",
    "question_quality",
    "response_toxicity",
    "refresh_runs",
)
# The analysts' schema; the schema where the personal data lives is never read.
ANALYTICS = "analytics"
PERSONAL = "personal"


class ReportError(RuntimeError):
    """A report that cannot be written (no warehouse, an output path it must not touch). The
    message is one line, fit for a user: exit code 2."""


def connect(path: Path):
    import duckdb

    from rlhfw.pipeline import WarehouseBusy, duckdb_holder

    if not path.is_file():
        raise ReportError(f"warehouse not found: {path}; run `rlhfw refresh` first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        holder = duckdb_holder(str(exc))
        if holder:
            raise WarehouseBusy(
                f"warehouse {path} is open for writing in {holder}; run the report when it is done"
            ) from None
        raise ReportError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise ReportError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from None


def read_salt(warehouse: Path) -> bytes | None:
    """The salt publish's pseudonyms use, or None when there is none yet. Only read: unlike
    publish (privacy.load_salt), the report never creates the salt file, so a rater's label in
    the report is the pseudonym in the published dataset or, without a salt, `rater-<n>`."""
    from publish.privacy import MIN_SALT_LEN, SALT_ENV, salt_path

    env = os.environ.get(SALT_ENV)
    if env is not None and len(env) >= MIN_SALT_LEN:
        return env.encode()
    try:
        salt = salt_path(warehouse).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return salt.encode() if len(salt) >= MIN_SALT_LEN else None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class NoData(Exception):
    """A section cannot be drawn; the message says why ("no data yet: <why>")."""


@dataclass
class Warehouse:
    """The analysts' schema of an open warehouse: which marts it has, with which columns."""

    con: Any
    schema: str | None
    columns: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def find(cls, con) -> Warehouse:
        """Locate the marts by name, like publish (publish/warehouse.py): `analytics` when it
        holds any of them (dbt's layout with a schema per layer), else the schema holding the
        most of them, `main` breaking a tie (a warehouse built before that layout). The
        `personal` schema is never chosen, and only the chosen schema is read."""
        rows = con.execute(
            """
            select table_schema, table_name, list(column_name order by ordinal_position)
            from information_schema.columns
            where table_catalog = current_database() and table_name in ?
            group by all
            """,
            [list(RELATIONS)],
        ).fetchall()
        by_schema: dict[str, dict[str, list[str]]] = {}
        for schema, table, cols in rows:
            if schema != PERSONAL:
                by_schema.setdefault(schema, {})[table] = list(cols)
        if ANALYTICS in by_schema:
            best = ANALYTICS
        else:
            best = max(by_schema, key=lambda s: (len(by_schema[s]), s == "main"), default=None)
        return cls(con, best, by_schema.get(best, {}) if best else {})

    def ref(self, table: str) -> str:
        assert self.schema is not None
        return f"{_quote(self.schema)}.{_quote(table)}"

    def need(self, table: str, *cols: str) -> str:
        """The qualified name of `table`; raises NoData when it or a column is missing, or it
        has no rows."""
        if table not in self.columns:
            raise NoData(
                f"the warehouse has no `{table}` in its analysts' schema (a build by an older "
                "rlhfw, or a step that has not run yet)"
            )
        lacking = [c for c in cols if c not in self.columns[table]]
        if lacking:
            raise NoData(
                f"`{table}` lacks column(s) {', '.join(lacking)} (built by an older rlhfw)"
            )
        ref = self.ref(table)
        if not self.rows(f"select 1 from {ref} limit 1"):
            raise NoData(f"`{table}` has no rows")
        return ref

    def has(self, table: str, *cols: str) -> bool:
        return table in self.columns and all(c in self.columns[table] for c in cols)

    def rows(self, sql: str, params: Iterable | None = None) -> list[tuple]:
        return self.con.execute(sql, list(params) if params else None).fetchall()
