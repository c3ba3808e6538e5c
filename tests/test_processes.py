"""Processes and locks, with real processes, real dbt and real DuckDB: a killed refresh leaves no
dbt behind, every writing command takes the same lock, a warehouse another process has open
stops a command in one line with exit 3, and --wait waits for either."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlhfw import pipeline
from study_config import load_study

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

RLHFW = Path(sys.executable).with_name("rlhfw")
ENV = {**os.environ, "COLUMNS": "200"}
# A DuckDB session an analyst leaves open: holds the warehouse until its stdin closes.
HOLD_WAREHOUSE = (
    "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
    "sys.stdin.read()"
)
# Another process holding the rlhfw lock, its file naming argv[2] as the holder's pid, until
# its stdin closes.
HOLD_LOCK = (
    "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
    "fcntl.flock(fd, fcntl.LOCK_EX); os.ftruncate(fd, 0); os.write(fd, sys.argv[2].encode()); "
    "print('locked', flush=True); sys.stdin.read()"
)


def lock_file(study) -> Path:
    """The rlhfw lock's file: next to the warehouse, where every version of rlhfw looks."""
    return Path(f"{study.warehouse}.refresh.lock")


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RLHFW), *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )


def start(args: list[str], log: Path) -> subprocess.Popen:
    """A background process writing its stdout and stderr to `log`."""
    with open(log, "w") as out:  # the process keeps its own copy
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=ENV)


def hold(script: str, *args: str) -> subprocess.Popen:
    """Start a holder (HOLD_WAREHOUSE or HOLD_LOCK) and return once it holds."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() in ("open", "locked")
    return proc


def release(holder: subprocess.Popen) -> None:
    holder.stdin.close()
    holder.wait(timeout=30)


def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether `pid` runs (an exited process not yet reaped, a zombie, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def has_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The single line a refused command prints on stderr (and no traceback anywhere)."""
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.slow
def test_a_killed_refresh_is_followed_by_a_good_one(demo_copy, tmp_path):
    """kill -9 of the refresh while dbt builds in it: the next refresh, started at once, takes
    the lock and builds (DuckDB rolls back what the killed build had not committed)."""
    config = str(demo_copy / "study.yml")
    study = load_study(config)
    refresh = start([str(RLHFW), "refresh", "--config", config], tmp_path / "killed.log")
    try:
        until(lambda: has_open(refresh.pid, study.warehouse), 120, "dbt to open the warehouse")
    finally:
        refresh.send_signal(signal.SIGKILL)
        refresh.wait()

    rerun = run_cli("refresh", "--config", config)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "Traceback" not in rerun.stdout + rerun.stderr


def test_an_open_duckdb_session_stops_a_refresh_in_one_line(demo_copy):
    config = str(demo_copy / "study.yml")
    study = load_study(config)
    study.warehouse.parent.mkdir(parents=True, exist_ok=True)
    analyst = hold(HOLD_WAREHOUSE, str(study.warehouse))
    try:
        proc = run_cli("refresh", "--config", config)
        assert proc.returncode == 3
        line = one_error_line(proc)
        assert f"(PID {analyst.pid})" in line and str(study.warehouse) in line
    finally:
        release(analyst)


@pytest.mark.slow
def test_a_session_opened_after_the_check_still_exits_3(demo_copy):
    """dbt itself finding the warehouse open (a session opened after the check): the build
    stops with WarehouseBusy naming the holder, not a failed check."""
    study = load_study(demo_copy / "study.yml")
    pipeline.extract(study, lambda _: None)
    study.warehouse.parent.mkdir(parents=True, exist_ok=True)
    analyst = hold(HOLD_WAREHOUSE, str(study.warehouse))
    try:
        with pytest.raises(Exception) as raised:
            pipeline.build(study, lambda _: None)
        # Busy (exit 3) and naming the holder; StageFailed, a failed check, would exit 1.
        assert type(raised.value).__name__ == "WarehouseBusy", raised.value
        assert f"(PID {analyst.pid})" in str(raised.value)
    finally:
        release(analyst)


@pytest.mark.parametrize("command", ["extract", "build", "publish", "refresh"])
def test_every_writing_command_takes_the_lock(demo_copy, command):
    config = str(demo_copy / "study.yml")
    with pipeline.refresh_lock(load_study(config)):
        proc = run_cli(command, "--config", config)
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = one_error_line(proc)
    assert f"rlhfw refresh (pid {os.getpid()})" in line


