"""Access to the DuckDB warehouse: open it, find the marts, check their columns.

The marts are found by name in whichever schema dbt put them (`analytics` preferred, the
profile's schema; `main` in warehouses built before the schemas by audience), so a schema
setting in profiles.yml or dbt_project.yml does not break publishing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from publish.errors import PublishError
from study_config import Study

# The columns publish relies on, per mart (more may exist).
MART_COLUMNS: dict[str, tuple[str, ...]] = {
    # The publish rules' outcome (models/marts/preference_pairs.sql, question_splits.sql).
    "preference_pairs": (
        "pair_id", "question_id", "chosen_response_id", "rejected_response_id", "split",
        "drop_reason", "prompt", "chosen", "rejected", "n_ratings", "score_chosen",
        "score_rejected", "median_score_chosen", "median_score_rejected", "preference_strength",
        "rating_std", "margin", "agreement", "scale_min", "scale_max", "min_ratings",
        "min_margin", "is_published",
    ),
    "question_splits": ("question_id", "split", "seed", "test_fraction", "validation_fraction"),
    "written_responses": (
        "response_id", "question_id", "question_text", "response_text", "writer_user_id",
        "dataset", "workspace", "responded_at",
    ),
    "pair_ratings": (
        "pair_id", "question_id", "rater_user_id", "response_1_id", "response_2_id",
        "response_a_id", "rating", "oriented_rating", "dataset", "workspace", "rated_at",
    ),
    "question_quality": (
        "question_id", "mean_quality", "median_quality", "n_quality_ratings",
    ),
    "study_agreement": ("study", "scope", "level", "alpha", "n_units", "n_coders", "n_values"),
}  # fmt: skip


# Columns that hold a participant's id or username, in whatever table (publish redacts their
# values wherever a participant typed one, publish/privacy.py).
PERSON_COLUMNS = ("participant_id", "prolific_pid", "username", "argilla_username")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Marts:
    """Qualified names of the marts, and the schema publish writes its tables into."""

    schema: str
    # Participant ids and usernames read from another engine's tables (`copy_marts`), which
    # publish redacts as it does those it finds in this DuckDB file.
    identifiers: tuple[str, ...] = ()

    def ref(self, table: str) -> str:
        """The qualified, quoted name of `table` in the marts' schema."""
        return f"{quote(self.schema)}.{quote(table)}"


def connect(path: Path, create: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write (publish writes its scores back); `create` it when the
    marts are on another engine and this file only keeps rlhfw's own tables."""
    if not create and not path.is_file():
        raise PublishError(f"warehouse not found: {path}; run `rlhfw build` first")
    try:
        # Files are written in the order of their sorted source tables (publish.dataset). The
        # build's memory limit (profiles.yml): without one DuckDB takes 80% of RAM and the
        # publish's temp tables grow with the study instead of spilling beside the warehouse.
        config = {
            "preserve_insertion_order": True,
            "memory_limit": os.environ.get("RLHFW_DUCKDB_MEMORY_LIMIT") or "3GB",
        }
        if os.environ.get("RLHFW_DUCKDB_TEMP_DIRECTORY"):  # else DuckDB's: <warehouse>.tmp
            config["temp_directory"] = os.environ["RLHFW_DUCKDB_TEMP_DIRECTORY"]
        return duckdb.connect(str(path), config=config)
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            raise PublishError(
                f"warehouse {path} is in use by another process (is a build running?)"
            ) from None
        raise PublishError(f"cannot open warehouse {path}: {first}") from None
    except duckdb.Error as exc:
        raise PublishError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from None


def find_marts(con: duckdb.DuckDBPyConnection, path: Path, schema: str | None = None) -> Marts:
    """Locate the marts (in `schema` when given) and check the columns publish needs. Raises
    PublishError."""
    rows = con.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = current_database() and table_name in ?
            and table_schema = coalesce(?, table_schema)
        """,
        [list(MART_COLUMNS), schema],
    ).fetchall()
    schemas: dict[str, set[str]] = {}
    for schema, table in rows:
        schemas.setdefault(schema, set()).add(table)
    # The schema holding the most marts wins; `analytics`, then `main`, breaks a tie.
    best = max(
        schemas, key=lambda s: (len(schemas[s]), s == "analytics", s == "main"), default=None
    )
    found = schemas.get(best, set()) if best else set()
    missing = [t for t in MART_COLUMNS if t not in found]
    if missing:
        raise PublishError(
            f"warehouse {path} lacks mart(s) {', '.join(missing)}: run `rlhfw build` first"
        )
    assert best is not None
    marts = Marts(best)
    cols = con.execute(
        """
        select table_name, list(column_name)
        from information_schema.columns
        where table_catalog = current_database() and table_schema = ? and table_name in ?
        group by 1
        """,
        [best, list(MART_COLUMNS)],
    ).fetchall()
    have = {t: set(c) for t, c in cols}
    for table, needed in MART_COLUMNS.items():
        lacking = [c for c in needed if c not in have.get(table, set())]
        if lacking:
            raise PublishError(
                f"mart {table} in {path} lacks column(s) {', '.join(lacking)}: "
                "rebuild with `rlhfw build`"
            )
    return marts


def copy_marts(con: duckdb.DuckDBPyConnection, study: Study, path: Path) -> Marts:
    """For a study built on another engine (`target:`), copy the marts publish reads from
    there into this DuckDB file's schema `target_<name>` (replacing the last copy), where
    publish also keeps its toxicity scores; then check them as `find_marts` does. The ids and
    usernames to redact come from the landing zone, which every engine builds from."""
    from engines import target_name, target_type

    schema = f"target_{target_name(study)}"
    if target_type(study) == "postgres":
        from engines.postgres import copy_tables_to_duckdb

        copy_tables_to_duckdb(con, "analytics", list(MART_COLUMNS), schema)
    else:
        from engines.spark import copy_tables_to_duckdb

        copy_tables_to_duckdb(con, study, "analytics", list(MART_COLUMNS), schema)
    found = find_marts(con, path, schema)
    return Marts(found.schema, tuple(landed_identifiers(con, study.landing)))


def landed_identifiers(con: duckdb.DuckDBPyConnection, landing: Path) -> list[str]:
    """Every value of a PERSON_COLUMNS column in any landed table (Prolific ids, usernames)."""
    values: set[str] = set()
    for folder in sorted(p for p in landing.glob("*/*") if p.is_dir() and p.parent.name != "_meta"):
        files = sorted(str(f) for f in folder.glob("*.parquet"))
        if not files:
            continue
        relation = "read_parquet(?, union_by_name = true)"
        described = con.execute(f"describe select * from {relation}", [files]).fetchall()
        for column in sorted({r[0] for r in described} & set(PERSON_COLUMNS)):
            sql = f"select distinct cast({quote(column)} as varchar) from {relation}"
            values.update(v for (v,) in con.execute(sql, [files]).fetchall() if v)
    return sorted(values)
