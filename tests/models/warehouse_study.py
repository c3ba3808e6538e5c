"""The counting rules study of the generator (`rlhfw.demo.planted.rules_study`) as the model
tests use it: the rows it lands, and what it planted where.

Every edge case the counting rules name is planted once or more; `expected` holds the exclusion
reason docs/architecture.md gives each landed response row (None when it counts), planted with
the row. Two variants: `text` links rating sides by normalized text, Argilla usernames are
Prolific ids and low ratings mean response A; `metadata` links by metadata keys, maps usernames
to Prolific ids through study/participant_mapping and lets low ratings mean response B.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rlhfw.demo.landed import Rows, land_rows, landed_rows
from rlhfw.demo.model import Study
from rlhfw.demo.planted import SCALE_MAX, SCALE_MIN, Key, expected_outcomes, rules_study, uid

__all__ = ["SCALE_MAX", "SCALE_MIN", "StudyData", "land_study", "synthetic_study", "uid"]


@dataclass
class StudyData:
    variant: str
    study: Study
    # The rows of every landed table; a test may change them before landing.
    rows: Rows = field(default_factory=dict)
    # Expected (item type, exclusion reason) of every landed response row of the three types.
    expected: dict[Key, tuple[str, str | None]] = field(default_factory=dict)
    low_means: str = "response_a"
    # rating record id -> (person shown as A, person shown as B)
    rating_sides: dict[str, tuple[str, str]] = field(default_factory=dict)
    duplicate_records: tuple[str, str] = ("", "")
    tie_record: str = ""

    def expected_reasons(self, item_type: str) -> dict[Key, str | None]:
        return {k: r for k, (t, r) in self.expected.items() if t == item_type}


def synthetic_study(variant: str = "text", seed: int = 7) -> StudyData:
    """The rows of every landed table and the expected reason of every response row."""
    study = rules_study(variant, seed)
    notes = study.notes
    return StudyData(
        variant=variant,
        study=study,
        rows=landed_rows(study),
        expected=expected_outcomes(study),
        low_means=notes["low_means"],
        rating_sides=dict(notes["rating_sides"]),
        duplicate_records=notes["duplicate_records"],
        tie_record=notes["tie_record"],
    )


def land_study(data: StudyData, root: Path, extracted_at: datetime | None = None) -> None:
    """Land every table of `data` (empty tables get their `schema.parquet`)."""
    land_rows(data.rows, root, extracted_at)
