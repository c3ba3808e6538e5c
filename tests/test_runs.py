"""The run history (`analytics.refresh_runs`), the closing summary lines and the snapshot, on
real `rlhfw` processes with their output piped, as cron or a log file gets it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rlhfw.dbt import code_version
from study_config import load_study

RLHFW = Path(sys.executable).with_name("rlhfw")
# Not a terminal, 80 columns: what a cron job's log gets.
ENV = {**os.environ, "COLUMNS": "80"}
ENV.pop("RLHFW_DEBUG", None)
# dbt's line per node: "12 of 200 START sql table model main.x ... [RUN]", "... OK created ...".
DBT_NODE = re.compile(r"^\S*\s*\d+ of \d+ (START|OK|PASS|ERROR|FAIL)\b", re.MULTILINE)
COLUMNS = (
    "run_id, command, status, exit_code, error_line, code_version, extract_seconds, "
    "build_seconds, publish_seconds, rows_landed, rows_landed_by_table, started_at, finished_at"
)


def rlhfw(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RLHFW), *args], capture_output=True, text=True, env=ENV, timeout=600)


def runs(warehouse: Path) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cur = con.execute(f"select {COLUMNS} from analytics.refresh_runs order by started_at")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def landed_rows(landing: Path) -> dict[str, int]:
    """Rows in the landing zone per `<source>/<table>`, read from the Parquet files."""
    counts: dict[str, int] = {}
    with duckdb.connect() as con:
        for path in landing.rglob("*.parquet"):
            rel = path.relative_to(landing)
            if rel.parts[0] != "_meta":
                key = f"{rel.parts[0]}/{rel.parts[1]}"
                n = con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()[0]
                counts[key] = counts.get(key, 0) + n
    return {k: n for k, n in counts.items() if n}  # an empty table landed as a schema file


@pytest.fixture()
def long_study(demo_template, tmp_path) -> Path:
    """The demo study in a folder whose path alone is longer than 80 columns."""
    dest = tmp_path / ("a-folder-name-long-enough-that-its-path-does-not-fit-in-80-columns" * 2)
    shutil.copytree(demo_template, dest)
    return dest / "study.yml"


@pytest.mark.slow
def test_every_run_is_recorded_and_summarized(long_study):
    config = str(long_study)
    study = load_study(config)
    assert len(str(study.warehouse)) > 80

    # 1. A first refresh: everything lands, builds and publishes.
    first = rlhfw("refresh", "--config", config)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    lines = first.stdout.splitlines()
    # One summary line per stage, at the end.
    assert [line.split(":")[0] for line in lines[-3:]] == ["extract", "build", "publish"]
    assert re.fullmatch(r"extract: [\d,]+ rows landed in \d+ tables; [\d.]+ s", lines[-3])
    assert re.fullmatch(r"build: [\d,]+ models, [\d,]+ tests, .* passed.*; [\d.]+ s", lines[-2])
    assert re.fullmatch(
        r"publish: rows pairs [\d,]+, conversational [\d,]+, ratings [\d,]+, responses [\d,]+;"
        r" [\d.]+ s",
        lines[-1],
    )
    # No dbt node lines without --verbose, and nothing wrapped at 80 columns: the long paths
    # are each whole on their line.
    assert not DBT_NODE.search(first.stdout), first.stdout[:3000]
    assert f"warehouse: {study.warehouse}" in lines
    assert f"dataset:   {study.publish.out}" in lines
    snapshot = Path(f"{study.warehouse}.snapshot.duckdb")
    assert f"snapshot:  {snapshot}" in lines

    (ok,) = runs(study.warehouse)
    assert (ok["command"], ok["status"], ok["exit_code"], ok["error_line"]) == (
        "refresh",
        "ok",
        0,
        None,
    )
    assert ok["code_version"] == code_version()
    assert all(ok[f"{s}_seconds"] >= 0 for s in ("extract", "build", "publish"))
    assert ok["started_at"] <= ok["finished_at"]
    # What it says landed is what is in the landing zone (the first run landed all of it).
    landed = landed_rows(study.landing)
    assert {k: v for k, v in ok["rows_landed_by_table"].items() if v} == landed
    assert ok["rows_landed"] == sum(landed.values()) > 0
    assert re.search(rf"extract: {sum(landed.values()):,} rows landed", first.stdout)
    # The snapshot is the warehouse as the run left it, its own row included (written before
    # the copy), and opens read-only.
    assert runs(snapshot) == runs(study.warehouse)

    # 2. Nothing new: recorded as such, build and publish not run.
    second = rlhfw("refresh", "--config", config)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert second.stdout.splitlines()[-1].startswith("extract: 0 rows landed")
    nothing = runs(study.warehouse)[-1]
    assert (nothing["status"], nothing["exit_code"], nothing["rows_landed"]) == (
        "nothing_new",
        0,
        0,
    )
    assert nothing["extract_seconds"] >= 0
    assert nothing["build_seconds"] is None and nothing["publish_seconds"] is None

    # 3. --verbose brings dbt's node lines back.
    verbose = rlhfw("build", "--config", config, "--verbose")
    assert verbose.returncode == 0, verbose.stdout[-3000:] + verbose.stderr[-3000:]
    assert DBT_NODE.search(verbose.stdout)
    assert verbose.stdout.splitlines()[-1].startswith("build: ")
    build = runs(study.warehouse)[-1]
    assert (build["command"], build["status"], build["build_seconds"] >= 0) == ("build", "ok", True)
    assert build["extract_seconds"] is None and build["rows_landed_by_table"] is None

    # 4. Exit 1: a landing zone that lost a table fails dbt's check before the build.
    shutil.move(study.landing / "argilla" / "users", study.landing.parent / "users-aside")
    broken = rlhfw("build", "--config", config)
    assert broken.returncode == 1, broken.stdout[-3000:] + broken.stderr[-3000:]
    failed = runs(study.warehouse)[-1]
    assert (failed["command"], failed["status"], failed["exit_code"]) == ("build", "failed", 1)
    assert failed["error_line"].startswith("dbt build failed")
    assert f"error: {failed['error_line']}" == broken.stderr.strip().splitlines()[-1]
    assert "Traceback" not in failed["error_line"]
    assert failed["build_seconds"] >= 0
    assert len(runs(study.warehouse)) == 4  # one row per run, and no more
    # A failed build leaves the last good snapshot as it was.
    assert len(runs(snapshot)) == 3


@pytest.mark.slow
def test_a_bad_input_is_recorded_with_its_error_line(demo_copy):
    """Exit 2 once the warehouse is known: study.yml names an Argilla field the exports lack
    (found when the extract reads them). The row is written even though no build ever made the
    warehouse, and the next, good refresh builds into that file."""
    config = demo_copy / "study.yml"
    study = load_study(config)
    text = config.read_text("utf-8")
    assert text.count("question_field: question\n") == 2
    config.write_text(text.replace("question_field: question\n", "question_field: nosuch\n", 1))
    bad = rlhfw("refresh", "--config", str(config))
    assert bad.returncode == 2, bad.stdout[-3000:] + bad.stderr[-3000:]
    (error,) = bad.stderr.strip().splitlines()
    (failed,) = runs(study.warehouse)
    assert (failed["command"], failed["status"], failed["exit_code"]) == ("refresh", "failed", 2)
    assert f"error: {failed['error_line']}" == error and "nosuch" in error
    assert failed["build_seconds"] is None and failed["publish_seconds"] is None
    assert failed["code_version"] == code_version()

    config.write_text(text)
    good = rlhfw("refresh", "--config", str(config))
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
    assert [r["status"] for r in runs(study.warehouse)] == ["failed", "ok"]


def test_a_run_refused_as_busy_is_not_recorded(demo_copy):
    """Exit 3: the lock is another's, the run never started; nothing is written."""
    from rlhfw.pipeline import refresh_lock

    config = str(demo_copy / "study.yml")
    study = load_study(config)
    with refresh_lock(study):
        proc = rlhfw("extract", "--config", config)
    assert proc.returncode == 3
    assert not study.warehouse.exists()


