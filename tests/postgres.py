"""A real PostgreSQL server for the portability tests, and the check that two builds agree.

`PostgresServer` runs Debian's PostgreSQL (scripts/postgres_server.sh) as a non-root user on
127.0.0.1 with a port of its own and its data in a fresh folder, and hands out the libpq env
vars (PGHOST, PGPORT, ...) that profiles.yml's `postgres` target and engines/postgres.py read.
`mart_differences` compares every public mart of another engine's build with a DuckDB build,
`assert_same_datasets` the datasets published from them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "postgres_server.sh"
PASSWORD = "rlhfw-test"  # a throwaway server's superuser, reachable on 127.0.0.1 only
FLOAT_TOLERANCE = 1e-9


def public_marts() -> list[str]:
    """The marts of the analysts' schema, as models/marts/_marts__models.yml lists them."""
    spec = yaml.safe_load((ROOT / "models/marts/_marts__models.yml").read_text("utf-8"))
    return [m["name"] for m in spec["models"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port

    def env(self, database: str = "rlhfw") -> dict[str, str]:
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": "rlhfw",
            "PGPASSWORD": PASSWORD,
            "PGDATABASE": database,
        }

    def create_database(self, name: str) -> None:
        """A fresh database with the C collation that text order across engines needs
        (docs/architecture.md, "Engines")."""
        import psycopg2

        con = psycopg2.connect(**_libpq(self.env("postgres")))
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'drop database if exists "{name}"')
            cur.execute(
                f"create database \"{name}\" template template0 encoding 'UTF8' "
                "lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'"
            )
        con.close()


def _libpq(env: dict[str, str]) -> dict[str, str]:
    keys = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGPASSWORD": "password"}
    return {keys[k]: v for k, v in env.items() if k in keys} | {"dbname": env["PGDATABASE"]}


@contextmanager
def postgres_server():
    """Start a private server (in a folder the server's user can enter), stop it after."""
    folder = Path(tempfile.mkdtemp(prefix="rlhfw-pg-"))
    folder.chmod(0o755)
    port = _free_port()
    env = {**os.environ, "PGPASSWORD": PASSWORD}
    subprocess.run([str(SCRIPT), "start", str(folder / "server"), str(port)], env=env, check=True)
    try:
        yield PostgresServer(folder, port)
    finally:
        subprocess.run([str(SCRIPT), "stop", str(folder / "server")], check=False)
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()


def mart_differences(
    con: duckdb.DuckDBPyConnection, expected: str, actual: str, tables: list[str]
) -> dict[str, str]:
    """Per table, what differs between schema `expected` and schema `actual` of one DuckDB
    database (a table missing, other columns, other row counts, or the first differing row):
    rows are paired after sorting both by every column (floats rounded to 6 places), floats
    agree to FLOAT_TOLERANCE (relative above 1), anything else exactly."""
    differences: dict[str, str] = {}
    for table in tables:
        want, got = _columns(con, expected, table), _columns(con, actual, table)
        if not got:
            differences[table] = f"missing from {actual}"
            continue
        if [c for c, _ in want] != [c for c, _ in got]:
            differences[table] = f"columns {[c for c, _ in got]} != {[c for c, _ in want]}"
            continue
        floats = {c for c, t in want if t in ("DOUBLE", "FLOAT")}
        order = ", ".join(
            f'round("{c}", 6)' if c in floats else f'cast("{c}" as varchar)' for c, _ in want
        )

        def numbered(schema: str, order: str = order, table: str = table) -> str:
            return f'select *, row_number() over (order by {order}) as _n from "{schema}"."{table}"'

        checks = " or ".join(
            f'abs(e."{c}" - a."{c}") > {FLOAT_TOLERANCE} * greatest(1, abs(e."{c}")) '
            f'or ((e."{c}" is null) <> (a."{c}" is null))'
            if c in floats
            else f'e."{c}" is distinct from a."{c}"'
            for c, _ in want
        )
        counts = con.execute(
            f'select (select count(*) from "{expected}"."{table}"), '
            f'(select count(*) from "{actual}"."{table}")'
        ).fetchone()
        if counts[0] != counts[1]:
            differences[table] = f"{counts[1]} rows, expected {counts[0]}"
            continue
        row = con.execute(
            f"select e._n from ({numbered(expected)}) as e join ({numbered(actual)}) as a "
            f"using (_n) where {checks} order by e._n limit 1"
        ).fetchone()
        if row:
            e, a = (
                con.execute(f"select * from ({numbered(s)}) where _n = {row[0]}").fetchone()
                for s in (expected, actual)
            )
            diff = {c: (x, y) for (c, _), x, y in zip(want, e, a, strict=False) if x != y}
            differences[table] = f"row {row[0]} differs: {diff}"
    return differences


def published_tables(folder: Path) -> dict[str, pa.Table]:
    """Each published file by its config and split (its name also holds a content hash),
    with every column nullable: DuckDB's Parquet writer marks a column required when the
    statistics of the table it reads show no null, which depends on how the marts are stored,
    not on the rows."""
    tables = {}
    for path in sorted(folder.rglob("*.parquet")):
        table = pq.read_table(path)
        schema = pa.schema([f.with_nullable(True) for f in table.schema])
        tables[f"{path.parent.name}/{path.name.split('-')[0]}"] = table.cast(schema)
    return tables


def assert_same_datasets(expected_folder: Path, actual_folder: Path) -> None:
    """Two published datasets hold the same tables (pairs, chat pairs, ratings, responses,
    each split), with the same columns and rows in the same order."""
    expected, actual = published_tables(expected_folder), published_tables(actual_folder)
    assert "pairs/train" in expected and "ratings/test" in expected
    assert sorted(actual) == sorted(expected)
    for name, table in expected.items():
        assert actual[name].equals(table), name
