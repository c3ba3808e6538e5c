"""The stages as plain functions: extract, build, publish, and refresh (all three, under a lock)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from extract.landing import Landing, LandResult
from rlhfw.config import Study
from rlhfw.dbt import DbtOutcome, PreparedBuild, run_dbt

Log = Callable[[str], None]


class StageFailed(RuntimeError):
    """A stage ran but its checks failed (dbt test failure, ...): exit code 1."""


class RefreshLocked(RuntimeError):
    """Another refresh holds the lock for this warehouse: exit code 3."""


@dataclass
class ExtractReport:
    results: list[LandResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def new_rows(self) -> int:
        return sum(r.new_rows for r in self.results)


def summarize(results: list[LandResult]) -> list[str]:
    """One line per landed table: rows new / unchanged, summed over its sources."""
    totals: dict[str, list[int]] = {}
    for r in results:
        t = totals.setdefault(f"{r.source}/{r.table}", [0, 0])
        t[0] += r.new_rows
        t[1] += r.unchanged_rows
    return [f"{name:<28} {new:>9,} new {old:>9,} unchanged" for name, (new, old) in totals.items()]


def extract(study: Study, log: Log = print) -> ExtractReport:
    """Land Prolific and Argilla data and the study's settings."""
    from extract.argilla import land_argilla, read_argilla
    from extract.prolific import land_prolific, read_prolific
    from extract.settings import land_settings

    landing = Landing(study.landing)
    report = ExtractReport()
    try:
        # Read every source first: a bad file stops the run before anything lands.
        prolific = read_prolific(study, progress=log, landing=landing)
        argilla = read_argilla(study, landing, log=log)
        report.results.extend(land_prolific(prolific, landing, progress=log))
        landed = land_argilla(argilla, landing)
        report.results.extend(landed.results)
        report.warnings.extend(landed.warnings)
        report.results.extend(land_settings(study, landing, landed.formats))
    finally:
        landing.close()
    for warning in dict.fromkeys(report.warnings):  # each distinct warning once
        log(f"warning: {warning}")
    for line in summarize(report.results):
        log(line)
    return report


def build(study: Study, log: Log = print, prepared: PreparedBuild | None = None) -> DbtOutcome:
    """`dbt build` (models + tests), in-process or by a `prepared` child. Raises StageFailed
    when anything fails."""
    t0 = time.perf_counter()
    outcome = prepared.run() if prepared is not None else run_dbt(study, "build")
    counts = ", ".join(f"{n} {s}" for s, n in sorted(outcome.counts.items()))
    log(f"dbt build: {counts or 'nothing ran'} in {time.perf_counter() - t0:.1f} s")
    if not outcome.ok:
        for failure in outcome.failures[:20]:
            log(failure)
        raise StageFailed("dbt build failed: nothing published; see the lines above")
    return outcome


def publish(
    study: Study, log: Log = print, push_to_hub: str | None = None, state: dict | None = None
):
    from publish import run_publish

    return run_publish(study, push_to_hub=push_to_hub, refresh_state=state)


def refresh_state(study: Study) -> dict[str, str]:
    """What a refresh's outputs are a function of: the landed files (immutable, so their names
    and sizes), the resolved study settings, and the code of the models and of publish."""
    from rlhfw.dbt import PROJECT_DIR, code_version

    landed = hashlib.sha256()
    for path in sorted(study.landing.rglob("*.parquet")):
        rel = path.relative_to(study.landing)
        if rel.parts[0] != "_meta":
            landed.update(f"{rel}:{path.stat().st_size}\n".encode())
    code = hashlib.sha256(code_version().encode())
    for path in sorted((PROJECT_DIR / "publish").glob("*.py")):
        code.update(path.read_bytes())
    return {
        "landing": landed.hexdigest()[:16],
        "study": hashlib.sha256(study.model_dump_json().encode()).hexdigest()[:16],
        "code": code.hexdigest()[:16],
    }


def published_state(study: Study) -> dict | None:
    """The refresh state recorded with the published dataset, if a refresh published it."""
    from publish.dataset import MARKER

    try:
        marker = json.loads((Path(study.publish.out) / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return marker.get("refresh_state") if isinstance(marker, dict) else None


@contextmanager
def refresh_lock(study: Study) -> Iterator[None]:
    """An exclusive, non-blocking lock next to the warehouse; released when the process dies."""
    path = Path(str(study.warehouse) + ".refresh.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise RefreshLocked(
                f"another refresh of {study.warehouse} is running (pid {holder}); not starting"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def refresh(study: Study, log: Log = print, push_to_hub: str | None = None, force: bool = False):
    """Extract, build, publish; one at a time per warehouse.

    When the extract landed nothing and the landed files, the study settings and the code are
    those the published dataset was refreshed from, build and publish are skipped (returns
    None): the scheduled refresh of a study with nothing new costs only its extract."""
    with refresh_lock(study):
        t0 = time.perf_counter()
        # dbt's start-up (import, project load) runs in a child while the extract runs.
        prepared = PreparedBuild(study)
        try:
            report = extract(study, log)
            state = refresh_state(study)
            unchanged = (
                not force
                and not push_to_hub
                and report.new_rows == 0
                and study.warehouse.exists()
                and published_state(study) == state
            )
            if unchanged:
                log(
                    "nothing new since the last refresh (same landed data, settings and code): "
                    f"build and publish skipped in {time.perf_counter() - t0:.1f} s; "
                    "--force redoes them"
                )
                return None
            build(study, log, prepared)
            result = publish(study, log, push_to_hub, state)
        finally:
            prepared.cancel()  # a no-op once it has built
            prepared.wait()  # once built, the child exits while publish runs
        log(f"refresh done in {time.perf_counter() - t0:.1f} s")
        return result
