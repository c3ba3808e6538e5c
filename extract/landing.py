"""The landing zone: append-only Parquet batches, written atomically, with a batch log.

A batch holds the rows of each entity (extract/schemas.py `KEYS`) whose versions differ from that
entity's current versions from the same source (its rows in the latest batch that holds it), so
re-running an extract on unchanged input writes nothing and a value that goes back to an earlier
version lands again. Batch ids are derived from content and from the source's previous batch, so
an extract killed mid-way and re-run, or the same study run from another folder, writes the same
ids. Files are written under a `.tmp` name and renamed; the batch log entry is written after the
data file, and a data file found without its log entry (a run killed between the two) gets one on
the next run. Nothing here ever overwrites or deletes a landed file. Hashing and the comparison
run in DuckDB, set-based, so this scales to millions of rows without a Python loop over them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from extract.errors import ExtractError
from extract.schemas import KEYS, LOAD_COLUMNS, conform, schema_of

# A zero-row file with the table's contract columns in every table folder, so that every
# reader sees every column even before a batch has it (Spark skips files named with a leading
# _ or ., hence no underscore). Landing zones written before it keep their `_schema.parquet`.
SCHEMA_FILE = "schema.parquet"
SCHEMA_FILES = frozenset({SCHEMA_FILE, "_schema.parquet"})
BATCH_LOG = pa.schema(
    [
        ("batch_id", pa.string()),
        ("source", pa.string()),
        ("table_name", pa.string()),
        ("source_uri", pa.string()),
        ("rows", pa.int64()),
        ("bytes", pa.int64()),
        ("status", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
    ]
)


# The landing's DuckDB may use as much memory as the build's (profiles.yml, the same env var),
# and spills the rest to a temporary folder: an export read into it (`Staged`) waits there, not
# in Python memory, until it lands. Under 3GB the JSON reader cannot reserve room for a 1 GB
# object (exports.py) and a JSON export fails to read.
MEMORY_LIMIT_VAR, DEFAULT_MEMORY_LIMIT = "RLHFW_DUCKDB_MEMORY_LIMIT", "3GB"
TEMP_DIRECTORY_VAR = "RLHFW_DUCKDB_TEMP_DIRECTORY"

_SQL_TYPES = {
    pa.string(): "varchar",
    pa.float64(): "double",
    pa.int64(): "bigint",
    pa.bool_(): "boolean",
}


@dataclass(frozen=True)
class Staged:
    """Rows waiting in a table of the landing's DuckDB (`Landing.db`), with `constants`: columns
    of one value each, landed as if the table had them."""

    db: duckdb.DuckDBPyConnection
    name: str
    num_rows: int
    constants: tuple[tuple[str, str | None], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [r[0] for r in self.db.execute(f'describe "{self.name}"').fetchall()]


@dataclass(frozen=True)
class LandResult:
    source: str
    table: str
    source_uri: str
    new_rows: int
    unchanged_rows: int
    batch_id: str | None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_dir(path: Path) -> str:
    """Content hash of a folder export: its files' relative names and bytes, in name order."""
    h = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(file.relative_to(path)).encode())
        h.update(sha256_file(file).encode())
    return h.hexdigest()


