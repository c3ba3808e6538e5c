"""Proof of equality (issue 20): whatever changes in a study's inputs, `rlhfw refresh` leaves every
public mart exactly as a from-scratch `dbt build --full-refresh` of the same landing zone builds
it, and an analyst's plain `dbt build` on a refreshed warehouse leaves every mart as it was.

These tests hold for any correct implementation of the models, so they use public interfaces
only: the `rlhfw` CLI (demo, refresh, extract), the plain `dbt` CLI, the study's input files and
DuckDB reads of the marts that models/marts/*.sql defines. Real CLI runs, real dbt, real DuckDB,
on a 40-question demo study. Each step is a refresh and a full build, ~15 s each: measured
5.5-6.5 + 3 minutes (9.5 in all, 5.8 of CPU) on a 2-core machine that other work shared.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from study_edits import Answer, Export, prolific_statuses, set_prolific_status

from tests.warehouse import connect_warehouse

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RLHFW, DBT = str(BIN / "rlhfw"), str(BIN / "dbt")
SALT = {"RLHFW_PSEUDONYM_SALT": "a-fixed-test-salt"}
QUESTIONS, SEED = 40, 7
FLOAT_TOLERANCE = 1e-9

Rows = list[tuple]


# -- running the CLIs ------------------------------------------------------------------------


def run(args: list[str], **env: str) -> str:
    done = subprocess.run(
        args,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **SALT, **env},
        timeout=600,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args[:2])} failed:\n{said[-6000:]}"
    assert "Traceback" not in done.stderr, said[-6000:]
    return said


@dataclass
class Study:
    """A demo study on disk, driven through the rlhfw CLI."""

    root: Path

    @property
    def yml(self) -> Path:
        return self.root / "study.yml"

    @property
    def warehouse(self) -> Path:
        return self.root / "data" / "warehouse.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "data" / "landing"

    def config(self) -> dict:
        return yaml.safe_load(self.yml.read_text(encoding="utf-8"))

    def exports(self, role: str) -> dict[str, Export]:
        """The study's Argilla exports of one role (writing, rating), by dataset name."""
        return {
            source["name"]: Export.load(self.root / source["export"])
            for source in self.config()["argilla"][role]["sources"]
        }

    def prolific_csv(self, role: str) -> Path:
        return self.root / self.config()["prolific"][role]["export"]

    def refresh(self) -> str:
        said = run([RLHFW, "refresh", "--config", str(self.yml)])
        assert "nothing new" not in said, "the change did not reach the refresh:\n" + said[-3000:]
        return said

    def query(self, sql: str) -> Rows:
        con = connect_warehouse(self.warehouse)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


def make_study(dest: Path) -> Study:
    run(
        [RLHFW, "demo", "--dir", str(dest), "--questions", str(QUESTIONS), "--seed", str(SEED)]
        + ["--warehouse", "data/warehouse.duckdb", "--landing", "data/landing"]
    )
    return Study(dest)


def plain_dbt_build(landing: Path, warehouse: Path, *extra: str, target: Path | None = None):
    """`dbt build` as an analyst types it in the repo root, pointed at a landing zone and a
    warehouse by the env vars profiles.yml and the sources read."""
    args = [DBT, "build", *extra, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT)]
    if target is not None:  # the oracle's build keeps out of the repo's target/ and logs/
        args += ["--target-path", str(target / "target"), "--log-path", str(target / "logs")]
    run(args, RLHFW_WAREHOUSE=str(warehouse), RLHFW_LANDING=str(landing))


def full_build(study: Study, workdir: Path) -> Path:
    """A from-scratch build of a copy of the study's landing zone; returns its warehouse."""
    workdir.mkdir(parents=True)
    landing = workdir / "landing"
    shutil.copytree(study.landing, landing)
    warehouse = workdir / "warehouse.duckdb"
    plain_dbt_build(landing, warehouse, "--full-refresh", target=workdir)
    return warehouse


