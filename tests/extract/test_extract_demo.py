"""Extract the demo study (every export format): landed counts equal the test oracle's ground
truth (tests/oracle.py, written beside the demo by the `demo_template` fixture), a second run
lands nothing, and a run killed with SIGKILL then re-run lands the same."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from rlhfw import pipeline
from study_config import load_study


def count_by(landing: Path, table: str, column: str) -> dict[str, int]:
    rows = duckdb.sql(
        f"select {column}, count(*) from read_parquet('{landing}/{table}/*.parquet', "
        f"union_by_name = true) group by all"
    ).fetchall()
    return {k: v for k, v in rows if k is not None}


def content(landing: Path) -> dict[str, list[tuple]]:
    """Each table's landed rows (by content hash and source), ignoring batch ids and times."""
    out = {}
    for folder in sorted(p for p in landing.glob("*/*") if p.is_dir() and p.parent.name != "_meta"):
        if not any(folder.glob("*.parquet")):
            continue  # created, nothing written yet (a kill can land between the two)
        out[f"{folder.parent.name}/{folder.name}"] = duckdb.sql(
            f"select _source_uri, _row_sha256 from read_parquet('{folder}/*.parquet', "
            "union_by_name = true) order by all"
        ).fetchall()
    return out


def test_every_format_lands_with_ground_truth_counts(demo_copy):
    study = load_study(demo_copy / "study.yml")
    report = pipeline.extract(study, log=lambda _: None)
    truth = json.loads((demo_copy / "ground_truth.json").read_text())["landed"]
    landing = study.landing
    for table in ("argilla/records", "argilla/responses"):
        assert count_by(landing, table, "dataset") == truth[table]["by_dataset"], table
        assert count_by(landing, table, "study_role") == truth[table]["by_study"], table
    for table in ("prolific/submissions", "prolific/demographics"):
        assert count_by(landing, table, "study_role") == truth[table]["by_study"], table
    assert sum(count_by(landing, "argilla/users", "1").values()) == truth["argilla/users"]["total"]
    formats = count_by(landing, "argilla/records", "source_format")
    assert set(formats) == {"argilla2_flat", "argilla2_records", "argilla1_datasets"}
    assert report.new_rows > 0

    again = pipeline.extract(study, log=lambda _: None)
    assert again.new_rows == 0


def test_sigkill_mid_extract_then_rerun_equals_an_uninterrupted_run(demo_copy, tmp_path):
    study = load_study(demo_copy / "study.yml")
    reference = tmp_path / "reference"
    pipeline.extract(study.model_copy(update={"landing": reference}), log=lambda _: None)

    code = (
        "import sys; from rlhfw import pipeline; from study_config import load_study; "
        "pipeline.extract(load_study(sys.argv[1]), log=lambda _: None)"
    )
    cmd = [sys.executable, "-c", code, str(demo_copy / "study.yml")]
    killed_with_partial_landing = False
    for _attempt in range(5):
        proc = subprocess.Popen(cmd, start_new_session=True)
        # Kill as soon as the first data file is in place: mid-way through landing.
        while proc.poll() is None and not any(
            p.name != "schema.parquet"
            for p in study.landing.glob("*/*/*.parquet")
            if p.parts[-3] != "_meta"
        ):
            time.sleep(0.005)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if content(study.landing) != content(reference):
                killed_with_partial_landing = True
                break
        else:
            proc.wait()
    assert killed_with_partial_landing, "no kill landed mid-way; the test proved nothing"
    pipeline.extract(study, log=lambda _: None)
    assert content(study.landing) == content(reference)
    logged = duckdb.sql(
        f"select count(distinct batch_id) from read_parquet('{study.landing}/_meta/batches/*')"
    ).fetchall()[0][0]
    files = [
        p
        for p in study.landing.glob("*/*/*.parquet")
        if p.name != "schema.parquet" and p.parts[-3] != "_meta"
    ]
    assert logged == len(files)  # every data file has its batch-log entry


@pytest.mark.parametrize("broken", ["truncate", "garbage"])
def test_a_broken_export_exits_cleanly_and_lands_nothing(demo_copy, broken):
    study = load_study(demo_copy / "study.yml")
    target = study.argilla.rating.sources[0].export
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 3] if broken == "truncate" else b"\x00garbage" * 50)
    proc = subprocess.run(
        [sys.executable, "-m", "rlhfw.cli", "extract", "--config", str(demo_copy / "study.yml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert str(target) in proc.stderr and "Traceback" not in proc.stderr
    data_files = [
        p
        for p in study.landing.glob("*/*/*.parquet")
        if p.name != "schema.parquet" and p.parts[-3] != "_meta"
    ]
    assert data_files == []