def content_sha256(table: pa.Table) -> str:
    """Hash of a pulled table's content (live sources have no file to hash)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


# pq.write_table's row group length: a landed file streamed in row groups of this length is the
# file that writing the whole table at once would give.
ROW_GROUP = 1024 * 1024


def _write_atomic(
    table: pa.Table | pa.RecordBatchReader, dest: Path, schema: pa.Schema | None = None
) -> int:
    """Write `table` (or, one row group at a time, the batches of a reader cast to `schema`)."""
    tmp = dest.with_name(dest.name + ".tmp")
    if isinstance(table, pa.Table):
        pq.write_table(table, tmp, compression="zstd")
    else:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            pending: list[pa.RecordBatch] = []
            for batch in table:
                pending.append(batch)
                while sum(b.num_rows for b in pending) >= ROW_GROUP:
                    group = pa.Table.from_batches(pending)
                    writer.write_table(group.slice(0, ROW_GROUP).cast(schema))
                    pending = group.slice(ROW_GROUP).to_batches()
            if pending:
                writer.write_table(pa.Table.from_batches(pending, table.schema).cast(schema))
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    return dest.stat().st_size


def recorded_uri(source_uri: str, base: Path | None) -> str:
    """A source as landed: a file path relative (posix) to the study's folder `base`, so nothing
    landed depends on where the study lives; a URL (`argilla+http://...`) as it is."""
    if base is None or "://" in source_uri:
        return source_uri
    path = Path(source_uri)
    if not path.is_absolute():
        return path.as_posix()
    return Path(os.path.relpath(path.resolve(), Path(base).resolve())).as_posix()


class Landing:
    """One extract run's view of a landing root. `extracted_at` is shared by all its batches.

    `base` is the study's folder: a source given as a path is recorded relative to it, so the
    landed rows, batch ids and every table built from them do not depend on where the study
    lives. `position_of` gives a source uri's slot in study.yml (`extract.settings.
    source_positions`), landed with each row as `_source_position`: across sources, the higher
    slot's version wins (staging).
    """

    def __init__(
        self,
        root: Path,
        extracted_at: datetime | None = None,
        *,
        base: Path | None = None,
        position_of: Callable[[str], int | None] | None = None,
    ) -> None:
        self.root = Path(root)
        self.extracted_at = extracted_at or datetime.now(UTC)
        self.base = Path(base).resolve() if base is not None else None
        self.position_of = position_of or (lambda uri: None)
        self.log_dir = self.root / "_meta" / "batches"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # DuckDB makes this folder only if it spills, and removes it when closed.
        spill_root = os.environ.get(TEMP_DIRECTORY_VAR) or tempfile.gettempdir()
        self._tmp = os.path.join(spill_root, f"rlhfw-landing-{uuid.uuid4().hex}")
        self._db = duckdb.connect(
            config={
                "memory_limit": os.environ.get(MEMORY_LIMIT_VAR) or DEFAULT_MEMORY_LIMIT,
                "temp_directory": self._tmp,
                # Rows are hashed and landed in hash order: reading order never matters.
                "preserve_insertion_order": False,
            }
        )

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """The connection `Staged` tables live in."""
        return self._db

    def drop(self, staged: Staged) -> None:
        self._q(f'drop table if exists "{staged.name}"')

    def uri(self, source_uri: str) -> str:
        """`source_uri` as recorded (`recorded_uri`)."""
        return recorded_uri(source_uri, self.base)

    def _q(self, sql: str, params: dict | None = None) -> list[tuple]:
        """Run one statement to completion (duckdb 2 keeps an unfetched result pending)."""
        return self._db.execute(sql, params or {}).fetchall()

    def table_dir(self, source: str, table: str) -> Path:
        return self.root / source / table

    def data_files(self, source: str, table: str) -> list[Path]:
        folder = self.table_dir(source, table)
        if not folder.exists():
            return []
        return sorted(p for p in folder.glob("*.parquet") if p.name not in SCHEMA_FILES)

    def ensure_table(self, source: str, table: str) -> None:
        """Give an empty table folder a zero-row file with its columns, so dbt sources resolve."""
        folder = self.table_dir(source, table)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / SCHEMA_FILE).exists():
            schema = pa.unify_schemas([schema_of(source, table), LOAD_COLUMNS])
            _write_atomic(schema.empty_table(), folder / SCHEMA_FILE)

    def _landed_sql(self, source: str, table: str) -> str | None:
        files = self.data_files(source, table)
        if not files:
            return None
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return f"read_parquet([{listed}], union_by_name = true)"

    def _conformed_sql(self, rows: Staged, source: str, table: str) -> str:
        """`conform` in SQL: the contract's columns of a staged table, cast as Arrow's would be."""
        schema = schema_of(source, table)
        constants = dict(rows.constants)
        have = set(rows.column_names) | set(constants)
        unknown = have - set(schema.names)
        if unknown:
            raise ValueError(f"{source}/{table}: columns not in the contract: {sorted(unknown)}")
        cols = []
        for field in schema:
            typ = _SQL_TYPES[field.type]
            if field.name in constants:
                value = constants[field.name]
                literal = "null" if value is None else "'" + value.replace("'", "''") + "'"
                cols.append(f'{literal}::{typ} as "{field.name}"')
            elif field.name in have:
                cols.append(f'"{field.name}"::{typ} as "{field.name}"')
            else:
                cols.append(f'null::{typ} as "{field.name}"')
        return f'(select {", ".join(cols)} from "{rows.name}")'

    def land(
        self,
        source: str,
        table: str,
        rows: pa.Table | Staged,
        source_uri: str,
        source_sha256: str,
    ) -> LandResult:
        """Land, as one new batch, the rows of every entity in `rows` whose set of versions
        differs from its current set from this source (`KEYS`)."""
        started = datetime.now(UTC)
        source_uri = self.uri(source_uri)
        self.ensure_table(source, table)
        self.recover_log(source, table)
        if isinstance(rows, Staged):
            incoming = self._conformed_sql(rows, source, table)
        else:
            self._db.register("incoming", conform(rows, source, table))
            incoming = "incoming"
        cols = ", ".join(f'"{c}"' for c in schema_of(source, table).names)
        keys = [f'"{c}"' for c in KEYS[(source, table)]]
        # The row hash covers the row's own columns only; to_json of a struct is canonical.
        self._q(
            f"create or replace temp table hashed as select {cols}, "
            f"sha256(to_json(struct_pack({cols}))) as _row_sha256 from {incoming}"
        )
        if incoming == "incoming":
            self._db.unregister("incoming")
        total, distinct = self._q("select count(*), count(distinct _row_sha256) from hashed")[0]
        if distinct < total:  # a row repeated in the input lands once (checked first: cheaper)
            self._q(
                "create or replace temp table hashed as "
                "select distinct on (_row_sha256) * from hashed"
            )
            total = distinct
        landed = self._landed_sql(source, table)
        previous_batch, previous_at = "", None
        fresh = "hashed"  # with nothing landed yet, every incoming row is new
        try:
            if landed is not None:
                previous_batch, previous_at, fresh = self._changed_entities(
                    landed, keys, source_uri
                )
        except duckdb.Error as exc:
            # A landed file that no longer reads (disk trouble, a hand edit): say where, stop.
            first = str(exc).strip().splitlines()[0][:300]
            raise ExtractError(
                f"{self.table_dir(source, table)}: a landed file cannot be read ({first}); "
                "move the damaged file aside and re-run"
            ) from None
        n_new = self._q(f"select count(*) from {fresh}")[0][0]
        if n_new == 0:
            return LandResult(source, table, source_uri, 0, total, None)
        digest = self._q(
            f"select sha256(string_agg(_row_sha256, ',' order by _row_sha256)) from {fresh}"
        )[0][0]
        # Chained on the source's previous batch, so landing the same rows again after a change
        # (a value going back) gets a new id, and the ids never depend on when the run happened.
        key = hashlib.sha256(
            f"{source}/{table}|{source_uri}|{digest}|{previous_batch}".encode()
        ).hexdigest()
        batch_id = key[:24]
        # A source's batches are ordered by `_extracted_at` (staging's "latest observation"), so
        # a batch is never stamped at or before the source's previous one: not when one run lands
        # a table twice, nor when the clock went back.
        extracted_at = self.extracted_at
        if previous_at is not None and previous_at >= extracted_at:
            extracted_at = previous_at + timedelta(microseconds=1)
        out = self._db.sql(
            f"select {cols}, $batch as _batch_id, $at::timestamptz as _extracted_at, "
            "$uri as _source_uri, $sha as _source_sha256, _row_sha256, "
            "$position::bigint as _source_position "
            f"from {fresh} order by _row_sha256",
            params={
                "batch": batch_id,
                "at": extracted_at,
                "uri": source_uri,
                "sha": source_sha256,
                "position": self.position_of(source_uri),
            },
        ).to_arrow_reader(ROW_GROUP)
        schema = pa.unify_schemas([schema_of(source, table), LOAD_COLUMNS])
        dest = self.table_dir(source, table) / f"{batch_id}.parquet"
        size = _write_atomic(out, dest, schema)
        self._log(batch_id, source, table, source_uri, n_new, size, "landed", started)
        return LandResult(source, table, source_uri, n_new, total - n_new, batch_id)

    def _changed_entities(
        self, landed: str, keys: list[str], source_uri: str
    ) -> tuple[str, datetime | None, str]:
        """Fill temp table `fresh` with the incoming rows of entities whose versions differ from
        their current ones from this source; return the source's latest batch id and time
        ('', None if none) and the table that holds those rows (`hashed` when the source has
        landed nothing yet: every row is new).

        An entity's current versions are its rows in the latest batch of this source that holds
        it (one run lands one batch per table and source). Comparing sets, not single rows, keeps
        an entity that a source repeats with different values (two rows, one key) stable.
        """
        keyed = "".join(f"{k}, " for k in keys)  # the key columns, each followed by a comma
        group = f"group by {', '.join(keys)}" if keys else ""
        partition = f"partition by {', '.join(keys)}" if keys else ""

        def same_key(a: str, b: str) -> str:
            return " and ".join(f"{a}.{k} is not distinct from {b}.{k}" for k in keys) or "true"

        versions = "string_agg(_row_sha256, ',' order by _row_sha256) as versions"
        self._q(
            f"""create or replace temp table current_rows as
            select {keyed}_row_sha256, _batch_id, _extracted_at
            from {landed}
            where _source_uri = $uri
            qualify _extracted_at = max(_extracted_at) over ({partition})""",
            {"uri": source_uri},
        )
        latest = self._q(
            "select _batch_id, _extracted_at from current_rows "
            "order by _extracted_at desc, _batch_id limit 1"
        )
        if not latest:
            return "", None, "hashed"
        self._q(
            f"""create or replace temp table fresh as
            with
            incoming as (select {keyed}{versions} from hashed {group}),
            current as (select {keyed}{versions} from current_rows {group}),
            changed as (
                select incoming.* from incoming
                anti join current
                    on {same_key("incoming", "current")} and incoming.versions = current.versions
            )
            select hashed.* from hashed semi join changed on {same_key("changed", "hashed")}"""
        )
        return latest[0][0], latest[0][1], "fresh"

    def _log(
        self,
        batch_id: str,
        source: str,
        table: str,
        source_uri: str,
        rows: int,
        size: int,
        status: str,
        started: datetime,
    ) -> None:
        entry = pa.Table.from_pylist(
            [
                {
                    "batch_id": batch_id,
                    "source": source,
                    "table_name": table,
                    "source_uri": source_uri,
                    "rows": rows,
                    "bytes": size,
                    "status": status,
                    "started_at": started,
                    "finished_at": datetime.now(UTC),
                }
            ],
            schema=BATCH_LOG,
        )
        dest = self.log_dir / f"{source}__{table}__{batch_id}.parquet"
        if not dest.exists():
            _write_atomic(entry, dest)

    def recover_log(self, source: str, table: str) -> int:
        """Log data files that a killed run renamed into place but did not log. Returns count."""
        recovered = 0
        for file in self.data_files(source, table):
            batch_id = file.stem
            if (self.log_dir / f"{source}__{table}__{batch_id}.parquet").exists():
                continue
            meta = pq.read_table(file, columns=["_source_uri"])
            uri = meta.column(0)[0].as_py() if meta.num_rows else ""
            now = datetime.now(UTC)
            self._log(
                batch_id, source, table, uri, meta.num_rows, file.stat().st_size, "recovered", now
            )
            recovered += 1
        return recovered

    def _done_marker(self, source_uri: str) -> Path:
        key = hashlib.sha256(source_uri.encode()).hexdigest()[:32]
        return self.root / "_meta" / "sources" / f"{key}.last.json"

    def completed(self, source_uri: str, source_sha256: str) -> dict | None:
        """What was recorded when this source's content last fully landed, if that content is
        `source_sha256`, else None. Only the last content counts: a file that goes back to an
        earlier content is read again, so its rows land again as the current versions."""
        marker = self._done_marker(self.uri(source_uri))
        if not marker.exists():
            return None
        entry = json.loads(marker.read_text(encoding="utf-8"))
        return entry if entry.get("source_sha256") == source_sha256 else None

    def mark_complete(self, source_uri: str, source_sha256: str, **facts: object) -> None:
        """Record that every table of this source content landed. Written last, so a run killed
        before it re-reads the source, and the entity comparison keeps the landed result exact.
        The marker is bookkeeping, not landed data: it is replaced by the next content."""
        source_uri = self.uri(source_uri)
        marker = self._done_marker(source_uri)
        marker.parent.mkdir(parents=True, exist_ok=True)
        entry = {"source_uri": source_uri, "source_sha256": source_sha256, **facts}
        tmp = marker.with_name(marker.name + ".tmp")
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(tmp, marker)

    def batch_log(self) -> pa.Table:
        files = sorted(self.log_dir.glob("*.parquet"))
        if not files:
            return BATCH_LOG.empty_table()
        return pa.concat_tables([pq.read_table(f) for f in files])

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self._tmp, ignore_errors=True)