# -- reading and comparing the marts ---------------------------------------------------------


def public_marts() -> list[str]:
    """The marts folder's models: what the warehouse promises its readers."""
    names = sorted(p.stem for p in (ROOT / "models" / "marts").glob("*.sql"))
    assert "pair_scores" in names and "written_responses" in names, names
    return names


@dataclass
class Mart:
    columns: tuple[str, ...]
    rows: Rows = field(repr=False)


def _sort_key(row: tuple) -> tuple:
    # Floats rounded so that two builds whose floats differ in the last bits sort alike.
    out = []
    for value in row:
        if value is None:
            out.append((0, 0))
        elif isinstance(value, float):
            out.append((1, "nan" if math.isnan(value) else round(value, 6)))
        else:
            out.append((1, value))
    return tuple(out)


def read_marts(warehouse: Path) -> dict[str, Mart]:
    """Every public mart's rows, sorted, columns by name (bookkeeping columns left out)."""
    con = connect_warehouse(warehouse)
    try:
        out = {}
        for name in public_marts():
            cols = con.execute(f"select name from pragma_table_info('{name}')").fetchall()
            columns = tuple(sorted(c for (c,) in cols))
            assert columns, f"{warehouse} has no mart {name}"
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {listed} from "{name}"').fetchall()
            out[name] = Mart(columns, sorted(rows, key=_sort_key))
        return out
    finally:
        con.close()


def _same_value(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return a == b and type(a) is type(b)


def _same_row(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))


def differences(got: dict[str, Mart], want: dict[str, Mart], shown: int = 4) -> list[str]:
    """What differs, mart by mart, row for row: empty when every mart is the same."""
    out = []
    for name in sorted(set(got) | set(want)):
        if name not in got or name not in want:
            out.append(f"{name}: only in {'the first' if name in got else 'the second'}")
            continue
        a, b = got[name], want[name]
        if a.columns != b.columns:
            out.append(f"{name}: columns {a.columns} vs {b.columns}")
            continue
        if len(a.rows) == len(b.rows) and all(map(_same_row, a.rows, b.rows)):
            continue
        # Rows that differ, floats rounded as in the sort (a multiset difference).
        ka, kb = Counter(map(_sort_key, a.rows)), Counter(map(_sort_key, b.rows))
        extra, missing = list((ka - kb).elements()), list((kb - ka).elements())
        lines = [f"{name} ({', '.join(a.columns)}): {len(a.rows)} rows vs {len(b.rows)}"]
        lines += [f"  only in the first:  {_plain(k)}" for k in extra[:shown]]
        lines += [f"  only in the second: {_plain(k)}" for k in missing[:shown]]
        if len(extra) > shown or len(missing) > shown:
            lines.append(f"  ... {len(extra)} and {len(missing)} rows in all")
        if not extra and not missing:
            lines.append("  (the rows differ by less than the sort's rounding, more than 1e-9)")
        out.append("\n".join(lines))
    return out


def _plain(key: tuple) -> tuple:
    return tuple(None if tag == 0 else value for tag, value in key)


# -- the changes -----------------------------------------------------------------------------
#
# Each edits the study's inputs the way a new export or an edited study.yml would, checks that
# it really edited something, and returns a check of the refreshed warehouse that shows the edit
# arrived (a change that changes nothing proves nothing).

Check = Callable[[Study], None]