@pytest.mark.slow
def test_build_exits_3_while_a_refresh_runs(demo_copy, tmp_path):
    config = str(demo_copy / "study.yml")
    study = load_study(config)
    lock = lock_file(study)
    refresh = start([str(RLHFW), "refresh", "--config", config], tmp_path / "refresh.log")
    try:
        until(
            lambda: lock.exists() and lock.read_text().split()[:1] == [str(refresh.pid)],
            60,
            "the refresh to take the lock",
        )
        proc = run_cli("build", "--config", config)
        assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert f"another rlhfw refresh (pid {refresh.pid})" in one_error_line(proc)
        assert refresh.wait(timeout=300) == 0, (tmp_path / "refresh.log").read_text()[-3000:]
    finally:
        refresh.kill()
        refresh.wait()


def test_a_stale_lock_file_does_not_block(demo_copy):
    """The lock file of a process that died (its pid in it, no lock held) is taken over."""
    config = str(demo_copy / "study.yml")
    lock = lock_file(load_study(config))
    lock.parent.mkdir(parents=True, exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1)
    lock.write_text(f"{int(dead.stdout)} refresh")
    proc = run_cli("extract", "--config", config)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    pid, command = lock.read_text().split()
    assert pid != str(int(dead.stdout)) and command == "extract"


def test_a_lock_kept_by_a_dead_refresh_s_child_is_waited_for(demo_copy, tmp_path):
    """The lock held but its file naming a process that has exited: a child of a killed
    refresh, still exiting. The next command waits for it without --wait."""
    config = str(demo_copy / "study.yml")
    lock = lock_file(load_study(config))
    lock.parent.mkdir(parents=True, exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1)
    holder = hold(HOLD_LOCK, str(lock), f"{int(dead.stdout)} refresh")
    log = tmp_path / "extract.log"
    try:
        extract = start([str(RLHFW), "extract", "--config", config], log)
        until(lambda: "waiting for" in log.read_text() or extract.poll() is not None, 30, "a wait")
    finally:
        release(holder)
    assert extract.wait(timeout=120) == 0, log.read_text()[-3000:]
    assert f"waiting for a process left by rlhfw refresh (pid {int(dead.stdout)}" in log.read_text()


def test_wait_waits_for_the_lock(demo_copy, tmp_path):
    config = str(demo_copy / "study.yml")
    lock = lock_file(load_study(config))
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = hold(HOLD_LOCK, str(lock), f"{os.getpid()} refresh")  # pid: one that runs
    try:
        log = tmp_path / "extract.log"
        extract = start([str(RLHFW), "extract", "--config", config, "--wait", "60"], log)
        until(lambda: "waiting for" in log.read_text(), 30, "the wait message")
        assert extract.poll() is None  # still waiting
        release(holder)
        assert extract.wait(timeout=120) == 0, log.read_text()[-3000:]
        waits = [line for line in log.read_text().splitlines() if "waiting for" in line]
        assert len(waits) == 1 and f"rlhfw refresh (pid {os.getpid()})" in waits[0]
    finally:
        if holder.poll() is None:
            release(holder)


def test_wait_gives_up_with_exit_3(demo_copy):
    config = str(demo_copy / "study.yml")
    study = load_study(config)
    study.warehouse.parent.mkdir(parents=True, exist_ok=True)
    analyst = hold(HOLD_WAREHOUSE, str(study.warehouse))
    try:
        t0 = time.monotonic()
        proc = run_cli("build", "--config", config, "--wait", "1.5")
        assert time.monotonic() - t0 >= 1.5
        assert proc.returncode == 3
        assert f"(PID {analyst.pid})" in one_error_line(proc)
    finally:
        release(analyst)


@pytest.mark.slow
def test_wait_waits_for_the_warehouse_then_refreshes(demo_copy, tmp_path):
    config = str(demo_copy / "study.yml")
    study = load_study(config)
    study.warehouse.parent.mkdir(parents=True, exist_ok=True)
    analyst = hold(HOLD_WAREHOUSE, str(study.warehouse))
    try:
        log = tmp_path / "refresh.log"
        refresh = start([str(RLHFW), "refresh", "--config", config, "--wait", "120"], log)
        until(lambda: "waiting for" in log.read_text(), 30, "the wait message")
        assert f"(PID {analyst.pid}) to close warehouse" in log.read_text()
        assert refresh.poll() is None  # still waiting, before it starts anything
        release(analyst)
        assert refresh.wait(timeout=300) == 0, log.read_text()[-3000:]
        assert "refresh done" in log.read_text()
    finally:
        if analyst.poll() is None:
            release(analyst)
