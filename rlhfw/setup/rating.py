"""`rlhfw setup rating`: the warehouse's rating tasks (mart `analytics.rating_tasks`) as records
of the rating study's datasets on the live Argilla server.

Rules:
- Idempotent. Each pair's record id is its `pair_id`; only pairs in no rating dataset yet are
  logged, and a record already there is never updated (even if the mart's texts changed).
- Spreading (several live rating sources): a question's pairs stay in one dataset. A question
  with pairs already in a dataset gets its new pairs there; a new question goes, whole, to the
  dataset holding the fewest records (ties: the study's order), in question order.
- Before the first build (no warehouse or no mart yet) it creates the datasets and adds no
  records, so that refreshes can read the rating sources from the start.
- Never changed: an existing workspace or dataset; one whose settings differ from what the study
  asks for stops the run with one line naming the difference. The warehouse is only read.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from rlhfw.setup import SetupError, open_warehouse
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
from rlhfw.setup.writing import guidelines_text
from study_config import Study

COLUMNS = (
    "pair_id",
    "question_id",
    "question_text",
    "response_a_id",
    "response_b_id",
    "response_a_text",
    "response_b_text",
    "planned_raters",
    "pair_number",
    "n_question_responses",
)
DEFAULT_GUIDELINES = (
    "Read the question and both answers, then rate which answer is better, and by how much, "
    "on the scale."
)


def read_tasks(warehouse: Path) -> list[dict] | None:
    """The mart's rows ordered by question and pair number (the warehouse opened read-only);
    None before the first build made the mart."""
    if not warehouse.is_file():
        return None
    con = open_warehouse(warehouse)
    try:
        found = con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'analytics' and table_name = 'rating_tasks'"
        ).fetchall()
        if not found:
            return None
        missing = [c for c in COLUMNS if c not in {name for (name,) in found}]
        if missing:
            raise SetupError(
                f"warehouse {warehouse}: analytics.rating_tasks has no column {missing[0]!r}; "
                "run `rlhfw build` to rebuild it"
            )
        cursor = con.execute(
            f"select {', '.join(COLUMNS)} from analytics.rating_tasks "
            "order by question_id, pair_number"
        )
        return [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def scale_description(study: Study, values: list[int]) -> str | None:
    """The rating question's description: the card's scale labels, or what the ends mean."""
    labels = study.publish.card.scale_labels
    if not labels:
        scale = study.argilla.rating.scale
        first, second = "the first answer (A)", "the second answer (B)"
        low, high = (first, second) if scale.low_means == "response_a" else (second, first)
        labels = {scale.min: f"{low} is much better", scale.max: f"{high} is much better"}
    return labels_text(values, labels)


def check_rating(study: Study) -> str:
    """What setup can check before connecting; returns the guidelines text."""
    r = study.argilla.rating
    for key in ("response_a_metadata", "response_b_metadata"):
        if not getattr(r, key):
            raise SetupError(
                f"argilla.rating.{key}: setup needs it set (the metadata key that carries the "
                "response id of that side)"
            )
    distinct_names(
        "argilla.rating",
        {
            "question_field": r.question_field,
            "response_a_field": r.response_a_field,
            "response_b_field": r.response_b_field,
            "rating_question": r.rating_question,
            "response_a_metadata": r.response_a_metadata,
            "response_b_metadata": r.response_b_metadata,
            "writing.question_id_metadata": study.argilla.writing.question_id_metadata,
        },
    )
    rating_values(r.scale, "argilla.rating.scale")
    return guidelines_text(r.guidelines, DEFAULT_GUIDELINES, "argilla.rating.guidelines")


def rating_settings(study: Study, client, guidelines: str):
    """The dataset settings the study asks for (a new object per dataset: the SDK binds it)."""
    import argilla as rg

    r = study.argilla.rating
    question_key = study.argilla.writing.question_id_metadata
    values = rating_values(r.scale, "argilla.rating.scale")
    keys = [r.response_a_metadata, r.response_b_metadata, *([question_key] if question_key else [])]
    return rg.Settings(
        fields=[
            rg.TextField(name, client=client)
            for name in (r.question_field, r.response_a_field, r.response_b_field)
        ],
        questions=[
            rg.RatingQuestion(
                r.rating_question,
                values=values,
                description=scale_description(study, values),
                client=client,
            )
        ],
        # Bookkeeping for the warehouse, not for raters: hidden in the annotation UI.
        metadata=[
            rg.TermsMetadataProperty(key, visible_for_annotators=False, client=client)
            for key in keys
        ],
        guidelines=guidelines,
        distribution=rg.TaskDistribution(min_submitted=r.expected_ratings_per_pair),
    )


def setup_rating(study: Study, log: Log) -> str:
    r = study.argilla.rating
    targets = live_targets(r.sources, "argilla.rating")
    guidelines = check_rating(study)
    tasks = read_tasks(study.warehouse)
    if tasks is not None:
        log(f"{study.warehouse}: {plural(len(tasks), 'pair')} in analytics.rating_tasks")
    client, url, key = connect()
    with sdk_errors(url, key):
        for target in targets:
            ensure_dataset(client, target, rating_settings(study, client, guidelines), log)
            read_records(client, target)
            log(f"dataset {target.label}: {plural(len(target.records), 'record')}")
        added = _spread(study, targets, tasks or [])
        for target in targets:
            log_new(target, log)
    created = sum(t.created for t in targets)
    made = f" ({created} created)" if created else ""
    if tasks is None:
        # Run before the first refresh: the datasets exist (so refreshes can read them), empty.
        return (
            f"setup rating: {plural(len(targets), 'dataset')}{made}, no rating tasks yet: run "
            "`rlhfw refresh` once the writing study's answers are in, then setup rating again"
        )
    return (
        f"setup rating: {plural(len(targets), 'dataset')}{made}, {plural(len(tasks), 'pair')} "
        f"({added} added, {len(tasks) - added} already there)"
    )


def _spread(study: Study, targets: list[Target], tasks: list[dict]) -> int:
    """Give each new pair a target, a question's pairs all to one; returns how many are new."""
    import argilla as rg

    r = study.argilla.rating
    question_key = study.argilla.writing.question_id_metadata
    # Where each question already is, from the pairs there (the mart names their question).
    home: dict[str, Target] = {}
    for task in tasks:
        for target in targets:
            if str(task["pair_id"]) in target.records:
                home.setdefault(str(task["question_id"]), target)
    added = 0
    for question, pairs in groupby(tasks, key=lambda t: str(t["question_id"])):
        new = [p for p in pairs if not any(str(p["pair_id"]) in t.records for t in targets)]
        if not new:
            continue
        target = home.get(question) or least_loaded(targets)
        for p in new:
            metadata = {
                r.response_a_metadata: str(p["response_a_id"]),
                r.response_b_metadata: str(p["response_b_id"]),
            }
            if question_key:
                metadata[question_key] = question
            fields = {
                r.question_field: p["question_text"],
                r.response_a_field: p["response_a_text"],
                r.response_b_field: p["response_b_text"],
            }
            target.new.append(rg.Record(id=str(p["pair_id"]), fields=fields, metadata=metadata))
        added += len(new)
    return added