def add_ratings(study: Study) -> Check:
    """A new export of every rating dataset, each with one more rating: of a pair counted so far,
    by one of the raters counted so far who had not rated it."""
    counted = set(study.query("select dataset, record_id from pair_ratings"))
    raters = [u for (u,) in study.query("select distinct rater_user_id from pair_ratings")]
    question = study.config()["argilla"]["rating"]["rating_question"]
    before = study.query("select count(*) from pair_ratings")[0][0]
    added_to_counted = 0
    for name, export in study.exports("rating").items():
        candidates = [r for r in export.rows if (name, export.record_id(r)) in counted]
        for row in candidates or export.rows:
            answers = export.answers(row, question)
            status = None if answers and answers[0].status is None else "submitted"
            new = [u for u in raters if u not in {a.user_id for a in answers}]
            if new:
                export.set_answers(row, question, [*answers, Answer(new[0], 2, status)])
                added_to_counted += bool(candidates)
                break
        else:
            raise AssertionError(f"no rating to add in {name}")
        export.save()
    assert added_to_counted >= 3

    def check(s: Study) -> None:
        assert s.query("select count(*) from pair_ratings")[0][0] > before

    return check


def _approved(study: Study, role: str, sql: str) -> str:
    """The first participant the query lists whose submissions are all APPROVED."""
    statuses = prolific_statuses(study.prolific_csv(role))
    for (pid,) in study.query(sql):
        if statuses.get(pid) == {"APPROVED"}:
            return pid
    raise AssertionError(f"no APPROVED {role} participant among: {sql}")


# Usernames are personal data: the marts carry user ids, `participants` (personal schema) the rest.
WRITTEN_BY = "written_responses inner join participants on writer_user_id = user_id"
RATED_BY = "pair_ratings inner join participants on rater_user_id = user_id"


def reject_a_writer_and_a_rater(study: Study, rejected: dict[str, str]) -> Check:
    """Prolific: a writer's and a rater's submissions go from APPROVED to REJECTED."""
    rejected["writing"] = _approved(
        study,
        "writing",
        f"select username from {WRITTEN_BY} group by 1 order by count(*) desc, 1",
    )
    rejected["rating"] = _approved(
        study,
        "rating",
        f"select username from {RATED_BY} group by 1 order by count(*) desc, 1",
    )
    for role, pid in rejected.items():
        assert set_prolific_status(study.prolific_csv(role), pid, "REJECTED") > 0

    def check(s: Study) -> None:
        writer, rater = rejected["writing"], rejected["rating"]
        assert s.query(f"select count(*) from {WRITTEN_BY} where username = '{writer}'") == [(0,)]
        assert s.query(f"select count(*) from {RATED_BY} where username = '{rater}'") == [(0,)]

    return check


def approve_again(study: Study, rejected: dict[str, str]) -> Check:
    """Prolific: the same submissions back to APPROVED, a value back to an earlier version."""
    for role, pid in rejected.items():
        assert set_prolific_status(study.prolific_csv(role), pid, "APPROVED") > 0

    def check(s: Study) -> None:
        writer = rejected["writing"]
        assert s.query(f"select count(*) from {WRITTEN_BY} where username = '{writer}'")[0][0]

    return check


EDITED = " (edited after review)"


def edit_response_texts(study: Study) -> Check:
    """A new export of every writing dataset in which one written answer was edited: one that a
    counted pair shows, so the edit also unlinks the ratings of its pairs."""
    paired = {
        t
        for row in study.query("select response_1_text, response_2_text from pair_scores")
        for t in row
    }
    counted = {t for (t,) in study.query("select response_text from written_responses")}
    question = study.config()["argilla"]["writing"]["response_question"]
    edited_paired = 0
    for name, export in study.exports("writing").items():
        for target in (paired & counted, counted):
            found = next(
                (
                    (row, i)
                    for row in export.rows
                    for i, a in enumerate(export.answers(row, question))
                    if a.value in target
                ),
                None,
            )
            if found:
                break
        assert found, f"no counted answer in {name}"
        row, i = found
        answers = export.answers(row, question)
        edited_paired += answers[i].value in paired
        answers[i] = Answer(answers[i].user_id, answers[i].value + EDITED, answers[i].status)
        export.set_answers(row, question, answers)
        export.save()
    assert edited_paired > 0

    def check(s: Study) -> None:
        n = s.query(f"select count(*) from written_responses where response_text like '%{EDITED}'")
        assert n[0][0] > 0

    return check


