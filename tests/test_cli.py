"""The CLI through its runner and as a process: help everywhere, exit codes as documented."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rlhfw.cli import app
from rlhfw.pipeline import RefreshLocked, refresh_lock
from study_config import load_study

runner = CliRunner()


@pytest.mark.parametrize("command", ["demo", "extract", "build", "publish", "refresh"])
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--help" in result.output
    # Every command that writes the warehouse or the landing zone can wait for it.
    assert ("--wait" in result.output) == (command != "demo")


def test_bad_config_exits_2_with_one_line_and_no_traceback(tmp_path):
    path = tmp_path / "study.yml"
    path.write_text("name: x\nargilla: {writing: {sources: []}}\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "rlhfw.cli", "extract", "--config", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0] and "argilla.rating" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_missing_config_exits_2(tmp_path):
    result = runner.invoke(app, ["build", "--config", str(tmp_path / "none.yml")])
    assert result.exit_code == 2


def test_a_second_refresh_is_refused_while_one_runs(tmp_path):
    path = tmp_path / "study.yml"
    (tmp_path / "w.parquet").write_bytes(b"")
    path.write_text(
        "name: x\nargilla:\n  writing: {sources: [{export: w.parquet}]}\n"
        "  rating: {sources: [{export: w.parquet}]}\n",
        encoding="utf-8",
    )
    study = load_study(path)
    with refresh_lock(study):
        with pytest.raises(RefreshLocked, match=rf"another rlhfw refresh \(pid {os.getpid()}\)"):
            with refresh_lock(study):
                pass
        result = runner.invoke(app, ["refresh", "--config", str(path)])
        assert result.exit_code == 3
    with refresh_lock(study):  # released after the first one ends
        pass


def test_an_unforeseen_failure_is_one_line_and_its_traceback_a_file(demo_copy, monkeypatch):
    from rlhfw import pipeline

    def broken(*_args, **_kwargs):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(pipeline, "extract", broken)
    monkeypatch.delenv("RLHFW_DEBUG", raising=False)
    result = runner.invoke(app, ["extract", "--config", str(demo_copy / "study.yml")])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0].startswith("error: unexpected RuntimeError: something nobody foresaw")
    report = lines[0].rsplit("traceback in ", 1)[1].strip()
    assert "Traceback" in open(report, encoding="utf-8").read()
    os.unlink(report)


def test_an_unknown_target_exits_2_before_anything_runs(demo_copy):
    result = runner.invoke(
        app, ["--target", "oracle", "build", "--config", str(demo_copy / "study.yml")]
    )
    assert result.exit_code == 2
    assert "no target 'oracle' in profiles.yml (dev, postgres, spark)" in result.output
    assert not (demo_copy / "data" / "warehouse.duckdb").exists()


def test_an_unreachable_postgres_exits_2_in_one_line(demo_copy, monkeypatch):
    """The server's address comes from libpq's env vars; nothing listens on this port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", str(port))
    monkeypatch.setenv("PGPASSWORD", "secret-never-shown")
    config = str(demo_copy / "study.yml")
    assert runner.invoke(app, ["extract", "--config", config]).exit_code == 0
    result = runner.invoke(app, ["--target", "postgres", "build", "--config", config])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert lines == [lines[0]] and "cannot connect to PostgreSQL" in lines[0], result.output
    assert "secret-never-shown" not in result.output


def test_study_yml_target_is_read_and_the_flag_overrides_it(demo_copy):
    path = demo_copy / "study.yml"
    path.write_text(path.read_text("utf-8") + "target: spark\n", encoding="utf-8")
    from engines import target_name

    assert target_name(load_study(path)) == "spark"
    result = runner.invoke(app, ["--target", "nosuch", "extract", "--config", str(path)])
    assert result.exit_code == 2 and "no target 'nosuch'" in result.output
