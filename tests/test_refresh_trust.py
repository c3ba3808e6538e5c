"""A refresh people can trust (docs/architecture.md, "Versions"): values that go back to an
earlier version, the same study run from two folders, and an extract killed mid-way all end in
the state a user expects. Real CLI runs, real dbt, real DuckDB, on the demo study."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from study_config import load_study
from tests.warehouse import connect_warehouse

pytestmark = pytest.mark.slow

RLHFW = str(Path(sys.executable).parent / "rlhfw")
PUBLIC_MARTS = (
    "pair_scores",
    "study_agreement",
    "question_quality",
    "annotator_quality",
    "collection_completeness",
    "exclusions",
    "quarantine",
    "written_responses",
    "pair_ratings",
    "preference_pairs",
    "question_splits",
)
SALT = {"RLHFW_PSEUDONYM_SALT": "a-fixed-test-salt"}


def refresh(study_yml: Path) -> str:
    done = subprocess.run(
        [RLHFW, "refresh", "--config", str(study_yml)],
        capture_output=True,
        text=True,
        env={**os.environ, **SALT},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout + done.stderr


def marts(study_yml: Path) -> dict[str, list[tuple]]:
    """Every public mart's rows, sorted."""
    study = load_study(study_yml)
    con = connect_warehouse(study.warehouse)
    try:
        out = {}
        for name in PUBLIC_MARTS:
            cols = [
                c
                for (c,) in con.execute(f"select name from pragma_table_info('{name}')").fetchall()
            ]
            listed = ", ".join(f'"{c}"' for c in cols)
            out[name] = con.execute(f"select {listed} from {name} order by all").fetchall()
        return out
    finally:
        con.close()


# The card says when it was published (to the minute): two publishes a minute apart differ there
# and nowhere else.
PUBLISH_TIME = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def published_files(study_yml: Path) -> dict[str, bytes]:
    out = load_study(study_yml).publish.out
    return {
        str(p.relative_to(out)): PUBLISH_TIME.sub(b"<publish time>", p.read_bytes())
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != ".rlhfw-publish.json"  # its timestamps differ by design
    }


def query(study_yml: Path, sql: str) -> list[tuple]:
    con = connect_warehouse(load_study(study_yml).warehouse)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def set_status(csv_path: Path, participant: str, status: str) -> None:
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("Participant id")] == participant:
            row[header.index("Status")] = status
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    csv_path.write_text(buf.getvalue(), encoding="utf-8")


def change_first_rating(parquet_path: Path) -> tuple[str, int, int]:
    """Give the first rating of the first record another value; returns (record, old, new)."""
    table = pq.read_table(parquet_path)
    rows = table.to_pylist()
    first = rows[0]
    old = first["preference.responses"][0]
    new = 1 if old != 1 else 8
    first["preference.responses"] = [new, *first["preference.responses"][1:]]
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), parquet_path)
    return first["_server_id"] or first["id"], old, new


def test_values_that_go_back_to_an_earlier_version_are_current_again(demo_copy: Path) -> None:
    study_yml = demo_copy / "study.yml"
    refresh(study_yml)
    before = marts(study_yml)
    writer, n_written = query(
        study_yml,
        "select username, count(*) from written_responses "
        "inner join participants on writer_user_id = user_id "
        "group by 1 order by 2 desc, 1 limit 1",
    )[0]
    n_total = query(study_yml, "select count(*) from written_responses")[0][0]

    prolific = demo_copy / "exports" / "prolific_writing.csv"
    rating = demo_copy / "exports" / "argilla" / "rating-ws1" / "rating_pairs_a.parquet"
    originals = {p: p.read_bytes() for p in (prolific, rating, study_yml)}

    # A status rejected, a setting changed, a rating edited: all show after the refresh.
    set_status(prolific, writer, "REJECTED")
    record, old, new = change_first_rating(rating)
    study_yml.write_text(
        study_yml.read_text().replace(
            "expected_ratings_per_pair: 3", "expected_ratings_per_pair: 5"
        )
    )
    refresh(study_yml)
    assert query(study_yml, "select count(*) from written_responses")[0][0] == n_total - n_written
    assert query(study_yml, "select expected_ratings_per_pair from stg_study__settings") == [(5,)]
    edited = query(
        study_yml,
        f"select value_number from stg_argilla__responses where record_id = '{record}' "
        f"and question_name = 'preference' and value_number = {new}",
    )
    assert edited and old != new

    # ... and each goes back to its earlier version.
    for path, data in originals.items():
        path.write_bytes(data)
    said = refresh(study_yml)
    assert "nothing new" not in said
    assert query(study_yml, "select count(*) from written_responses")[0][0] == n_total
    assert query(study_yml, "select expected_ratings_per_pair from stg_study__settings") == [(3,)]
    assert marts(study_yml) == before


