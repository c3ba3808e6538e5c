"""Prolific submission exports, the Argilla users file and the participant mapping of a
generated study."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from rlhfw.demo.model import Study

PROLIFIC_HEADER = (
    "Submission id",
    "Participant id",
    "Status",
    "Custom study tncs accepted at",
    "Started at",
    "Completed at",
    "Reviewed at",
    "Archived at",
    "Time taken",
    "Completion code",
    "Total approvals",
    "Age",
    "Sex",
    "Ethnicity simplified",
    "Country of birth",
    "Country of residence",
    "Nationality",
    "Language",
    "Student status",
    "Employment status",
)
DEMOGRAPHIC_COLUMNS = PROLIFIC_HEADER[11:]

LAUNCH = {
    "writing": datetime(2024, 3, 4, 9, 0, tzinfo=UTC),
    "rating": datetime(2024, 4, 8, 9, 0, tzinfo=UTC),
}
CODE = {"writing": "C1W7QK2X", "rating": "C9R3ZL5M"}

SEX = ("Male", "Female")
ETHNICITY = ("White", "White", "White", "Black", "Asian", "Mixed", "Other")
COUNTRIES = (
    "United Kingdom",
    "United Kingdom",
    "United States",
    "United States",
    "Canada",
    "South Africa",
    "Poland",
    "Portugal",
    "Germany",
    "Mexico",
    "Italy",
    "Australia",
)
NATIONALITY = {
    "United Kingdom": "United Kingdom",
    "United States": "United States",
    "Canada": "Canada",
    "South Africa": "South Africa",
    "Poland": "Poland",
    "Portugal": "Portugal",
    "Germany": "Germany",
    "Mexico": "Mexico",
    "Italy": "Italy",
    "Australia": "Australia",
}
LANGUAGE = {
    "Poland": "Polish",
    "Portugal": "Portuguese",
    "Germany": "German",
    "Mexico": "Spanish",
    "Italy": "Italian",
}
EMPLOYMENT = (
    "Full-Time",
    "Full-Time",
    "Part-Time",
    "Unemployed (and job seeking)",
    "Not in paid work (e.g. homemaker', 'retired or disabled)",
    "Other",
    "Due to start a new job within the next month",
)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}000Z"


def _demographics(rng: np.random.Generator, n: int) -> list[list[str]]:
    """One demographic profile per person; a few expired cells, one revoked consent."""
    out = []
    for _ in range(n):
        born = COUNTRIES[rng.integers(len(COUNTRIES))]
        lives = born if rng.random() < 0.85 else COUNTRIES[rng.integers(len(COUNTRIES))]
        row = [
            str(int(rng.integers(18, 76))),
            SEX[rng.integers(2)],
            ETHNICITY[rng.integers(len(ETHNICITY))],
            born,
            lives,
            NATIONALITY[born],
            LANGUAGE.get(born, "English"),
            ("Yes", "No", "No")[rng.integers(3)],
            EMPLOYMENT[rng.integers(len(EMPLOYMENT))],
        ]
        expired = rng.random(len(row)) < 0.03
        out.append(["DATA_EXPIRED" if e else v for v, e in zip(row, expired, strict=True)])
    if n:
        out[int(rng.integers(n))] = ["CONSENT_REVOKED"] * len(DEMOGRAPHIC_COLUMNS)
    return out


def write_prolific(study: Study, role: str, path: Path) -> int:
    """The study's Prolific submissions export (real column header). Returns the row count."""
    rng = np.random.default_rng([study.seed, 7, 1 if role == "writing" else 2])
    subs = study.submissions[study.submissions.study_role == role].reset_index(drop=True)
    people = study.people.set_index("person")
    persons = sorted(set(subs.person.tolist()))
    demo = dict(zip(persons, _demographics(rng, len(persons)), strict=True))
    if "demographics" in people.columns:  # a planted study names some people's own
        for p in persons:
            given = people.at[p, "demographics"]
            if isinstance(given, dict):
                demo[p] = [given.get(c, "") for c in DEMOGRAPHIC_COLUMNS]
    approvals = {p: int(rng.integers(0, 2500)) for p in persons}
    sub_ids = rng.bytes(12 * len(subs)).hex()
    rows = []
    first_start: dict[int, float] = {}
    for i, (p, status, attempt) in enumerate(
        zip(subs.person.tolist(), subs.status.tolist(), subs.attempt.tolist(), strict=True)
    ):
        offset = float(rng.uniform(0, 6 * 86400))
        if attempt:  # a later attempt starts after the previous one
            offset = first_start[p] + float(rng.uniform(0.5, 2.0)) * 86400 * attempt
        first_start.setdefault(p, offset)
        started = LAUNCH[role] + timedelta(seconds=offset)
        started = started.replace(microsecond=int(rng.integers(0, 1000)) * 1000)
        taken = int(rng.integers(900, 5400))
        completed = reviewed = archived = code = taken_s = ""
        if status in ("APPROVED", "AWAITING REVIEW", "REJECTED"):
            done = started + timedelta(seconds=taken)
            completed, taken_s = _ts(done), str(taken)
            code = CODE[role] if rng.random() > 0.05 else "NOCODE"
            if status == "REJECTED":  # typically rejected for not returning with the code
                code = "NOCODE"
            if status != "AWAITING REVIEW":
                reviewed = _ts(done + timedelta(hours=float(rng.uniform(2, 72))))
                if rng.random() < 0.1:
                    archived = reviewed
        rows.append(
            [
                sub_ids[i * 24 : (i + 1) * 24],
                people.at[p, "pid"],
                status,
                "",
                _ts(started),
                completed,
                reviewed,
                archived,
                taken_s,
                code,
                str(approvals[p]),
                *demo[p],
            ]
        )
    rows.sort(key=lambda r: r[4])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(PROLIFIC_HEADER)
        w.writerows(rows)
    return len(rows)


def write_users(study: Study, path: Path) -> int:
    """`id,username` of every Argilla account (the deleted one is gone)."""
    rng = np.random.default_rng([study.seed, 7, 3])
    users: pd.DataFrame = study.people[study.people.in_users_file]
    users = users.iloc[rng.permutation(len(users))]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("id", "username"))
        w.writerows(zip(users.user_id.tolist(), users.username.tolist(), strict=True))
    return len(users)


def write_mapping(study: Study, path: Path) -> int:
    """`prolific_pid,argilla_username` of every Argilla account of a Prolific participant (for a
    study whose Argilla usernames are not Prolific ids)."""
    people = study.people[study.people.pid.notna() & study.people.username.notna()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("prolific_pid", "argilla_username"))
        w.writerows(zip(people.pid.tolist(), people.username.tolist(), strict=True))
    return len(people)