def test_a_history_that_cannot_be_written_does_not_hide_the_result(demo_copy):
    """An extract while an analyst has the warehouse open: the extract succeeds, its row cannot
    be written, and it says so in one warning line."""
    config = str(demo_copy / "study.yml")
    study = load_study(config)
    study.warehouse.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(study.warehouse)).close()
    analyst = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(study.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert analyst.stdout.readline().strip() == "open"
        proc = rlhfw("extract", "--config", config)
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=30)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    warnings = [line for line in proc.stdout.splitlines() if "run not recorded" in line]
    assert len(warnings) == 1 and "analytics.refresh_runs" in warnings[0]
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_freshness_follows_the_runs_not_the_landed_rows(demo_copy, tmp_path):
    """`dbt source freshness`, as an analyst runs it: fresh while extracts succeed, even when
    nothing new lands; a warning after 2 days without a successful run, an error after 7;
    failed runs do not count. Landed tables have no freshness check."""
    config = str(demo_copy / "study.yml")
    assert rlhfw("refresh", "--config", config).returncode == 0
    assert rlhfw("refresh", "--config", config).returncode == 0  # nothing new lands
    study = load_study(config)
    project = Path(__file__).resolve().parents[1]
    env = {**ENV, "RLHFW_WAREHOUSE": str(study.warehouse), "RLHFW_LANDING": str(study.landing)}

    def freshness() -> tuple[int, str]:
        proc = subprocess.run(
            [str(RLHFW.with_name("dbt")), "source", "freshness", "--project-dir", str(project),
             "--profiles-dir", str(project), "--target-path", str(tmp_path / "target")],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        return proc.returncode, proc.stdout

    def age_runs(days: int) -> None:
        with duckdb.connect(str(study.warehouse)) as con:
            con.execute(
                "update analytics.refresh_runs "
                f"set finished_at = now() - interval {days} day - interval 1 hour"
            )

    code, out = freshness()
    assert code == 0, out
    assert re.search(r"PASS freshness of rlhfw\.refresh_runs", out), out
    assert "argilla.records" not in out and "prolific.submissions" not in out

    age_runs(3)
    code, out = freshness()
    assert code == 0 and re.search(r"WARN freshness of rlhfw\.refresh_runs", out), out

    age_runs(8)
    with duckdb.connect(str(study.warehouse)) as con:  # a failed run today does not count
        con.execute(
            "insert into analytics.refresh_runs (run_id, command, started_at, finished_at, "
            "status, exit_code, code_version) "
            "values ('failed-today', 'refresh', now(), now(), 'failed', 2, 'x')"
        )
    code, out = freshness()
    assert code == 1 and re.search(r"ERROR STALE freshness of rlhfw\.refresh_runs", out), out
