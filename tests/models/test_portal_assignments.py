"""The portal's assignments CSV (rlhfw/setup/portal.py) lands as study/portal_assignments and
stg_study__portal_assignments reads it: the last line of each (participant, role), its time
typed, in the personal schema."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import duckdb
from conftest import run_dbt
from warehouse_study import land_study, synthetic_study

from extract.landing import Landing
from extract.settings import land_portal_assignments, source_positions
from rlhfw.setup.portal import COLUMNS, append_assignment
from study_config import Study

P1, P2 = "5f3e1a2b3c4d5e6f7a8b9c01", "5f3e1a2b3c4d5e6f7a8b9c02"


def row(pid: str, role: str, workspace: str, at: str) -> dict:
    return {
        "assigned_at": at,
        "prolific_pid": pid,
        "study_id": f"{role}-study",
        "session_id": "s",
        "study_role": role,
        "argilla_username": pid,
        "argilla_user_id": f"user-{pid[-2:]}",
        "workspace": workspace,
    }


def test_the_assignments_land_and_stage(tmp_path):
    study = Study.model_validate(
        {
            "name": "portal",
            "path": tmp_path / "study.yml",
            "argilla": {
                "writing": {"sources": [{"dataset": "answers", "workspace": "w1"}]},
                "rating": {"sources": [{"dataset": "pairs", "workspace": "r1"}]},
            },
            "portal": {"assignments": tmp_path / "portal" / "assignments.csv"},
        }
    )
    csv_path = study.portal.assignments
    landing_root, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    land_study(synthetic_study("text"), landing_root)

    def land():
        landing = Landing(
            landing_root,
            extracted_at=datetime.now(UTC),
            base=tmp_path,
            position_of=source_positions(study, tmp_path),
        )
        try:
            return land_portal_assignments(study, landing)
        finally:
            landing.close()

    nobody = land()  # no file yet: 0 rows, and a line in the summary
    assert (nobody.table, nobody.new_rows, nobody.unchanged_rows) == ("portal_assignments", 0, 0)

    append_assignment(csv_path, row(P1, "writing", "w1", "2026-12-06T12:00:00+00:00"))
    append_assignment(csv_path, row(P2, "writing", "w2", "2026-12-06T12:01:00+00:00"))
    # A later line for the same participant and role (a hand-made reassignment) wins.
    append_assignment(csv_path, row(P1, "writing", "w3", "2026-12-06T13:00:00+00:00"))
    with csv_path.open(encoding="utf-8") as f:
        assert next(csv.reader(f)) == COLUMNS
    first = land()
    assert (first.new_rows, first.unchanged_rows) == (2, 0)
    assert land().new_rows == 0  # the same file again lands nothing
    positions = duckdb.sql(
        f"select distinct _source_position, _source_uri from "
        f"read_parquet('{landing_root}/study/portal_assignments/*.parquet')"
    ).fetchall()
    assert positions == [(1, "portal/assignments.csv")]

    ok, failures = run_dbt(
        tmp_path, landing_root, warehouse, "build", "--select", "stg_study__portal_assignments"
    )
    assert ok, failures
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = con.execute(
            "select prolific_pid, study_role, workspace, assigned_at, quarantine_reason "
            "from analytics_personal.stg_study__portal_assignments order by prolific_pid"
        ).fetchall()
        analysts = con.execute(
            "select count(*) from information_schema.tables "
            "where table_name = 'stg_study__portal_assignments' and table_schema <> "
            "'analytics_personal'"
        ).fetchone()[0]
    assert got == [
        (P1, "writing", "w3", datetime(2026, 12, 6, 13, 0), None),
        (P2, "writing", "w2", datetime(2026, 12, 6, 12, 1), None),
    ]
    assert analysts == 0
