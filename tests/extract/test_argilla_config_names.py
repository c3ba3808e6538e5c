"""study.yml's field, question and metadata names are checked against every Argilla export it
reads, in every format, before anything lands: a name that matches nothing would land responses
that then count nowhere."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from extract.argilla import extract_argilla, read_argilla
from extract.errors import ExtractError
from extract.landing import Landing
from study_config import Study, load_study

FLAT_NOTE = "a flat export names only the questions that have a response or suggestion"


def configured(study: Study, role: str, source: int | None = None, **names) -> Study:
    """The study with some of a role's names changed (and only one of its sources, if given)."""
    part = getattr(study.argilla, role)
    if source is not None:
        names["sources"] = [part.sources[source]]
    argilla = study.argilla.model_copy(update={role: part.model_copy(update=names)})
    return study.model_copy(update={"argilla": argilla})


def landed_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def extract_error(study: Study) -> str:
    with pytest.raises(ExtractError) as info:
        extract_argilla(study.argilla, Landing(study.landing), root=study.root, log=lambda _: None)
    message = str(info.value)
    assert "\n" not in message
    assert not [p for p in landed_files(study.landing) if p.suffix == ".parquet"]
    return message


# (role, source index in the demo's study.yml, key, wrong value, expected "its ..." listing)
WRONG_NAMES = [
    ("writing", 0, "response_question", "answer",
     f"(its questions: question_quality, response; {FLAT_NOTE})"),
    ("writing", 0, "question_field", "prompt",
     "(its field and metadata columns: batch, question, topic)"),
    ("writing", 1, "question_field", "prompt", "(its fields: question)"),
    ("writing", 1, "quality_question", "quality", "(its questions: question_quality, response)"),
    ("writing", 2, "response_question", "answer", "(its questions: question_quality, response)"),
    ("writing", 2, "question_field", "prompt", "(its fields: question)"),
    ("rating", 0, "rating_question", "rating", f"(its questions: preference; {FLAT_NOTE})"),
    ("rating", 1, "response_a_field", "answer_a",
     "(its field and metadata columns: batch, question, requeued, response_a, response_b, topic)"),
    ("rating", 2, "response_b_field", "answer_b",
     "(its field and metadata columns: batch, question, requeued, response_a, response_b, topic)"),
    ("rating", 3, "rating_question", "rating", "(its questions: preference)"),
    ("rating", 4, "question_field", "prompt", "(its fields: question, response_a, response_b)"),
    ("rating", 5, "rating_question", "rating", "(its questions: preference)"),
    ("rating", 5, "response_a_field", "answer_a", "(its fields: question, response_a, response_b)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("role", "source", "key", "value", "listing"),
    WRONG_NAMES,
    ids=[f"{r}{s}-{k}" for r, s, k, _v, _l in WRONG_NAMES],
)
def test_a_name_the_export_lacks_is_an_error(demo_copy, role, source, key, value, listing):
    study = load_study(demo_copy / "study.yml")
    export = getattr(study.argilla, role).sources[source].export
    study = configured(study, role, source, **{key: value})
    message = extract_error(study)
    kind = "field" if key.endswith("field") else "question"
    where = str(export.relative_to(demo_copy))
    assert message == f"argilla.{role}.{key}: {value!r} is not a {kind} of {where} {listing}"


def test_the_demo_names_pass_in_every_format(demo_copy):
    study = load_study(demo_copy / "study.yml")
    read = read_argilla(study.argilla, Landing(study.landing), root=study.root, log=lambda _: None)
    assert len(read.pending) == 9


def test_records_json_without_settings_is_checked_against_its_records(demo_copy):
    study = load_study(demo_copy / "study.yml")
    folder = study.argilla.writing.sources[1].export
    shutil.rmtree(folder / ".argilla")  # records.json alone: names come from the records
    message = extract_error(configured(study, "writing", 1, response_question="answer"))
    assert message.startswith("argilla.writing.response_question: 'answer' is not a question")
    assert "(its questions: question_quality, response; records.json names only" in message
    message = extract_error(configured(study, "writing", 1, question_field="prompt"))
    assert message.endswith("(its fields: question)")


def test_a_v1_question_nobody_answered_is_still_a_question(demo_copy, tmp_path):
    """In JSON an all-empty question column is not typed as responses; its suggestion column
    still names it, so configuring it is no error (and the v1 fields stay the fields)."""
    study = load_study(demo_copy / "study.yml")
    src = study.argilla.writing.sources[2].export
    jsonl = demo_copy / "exports" / "v1_unanswered.jsonl"
    duckdb.sql(
        f"copy (select * replace ([]::varchar[] as question_quality) from '{src}') "
        f"to '{jsonl}' (format json)"
    )
    source = study.argilla.writing.sources[2].model_copy(update={"export": jsonl})
    ok = configured(study, "writing", sources=[source])
    read_argilla(ok.argilla, Landing(ok.landing), root=ok.root, log=lambda _: None)
    message = extract_error(configured(ok, "writing", question_field="prompt"))
    assert message.endswith("(its fields: question)")


def test_an_empty_export_has_nothing_to_check_against(demo_copy):
    study = load_study(demo_copy / "study.yml")
    src = study.argilla.writing.sources[0].export
    empty = demo_copy / "exports" / "empty.parquet"
    duckdb.sql(f"copy (select * from '{src}' limit 0) to '{empty}'")
    source = study.argilla.writing.sources[0].model_copy(update={"export": empty})
    wrong = configured(
        study, "writing", sources=[source], response_question="answer", question_id_metadata="qid"
    )
    read = read_argilla(wrong.argilla, Landing(wrong.landing), root=wrong.root, log=lambda _: None)
    assert read.pending[0][0].records.num_rows == 0


def test_the_example_from_the_brief_exits_2_and_lands_nothing(demo_copy):
    """An export whose answer question is `answer` while study.yml says `response`."""
    study = load_study(demo_copy / "study.yml")
    export = study.argilla.writing.sources[0].export
    renamed = export.with_name("renamed.parquet")
    duckdb.sql(
        f"""copy (select * rename ("response.responses" as "answer.responses",
            "response.responses.users" as "answer.responses.users",
            "response.responses.status" as "answer.responses.status") from '{export}')
            to '{renamed}'"""
    )
    renamed.replace(export)
    proc = subprocess.run(
        [sys.executable, "-m", "rlhfw.cli", "extract", "--config", str(demo_copy / "study.yml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (
        "argilla.writing.response_question: 'response' is not a question of "
        "exports/argilla/writing-ws1/writing_social_a.parquet "
        f"(its questions: answer, question_quality; {FLAT_NOTE})"
    ) in " ".join(proc.stderr.split())
    assert not [p for p in landed_files(study.landing) if p.suffix == ".parquet"]


def test_an_export_read_again_after_it_changed_is_checked_again(demo_copy):
    study = load_study(demo_copy / "study.yml")
    study = configured(study, "writing", 1)
    extract_argilla(study.argilla, Landing(study.landing), root=study.root, log=lambda _: None)
    before = landed_files(study.landing)
    records = study.argilla.writing.sources[0].export / "records.json"
    records.write_text(
        records.read_text(encoding="utf-8").replace('"question":', '"prompt":'), encoding="utf-8"
    )
    shutil.rmtree(records.parent / ".argilla")
    with pytest.raises(
        ExtractError, match=r"'question' is not a field of .*\(its fields: prompt\)"
    ):
        extract_argilla(study.argilla, Landing(study.landing), root=study.root, log=lambda _: None)
    assert landed_files(study.landing) == before


# (role, source index, key, expected metadata keys listed)
MISSING_METADATA = [
    ("writing", 0, "question_id_metadata", "batch, topic"),
    ("writing", 1, "question_id_metadata", "batch, topic"),
    ("writing", 2, "question_id_metadata", "batch, note, topic"),
    ("rating", 2, "response_a_metadata", "batch, requeued, topic"),
    ("rating", 4, "response_b_metadata", "batch, topic"),
    ("rating", 5, "response_a_metadata", "batch, topic"),
]


@pytest.mark.parametrize(
    ("role", "source", "key", "present"),
    MISSING_METADATA,
    ids=[f"{r}{s}-{k}" for r, s, k, _p in MISSING_METADATA],
)
def test_a_metadata_key_no_record_carries_is_an_error(demo_copy, role, source, key, present):
    study = load_study(demo_copy / "study.yml")
    export = getattr(study.argilla, role).sources[source].export
    message = extract_error(configured(study, role, source, **{key: "writer_key"}))
    where = str(export.relative_to(demo_copy))
    assert message == (
        f"argilla.{role}.{key}: no record of {where} carries metadata 'writer_key' "
        f"(its records' metadata keys: {present})"
    )


def test_a_metadata_key_the_records_carry_passes(demo_copy):
    study = load_study(demo_copy / "study.yml")
    study = configured(study, "writing", question_id_metadata="topic")
    study = configured(study, "rating", response_a_metadata="topic", response_b_metadata="batch")
    read = read_argilla(study.argilla, Landing(study.landing), root=study.root, log=lambda _: None)
    assert len(read.pending) == 9
