"""The PostgreSQL target: the landed Parquet goes in before a build, the marts come out for
publish.

Landing stays the one source of truth: each landed table has a twin `landing_<source>.<table>`
in PostgreSQL, which gets every batch file it does not hold yet (by `_batch_id`, the file's
name), in one transaction per table, with PostgreSQL's COPY. Nothing there is ever updated or
deleted, as in the landing zone. The connection comes from libpq's env vars (PGHOST, PGPORT,
PGUSER, PGPASSWORD, PGDATABASE) with the defaults of profiles.yml's `postgres` target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from extract.landing import SCHEMA_FILES
from extract.schemas import LOAD_COLUMNS, TABLES
from study_config import ConfigError, Study

Log = Callable[[str], None]

PG_TYPES = {
    pa.string(): "text",
    pa.int64(): "bigint",
    pa.float64(): "double precision",
    pa.bool_(): "boolean",
    pa.timestamp("us", tz="UTC"): "timestamptz",
}


class PostgresError(ConfigError):
    """The server cannot be reached or refuses the landed data (one line, exit 2)."""


def connect():
    """A psycopg2 connection to the profile's server. The password stays in the environment."""
    import psycopg2

    try:
        return psycopg2.connect(
            host=os.environ.get("PGHOST", "127.0.0.1"),
            port=int(os.environ.get("PGPORT", "5432")),
            user=os.environ.get("PGUSER", "rlhfw"),
            password=os.environ.get("PGPASSWORD", ""),
            dbname=os.environ.get("PGDATABASE", "rlhfw"),
            connect_timeout=10,
        )
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or ["?"])[0]
        raise PostgresError(f"cannot connect to PostgreSQL (PGHOST/PGPORT/...): {first}") from None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(source: str, table: str) -> list[tuple[str, str]]:
    schema = pa.unify_schemas([TABLES[(source, table)], LOAD_COLUMNS])
    return [(f.name, PG_TYPES[f.type]) for f in schema]


def _ensure_table(cur, source: str, table: str) -> str:
    """Create the twin table, or add the columns the landing contract gained since."""
    qualified = f"{_ident('landing_' + source)}.{_ident(table)}"
    cur.execute(f"create schema if not exists {_ident('landing_' + source)}")
    columns = _columns(source, table)
    cur.execute(
        f"create table if not exists {qualified} ("
        + ", ".join(f"{_ident(c)} {t}" for c, t in columns)
        + ")"
    )
    for column, pg_type in columns:
        cur.execute(f"alter table {qualified} add column if not exists {_ident(column)} {pg_type}")
    return qualified


def _batch_csv(duck: duckdb.DuckDBPyConnection, file: Path, columns: list[str], out: Path) -> None:
    """The batch's rows as CSV in the contract's column order: NULL unquoted and empty, every
    value quoted (so an empty string stays one), a column the batch predates as NULL."""
    described = duck.execute("describe select * from read_parquet(?)", [str(file)]).fetchall()
    have = {r[0] for r in described}
    select = ", ".join(_ident(c) if c in have else f"null as {_ident(c)}" for c in columns)
    duck.execute(
        f"copy (select {select} from read_parquet(?)) to '{str(out).replace(chr(39), chr(39) * 2)}'"
        " (format csv, header false, force_quote *)",
        [str(file)],
    )


def _check_collation(con) -> None:
    """Text sorts by its bytes on every engine (ids, tie-breaks and lists follow that order):
    refuse a database whose default collation sorts by a language's rules."""
    with con.cursor() as cur:
        cur.execute("select datcollate from pg_database where datname = current_database()")
        (collation,) = cur.fetchone()
    if collation.lower().replace("-", "") not in ("c", "c.utf8", "posix"):
        raise PostgresError(
            f"PostgreSQL database has collation {collation!r}; the models need byte order: "
            "create it with `create database NAME template template0 lc_collate 'C.UTF-8' "
            "lc_ctype 'C.UTF-8'`"
        )


def load_landing(study: Study, log: Log = print) -> dict[str, int]:
    """Load every landed batch the server does not hold yet; rows loaded per table."""
    import psycopg2

    loaded: dict[str, int] = {}
    con = connect()
    duck = duckdb.connect()
    duck.execute("set TimeZone = 'UTC'")
    try:
        _check_collation(con)
        with tempfile.TemporaryDirectory(prefix="rlhfw-pg-") as tmp:
            for source, table in TABLES:
                folder = study.landing / source / table
                files = sorted(p for p in folder.glob("*.parquet") if p.name not in SCHEMA_FILES)
                columns = [c for c, _ in _columns(source, table)]
                with con, con.cursor() as cur:  # one transaction per table
                    qualified = _ensure_table(cur, source, table)
                    cur.execute(f"select distinct _batch_id from {qualified}")
                    seen = {r[0] for r in cur.fetchall()}
                    new = [f for f in files if f.stem not in seen]
                    rows = 0
                    for file in new:
                        csv = Path(tmp) / "batch.csv"
                        _batch_csv(duck, file, columns, csv)
                        with csv.open("rb") as fh:
                            cur.copy_expert(
                                f"copy {qualified} ({', '.join(map(_ident, columns))}) "
                                "from stdin with (format csv)",
                                fh,
                            )
                        rows += cur.rowcount
                loaded[f"{source}/{table}"] = rows
                if new:
                    log(f"postgres: loaded {rows} rows of {source}/{table} ({len(new)} batches)")
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or ["?"])[0]
        raise PostgresError(f"loading the landing zone into PostgreSQL failed: {first}") from None
    finally:
        duck.close()
        con.close()
    return loaded


# PostgreSQL's types as DuckDB reads them back (the marts' types; others come back as text).
DUCKDB_TYPES = {
    "text": "varchar",
    "character varying": "varchar",
    "bigint": "bigint",
    "integer": "integer",
    "smallint": "smallint",
    "double precision": "double",
    "real": "float",
    "numeric": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
}


def copy_tables_to_duckdb(
    duck: duckdb.DuckDBPyConnection, schema: str, tables: list[str], into: str
) -> None:
    """Copy `schema.<table>` for each of `tables` from the server into DuckDB's schema `into`
    (replacing earlier copies): COPY ... TO STDOUT as CSV, read back with the server's types."""
    import psycopg2

    con = connect()
    try:
        with con, con.cursor() as cur, tempfile.TemporaryDirectory(prefix="rlhfw-pg-") as tmp:
            duck.execute(f"create schema if not exists {_ident(into)}")
            for table in tables:
                cur.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, table),
                )
                columns = cur.fetchall()
                if not columns:
                    continue  # find_marts names what is missing
                csv = Path(tmp) / f"{table}.csv"
                with csv.open("wb") as fh:
                    cur.copy_expert(
                        f"copy (select * from {_ident(schema)}.{_ident(table)}) "
                        "to stdout with (format csv)",
                        fh,
                    )
                types = {c: DUCKDB_TYPES.get(t, "varchar") for c, t in columns}
                duck.execute(
                    f"create or replace table {_ident(into)}.{_ident(table)} as "
                    "select * from read_csv(?, header = false, columns = ?, "
                    "allow_quoted_nulls = false, auto_detect = false)",
                    [str(csv), types],
                )
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or ["?"])[0]
        raise PostgresError(f"reading the marts from PostgreSQL failed: {first}") from None
    finally:
        con.close()