BATCH_2 = " (batch 2)"


def add_writing_batch(study: Study) -> Check:
    """A new batch in every writing dataset: a new question, answered by the writers of one
    that is there (new texts, the same people, their quality ratings too)."""
    config = study.config()["argilla"]["writing"]
    question, response = config["question_field"], config["response_question"]
    before = study.query("select count(*) from written_responses")[0][0]
    for name, export in study.exports("writing").items():
        source = next(r for r in export.rows if len(export.answers(r, response)) >= 2)
        new = export.copy_as_new_record(source, tag="batch-2")
        export.set_field(new, question, export.field(source, question) + BATCH_2)
        export.set_answers(
            new,
            response,
            [
                Answer(a.user_id, a.value + BATCH_2, a.status)
                for a in export.answers(source, response)
            ],
        )
        export.set_batch(new, 2)
        export.rows.append(new)
        export.save()
        assert Export.load(export.path).rows[-1] == new, name

    def check(s: Study) -> None:
        assert s.query("select count(*) from written_responses")[0][0] > before
        got = s.query(
            f"select count(*) from question_quality where question_text like '%{BATCH_2}'"
        )
        assert got[0][0] > 0

    return check


def edit_yml(study: Study, *replacements: tuple[str, str]) -> None:
    text = study.yml.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    study.yml.write_text(text, encoding="utf-8")


def change_settings(study: Study, saved: dict[str, str]) -> Check:
    """study.yml: AWAITING REVIEW no longer counted, low ratings now mean response B, and the
    ratings of a `to_disk` dataset without statuses counted as submitted instead of excluded."""
    saved["study.yml"] = study.yml.read_text(encoding="utf-8")
    edit_yml(
        study,
        ("  - APPROVED\n  - AWAITING REVIEW\n", "  - APPROVED\n"),
        ("      low_means: response_a\n", "      low_means: response_b\n"),
        ("      status_if_missing: exclude\n", "      status_if_missing: submitted\n"),
    )

    def check(s: Study) -> None:
        assert s.query(
            "select count(*) from exclusions where exclusion_reason = 'status_unknown_excluded'"
        ) == [(0,)]

    return check


def swap_response_fields(study: Study, saved: dict[str, str]) -> Check:
    """study.yml's field mapping: the rating datasets' response A and B fields swapped."""
    saved["study.yml"] = study.yml.read_text(encoding="utf-8")
    edit_yml(
        study,
        ("    response_a_field: response_a\n", "    response_a_field: response_b\n"),
        ("    response_b_field: response_b\n", "    response_b_field: response_a\n"),
    )
    return lambda s: None  # the marts differ: checked for every change


def restore_yml(study: Study, saved: dict[str, str]) -> Check:
    """study.yml back as it was before the last change of it."""
    study.yml.write_text(saved.pop("study.yml"), encoding="utf-8")
    return lambda s: None


# -- the tests -------------------------------------------------------------------------------


def assert_equal_to_a_full_build(study: Study, workdir: Path, what: str) -> dict[str, Mart]:
    """The study's marts equal those of a from-scratch build of its landing zone; returns them."""
    got = read_marts(study.warehouse)
    want = read_marts(full_build(study, workdir))
    found = differences(got, want)
    assert not found, (
        f"after {what}, the study's warehouse (first) and a full build (second) differ:\n"
        + "\n".join(found)
    )
    return got


