"""A generated study as the landing zone holds it: the rows `rlhfw extract` lands from a live
Prolific and Argilla pull (per-response timestamps and usernames included, which no export file
carries), for tests of the dbt models that need them (a planted study's timestamps).

`landed_rows(study)` gives the rows of every landed table (docs/architecture.md, "Landing
zone"); `land_rows(rows, root)` lands them as one batch per table. The study's own settings are
the rows extract lands from the study.yml `write_study` would write (extract.settings).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from extract.landing import Landing
from extract.schemas import TABLES, schema_of
from extract.settings import settings_row
from rlhfw.demo.generate import study_yaml
from rlhfw.demo.model import Study
from study_config import Study as StudyConfig

Rows = dict[tuple[str, str], list[dict]]

# The landed source format of each export format (extract/argilla/exports.py).
SOURCE_FORMAT = {
    "flat_parquet": "argilla2_flat",
    "flat_jsonl": "argilla2_flat",
    "flat_json": "argilla2_flat",
    "disk": "argilla2_records",
    "v1_parquet": "argilla1_datasets",
    "v1_jsonl": "argilla1_datasets",
}
USERS_INSERTED_AT = "2025-02-27T08:00:00"


def study_config(study: Study) -> StudyConfig:
    """The validated study.yml of `study` (not read from disk: its files need not exist)."""
    raw = study_yaml(study, {"warehouse": "w.duckdb", "landing": "landing", "publish": "dataset"})
    return StudyConfig.model_validate({**raw, "path": Path("study.yml")})


def _value_columns(value: object) -> dict:
    """value_json / value_number / value_text of a response value, as a pull lands them."""
    number = float(value) if isinstance(value, int | float) else None
    text = value if isinstance(value, str) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    return {
        "value_json": json.dumps(value, ensure_ascii=False),
        "value_number": number,
        "value_text": text,
    }


def _present(value: object) -> bool:
    return value is not None and value == value  # not None, not NaN


def landed_rows(study: Study) -> Rows:
    """The rows of every landed table for `study`, in the order they were generated."""
    rows: Rows = {}

    def add(source: str, table: str, row: dict) -> None:
        rows.setdefault((source, table), []).append(row)

    config = study_config(study)
    add("study", "settings", settings_row(config))
    for spec in study.datasets:
        add(
            "study",
            "sources",
            {
                "study_role": spec.role,
                "dataset": spec.name,
                "workspace": spec.workspace,
                "source_uri": spec.path,
                "source_format": SOURCE_FORMAT[spec.fmt],
                "status_if_missing": spec.status_if_missing,
            },
        )
        settings = [("field", name, "text") for name in spec.fields]
        settings += [("question", name, qtype) for name, qtype, _ in spec.questions]
        for kind, name, qtype in settings:
            add(
                "argilla",
                "settings",
                {
                    "dataset": spec.name,
                    "workspace": spec.workspace,
                    "study_role": spec.role,
                    "kind": kind,
                    "name": name,
                    "title": name.replace("_", " ").title(),
                    "type": qtype,
                    "settings_json": json.dumps({"type": qtype}),
                },
            )

    people = study.people.set_index("person")
    for n, (person, role, status) in enumerate(
        zip(
            study.submissions.person,
            study.submissions.study_role,
            study.submissions.status,
            strict=True,
        ),
        start=1,
    ):
        add(
            "prolific",
            "submissions",
            {
                "submission_id": f"sub{n:04d}",
                "participant_id": people.at[person, "pid"],
                "study_id": study.study_ids[role],
                "study_role": role,
                "status": status,
                "started_at": "2025-02-28 10:00:00.000000",
                "completed_at": "2025-02-28 10:30:00",
                "reviewed_at": "",
                "archived_at": None,
                "time_taken": str(600 + 60 * n),
                "completion_code": "C0DE",
                "total_approvals": "12",
            },
        )
    for row in study.people[study.people.in_users_file].to_dict("records"):
        add(
            "argilla",
            "users",
            {
                "user_id": row["user_id"],
                "username": row["username"],
                "role": "annotator",
                "first_name": row.get("key"),
                "last_name": None,
                "inserted_at": USERS_INSERTED_AT,
            },
        )
    if config.participants.mapping is not None:
        for row in study.people.to_dict("records"):
            if _present(row["pid"]) and _present(row["username"]):
                add(
                    "study",
                    "participant_mapping",
                    {"prolific_pid": row["pid"], "argilla_username": row["username"]},
                )

    argilla: list[tuple[int, str, dict]] = []  # (generation order, table, row)
    for i, spec in enumerate(study.datasets):
        recs, resp = study.records[i], study.responses[i]
        record_id = dict(zip(recs.rec, recs.server_id, strict=True))
        common = {"dataset": spec.name, "workspace": spec.workspace, "study_role": spec.role}
        for k, row in enumerate(recs.to_dict("records")):
            when = row.get("inserted_at")
            meta = {m: row[m] for m in spec.metadata if _present(row.get(m))}
            argilla.append(
                (
                    (row.get("seq", 0), i, k),
                    "records",
                    {
                        "record_id": row["server_id"],
                        "external_id": row["external_id"],
                        **common,
                        "source_format": SOURCE_FORMAT[spec.fmt],
                        "record_status": row["status"],
                        "fields": json.dumps({f: row[f] for f in spec.fields}, ensure_ascii=False),
                        "metadata": json.dumps(meta),
                        "extra": None,
                        "inserted_at": when,
                        "updated_at": when,
                    },
                )
            )
        for k, row in enumerate(resp.to_dict("records")):
            when = row.get("updated_at")
            username = row.get("username")
            argilla.append(
                (
                    (row.get("seq", 0), i, k),
                    "responses",
                    {
                        "record_id": record_id[row["rec"]],
                        **common,
                        "user_id": row["user_id"],
                        "username": username if _present(username) else None,
                        "question_name": row["question"],
                        **_value_columns(row["value"]),
                        "status": row["status"],
                        "inserted_at": when,
                        "updated_at": when,
                    },
                )
            )
    for _, table, row in sorted(argilla, key=lambda t: t[0]):
        add("argilla", table, row)
    return rows


def land_rows(rows: Rows, root: Path, extracted_at: datetime | None = None) -> None:
    """Land every table of `rows` under `root`, one batch each (tables without rows get their
    `schema.parquet`, as an extract that found none leaves them)."""
    landing = Landing(root, extracted_at=extracted_at or datetime(2025, 3, 2, 12, tzinfo=UTC))
    try:
        for source, table in TABLES:
            batch = rows.get((source, table), [])
            if batch:
                arrow = pa.Table.from_pylist(batch, schema=schema_of(source, table))
                landing.land(source, table, arrow, f"test://{source}/{table}", "0" * 64)
            else:
                landing.ensure_table(source, table)
    finally:
        landing.close()
