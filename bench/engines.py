"""The same study built on each engine: DuckDB, PostgreSQL and Spark, one after the other in
one run, from one landing zone (`python -m bench.run --engines`).

Each build is `rlhfw [--target NAME] build` of a fresh warehouse, in a process of its own,
timed from start to exit (PostgreSQL's includes loading the landed batches into the server).
The PostgreSQL server is a private one on this machine (tests/postgres.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _build(config: Path, target: str | None, env: dict[str, str]) -> float:
    args = [sys.executable, "-c", "from rlhfw.cli import main; main()"]
    args += ["--target", target] if target else []
    args += ["build", "--config", str(config), "--no-snapshot"]
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise SystemExit(f"{target or 'duckdb'} build failed:\n" + "\n".join(tail))
    return seconds


def run_engines(questions: int, work: Path) -> dict:
    from rlhfw.demo import generate_demo
    from tests.postgres import postgres_server

    base = work / f"engines-q{questions}"
    if base.exists():
        shutil.rmtree(base)
    demo = generate_demo(base / "study", questions=questions, seed=42)
    config = base / "study" / "study.yml"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    extract = [sys.executable, "-c", "from rlhfw.cli import main; main()", "extract"]
    subprocess.run([*extract, "--config", str(config)], cwd=ROOT, env=env, check=True)
    out: dict = {"questions": questions, "ratings": demo.counts["rating_responses"]}
    out["duckdb_seconds"] = _build(config, None, env)
    print(f"[engines] duckdb build: {out['duckdb_seconds']:.1f} s", flush=True)
    with postgres_server() as server:
        server.create_database("rlhfw_bench")
        out["postgres_seconds"] = _build(config, "postgres", {**env, **server.env("rlhfw_bench")})
    print(f"[engines] postgres build: {out['postgres_seconds']:.1f} s", flush=True)
    out["spark_seconds"] = _build(config, "spark", env)
    print(f"[engines] spark build: {out['spark_seconds']:.1f} s", flush=True)
    return out


def markdown(r: dict) -> list[str]:
    duck = r["duckdb_seconds"]
    rows = [
        ("DuckDB (`dev`)", duck),
        ("PostgreSQL 15 (`postgres`, loading included)", r["postgres_seconds"]),
        ("Spark 4, local session (`spark`)", r["spark_seconds"]),
    ]
    lines = [
        "## Engines",
        "",
        f"The same {r['questions']:,}-question study ({r['ratings']:,} landed ratings) built from "
        f"one landing zone on each engine, one after the other in one run ({r.get('date', '')}): "
        "`rlhfw [--target NAME] build` of a fresh warehouse, each in its own process, start to "
        "exit. PostgreSQL runs on this machine (`scripts/postgres_server.sh`); its time "
        "includes loading the landed batches into the server.",
        "",
        "| engine | build | vs DuckDB |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {s:,.1f} s | {s / duck:.1f}x |" for name, s in rows]
    return [*lines, ""]
