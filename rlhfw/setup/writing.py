"""`rlhfw setup writing`: the writing study's datasets on the live Argilla server.

Rules:
- Idempotent. Each question's record id is its question id (the file's `id`, or the first 16
  hex digits of the sha256 of its whitespace-normalised text), so a re-run, or a run after one
  that stopped halfway, never duplicates a question; a question already in any writing dataset
  is left alone (its record is never updated, even if its text changed in the file).
- Spreading: new questions, in file order, each go to the live source holding the fewest
  records (ties: the study's order), so the datasets stay within one record of each other.
- Never changed: an existing workspace or dataset. A dataset whose settings differ from what
  the study asks for (a missing field, question or metadata property, another question type or
  rating values, another min_submitted) stops the run with one line naming the difference.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from rlhfw.setup import SetupError
from rlhfw.setup.server import (
    Log,
    Target,
    connect,
    distinct_names,
    ensure_dataset,
    labels_text,
    least_loaded,
    live_targets,
    log_new,
    plural,
    rating_values,
    read_records,
    sdk_errors,
)
from study_config import Study

DEFAULT_GUIDELINES = (
    "Write a helpful, honest and complete answer to the question, in your own words, "
    "then rate how good the question itself is."
)


def question_id(text: str) -> str:
    """A stable id for a question without one: the same text (up to whitespace), the same id."""
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:16]


def read_questions(path: Path) -> list[tuple[str, str]]:
    """The file's (id, text) pairs in file order, each question once. Raises SetupError."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".json", ".ndjson"):
        raise SetupError(f"{path}: expected a .csv or .jsonl questions file")
    if not path.is_file():
        raise SetupError(f"{path}: questions file not found")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(_csv_rows(f, path) if suffix == ".csv" else _jsonl_rows(f, path))
    except UnicodeDecodeError:
        raise SetupError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise SetupError(f"{path}: cannot read ({exc.strerror})") from None
    except csv.Error as exc:
        raise SetupError(f"{path}: not a readable CSV ({exc})") from None
    questions: dict[str, tuple[str, str]] = {}  # id -> (text, where)
    for where, qid, text in rows:
        if not text.strip():
            raise SetupError(f"{path}: {where}: empty question text")
        qid = qid or question_id(text)
        if qid in questions:
            first_text, first_where = questions[qid]
            if " ".join(first_text.split()) != " ".join(text.split()):
                raise SetupError(
                    f"{path}: {where}: id {qid!r} is also the id of another question "
                    f"({first_where})"
                )
            continue
        questions[qid] = (text.strip(), where)
    if not questions:
        raise SetupError(f"{path}: no questions")
    return [(qid, text) for qid, (text, _) in questions.items()]


def _csv_rows(f, path: Path):
    reader = csv.DictReader(f)
    header = [h.strip() for h in reader.fieldnames or []]
    if "question" not in header:
        raise SetupError(f"{path}: line 1: no `question` column (the header is {header})")
    reader.fieldnames = header
    for row in reader:
        text = row.get("question")
        yield f"line {reader.line_num}", (row.get("id") or "").strip(), text or ""


def _jsonl_rows(f, path: Path):
    for n, line in enumerate(f, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise SetupError(f"{path}: line {n}: not a JSON object") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
            raise SetupError(f"{path}: line {n}: no `question` text")
        qid = obj.get("id")
        if qid is not None and not isinstance(qid, (str, int)):
            raise SetupError(f"{path}: line {n}: `id` must be a string or a number")
        yield f"line {n}", "" if qid is None else str(qid).strip(), obj["question"]


def check_writing(study: Study) -> str:
    """What setup can check before connecting; returns the guidelines text."""
    w = study.argilla.writing
    distinct_names(
        "argilla.writing",
        {
            "question_field": w.question_field,
            "response_question": w.response_question,
            "quality_question": w.quality_question,
            "question_id_metadata": w.question_id_metadata,
        },
    )
    if w.quality_question:
        rating_values(w.quality_scale, "argilla.writing.quality_scale")
    return guidelines_text(w.guidelines, DEFAULT_GUIDELINES, "argilla.writing.guidelines")


def writing_settings(study: Study, client, guidelines: str):
    """The dataset settings the study asks for (a new object per dataset: the SDK binds it)."""
    import argilla as rg

    w = study.argilla.writing
    questions = [rg.TextQuestion(w.response_question, client=client)]
    if w.quality_question:
        values = rating_values(w.quality_scale, "argilla.writing.quality_scale")
        description = labels_text(values, study.publish.card.quality_scale_labels)
        questions.append(
            rg.RatingQuestion(
                w.quality_question, values=values, description=description, client=client
            )
        )
    return rg.Settings(
        fields=[rg.TextField(w.question_field, client=client)],
        questions=questions,
        metadata=[rg.TermsMetadataProperty(w.question_id_metadata, client=client)],
        guidelines=guidelines,
        distribution=rg.TaskDistribution(min_submitted=w.expected_responses_per_question),
    )


def guidelines_text(path: Path | None, default: str, key: str) -> str:
    if path is None:
        return default
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"{key}: cannot read {path} ({type(exc).__name__})") from None
    if not text:
        raise SetupError(f"{key}: {path} is empty")
    return text


def setup_writing(study: Study, questions_path: Path, log: Log) -> str:
    w = study.argilla.writing
    targets = live_targets(w.sources, "argilla.writing")
    if not w.question_id_metadata:
        raise SetupError(
            "argilla.writing.question_id_metadata: setup needs it set (the metadata key that "
            "carries each question's id, e.g. question_id)"
        )
    guidelines = check_writing(study)
    questions = read_questions(Path(questions_path))
    log(f"{questions_path}: {plural(len(questions), 'question')}")
    client, url, key = connect()
    with sdk_errors(url, key):
        for target in targets:
            ensure_dataset(client, target, writing_settings(study, client, guidelines), log)
            read_records(client, target)
            log(f"dataset {target.label}: {plural(len(target.records), 'record')}")
        present = set()
        for target in targets:
            for rid, metadata in target.records.items():
                present.add(str(metadata.get(w.question_id_metadata, rid)))
        new = [(qid, text) for qid, text in questions if qid not in present]
        _spread(study, targets, new)
        for target in targets:
            log_new(target, log)
    created = sum(t.created for t in targets)
    made = f" ({created} created)" if created else ""
    return (
        f"setup writing: {plural(len(targets), 'dataset')}{made}, "
        f"{plural(len(questions), 'question')} ({len(new)} added, "
        f"{len(questions) - len(new)} already there)"
    )


def _spread(study: Study, targets: list[Target], new: list[tuple[str, str]]) -> None:
    import argilla as rg

    w = study.argilla.writing
    for qid, text in new:
        target = least_loaded(targets)
        target.new.append(
            rg.Record(
                id=qid, fields={w.question_field: text}, metadata={w.question_id_metadata: qid}
            )
        )
