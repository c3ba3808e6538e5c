"""Edit a demo study's inputs the way a new export from Prolific or Argilla would (imported by
name: tests have no packages).

Argilla exports come in several formats (rlhfw/demo/formats.py, extract/argilla/exports.py):
the 2.x flat table (Parquet, JSON, JSONL), the 2.x `to_disk` folder (nested records, no response
status) and v1's `format_as("datasets")` table (Parquet, JSONL). `Export` reads any of them as
plain records and offers the same few edits on each, so a test can change every dataset of a
study whatever its format, and writes the file back in its own format.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FLAT, NESTED, V1 = "2.x flat", "2.x to_disk", "v1"


@dataclass(frozen=True)
class Answer:
    """One user's response to one question of a record."""

    user_id: str
    value: object
    status: str | None  # None: the format carries no status (the `to_disk` folder)


@dataclass
class Export:
    """One Argilla export (a file, or a `to_disk` folder) as a list of records to edit."""

    path: Path
    container: str  # parquet, jsonl, json or disk
    kind: str  # FLAT, NESTED or V1
    rows: list[dict]
    schema: pa.Schema | None = None  # Parquet's, kept so the file keeps its types and metadata

    @classmethod
    def load(cls, path: Path) -> Export:
        schema = None
        if path.is_dir():
            container = "disk"
            rows = json.loads((path / "records.json").read_text(encoding="utf-8"))
        elif path.suffix == ".parquet":
            container = "parquet"
            table = pq.read_table(path)
            schema, rows = table.schema, table.to_pylist()
        elif path.suffix == ".jsonl":
            container = "jsonl"
            lines = path.read_text(encoding="utf-8").splitlines()
            rows = [json.loads(line) for line in lines if line.strip()]
        elif path.suffix == ".json":
            container = "json"
            rows = json.loads(path.read_text(encoding="utf-8"))
        else:
            raise ValueError(f"not an Argilla export this helper knows: {path}")
        keys = set().union(*(r.keys() for r in rows)) if rows else set()
        if "fields" in keys and "responses" in keys:
            kind = NESTED
        elif "_server_id" in keys or any(k.endswith(".responses") for k in keys):
            kind = FLAT
        elif "external_id" in keys:
            kind = V1
        else:
            raise ValueError(f"cannot tell the format of {path}: columns {sorted(keys)}")
        return cls(path, container, kind, rows, schema)

    def save(self) -> None:
        if self.container == "parquet":
            pq.write_table(pa.Table.from_pylist(self.rows, schema=self.schema), self.path)
        elif self.container == "jsonl":
            text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in self.rows)
            self.path.write_text(text, encoding="utf-8")
        elif self.container == "json":
            self.path.write_text(json.dumps(self.rows), encoding="utf-8")
        else:
            (self.path / "records.json").write_text(json.dumps(self.rows), encoding="utf-8")

    # -- one record -------------------------------------------------------------------------

    def record_id(self, row: dict) -> str:
        """The record's id as the extract lands it (its server id where the format has one)."""
        if self.kind == V1:
            return row["external_id"]
        return row.get("_server_id") or row["id"]

    def field(self, row: dict, name: str) -> str:
        return row["fields"][name] if self.kind == NESTED else row[name]

    def set_field(self, row: dict, name: str, value: str) -> None:
        if self.kind == NESTED:
            row["fields"][name] = value
        else:
            row[name] = value

    def answers(self, row: dict, question: str) -> list[Answer]:
        if self.kind == FLAT:
            values = row.get(f"{question}.responses") or []
            users = row.get(f"{question}.responses.users") or []
            statuses = row.get(f"{question}.responses.status") or [None] * len(values)
            return [Answer(u, v, s) for v, u, s in zip(values, users, statuses, strict=True)]
        if self.kind == V1:
            return [Answer(a["user_id"], a["value"], a.get("status")) for a in row[question] or []]
        return [Answer(a["user_id"], a["value"], None) for a in row["responses"].get(question, [])]

    def set_answers(self, row: dict, question: str, answers: list[Answer]) -> None:
        if self.kind == FLAT:
            # The SDK writes null lists for a record nobody answered.
            row[f"{question}.responses"] = [a.value for a in answers] or None
            row[f"{question}.responses.users"] = [a.user_id for a in answers] or None
            if f"{question}.responses.status" in row:
                row[f"{question}.responses.status"] = [a.status for a in answers] or None
        elif self.kind == V1:
            row[question] = [
                {"user_id": a.user_id, "value": a.value, "status": a.status} for a in answers
            ]
        elif answers:
            row["responses"][question] = [{"value": a.value, "user_id": a.user_id} for a in answers]
        else:
            row["responses"].pop(question, None)

    def set_batch(self, row: dict, batch: int) -> None:
        if self.kind == FLAT:
            row["batch"] = batch
        elif self.kind == V1:
            row["metadata"] = json.dumps({**json.loads(row["metadata"] or "{}"), "batch": batch})
        else:
            row["metadata"] = {**(row.get("metadata") or {}), "batch": batch}

    def copy_as_new_record(self, row: dict, tag: str) -> dict:
        """A copy of `row` under new ids (derived from the old and `tag`: same run, same ids)."""
        new = _deep_copy(row)

        def fresh(old: str) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{old}/{tag}"))

        if self.kind == V1:
            new["external_id"] = fresh(row["external_id"])
        else:
            new["id"] = fresh(row["id"])
            if new.get("_server_id"):
                new["_server_id"] = fresh(row["_server_id"])
        return new

    # -- the whole export -------------------------------------------------------------------

    def users(self, question: str) -> list[str]:
        """Everyone who answered `question` somewhere in this export, in order of appearance."""
        seen: dict[str, None] = {}
        for row in self.rows:
            for answer in self.answers(row, question):
                seen.setdefault(answer.user_id)
        return list(seen)


def _deep_copy(value):
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def set_prolific_status(csv_path: Path, participant: str, status: str) -> int:
    """Give every submission of `participant` in a Prolific export this status; returns how many
    rows changed."""
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    header = rows[0]
    changed = 0
    for row in rows[1:]:
        if row[header.index("Participant id")] == participant:
            changed += row[header.index("Status")] != status
            row[header.index("Status")] = status
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    csv_path.write_text(buf.getvalue(), encoding="utf-8")
    return changed


def prolific_statuses(csv_path: Path) -> dict[str, set[str]]:
    """Each participant's submission statuses in a Prolific export."""
    out: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))):
        out.setdefault(row["Participant id"], set()).add(row["Status"])
    return out
