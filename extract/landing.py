"""The landing zone: append-only Parquet batches, written atomically, with a batch log.

A batch holds only rows whose content hash has not landed before for the same table and source, so
re-running an extract on unchanged input writes nothing. Files are written under a `.tmp` name and
renamed; the batch log entry is written after the data file, and a data file found without its log
entry (a run killed between the two) gets one on the next run. Nothing here ever overwrites or
deletes a landed file. Hashing and the anti-join run in DuckDB, set-based, so this scales to
millions of rows without a Python loop over them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from extract.errors import ExtractError
from extract.schemas import LOAD_COLUMNS, conform, schema_of

SCHEMA_FILE = "_schema.parquet"
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


def _write_atomic(table: pa.Table, dest: Path) -> int:
    tmp = dest.with_name(dest.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    return dest.stat().st_size


class Landing:
    """One extract run's view of a landing root. `extracted_at` is shared by all its batches."""

    def __init__(self, root: Path, extracted_at: datetime | None = None) -> None:
        self.root = Path(root)
        self.extracted_at = extracted_at or datetime.now(UTC)
        self.log_dir = self.root / "_meta" / "batches"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._db = duckdb.connect()

    def _q(self, sql: str, params: dict | None = None) -> list[tuple]:
        """Run one statement to completion (duckdb 2 keeps an unfetched result pending)."""
        return self._db.execute(sql, params or {}).fetchall()

    def table_dir(self, source: str, table: str) -> Path:
        return self.root / source / table

    def data_files(self, source: str, table: str) -> list[Path]:
        folder = self.table_dir(source, table)
        if not folder.exists():
            return []
        return sorted(p for p in folder.glob("*.parquet") if p.name != SCHEMA_FILE)

    def ensure_table(self, source: str, table: str) -> None:
        """Give an empty table folder a zero-row file with its columns, so dbt sources resolve."""
        folder = self.table_dir(source, table)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / SCHEMA_FILE).exists():
            schema = pa.unify_schemas([schema_of(source, table), LOAD_COLUMNS])
            _write_atomic(schema.empty_table(), folder / SCHEMA_FILE)

    def _known_hashes_sql(self, source: str, table: str) -> str | None:
        files = self.data_files(source, table)
        if not files:
            return None
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return (
            f"select _row_sha256 from read_parquet([{listed}], union_by_name = true) "
            "where _source_uri = $uri"
        )

    def land(
        self,
        source: str,
        table: str,
        rows: pa.Table,
        source_uri: str,
        source_sha256: str,
    ) -> LandResult:
        """Land the rows of `rows` not landed before for (table, source_uri) as one new batch."""
        started = datetime.now(UTC)
        self.ensure_table(source, table)
        self.recover_log(source, table)
        data = conform(rows, source, table)
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        self._db.register("incoming", data)
        # The row hash covers the row's own columns only; to_json of a struct is canonical.
        self._q(
            f"create or replace temp table hashed as select {cols}, "
            f"sha256(to_json(struct_pack({cols}))) as _row_sha256 from incoming"
        )
        self._db.unregister("incoming")
        known = self._known_hashes_sql(source, table)
        anti = f"anti join ({known}) using (_row_sha256)" if known else ""
        try:
            self._q(
                "create or replace temp table fresh as select distinct on (_row_sha256) * "
                f"from hashed {anti}",
                {"uri": source_uri} if known else {},
            )
        except duckdb.Error as exc:
            # A landed file that no longer reads (disk trouble, a hand edit): say where, stop.
            first = str(exc).strip().splitlines()[0][:300]
            raise ExtractError(
                f"{self.table_dir(source, table)}: a landed file cannot be read ({first}); "
                "move the damaged file aside and re-run"
            ) from None
        total = self._q("select count(*) from hashed")[0][0]
        n_new = self._q("select count(*) from fresh")[0][0]
        if n_new == 0:
            return LandResult(source, table, source_uri, 0, total, None)
        digest = self._q(
            "select sha256(string_agg(_row_sha256, ',' order by _row_sha256)) from fresh"
        )[0][0]
        key = hashlib.sha256(f"{source}/{table}|{source_uri}|{digest}".encode()).hexdigest()
        batch_id = f"{self.extracted_at:%Y%m%dT%H%M%S}Z-{key[:12]}"
        out = self._db.sql(
            f"select {cols}, $batch as _batch_id, $at::timestamptz as _extracted_at, "
            "$uri as _source_uri, $sha as _source_sha256, _row_sha256 "
            "from fresh order by _row_sha256",
            params={
                "batch": batch_id,
                "at": self.extracted_at,
                "uri": source_uri,
                "sha": source_sha256,
            },
        ).to_arrow_table()
        out = out.cast(pa.unify_schemas([schema_of(source, table), LOAD_COLUMNS]))
        dest = self.table_dir(source, table) / f"{batch_id}.parquet"
        size = _write_atomic(out, dest)
        self._log(batch_id, source, table, source_uri, n_new, size, "landed", started)
        return LandResult(source, table, source_uri, n_new, total - n_new, batch_id)

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

    def _done_marker(self, source_uri: str, source_sha256: str) -> Path:
        key = hashlib.sha256(f"{source_uri}|{source_sha256}".encode()).hexdigest()[:32]
        return self.root / "_meta" / "sources" / f"{key}.done"

    def completed(self, source_uri: str, source_sha256: str) -> dict | None:
        """What was recorded when this exact source content fully landed, else None."""
        marker = self._done_marker(source_uri, source_sha256)
        return json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else None

    def mark_complete(self, source_uri: str, source_sha256: str, **facts: object) -> None:
        """Record that every table of this source content landed. Written last, so a run killed
        before it re-reads the source, and the row hashes keep the landed result exact."""
        marker = self._done_marker(source_uri, source_sha256)
        marker.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "source_uri": source_uri,
            "source_sha256": source_sha256,
            "landed_at": self.extracted_at.isoformat(),
            **facts,
        }
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