def test_a_refresh_after_each_kind_of_change_equals_a_full_build(tmp_path: Path) -> None:
    """One change at a time, each refreshed, then every public mart compared row for row with a
    `dbt build --full-refresh` of a copy of the same landing zone."""
    study = make_study(tmp_path / "study")
    study.refresh()
    marts = assert_equal_to_a_full_build(study, tmp_path / "full-0", "the first refresh")
    rejected: dict[str, str] = {}
    saved: dict[str, str] = {}
    snapshots: dict[str, dict[str, Mart]] = {}
    # (what, change, the snapshot the marts must equal again after it: a value back to an
    # earlier version gives the earlier marts back)
    steps: list[tuple[str, Callable[[], Check], str | None]] = [
        ("new ratings in every rating export", lambda: add_ratings(study), None),
        (
            "a writer and a rater APPROVED -> REJECTED",
            lambda: reject_a_writer_and_a_rater(study, rejected),
            None,
        ),
        (
            "the same submissions back to APPROVED",
            lambda: approve_again(study, rejected),
            "new ratings in every rating export",
        ),
        (
            "an edited response text in every writing export",
            lambda: edit_response_texts(study),
            None,
        ),
        ("a new writing batch in every writing export", lambda: add_writing_batch(study), None),
        ("changed study settings", lambda: change_settings(study, saved), None),
        (
            "study settings restored",
            lambda: restore_yml(study, saved),
            "a new writing batch in every writing export",
        ),
        ("a changed field mapping", lambda: swap_response_fields(study, saved), None),
        (
            "the field mapping restored",
            lambda: restore_yml(study, saved),
            "study settings restored",
        ),
    ]
    failures = []
    for n, (what, change, same_as) in enumerate(steps, start=1):
        check = change()
        study.refresh()
        check(study)
        got = read_marts(study.warehouse)
        assert differences(got, marts), f"{what}: no mart changed, so this step proves nothing"
        if same_as is not None:
            back = differences(got, snapshots[same_as])
            failures += [f"after {what}, vs the marts after {same_as}:\n{d}" for d in back]
        want = read_marts(full_build(study, tmp_path / f"full-{n}"))
        failures += [
            f"after {what}, refreshed (first) vs full build (second):\n{d}"
            for d in differences(got, want)
        ]
        snapshots[what] = marts = got
    # All steps run even when one differs: which changes a refresh gets wrong is the finding.
    assert not failures, "\n\n".join(failures)


def test_a_plain_dbt_build_on_a_refreshed_warehouse_changes_no_mart(tmp_path: Path) -> None:
    """An analyst's plain `dbt build` (no --full-refresh, no rlhfw) on the refresh's warehouse
    and landing zone leaves every public mart as the refresh made it; and rlhfw keeps giving a
    full build's marts on a warehouse an analyst built, whoever builds the new data."""
    study = make_study(tmp_path / "study")
    study.refresh()
    refreshed = read_marts(study.warehouse)

    plain_dbt_build(study.landing, study.warehouse)
    found = differences(read_marts(study.warehouse), refreshed)
    assert not found, "a plain dbt build after a refresh changed marts:\n" + "\n".join(found)

    # New data landed by rlhfw, built by the analyst's plain dbt build ...
    check = add_ratings(study)
    run([RLHFW, "extract", "--config", str(study.yml)])
    plain_dbt_build(study.landing, study.warehouse)
    check(study)
    built = assert_equal_to_a_full_build(study, tmp_path / "full-1", "new ratings, plain dbt")
    assert differences(built, refreshed)
    # ... then a refresh (rlhfw did not build that data itself) and a forced one: no mart moves.
    said = run([RLHFW, "refresh", "--config", str(study.yml)])
    assert not differences(read_marts(study.warehouse), built), said[-3000:]
    run([RLHFW, "refresh", "--force", "--config", str(study.yml)])
    found = differences(read_marts(study.warehouse), built)
    assert not found, "a forced refresh after a plain dbt build changed marts:\n" + "\n".join(found)

    # A change refreshed on top of the analyst's build, then built again by the analyst.
    check = reject_a_writer_and_a_rater(study, {})
    study.refresh()
    check(study)
    refreshed = assert_equal_to_a_full_build(study, tmp_path / "full-2", "a status change")
    plain_dbt_build(study.landing, study.warehouse)
    found = differences(read_marts(study.warehouse), refreshed)
    assert not found, "a plain dbt build after a refresh changed marts:\n" + "\n".join(found)
