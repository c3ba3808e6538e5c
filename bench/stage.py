"""Run one pipeline stage in this process and print its wall time and peak RSS as JSON.

Each stage runs in its own process so its peak RSS is its own (DuckDB and dbt run in-process).
usage: python -m bench.stage STAGE CONFIG [ARGS]  (cli_refresh [--force], load_dataset,
       noop_refresh, pairs_only, pandas, alpha_package, alpha_sql)
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


class RssSampler:
    """This process's resident size every 0.1 s, in a thread, so that a run of several stages
    can say afterwards which stage held the most (VmHWM only gives the whole run's peak)."""

    def __init__(self) -> None:
        import threading

        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append((time.perf_counter(), int(line.split()[1]) / 1024))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> float | None:
        inside = [mb for t, mb in self.samples if start <= t <= end]
        return max(inside) if inside else None


def _cli_refresh(config: str, *args: str) -> dict:
    """`rlhfw refresh -c CONFIG [ARGS]` exactly as a user runs it (snapshot included), in this
    process; each stage's seconds from the run history row it wrote, each stage's peak RSS
    from the samples taken while it ran (the stages follow one another from the start)."""
    import duckdb
    from typer.main import get_command

    from rlhfw.cli import app

    study = load_study(config)
    with RssSampler() as rss:
        t0 = time.perf_counter()
        code = get_command(app).main(["refresh", "-c", config, *args], standalone_mode=False)
        seconds = time.perf_counter() - t0
    if code:  # the command's own error line is above, on stderr
        raise SystemExit(f"rlhfw refresh exited {code}")
    with duckdb.connect(str(study.warehouse), read_only=True) as con:
        extract_s, build_s, publish_s = con.execute(
            "select extract_seconds, build_seconds, publish_seconds from "
            "analytics.refresh_runs order by started_at desc limit 1"
        ).fetchone()
    out: dict = {"seconds": seconds}
    start = t0
    for stage, stage_seconds in (
        ("extract", extract_s),
        ("build", build_s),
        ("publish", publish_s),
    ):
        end = start + (stage_seconds or 0)
        out[stage] = {"seconds": stage_seconds, "peak_rss_mb": rss.peak_between(start, end)}
        out[f"{stage}_seconds"] = stage_seconds
        start = end
    # What follows publish in the command: the run history row and the warehouse's snapshot.
    out["after_publish_seconds"] = seconds - (start - t0)
    build = {"sql_seconds": _dbt_sql_seconds(), "top_nodes": _top_nodes(), **_cpu_split()}
    out["build"].update(build)
    return out | build


def main() -> None:
    stage, config = sys.argv[1], sys.argv[2]
    study = load_study(config)
    quiet = lambda _line: None  # noqa: E731 - the stage's own log is not what we measure
    t0 = time.perf_counter()
    extra: dict = {}
    if stage == "cli_refresh":
        extra.update(_cli_refresh(config, *sys.argv[3:]))
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
    elif stage == "load_dataset":
        # The published dataset as its users load it: every config and split with `datasets`,
        # offline, into a fresh cache beside the study.
        import tempfile

        import datasets
        from huggingface_hub import DatasetCard

        out = study.publish.out
        card = DatasetCard.load(out / "README.md")  # a local path: read, not downloaded
        configs = [c["config_name"] for c in card.data.to_dict()["configs"]]
        with tempfile.TemporaryDirectory(dir=out.parent) as cache:
            rows = {
                config: {
                    split: ds.num_rows
                    for split, ds in datasets.load_dataset(
                        str(out), config, cache_dir=cache
                    ).items()
                }
                for config in configs
            }
        extra["rows"] = rows
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
