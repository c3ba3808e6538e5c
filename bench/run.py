"""`make bench`: time every stage at several study sizes, beside the obvious alternatives.

Writes bench/RESULTS.md and bench/results.json. Every number in them is measured by this run.
usage: python -m bench.run [--scales 1000,10000,100000] [--work bench/work]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _stage(name: str, *args: str) -> dict:
    """Run `python -m bench.stage NAME ARGS` and return the JSON line it prints."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.stage", name, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise SystemExit(f"bench stage {name} failed:\n" + "\n".join(tail))
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - t0
    return result


def _machine() -> dict:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import dbt.version
    import duckdb

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt": dbt.version.__version__,
    }


def _add_increment(study_dir: Path, all_ratings: int, fraction: float = 0.01) -> int:
    """Add new rating records (copies of existing ones under new ids) as a new source, with
    `fraction` of the study's `all_ratings` landed rating responses.

    The copies come from the study's flat Parquet export, sampled by the share that gives
    `fraction` of all rating responses (not of that one export's). Returns the number of
    rating responses added."""
    import duckdb

    config = yaml.safe_load((study_dir / "study.yml").read_text())
    flat = next(
        s for s in config["argilla"]["rating"]["sources"] if str(s["export"]).endswith(".parquet")
    )
    src = study_dir / flat["export"]
    dest = study_dir / "exports" / "rating_increment.parquet"
    con = duckdb.connect()
    in_flat = con.execute(
        f"select sum(len(\"preference.responses\")) from read_parquet('{src}')"
    ).fetchone()[0]
    percent = min(100.0, 100 * fraction * all_ratings / in_flat)
    con.execute(
        f"copy (select * replace ('inc-' || id as id) from read_parquet('{src}') "
        f"using sample {percent:.4f}% (bernoulli, 7)) to '{dest}' (format parquet)"
    ).fetchall()
    added = con.execute(
        f"select coalesce(sum(len(\"preference.responses\")), 0) from read_parquet('{dest}')"
    ).fetchone()[0]
    config["argilla"]["rating"]["sources"].append(
        {
            "export": "exports/rating_increment.parquet",
            "workspace": flat.get("workspace"),
            "name": "rating_increment",
        }
    )
    (study_dir / "study.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return int(added)


def _transformers_shape(warehouse: Path, work: Path, n_texts: int = 1000) -> dict:
    """Batched, length-sorted, cached scorer vs one-at-a-time, on a tiny local classifier."""
    import duckdb

    sys.path.insert(0, str(ROOT / "tests" / "publish"))
    from publish_models import build_classifier

    from bench.baselines import naive_transformers
    from publish.toxicity import TransformersScorer
    from study_config import Toxicity

    con = duckdb.connect(str(warehouse), read_only=True)
    texts = [
        r[0]
        for r in con.sql(
            "select response_text from analytics.written_responses "
            f"order by response_id limit {n_texts}"
        ).fetchall()
    ]
    con.close()
    model = build_classifier(
        work / "tiny-clf",
        ["ok", "toxic"],
        train=[("you are kind", 0), ("you are an idiot", 1)],
        steps=20,
    )
    cfg = Toxicity(backend="transformers", model=model, positive_labels=["toxic"], batch_size=32)
    scorer = TransformersScorer(cfg, work)
    scorer.load()
    t0 = time.perf_counter()
    scorer.score(texts)
    batched = time.perf_counter() - t0
    naive = naive_transformers(model, texts, "toxic")
    return {
        "texts": len(texts),
        "batched_seconds": batched,
        "naive_seconds": naive["seconds"],
        "speedup": naive["seconds"] / batched if batched else None,
    }


REFRESH_REPEATS = 3
# The largest default scale; a larger one is opt-in (`make bench SCALES=1000`): it runs under its
# own memory limit, loads its dataset with `datasets` and skips the in-memory baselines.
DEFAULT_LARGEST = 100_000
# What a refresh writes: the landing zone, the warehouse (and its markers), the dataset.
STATE = ("landing", "warehouse.duckdb", "warehouse.duckdb.last-build.json", "dataset")


def _save_state(base: Path) -> Path:
    saved = base / "before-refresh"
    shutil.rmtree(saved, ignore_errors=True)
    saved.mkdir()
    for name in STATE:
        _copy(base / name, saved / name)
    return saved


def _restore_state(base: Path, saved: Path) -> None:
    for name in STATE:
        target = base / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        _copy(saved / name, target)
    os.sync()  # the copy's write-back would otherwise compete with the timed refresh


def _copy(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest)
    elif src.exists():
        shutil.copy2(src, dest)


def run_scale(
    questions: int, work: Path, incremental: bool, memory_limit: str | None = None
) -> dict:
    """Generate a study of `questions` and time its full refresh (and, with `incremental`, the
    1% refresh); `memory_limit`: RLHFW_DUCKDB_MEMORY_LIMIT for this scale (None: the default)."""
    from rlhfw.demo import generate_demo

    os.environ.pop("RLHFW_DUCKDB_MEMORY_LIMIT", None)
    if memory_limit:
        os.environ["RLHFW_DUCKDB_MEMORY_LIMIT"] = memory_limit

    base = work / f"q{questions}"
    if base.exists():
        shutil.rmtree(base)
    t0 = time.perf_counter()
    demo = generate_demo(
        base / "study",
        questions=questions,
        seed=42,
        warehouse="../warehouse.duckdb",
        landing="../landing",
        publish_out="../dataset",
    )
    out: dict = {"questions": questions, "generate_seconds": time.perf_counter() - t0}
    out["memory_limit"] = memory_limit or "3GB (default)"
    config = str(base / "study" / "study.yml")
    print(f"[{questions}] generated in {out['generate_seconds']:.1f} s", flush=True)
    # The full refresh: one `rlhfw refresh` of the fresh study, as a team runs it on a first
    # load; its stages' times and peak RSS come from that one process.
    full = _stage("cli_refresh", config)
    out["full_seconds"] = full["seconds"]
    out["full_peak_rss_mb"] = full["peak_rss_mb"]
    out["after_publish_seconds"] = full["after_publish_seconds"]
    for stage in ("extract", "build", "publish"):
        out[stage] = full[stage]
        print(
            f"[{questions}] {stage}: {out[stage]['seconds']:.1f} s, "
            f"{out[stage]['peak_rss_mb'] or 0:.0f} MB",
            flush=True,
        )
    print(
        f"[{questions}] full refresh: {out['full_seconds']:.1f} s, "
        f"{out['full_peak_rss_mb']:.0f} MB",
        flush=True,
    )
    if questions > DEFAULT_LARGEST:
        out["load_dataset"] = _stage("load_dataset", config)
        print(
            f"[{questions}] every config and split loaded with datasets in "
            f"{out['load_dataset']['seconds']:.1f} s",
            flush=True,
        )
    # The baselines are compared at the default scales; at an opt-in scale the pandas
    # notebook alone would need several times this machine's memory.
    if questions <= DEFAULT_LARGEST:
        out["pairs_only"] = _stage("pairs_only", config)
        out["pandas"] = _stage("pandas", config)
        out["alpha_package"] = _stage("alpha_package", config)
        out["alpha_sql"] = _stage("alpha_sql", config)
    # What the generated files hold (records and responses per study, participants).
    out["counts"] = demo.counts
    out["disk_mb"] = {
        "landing": sum(f.stat().st_size for f in (base / "landing").rglob("*") if f.is_file())
        / 2**20,
        "warehouse": (base / "warehouse.duckdb").stat().st_size / 2**20,
    }
    if questions <= 1000:
        out["transformers"] = _transformers_shape(base / "warehouse.duckdb", base)
    if incremental:
        out["study_ratings"] = demo.counts["rating_responses"]
        out["increment_ratings"] = _add_increment(base / "study", out["study_ratings"])
        # This machine's timings vary by several seconds from run to run: the same refresh runs
        # three times from the same state, and the median counts.
        runs = []
        saved = _save_state(base)
        for attempt in range(REFRESH_REPEATS):
            if attempt:
                _restore_state(base, saved)
            runs.append(_stage("cli_refresh", config))
            print(f"[{questions}] 1% refresh run {attempt + 1}: {runs[-1]['seconds']:.1f} s")
        shutil.rmtree(saved)
        out["incremental_refresh"] = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        out["incremental_refresh_runs"] = [r["seconds"] for r in runs]
        out["noop_refresh"] = _stage("noop_refresh", config)
        # The same refresh stages with nothing new landed: dbt keeps every table and test,
        # publish writes the same files. What a refresh costs at this size before any new
        # rating is processed.
        out["fixed_refresh"] = _stage("cli_refresh", config, "--force")
        out["incremental_ratio"] = out["incremental_refresh"]["seconds"] / out["full_seconds"]
        print(
            f"[{questions}] incremental refresh: {out['incremental_refresh']['seconds']:.1f} s"
            f" = {out['incremental_ratio']:.0%} of full",
            flush=True,
        )
    return out


def _fmt(x: float | None, unit: str = "", digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}{unit}"


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on {m['date']}: {m['cpus']} CPUs ({m['cpu']}), "
        f"{m['memory_gb']} GB RAM, Python {m['python']}, DuckDB {m['duckdb']}, dbt {m['dbt']}.",
        "The full refresh is one `rlhfw refresh` of a freshly generated study, as a team runs "
        "it on a first load (extract, `dbt build` with every test, publish, then the run "
        "history row and the analysts' snapshot of the warehouse). Its stages' seconds are "
        "those it recorded in `analytics.refresh_runs`; a stage's peak RSS is the largest "
        "resident size sampled (every 0.1 s) while it ran; the refresh's is the process's "
        "high-water mark. Each baseline below ran in its own process.",
        "",
        "## Stages",
        "",
        "| questions | generate (s) | extract (s / MB) | dbt build (s / MB) | of which SQL (s) "
        "| publish (s / MB) | history + snapshot (s) | full refresh (s / MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["scales"]:
        e, b, p = r["extract"], r["build"], r["publish"]
        lines.append(
            f"| {r['questions']:,} | {_fmt(r['generate_seconds'])} | {_fmt(e['seconds'])} / "
            f"{_fmt(e['peak_rss_mb'], '', 0)} | {_fmt(b['seconds'])} / "
            f"{_fmt(b['peak_rss_mb'], '', 0)} | {_fmt(b.get('sql_seconds'))} | "
            f"{_fmt(p['seconds'])} / {_fmt(p['peak_rss_mb'], '', 0)} | "
            f"{_fmt(r.get('after_publish_seconds'))} | **{_fmt(r['full_seconds'])}** / "
            f"{_fmt(r.get('full_peak_rss_mb'), '', 0)} |"
        )
    limits = {r["questions"]: r["memory_limit"] for r in results["scales"] if "memory_limit" in r}
    if limits:
        lines += [
            "",
            "DuckDB's memory limit (`RLHFW_DUCKDB_MEMORY_LIMIT`, README \"Memory, threads and "
            'spilling"): '
            + ", ".join(f"{q:,} questions {limit}" for q, limit in limits.items())
            + ".",
        ]
    lines += _growth_markdown(results["scales"])
    for r in (r for r in results["scales"] if "load_dataset" in r):
        loaded = r["load_dataset"]
        counts = "; ".join(
            f"{config} " + ", ".join(f"{split} {n:,}" for split, n in splits.items())
            for config, splits in loaded["rows"].items()
        )
        lines += [
            "",
            f"At {r['questions']:,} questions the published dataset loads with `datasets` "
            f"(every config and split, offline, {loaded['seconds']:.1f} s, "
            f"{loaded['peak_rss_mb']:,.0f} MB): {counts} rows.",
        ]
    lines += [
        "",
        "dbt's fixed overhead (start, parse, compile, tests' bookkeeping) is the build time less "
        "the SQL span.",
    ]
    # The profile is taken by hand (EXPLAIN ANALYZE, cProfile), not by this run: kept in its
    # own file and shown here, so that a new bench run does not lose it.
    profile = ROOT / "bench" / "PROFILE.md"
    if profile.exists():
        lines += ["", profile.read_text().strip()]
    lines += [
        "",
        "## Against the obvious alternatives",
        "",
        "The pandas notebook reads the landed Parquet and computes counted ratings, pair means "
        "and chosen/rejected. Its like-for-like pipeline counterpart is `dbt run -s "
        "+pair_scores +pair_ratings` on the same landing zone (the models those outputs need, "
        "no tests); the full build also writes exclusions, agreement, completeness, annotator "
        "quality and runs every test. Both alphas start from the counted ratings: the package "
        "from a units x values count matrix built with pandas, the SQL from grouping every "
        "counted value by unit (`int_coded_values_grouped_by_unit`, built in full) and then "
        "`study_agreement`.",
        "",
        "| questions | pandas (s / MB) | same counts | dbt, same outputs (s / MB) | pandas ÷ dbt "
        "| full dbt build (s) | krippendorff pkg (s) | SQL alpha (s) | alpha equal |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in (r for r in results["scales"] if "pandas" in r):
        pd_r, same = r["pandas"], r["pairs_only"]
        a_pkg, a_sql = r["alpha_package"], r["alpha_sql"]
        equal = (
            "n/a"
            if a_sql.get("alpha") is None
            else str(abs(a_pkg["alpha"] - a_sql["alpha"]) < 1e-9)
        )
        lines.append(
            f"| {r['questions']:,} | {_fmt(pd_r['seconds'])} / {pd_r['peak_rss_mb']:,.0f} | "
            f"{pd_r.get('same_counts_as_warehouse')} | "
            f"{_fmt(same['seconds'])} / {same['peak_rss_mb']:,.0f} | "
            f"{pd_r['seconds'] / same['seconds']:.2f}x | {_fmt(r['build']['seconds'])} | "
            f"{_fmt(a_pkg['seconds'])} | {_fmt(a_sql.get('seconds'))} | {equal} |"
        )
    big = results["scales"][-1]
    lines += [
        "",
        f"Where the build's time goes at {big['questions']:,} questions (slowest nodes, "
        "seconds; two run at a time):",
        "",
        "| node | seconds |",
        "|---|---|",
        *[f"| `{name}` | {sec} |" for name, sec in big["build"].get("top_nodes", [])],
    ]
    for r in results["scales"]:
        t = r.get("transformers")
        if t:
            lines += [
                "",
                "## Toxicity scorer shape (tiny local classifier)",
                "",
                f"{t['texts']} texts: batched + length-sorted {t['batched_seconds']:.2f} s, "
                f"one text at a time {t['naive_seconds']:.2f} s ({t['speedup']:.1f}x). "
                "The cache then makes a re-publish score 0 texts (see `publish` cache hits).",
            ]
    for r in results["scales"]:
        if "incremental_refresh" in r:
            lines += _incremental_markdown(r)
    if "engines" in results:
        from bench.engines import markdown as engines_markdown

        lines += ["", *engines_markdown(results["engines"])]
    lines += ["", "Raw numbers: `bench/results.json`.", ""]
    return "\n".join(lines)


def growth_exponent(points: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of log(seconds) over log(questions): 1 is linear growth."""
    import math

    pts = [(math.log(q), math.log(s)) for q, s in points if q > 0 and s > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    var = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / var if var else None


def _growth_markdown(scales: list[dict]) -> list[str]:
    """Disk use per scale, and each stage's growth exponent from 10x up (fixed costs dominate
    below 10x)."""
    lines: list[str] = []
    if any("disk_mb" in r for r in scales):
        lines += ["", "| questions | landing (MB) | warehouse (MB) |", "|---|---|---|"]
        lines += [
            f"| {r['questions']:,} | {r['disk_mb']['landing']:,.0f} | "
            f"{r['disk_mb']['warehouse']:,.0f} |"
            for r in scales
            if "disk_mb" in r
        ]
    big = [r for r in scales if r["questions"] >= 10_000]
    exponents = {
        stage: growth_exponent([(r["questions"], r[stage]["seconds"]) for r in big])
        for stage in ("extract", "build", "publish")
    }
    full = [(r["questions"], r.get("full_seconds", 0)) for r in big]
    exponents["full refresh"] = growth_exponent(full)
    shown = ", ".join(f"{s} {e:.2f}" for s, e in exponents.items() if e is not None)
    if shown:
        sizes = ", ".join(f"{r['questions']:,}" for r in big)
        lines += [
            "",
            f"Growth exponent per stage (slope of log time over log questions, {sizes} "
            f"questions; 1 is linear): {shown}.",
        ]
    return lines


def _incremental_markdown(r: dict) -> list[str]:
    inc, full_build = r["incremental_refresh"], r["build"]
    noop = r.get("noop_refresh", {})
    runs = r.get("incremental_refresh_runs") or [inc["seconds"]]
    overhead = inc["build_seconds"] - (inc.get("sql_seconds") or 0)
    lines = [
        "",
        "## Incremental refresh",
        "",
        f"At {r['questions']:,} questions, {r['increment_ratings']:,} new ratings "
        + (
            f"({r['increment_ratings'] / r['study_ratings']:.2%} of the study's "
            f"{r['study_ratings']:,} landed ratings) "
            if r.get("study_ratings")
            else "(about 1%) "
        )
        + f"were added as a new export; `rlhfw refresh` took {inc['seconds']:.1f} s (the median "
        f"of {len(runs)} runs from the same state: "
        f"{', '.join(f'{x:.1f}' for x in runs)} s; extract "
        f"{inc['extract_seconds']:.1f}, build {inc['build_seconds']:.1f}, publish "
        f"{inc['publish_seconds']:.1f}) against {r['full_seconds']:.1f} s for the full refresh "
        f"of the fresh study: **{r['incremental_ratio']:.0%}** (target: at most 35% "
        "and 60 s).",
    ]
    if noop:
        lines += [
            "",
            f"A refresh with nothing new (`rlhfw refresh` again) took {noop['seconds']:.1f} s: "
            f"build and publish skipped: {noop.get('skipped')}.",
        ]
    fixed = r.get("fixed_refresh")
    if fixed:
        lines += [
            "",
            f"The same refresh stages forced through with nothing new (the same tables rebuilt, "
            f"the same files published) took {fixed['seconds']:.1f} s (extract "
            f"{fixed['extract_seconds']:.1f}, build {fixed['build_seconds']:.1f}, publish "
            f"{fixed['publish_seconds']:.1f}): "
            f"{fixed['seconds'] / r['full_seconds']:.0%} of the full refresh before a single "
            f"new rating is processed: the floor the 1% refresh stands on (every table "
            f"below staging rebuilt, every test run, the whole study's files written); the "
            f"increment's own work is the {inc['seconds'] - fixed['seconds']:.1f} s above it.",
        ]
    lines += [
        "",
        "The refresh is `dbt build`, the same as a plain build: the two Argilla staging tables "
        "are dbt `incremental` models that read the entities unseen batches touch; every other "
        'table is rebuilt and every test runs (docs/architecture.md, "Incremental refresh"). '
        f"Where its build's time went: dbt outside its SQL (start-up, parse, artifacts) "
        f"{overhead:.1f} s; model SQL {inc.get('models_cpu_seconds', 0):.1f} s and "
        f"{inc.get('tests_run', 0)} tests {inc.get('tests_cpu_seconds', 0):.1f} s, summed "
        f"over two threads (the full build: {full_build.get('models_cpu_seconds', 0):.1f} s "
        f"and {full_build.get('tests_cpu_seconds', 0):.1f} s). Slowest nodes:",
        "",
        "| node | seconds |",
        "|---|---|",
        *[f"| `{name}` | {sec} |" for name, sec in inc.get("top_nodes", [])],
        "",
        "The gap to the target is the floor above: every table below staging is rebuilt. "
        "Closing it needs the rating side (linking, oriented ratings, pair scores, grouped "
        "units) incremental by (rater, pair) group, and two things plain `is_incremental()` "
        "filters on new batches do not give: removing the rows of a group that a new version "
        "empties (a rating quarantined, a record relinked to another pair: `delete+insert` "
        "deletes only keys the new rows carry), and seeing changes that reach old rows "
        "(participants, sources, the writing side, settings), which would then have to send "
        "the refresh to `--full-refresh`. The engine this design replaced did both with row "
        "fingerprints and tombstones and took this refresh to 16%; it is gone on purpose "
        '(docs/architecture.md, "Incremental refresh").',
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1000,10000,100000")
    parser.add_argument(
        "--extra",
        default="",
        metavar="MULTIPLIERS",
        help="opt-in larger scales as multiples of the 1,000-question study (`make bench "
        "SCALES=1000` adds 1,000,000 questions)",
    )
    parser.add_argument(
        "--extra-memory-limit",
        default="8GB",
        help="RLHFW_DUCKDB_MEMORY_LIMIT for the opt-in scales (the default scales run with the "
        "profile's default, 3GB): a 1000x study on a machine with 12 GB to spare",
    )
    parser.add_argument("--work", default=str(ROOT / "bench" / "work"))
    parser.add_argument("--out", default=str(ROOT / "bench"))
    parser.add_argument(
        "--render",
        action="store_true",
        help="only write RESULTS.md again from the measured results.json (after a text change)",
    )
    parser.add_argument(
        "--engines",
        action="store_true",
        help="only build a 10x study on DuckDB, PostgreSQL and Spark (bench/engines.py) and "
        "add that to results.json and RESULTS.md",
    )
    args = parser.parse_args()
    out = Path(args.out)
    if args.engines:
        from bench.engines import run_engines

        work = Path(args.work)
        work.mkdir(parents=True, exist_ok=True)
        results = json.loads((out / "results.json").read_text())
        results["engines"] = run_engines(10_000, work) | {"date": _machine()["date"][:10]}
        (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
        (out / "RESULTS.md").write_text(markdown(results))
        print(f"wrote {out / 'RESULTS.md'}")
        return
    if args.render:
        results = json.loads((out / "results.json").read_text())
        (out / "RESULTS.md").write_text(markdown(results))
        print(f"wrote {out / 'RESULTS.md'} from {out / 'results.json'}")
        return
    scales = [int(s) for s in args.scales.split(",")]
    scales += [1000 * int(m) for m in args.extra.split(",") if m]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    # The engines' comparison is measured on its own (--engines) and kept.
    previous = out / "results.json"
    kept = json.loads(previous.read_text()).get("engines") if previous.exists() else None
    results = {"machine": _machine(), "scales": []} | ({"engines": kept} if kept else {})
    for q in scales:
        # The 1% refresh is measured at 100x (the largest default scale) even when larger
        # opt-in scales run: it is compared with that scale's full refresh.
        at = DEFAULT_LARGEST if DEFAULT_LARGEST in scales else max(scales)
        limit = args.extra_memory_limit if q > DEFAULT_LARGEST else None
        results["scales"].append(run_scale(q, work, incremental=q == at, memory_limit=limit))
        # Saved after each scale: a failure at a large scale keeps the smaller ones' figures.
        (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "RESULTS.md").write_text(markdown(results))
    print(f"wrote {out / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
