"""Run one pipeline stage in this process and print its wall time and peak RSS as JSON.

Each stage runs in its own process so its peak RSS is its own (DuckDB and dbt run in-process).
usage: python -m bench.stage {extract,build,publish,refresh,pandas,alpha_package,alpha_sql} CONFIG
"""

from __future__ import annotations

import json
import resource
import sys
import time

from rlhfw import pipeline
from rlhfw.config import load_study
from rlhfw.dbt import PROJECT_DIR


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
    elif stage == "publish":
        report = pipeline.publish(study, quiet)
        extra.update(
            texts_scored=report.texts_scored,
            cache_hits=report.cache_hits,
            toxicity_seconds=report.toxicity_seconds,
            pairs=sum(report.pairs.values()),
        )
    elif stage == "refresh":
        pipeline.refresh(study, quiet)
    elif stage == "pandas":
        from bench.baselines import pandas_counting

        scale = study.argilla.rating.scale
        extra.update(pandas_counting(study.landing, scale.min, scale.max))
    elif stage == "alpha_package":
        from bench.baselines import alpha_package

        extra.update(alpha_package(study.warehouse))
    elif stage == "alpha_sql":
        from bench.baselines import sql_alpha

        extra.update(sql_alpha(study.warehouse))
    else:
        raise SystemExit(f"unknown stage {stage}")
    # A baseline reports its own timing (without the reads a stage would not count).
    seconds = extra.pop("seconds", None) or time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"stage": stage, "seconds": seconds, "peak_rss_mb": peak_mb, **extra}))


if __name__ == "__main__":
    main()
