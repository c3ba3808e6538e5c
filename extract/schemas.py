"""Column lists of every landed table: the contract with dbt's sources (docs/architecture.md).

Source values land as strings (or JSON text) so typing, and quarantining what fails it, happens in
staging. Only `study/*` tables, which come from the validated config, carry typed numbers.
"""

from __future__ import annotations

import pyarrow as pa

S = pa.string()

LOAD_COLUMNS = pa.schema(
    [
        ("_batch_id", S),
        ("_extracted_at", pa.timestamp("us", tz="UTC")),
        ("_source_uri", S),
        ("_source_sha256", S),
        ("_row_sha256", S),
        ("_source_position", pa.int64()),
    ]
)


def _strings(*names: str) -> pa.Schema:
    return pa.schema([(n, S) for n in names])


TABLES: dict[tuple[str, str], pa.Schema] = {
    ("study", "settings"): pa.schema(
        [
            ("study_name", S),
            ("writing_question_field", S),
            ("writing_response_question", S),
            ("writing_quality_question", S),
            ("quality_min", pa.int64()),
            ("quality_max", pa.int64()),
            ("rating_question_field", S),
            ("response_a_field", S),
            ("response_b_field", S),
            ("rating_question", S),
            ("scale_min", pa.int64()),
            ("scale_max", pa.int64()),
            ("scale_low_means", S),
            ("counted_statuses", S),
            ("expected_responses_per_question", pa.int64()),
            ("expected_ratings_per_pair", pa.int64()),
            # The rating tasks (models/marts/rating_tasks.sql): null pairs per question means
            # every pair; the seed lands as its decimal text, like publish_seed.
            ("rating_pairs_per_question", pa.int64()),
            ("rating_pairs_seed", S),
            ("question_id_metadata", S),
            ("response_a_metadata", S),
            ("response_b_metadata", S),
            ("argilla_username_is_prolific_pid", pa.bool_()),
            # The publish rules (models/marts/preference_pairs.sql). The seed lands as its
            # decimal text: the split hashes that text, and study.yml allows any integer.
            ("publish_min_ratings", pa.int64()),
            ("publish_min_margin", pa.float64()),
            ("publish_test_fraction", pa.float64()),
            ("publish_seed", S),
            ("publish_validation_fraction", pa.float64()),
        ]
    ),
    ("study", "sources"): _strings(
        "study_role", "dataset", "workspace", "source_uri", "source_format", "status_if_missing"
    ),
    ("study", "participant_mapping"): _strings("prolific_pid", "argilla_username"),
    # `rlhfw portal`'s log of who got which Argilla account (rlhfw/setup/portal.py writes it).
    ("study", "portal_assignments"): _strings(
        "assigned_at",
        "prolific_pid",
        "study_id",
        "session_id",
        "study_role",
        "argilla_username",
        "argilla_user_id",
        "workspace",
    ),
    ("prolific", "submissions"): _strings(
        "submission_id",
        "participant_id",
        "study_id",
        "study_role",
        "status",
        "started_at",
        "completed_at",
        "reviewed_at",
        "archived_at",
        "time_taken",
        "completion_code",
        "total_approvals",
        "extra",
    ),
    ("prolific", "demographics"): _strings(
        "submission_id",
        "participant_id",
        "study_id",
        "study_role",
        "age",
        "sex",
        "ethnicity_simplified",
        "country_of_birth",
        "country_of_residence",
        "nationality",
        "language",
        "student_status",
        "employment_status",
        "extra",
    ),
    ("argilla", "records"): _strings(
        "record_id",
        "external_id",
        "dataset",
        "workspace",
        "study_role",
        "source_format",
        "record_status",
        "fields",
        "metadata",
        "extra",
        "inserted_at",
        "updated_at",
    ),
    ("argilla", "responses"): pa.schema(
        [
            ("record_id", S),
            ("dataset", S),
            ("workspace", S),
            ("study_role", S),
            ("user_id", S),
            ("username", S),
            ("question_name", S),
            ("value_json", S),
            ("value_number", pa.float64()),
            ("value_text", S),
            ("status", S),
            ("inserted_at", S),
            ("updated_at", S),
        ]
    ),
    ("argilla", "users"): _strings(
        "user_id", "username", "role", "first_name", "last_name", "inserted_at"
    ),
    ("argilla", "settings"): _strings(
        "dataset", "workspace", "study_role", "kind", "name", "title", "type", "settings_json"
    ),
}


# The entity a row is a version of, per table (docs/architecture.md, "Versions"). Extract lands a
# key's rows when they differ from that key's current rows from the same source; staging keeps
# the latest version of each key. The study settings are one entity: the whole row.
KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("study", "settings"): (),
    ("study", "sources"): ("study_role", "dataset", "workspace"),
    ("study", "participant_mapping"): ("argilla_username",),
    ("study", "portal_assignments"): ("prolific_pid", "study_role"),
    ("prolific", "submissions"): ("submission_id",),
    ("prolific", "demographics"): ("submission_id",),
    ("argilla", "records"): ("dataset", "workspace", "record_id"),
    ("argilla", "responses"): ("dataset", "workspace", "record_id", "user_id", "question_name"),
    ("argilla", "users"): ("user_id",),
    ("argilla", "settings"): ("dataset", "workspace", "study_role", "kind", "name"),
}


def schema_of(source: str, table: str) -> pa.Schema:
    return TABLES[(source, table)]


def conform(table: pa.Table, source: str, table_name: str) -> pa.Table:
    """Order and cast `table` to the contract's columns; missing columns become nulls."""
    schema = schema_of(source, table_name)
    unknown = set(table.column_names) - set(schema.names)
    if unknown:
        raise ValueError(f"{source}/{table_name}: columns not in the contract: {sorted(unknown)}")
    cols = []
    for field in schema:
        if field.name in table.column_names:
            cols.append(table.column(field.name).cast(field.type))
        else:
            cols.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(cols, schema=schema)
