"""Every kind of bad input a user can hand the CLI ends in one line on stderr and exit 2, never a
Python traceback, and lands nothing (docs/architecture.md; the README's exit codes).

Each case breaks one thing in a fresh copy of the demo study and runs `rlhfw refresh` as a user
would (a subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RLHFW = str(Path(sys.executable).parent / "rlhfw")
EXPORTS = Path("exports")
ARGILLA = EXPORTS / "argilla"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _yml(study: Path, old: str, new: str) -> None:
    _edit(study / "study.yml", old, new)


def not_yaml(study: Path) -> None:
    (study / "study.yml").write_text("name: [unclosed\n  : :\n", encoding="utf-8")


def wrong_type(study: Path) -> None:
    _yml(study, "expected_ratings_per_pair: 3", "expected_ratings_per_pair: three")


def bad_scale(study: Path) -> None:
    _yml(study, "      min: 1\n      max: 8", "      min: 8\n      max: 1")


def missing_export(study: Path) -> None:
    (study / ARGILLA / "rating-ws1" / "rating_pairs_a.parquet").unlink()


def garbage_parquet(study: Path) -> None:
    (study / ARGILLA / "rating-ws1" / "rating_pairs_a.parquet").write_bytes(b"PAR1 not really")


def broken_jsonl(study: Path) -> None:
    path = study / ARGILLA / "rating-ws1" / "rating_pairs_b.jsonl"
    path.write_text(path.read_text(encoding="utf-8")[:-40] + "\n{oops\n", encoding="utf-8")


def empty_prolific_csv(study: Path) -> None:
    (study / EXPORTS / "prolific_writing.csv").write_bytes(b"")


def prolific_csv_not_utf8(study: Path) -> None:
    (study / EXPORTS / "prolific_writing.csv").write_bytes(b"Submission id,\xff\xfe\x00bad\n1,2\n")


def prolific_export_of_another_study(study: Path) -> None:
    path = study / "study.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r"study_id: \S+", "study_id: 000000000000000000000000", text, count=1),
        encoding="utf-8",
    )


def users_file_without_usernames(study: Path) -> None:
    (study / EXPORTS / "argilla_users.csv").write_text("id,name\n1,a\n", encoding="utf-8")


def renamed_response_question(study: Path) -> None:
    _yml(study, "response_question: response", "response_question: answer")


def unmatched_question_field(study: Path) -> None:
    old = "    question_field: question\n    response_question"
    _yml(study, old, old.replace("question_field: question", "question_field: prompt"))


def to_disk_folder_without_records(study: Path) -> None:
    (study / ARGILLA / "writing-ws2" / "writing_social_b" / "records.json").unlink()


def dataset_inside_the_landing_zone(study: Path) -> None:
    _yml(study, "out: data/dataset", "out: data/landing/dataset")


def landing_inside_the_dataset(study: Path) -> None:
    _yml(study, "landing: data/landing", "landing: data/dataset/landing")


def warehouse_under_a_file(study: Path) -> None:
    (study / "blocker").write_text("a file, not a folder", encoding="utf-8")
    _yml(study, "warehouse: data/warehouse.duckdb", "warehouse: blocker/warehouse.duckdb")


def landing_is_a_file(study: Path) -> None:
    (study / "landing-file").write_text("a file, not a folder", encoding="utf-8")
    _yml(study, "landing: data/landing", "landing: landing-file")


def unknown_key(study: Path) -> None:
    _yml(study, "name: demo-social-reasoning", "name: demo-social-reasoning\nnmae: typo")


CASES: dict[str, Callable[[Path], None]] = {
    f.__name__: f
    for f in (
        not_yaml,
        wrong_type,
        bad_scale,
        missing_export,
        garbage_parquet,
        broken_jsonl,
        empty_prolific_csv,
        prolific_csv_not_utf8,
        prolific_export_of_another_study,
        users_file_without_usernames,
        renamed_response_question,
        unmatched_question_field,
        to_disk_folder_without_records,
        dataset_inside_the_landing_zone,
        landing_inside_the_dataset,
        warehouse_under_a_file,
        landing_is_a_file,
        unknown_key,
    )
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_exit_2(case: str, demo_copy: Path) -> None:
    CASES[case](demo_copy)
    done = subprocess.run(
        [RLHFW, "refresh", "--config", str(demo_copy / "study.yml")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
        timeout=600,
    )
    said = done.stdout + done.stderr
    assert "Traceback" not in said, said[-3000:]
    assert done.returncode == 2, said[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: "), done.stderr
    # Nothing landed: a bad source stops the run before any batch is written.
    landed = list((demo_copy / "data" / "landing").rglob("*.parquet"))
    assert not [p for p in landed if p.name != "schema.parquet"], case
