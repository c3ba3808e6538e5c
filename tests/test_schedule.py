"""The README's scheduling examples, run as written: its cron line under /bin/sh and its systemd
service's ExecStart (split as systemd splits it, its exit status judged by SuccessExitStatus),
with the README's three placeholder paths pointed at a demo study. Each run appends to the log
file the example names and adds a row to refresh_runs; a warehouse busy with another process
(exit 3) counts as success."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rlhfw.pipeline import refresh_lock
from study_config import load_study

README = Path(__file__).resolve().parents[1] / "README.md"
# The README's placeholders: the checkout's venv, the study's folder, the log folder.
VENV_BIN = "/opt/rlhf-warehouse/.venv/bin"
STUDY = "/srv/study"
LOGS = "/var/log/rlhfw"


def block(name: str) -> str:
    """The fenced code between `<!-- schedule:<name>:begin -->` and its end marker."""
    text = README.read_text("utf-8")
    found = re.search(
        rf"<!-- schedule:{name}:begin -->\n```\w*\n(.*?)```\n<!-- schedule:{name}:end -->",
        text,
        re.DOTALL,
    )
    assert found, f"README lacks the schedule:{name} block"
    return found[1]


def localize(line: str, study: Path, logs: Path) -> str:
    """The README's line with its placeholder paths pointed at this test's files."""
    return (
        line.replace(VENV_BIN, str(Path(sys.executable).parent))
        .replace(STUDY, str(study))
        .replace(LOGS, str(logs))
    )


def cron_command() -> str:
    """The cron line's command: what follows its five time fields."""
    (line,) = [x for x in block("cron").splitlines() if x.strip() and not x.startswith("#")]
    return line.split(None, 5)[5]


def service() -> dict[str, list[str]]:
    """The service unit's keys (up to the timer's unit), each with its values."""
    unit = block("systemd").split("rlhfw-refresh.timer")[0]
    keys: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def run_count(study) -> int:
    if not study.warehouse.exists():
        return 0
    with duckdb.connect(str(study.warehouse), read_only=True) as con:
        return con.execute("select count(*) from analytics.refresh_runs").fetchone()[0]


@pytest.fixture()
def scheduled(demo_copy, tmp_path):
    (demo_copy / "rlhfw.env").write_text("", "utf-8")  # the README's secrets file: none here
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("RLHFW_CONFIG", "COLUMNS")}
    return demo_copy, logs, env, load_study(demo_copy / "study.yml")


@pytest.mark.slow
def test_the_cron_line_refreshes_and_counts_a_busy_warehouse_as_success(scheduled):
    study_dir, logs, env, study = scheduled
    assert f"{VENV_BIN}/rlhfw refresh --config {STUDY}/study.yml" in cron_command()
    command = localize(cron_command(), study_dir, logs)
    assert "|| [ $? -eq 3 ]" in command or "--wait" in command

    proc = subprocess.run(["/bin/sh", "-c", command], env=env, timeout=600)
    log = logs / "refresh.log"
    assert proc.returncode == 0, log.read_text()[-3000:]
    assert run_count(study) == 1
    assert "publish: rows pairs" in log.read_text()

    with refresh_lock(study):  # another refresh still running
        busy = subprocess.run(["/bin/sh", "-c", command], env=env, timeout=600)
    assert busy.returncode == 0  # as cron runs it: the line succeeds
    assert "holds the lock" in log.read_text().splitlines()[-1]
    assert run_count(study) == 1  # the refused run started nothing


@pytest.mark.slow
def test_the_systemd_service_refreshes_and_counts_a_busy_warehouse_as_success(scheduled):
    study_dir, logs, env, study = scheduled
    unit = service()
    (exec_start,) = unit["ExecStart"]
    assert exec_start.startswith(f"{VENV_BIN}/rlhfw refresh --config {STUDY}/study.yml")
    argv = shlex.split(localize(exec_start, study_dir, logs))
    success = {0} | {
        int(code) for value in unit.get("SuccessExitStatus", []) for code in value.split()
    }
    assert 3 in success
    (stdout,) = unit["StandardOutput"]
    assert stdout.startswith("append:") and unit["StandardError"] == unit["StandardOutput"]
    log = Path(localize(stdout.removeprefix("append:"), study_dir, logs))

    def start() -> int:
        """Run the service as systemd would: its output appended to the log file."""
        with open(log, "a") as out:
            return subprocess.run(argv, stdout=out, stderr=out, env=env, timeout=600).returncode

    code = start()
    assert code in success and code == 0, log.read_text()[-3000:]
    assert run_count(study) == 1
    with refresh_lock(study):
        code = start()
    assert code == 3 and code in success
    assert run_count(study) == 1
    assert "holds the lock" in log.read_text()
