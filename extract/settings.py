"""Land the study's own settings so dbt reads them as a source (no `--vars` needed)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from extract.errors import ExtractError
from extract.landing import Landing, LandResult, recorded_uri, sha256_file
from extract.schemas import KEYS, schema_of
from study_config import ArgillaSource, Study


def settings_row(study: Study) -> dict:
    w, r, p = study.argilla.writing, study.argilla.rating, study.publish
    return {
        "study_name": study.name,
        "writing_question_field": w.question_field,
        "writing_response_question": w.response_question,
        "writing_quality_question": w.quality_question,
        "quality_min": w.quality_scale.min,
        "quality_max": w.quality_scale.max,
        "rating_question_field": r.question_field,
        "response_a_field": r.response_a_field,
        "response_b_field": r.response_b_field,
        "rating_question": r.rating_question,
        "scale_min": r.scale.min,
        "scale_max": r.scale.max,
        "scale_low_means": r.scale.low_means,
        "counted_statuses": json.dumps(study.prolific.counted_statuses),
        "expected_responses_per_question": w.expected_responses_per_question,
        "expected_ratings_per_pair": r.expected_ratings_per_pair,
        "rating_pairs_per_question": r.pairs_per_question,
        "rating_pairs_seed": str(r.pairs_seed),
        "question_id_metadata": w.question_id_metadata,
        "response_a_metadata": r.response_a_metadata,
        "response_b_metadata": r.response_b_metadata,
        "argilla_username_is_prolific_pid": study.participants.argilla_username_is_prolific_pid,
        "publish_min_ratings": p.min_ratings,
        "publish_min_margin": float(p.min_margin),
        "publish_test_fraction": float(p.test_fraction),
        "publish_seed": str(p.seed),
        "publish_validation_fraction": float(p.validation_fraction),
    }


def source_uri(src: ArgillaSource, api_url: str | None = None) -> str:
    if src.export is not None:
        return str(src.export)
    base = (api_url or "argilla").rstrip("/")
    return f"argilla+{base}/{src.workspace_label}/{src.dataset}"


def source_positions(study: Study, base: Path | None):
    """A function from a landed source uri to its source's slot in study.yml, landed with each
    row as `_source_position`. Across sources a higher slot's version wins (staging), so every
    source has one: the study file 0, the participants mapping and the portal's assignments 1
    (each the one source of its table), Prolific writing 2 and rating
    3, the Argilla users file 4 and a live server's users 5, then the Argilla datasets from 6 on
    (writing sources, then rating sources, in the order listed). A slot, not a file: an export
    renamed in place keeps its slot, and its latest observation wins. Live sources are matched
    by what they pull (study id, workspace and dataset), whatever the server's address."""
    slots: dict[str, int] = {recorded_uri(str(study.path), base): 0}
    if study.participants.mapping is not None:
        slots[recorded_uri(str(study.participants.mapping), base)] = 1
    if study.portal is not None:
        slots[recorded_uri(str(study.portal.assignments), base)] = 1
    live: list[tuple[str, str, int]] = []  # (scheme prefix, uri suffix, slot)
    for slot, role in ((2, "writing"), (3, "rating")):
        cfg = getattr(study.prolific, role)
        if cfg is None:
            continue
        if cfg.export is not None:
            slots[recorded_uri(str(cfg.export), base)] = slot
        elif cfg.study_id:
            live.append(("prolific+", f"studies/{cfg.study_id}/", slot))
    if study.argilla.users is not None:
        slots[recorded_uri(str(study.argilla.users), base)] = 4
    live.append(("argilla+", "/users", 5))
    sources = [*study.argilla.writing.sources, *study.argilla.rating.sources]
    for slot, src in enumerate(sources, start=6):
        if src.export is not None:
            slots[recorded_uri(str(src.export), base)] = slot
        else:
            live.append(("argilla+", f"/{src.workspace_label}/{src.dataset}", slot))

    def position_of(uri: str) -> int | None:
        if uri in slots:
            return slots[uri]
        return next((n for pre, suf, n in live if uri.startswith(pre) and uri.endswith(suf)), None)

    return position_of


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def land_settings(
    study: Study, landing: Landing, formats: dict[str, str], api_url: str | None = None
) -> list[LandResult]:
    """Land study/settings, study/sources and (if configured) study/participant_mapping and
    study/portal_assignments.

    `formats` maps each source's uri to the format detected when it was read.
    """
    results = []
    row = settings_row(study)
    results.append(
        landing.land(
            "study", "settings", pa.Table.from_pylist([row]), str(study.path), _digest(row)
        )
    )
    sources = []
    for role in ("writing", "rating"):
        for src in getattr(study.argilla, role).sources:
            given = source_uri(src, api_url)
            uri = landing.uri(given)
            sources.append(
                {
                    "study_role": role,
                    "dataset": src.label,
                    "workspace": src.workspace_label,
                    "source_uri": uri,
                    "source_format": formats.get(given, formats.get(uri)),
                    "status_if_missing": src.status_if_missing,
                }
            )
    results.append(
        landing.land(
            "study", "sources", pa.Table.from_pylist(sources), str(study.path), _digest(sources)
        )
    )
    mapping = study.participants.mapping
    if mapping is not None:
        table = read_csv_strings(mapping, required=("prolific_pid", "argilla_username"))
        table = table.select(["prolific_pid", "argilla_username"])
        results.append(
            landing.land("study", "participant_mapping", table, str(mapping), sha256_file(mapping))
        )
    else:
        landing.ensure_table("study", "participant_mapping")
    assignments = land_portal_assignments(study, landing)
    if assignments is not None:
        results.append(assignments)
    return results


def land_portal_assignments(study: Study, landing: Landing) -> LandResult | None:
    """Land the portal's assignments CSV (`rlhfw portal`), the last line of each (prolific_pid,
    study_role): the file is an append-only log, so a later line is a later assignment. No file
    yet (nobody has arrived) lands 0 rows, which the summary says; no portal, None."""
    landing.ensure_table("study", "portal_assignments")
    if study.portal is None:
        return None
    path = study.portal.assignments
    if not path.exists():
        return LandResult("study", "portal_assignments", landing.uri(str(path)), 0, 0, None)
    columns = schema_of("study", "portal_assignments").names
    table = read_csv_strings(path, required=tuple(columns)).select(columns)
    key_columns = KEYS[("study", "portal_assignments")]
    keys = zip(*(table.column(c).to_pylist() for c in key_columns), strict=True)
    last = {key: i for i, key in enumerate(keys)}
    table = table.take(sorted(last.values()))
    return landing.land("study", "portal_assignments", table, str(path), sha256_file(path))


def read_csv_strings(path, required: tuple[str, ...] = ()) -> pa.Table:
    """Read a small CSV with every column as text; header names trimmed and lowercased."""
    try:
        with open(path, "rb") as f:
            head = f.readline()
        if not head.strip():
            raise ExtractError(f"{path}: the file is empty")
        names = [n.strip().lower() for n in head.decode("utf-8-sig").strip().split(",")]
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True
            ),
        )
    except ExtractError:
        raise
    except (OSError, UnicodeDecodeError, pa.ArrowException) as exc:
        raise ExtractError(f"{path}: cannot read CSV: {str(exc).splitlines()[0]}") from None
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise ExtractError(f"{path}: missing required column {missing[0]!r}")
    return table