def add_conflicting_repeat(study_dir: Path) -> None:
    """A new export in another file where a rater rates a pair they rated before with another
    value, and no timestamps say which came last."""
    source = study_dir / "exports" / "argilla" / "rating-ws1" / "rating_pairs_a.parquet"
    table = pq.read_table(source)
    first = table.slice(0, 1).to_pylist()[0]
    value = first["preference.responses"][0]
    repeat = {
        **first,
        "id": "repeat-0001",
        "_server_id": "repeat-0001",
        "preference.responses": [1 if value != 1 else 8],
        "preference.responses.users": first["preference.responses.users"][:1],
        "preference.responses.status": ["submitted"],
    }
    again = study_dir / "exports" / "argilla" / "rating-ws1" / "rating_pairs_a_again.parquet"
    pq.write_table(pa.Table.from_pylist([repeat], schema=table.schema), again)
    yml = study_dir / "study.yml"
    yml.write_text(
        yml.read_text().replace(
            "    question_field: question\n    response_a_field",
            "    - export: exports/argilla/rating-ws1/rating_pairs_a_again.parquet\n"
            "      workspace: rating-ws1\n"
            "      name: rating_pairs_a_again\n"
            "    question_field: question\n    response_a_field",
        )
    )


def test_the_same_study_in_two_folders_gives_the_same_warehouse_and_dataset(
    demo_template: Path, tmp_path: Path
) -> None:
    template = tmp_path / "template"
    shutil.copytree(demo_template, template)
    add_conflicting_repeat(template)
    here = tmp_path / "here" / "study"
    there = tmp_path / "somewhere" / "else" / "entirely" / "study"
    for dest in (here, there):
        shutil.copytree(template, dest)
        refresh(dest / "study.yml")

    conflicts = query(
        here / "study.yml",
        "select count(*) from exclusions where exclusion_reason = 'conflicting_duplicate_rating'",
    )
    assert conflicts == [(1,)]
    assert marts(here / "study.yml") == marts(there / "study.yml")
    assert published_files(here / "study.yml") == published_files(there / "study.yml")


class Killed(BaseException):
    """Stands for a kill -9: nothing of the extract runs after it (not even `except Exception`)."""


def landed_rows(landing: Path) -> dict[str, list[tuple]]:
    out = {}
    for folder in sorted(p for p in landing.glob("*/*") if p.parent.name != "_meta"):
        table = f"{folder.parent.name}/{folder.name}"
        files = [str(f) for f in sorted(folder.glob("*.parquet"))]
        rel = duckdb.sql(f"select * from read_parquet({files!r}, union_by_name = true)")
        cols = ", ".join(f'"{c}"' for c in rel.columns if c != "_extracted_at")
        out[table] = duckdb.sql(
            f"select {cols} from read_parquet({files!r}, union_by_name = true) order by all"
        ).fetchall()
        out[table + " files"] = [Path(f).name for f in files]
    return out


def count_writes(study_yml: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    import extract.landing as landing_module
    from rlhfw import pipeline

    calls = []
    real = landing_module._write_atomic

    def counting(table, dest, *schema):
        calls.append(dest)
        return real(table, dest, *schema)

    with monkeypatch.context() as m:
        m.setattr(landing_module, "_write_atomic", counting)
        pipeline.extract(load_study(study_yml), lambda _line: None)
    return len(calls)


def extract_killed_after(study_yml: Path, writes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import extract.landing as landing_module
    from rlhfw import pipeline

    done = []
    real = landing_module._write_atomic

    def dying(table, dest, *schema):
        if len(done) == writes:
            raise Killed
        done.append(dest)
        return real(table, dest, *schema)

    with monkeypatch.context() as m:
        m.setattr(landing_module, "_write_atomic", dying)
        with pytest.raises(Killed):
            pipeline.extract(load_study(study_yml), lambda _line: None)


def test_an_extract_killed_at_any_point_then_rerun_equals_an_uninterrupted_one(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rlhfw import pipeline

    whole = tmp_path / "whole" / "study"
    shutil.copytree(demo_template, whole)
    n_writes = count_writes(whole / "study.yml", monkeypatch)
    expected = landed_rows(load_study(whole / "study.yml").landing)
    assert n_writes > 10

    for point in sorted({1, 2, n_writes // 3, n_writes // 2, n_writes - 2, n_writes - 1}):
        killed = tmp_path / f"killed-{point}" / "study"
        shutil.copytree(demo_template, killed)
        extract_killed_after(killed / "study.yml", point, monkeypatch)
        pipeline.extract(load_study(killed / "study.yml"), lambda _line: None)
        assert landed_rows(load_study(killed / "study.yml").landing) == expected, point

    # And what is built from it is the same too (one kill point: the build is the slow part).
    refresh(whole / "study.yml")
    refresh(tmp_path / f"killed-{n_writes // 2}" / "study" / "study.yml")
    assert marts(whole / "study.yml") == marts(
        tmp_path / f"killed-{n_writes // 2}" / "study" / "study.yml"
    )

    # A publish killed before its in-progress file was written leaves an empty temp folder; a
    # refresh with nothing new (it skips publish) still removes it, and touches nothing else.
    out = load_study(whole / "study.yml").publish.out
    leftover = out.parent / f".{out.name}.tmp-0123abcd"
    unrelated = out.parent / f".{out.name}.tmp-not-ours"
    leftover.mkdir()
    unrelated.mkdir()
    said = refresh(whole / "study.yml")
    assert "nothing new" in said
    assert not leftover.exists() and unrelated.exists()
