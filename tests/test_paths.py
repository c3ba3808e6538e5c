"""Paths as users name them: a refresh from folders whose names SQL, dbt-duckdb's `{name}`
formatting and DuckDB's file glob would each misread, and one-line refusals (exit 2) of the
paths a study cannot write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.warehouse import connect_warehouse

pytestmark = pytest.mark.slow

# An apostrophe ends a SQL string, `{study}` / `{name}` are placeholders to dbt-duckdb's
# external_location formatting, `[1]` is a character class to DuckDB's glob. The warehouse's
# file name holds no quote: it names the database (tests/test_config.py).
STUDY_DIR = "it's a {study}/demo dir"
WAREHOUSE = "../it's wh {name} [1]/wh {x} [1] $y.duckdb"
LANDING = "../land {name} [1]/it's landing"
OUT = "../out's {y}/data set"


def cli(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rlhfw.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "300"},
    )


@pytest.fixture(scope="module")
def odd_study(tmp_path_factory) -> Path:
    """A 20-question demo study, and its warehouse, landing and dataset, in odd folders."""
    base = tmp_path_factory.mktemp("odd paths")
    study_dir = base / STUDY_DIR
    proc = cli(
        "demo", "--dir", str(study_dir), "--questions", "20", "--seed", "3",
        "--warehouse", WAREHOUSE, "--landing", LANDING, "--out", OUT,
        cwd=base,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return study_dir / "study.yml"


def test_refresh_runs_from_folders_named_with_quotes_spaces_braces_and_brackets(odd_study):
    study_dir = odd_study.parent
    # From another folder, so nothing can lean on the working directory.
    proc = cli("refresh", "--config", str(odd_study), cwd=study_dir.parent.parent)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr

    landing = (study_dir / LANDING).resolve()
    assert list((landing / "argilla" / "responses").glob("*.parquet"))
    warehouse = (study_dir / WAREHOUSE).resolve()
    con = connect_warehouse(warehouse)
    try:
        assert con.execute("select count(*) from pair_scores").fetchone()[0] > 0
        # The staging views read the landing zone by its odd absolute path.
        assert con.execute("select count(*) from stg_argilla__users").fetchone()[0] > 0
    finally:
        con.close()
    out = (study_dir / OUT).resolve()
    assert (out / "README.md").is_file()
    assert list(out.glob("*/train-*.parquet"))


def variant(config: Path, tmp_name: str, **paths: str) -> Path:
    """A copy of `config` beside it (so its relative inputs still resolve) with these
    top-level paths changed; `out` changes publish.out."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for key, value in paths.items():
        if key == "out":
            data["publish"]["out"] = value
        else:
            data[key] = value
    path = config.with_name(tmp_name)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def assert_refused(proc: subprocess.CompletedProcess, config: Path, *words: str) -> None:
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {config}: ")
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("paths", "words"),
    [
        ({"warehouse": "a file/w.duckdb"}, ("warehouse", "a file", "is a file")),
        ({"warehouse": "a file/deeper/w.duckdb"}, ("warehouse", "is a file")),
        ({"landing": "a file"}, ("landing", "is a file")),
        ({"landing": "a file/landing"}, ("landing", "is a file")),
        ({"out": "a file/ds"}, ("publish.out", "is a file")),
        ({"warehouse": "../it's.duckdb"}, ("warehouse", "quote")),
        ({"warehouse": "../wh #1/w.duckdb"}, ("warehouse", "URL")),
    ],
)
def test_unusable_paths_exit_2_in_one_line(odd_study, tmp_path, paths, words):
    (odd_study.parent / "a file").write_text("not a folder\n")
    config = variant(odd_study, f"{tmp_path.name}.yml", **paths)
    proc = cli("refresh", "--config", str(config), cwd=tmp_path)
    assert_refused(proc, config, *words)


def _can_mount_read_only() -> bool:
    """Whether this machine lets us mount a read-only file system in a private namespace."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o ro tmpfs /tmp"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="cannot mount a read-only file system")
@pytest.mark.parametrize(
    ("paths", "read_only", "key"),
    [
        ({"landing": "ro"}, "ro", "landing"),
        ({"landing": "ro/landing"}, "ro", "landing"),
        ({"warehouse": "ro/w.duckdb"}, "ro", "warehouse"),
        ({"warehouse": "ro/sub/w.duckdb"}, "ro", "warehouse"),
    ],
)
def test_read_only_folders_exit_2_in_one_line(odd_study, tmp_path, paths, read_only, key):
    """A read-only file system stops root too (permission bits do not), so the folder is
    mounted read-only in a private mount namespace that only this command sees."""
    folder = odd_study.parent / read_only
    folder.mkdir(exist_ok=True)
    config = variant(odd_study, f"{tmp_path.name}.yml", **paths)
    script = 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"'
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", str(folder),
         sys.executable, "-m", "rlhfw.cli", "refresh", "--config", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert_refused(proc, config, key, "not writable")
