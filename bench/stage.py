"""Run one pipeline stage in this process and print its wall time and peak RSS as JSON.

Each stage runs in its own process so its peak RSS is its own (DuckDB and dbt run in-process).
usage: python -m bench.stage STAGE CONFIG  (extract, build, publish, refresh, noop_refresh,
       pairs_only, pandas, alpha_package, alpha_sql)
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from rlhfw import pipeline
from rlhfw.dbt import PROJECT_DIR, run_dbt
from study_config import load_study


def _dbt_sql_seconds() -> float | None:
    """Wall-clock span of the nodes dbt ran (their SQL), from target/run_results.json."""
    from datetime import datetime

    path = PROJECT_DIR / "target" / "run_results.json"
    if not path.exists():
        return None
    starts, ends = [], []
    for node in json.loads(path.read_text())["results"]:
        for step in node.get("timing", []):
            if step.get("name") == "execute" and step.get("started_at"):
                starts.append(datetime.fromisoformat(step["started_at"].replace("Z", "+00:00")))
                ends.append(datetime.fromisoformat(step["completed_at"].replace("Z", "+00:00")))
    return (max(ends) - min(starts)).total_seconds() if starts else None


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage: Linux carries the parent's high-water mark
    across exec into ru_maxrss, so a child started by a big parent would report the parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_split() -> dict:
    """Seconds the last run's models and tests ran (summed, so two threads can exceed the wall
    time)."""
    results = json.loads((PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
    return {
        "models_cpu_seconds": sum(
            r["execution_time"] for r in results if r["unique_id"].startswith("model.")
        ),
        "tests_cpu_seconds": sum(
            r["execution_time"] for r in results if r["unique_id"].startswith("test.")
        ),
        "tests_run": sum(1 for r in results if r["unique_id"].startswith("test.")),
    }


def _top_nodes(n: int = 8) -> list[tuple[str, float]]:
    """The slowest dbt nodes of the last run: where the build's time goes."""
    path = PROJECT_DIR / "target" / "run_results.json"
    # unique ids: model.<project>.<name>, test.<project>.<name>[.<hash>]
    rows = [
        (r["unique_id"].split(".")[2], round(r["execution_time"], 2))
        for r in json.loads(path.read_text())["results"]
    ]
    return sorted(rows, key=lambda r: -r[1])[:n]


def main() -> None:
    stage, config = sys.argv[1], sys.argv[2]
    study = load_study(config)
    quiet = lambda _line: None  # noqa: E731 - the stage's own log is not what we measure
    t0 = time.perf_counter()
    extra: dict = {}
    if stage == "extract":
        report = pipeline.extract(study, quiet)
        extra["new_rows"] = report.new_rows
    elif stage == "build":
        pipeline.build(study, quiet)
        extra["sql_seconds"] = _dbt_sql_seconds()
        extra["top_nodes"] = _top_nodes()
        extra.update(_cpu_split())
    elif stage == "pairs_only":
        # The pandas baseline's equivalent: only the models that pair_scores needs, no tests,
        # from scratch into a scratch warehouse with its own dbt target folder, so
        # the study's warehouse and dbt's parse cache stay as a refresh would find them.
        scratch = study.model_copy(
            update={"warehouse": study.warehouse.with_name("pairs_only.duckdb")}
        )
        scratch.warehouse.unlink(missing_ok=True)
        select = ["--select", "+pair_scores", "+pair_ratings"]
        target = ["--target-path", str(study.warehouse.with_name("pairs_only-target"))]
        outcome = run_dbt(scratch, "run", [*select, *target])
        scratch.warehouse.unlink(missing_ok=True)
        if not outcome.ok:
            raise SystemExit("dbt run failed: " + "; ".join(outcome.failures[:3]))
    elif stage == "publish":
        report = pipeline.publish(study, quiet)
        extra.update(
            texts_scored=report.texts_scored,
            cache_hits=report.cache_hits,
            toxicity_seconds=report.toxicity_seconds,
            pairs=sum(report.pairs.values()),
        )
    elif stage == "refresh":
        # The refresh's stages one by one (same order, lock and recorded state as
        # `rlhfw refresh`), timed apart.
        with pipeline.refresh_lock(study):
            t_stage = time.perf_counter()
            pipeline.extract(study, quiet)
            state = pipeline.refresh_state(study)
            extra["extract_seconds"] = time.perf_counter() - t_stage
            t_stage = time.perf_counter()
            reason = pipeline.needs_full_refresh(study)
            extra["full_refresh"] = reason
            pipeline.build(study, quiet, full_refresh=reason is not None)
            extra["build_seconds"] = time.perf_counter() - t_stage
            extra["sql_seconds"] = _dbt_sql_seconds()
            extra["top_nodes"] = _top_nodes()
            extra.update(_cpu_split())
            t_stage = time.perf_counter()
            pipeline.publish(study, quiet, state=state)
            extra["publish_seconds"] = time.perf_counter() - t_stage
    elif stage == "noop_refresh":
        # `rlhfw refresh` when nothing new has arrived since the last one.
        extra["skipped"] = pipeline.refresh(study, quiet) is None
    elif stage == "pandas":
        from bench.baselines import pandas_counting

        scale = study.argilla.rating.scale
        extra.update(pandas_counting(study.landing, scale.min, scale.max))
        import duckdb

        con = duckdb.connect(str(study.warehouse), read_only=True)
        warehouse = con.execute(
            "select (select count(*) from analytics.written_responses),"
            " (select count(*) from analytics.pair_ratings),"
            " (select count(*) from analytics.pair_scores where not is_tie)"
        ).fetchall()[0]
        con.close()
        mine = (extra["counted_responses"], extra["counted_ratings"], extra["pairs_not_tied"])
        extra["same_counts_as_warehouse"] = tuple(warehouse) == mine
    elif stage == "alpha_package":
        from bench.baselines import alpha_package

        extra.update(alpha_package(study.warehouse))
    elif stage == "alpha_sql":
        from bench.baselines import sql_alpha

        extra.update(sql_alpha(study))
    else:
        raise SystemExit(f"unknown stage {stage}")
    # A baseline reports its own timing (without the reads a stage would not count).
    seconds = extra.pop("seconds", None) or time.perf_counter() - t0
    peak_mb = peak_rss_mb()
    print(json.dumps({"stage": stage, "seconds": seconds, "peak_rss_mb": peak_mb, **extra}))


if __name__ == "__main__":
    main()
