"""A small synthetic study landed through `extract.landing.Landing`, with its expected outcome.

Every edge case the counting rules name is planted once or more, and each planted response row
records the exclusion reason docs/architecture.md gives it (None when it counts). The bulk of the
ratings is random (seeded) but correlated with a latent quality of each response, so agreement
statistics are neither 0 nor 1. Two variants: `text` links rating sides by normalized text,
Argilla usernames are Prolific ids and low ratings mean response A; `metadata` links by metadata
keys, maps usernames to Prolific ids through study/participant_mapping and lets low ratings mean
response B.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from extract.landing import Landing
from extract.schemas import TABLES, schema_of

SCALE_MIN, SCALE_MAX = 1, 8
QUALITY_MIN, QUALITY_MAX = 1, 5
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

Key = tuple[str, str, str, str, str]  # dataset, workspace, record_id, user_id, question_name


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rlhfw-test/{name}"))


def _ts(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@dataclass
class StudyData:
    variant: str
    rows: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    # Expected exclusion reason of every landed response row of the three item types.
    expected: dict[Key, tuple[str, str | None]] = field(default_factory=dict)
    low_means: str = "response_a"
    # rating record id -> (person shown as A, person shown as B)
    rating_sides: dict[str, tuple[str, str]] = field(default_factory=dict)
    duplicate_records: tuple[str, str] = ("", "")
    tie_record: str = ""

    def add(self, source: str, table: str, row: dict) -> None:
        self.rows.setdefault((source, table), []).append(row)

    def expected_reasons(self, item_type: str) -> dict[Key, str | None]:
        return {k: r for k, (t, r) in self.expected.items() if t == item_type}


class _Builder:
    def __init__(self, variant: str, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.data = StudyData(variant=variant)
        self.metadata_links = variant == "metadata"
        self.data.low_means = "response_b" if self.metadata_links else "response_a"
        self.clock = 0
        self.record_seq = 0
        # question index -> list of (writer, text, response key) that count
        self.counted: dict[int, list[tuple[str, str]]] = {}
        self.latent: dict[tuple[int, str], float] = {}

    # -- people ----------------------------------------------------------------------------
    def username(self, person: str) -> str:
        # metadata variant: Argilla usernames are not Prolific ids, a mapping joins them.
        return f"user_{person}" if self.metadata_links else self.pid(person)

    @staticmethod
    def pid(person: str) -> str:
        return f"pid{person}".ljust(24, "0")

    def tick(self) -> str:
        self.clock += 1
        return _ts(self.clock)

    def people(self) -> None:
        writers = {f"w{i:02d}": ["APPROVED"] for i in range(1, 7)}
        writers["w06"] = ["AWAITING REVIEW"]
        writers["w07"] = ["RETURNED"]  # does not count
        writers["w08"] = ["RETURNED", "APPROVED"]  # any counted submission counts
        writers["w09"] = []  # no Prolific submission at all
        raters = {f"r{i:02d}": ["APPROVED"] for i in range(1, 10)}
        raters["r10"] = ["REJECTED"]
        raters["r11"] = ["AWAITING REVIEW"]
        raters["r12"] = ["TIMED-OUT"]
        sub = 0
        for role, group in (("writing", writers), ("rating", raters)):
            for person, statuses in group.items():
                for status in statuses:
                    sub += 1
                    self.data.add(
                        "prolific",
                        "submissions",
                        {
                            "submission_id": f"sub{sub:04d}",
                            "participant_id": self.pid(person),
                            "study_id": f"study-{role}",
                            "study_role": role,
                            "status": status,
                            "started_at": "2025-02-28 10:00:00.000000",
                            "completed_at": "2025-02-28 10:30:00",
                            "reviewed_at": "",
                            "archived_at": None,
                            "time_taken": str(600 + 60 * sub),
                            "completion_code": "C0DE",
                            "total_approvals": "12",
                        },
                    )
        for person in [*writers, *raters]:
            self.data.add(
                "argilla",
                "users",
                {
                    "user_id": uid(person),
                    "username": self.username(person),
                    "role": "annotator",
                    "first_name": person,
                    "last_name": None,
                    "inserted_at": "2025-02-27T08:00:00",
                },
            )
            if self.metadata_links:
                self.data.add(
                    "study",
                    "participant_mapping",
                    {"prolific_pid": self.pid(person), "argilla_username": self.username(person)},
                )

    # -- study tables --------------------------------------------------------------------------
    def settings(self) -> None:
        self.data.add(
            "study",
            "settings",
            {
                "study_name": f"fixture-{self.data.variant}",
                "writing_question_field": "question",
                "writing_response_question": "response",
                "writing_quality_question": "question_quality",
                "quality_min": QUALITY_MIN,
                "quality_max": QUALITY_MAX,
                "rating_question_field": "prompt" if self.metadata_links else "question",
                "response_a_field": "response_a",
                "response_b_field": "response_b",
                "rating_question": "preference",
                "scale_min": SCALE_MIN,
                "scale_max": SCALE_MAX,
                "scale_low_means": self.data.low_means,
                "counted_statuses": json.dumps(["APPROVED", "AWAITING REVIEW"]),
                "expected_responses_per_question": 4,
                "expected_ratings_per_pair": 3,
                "question_id_metadata": "qid" if self.metadata_links else None,
                "response_a_metadata": "a_writer" if self.metadata_links else None,
                "response_b_metadata": "b_writer" if self.metadata_links else None,
                "argilla_username_is_prolific_pid": not self.metadata_links,
            },
        )
        for role, dataset, workspace, missing in (
            ("writing", "writing_main", "ws_a", "submitted"),
            ("writing", "writing_extra", "ws_b", "exclude"),
            ("rating", "rating_main", "ws_a", "submitted"),
            ("rating", "rating_extra", "ws_b", "exclude"),
        ):
            self.data.add(
                "study",
                "sources",
                {
                    "study_role": role,
                    "dataset": dataset,
                    "workspace": workspace,
                    "source_uri": f"/exports/{dataset}.parquet",
                    "source_format": "flat",
                    "status_if_missing": missing,
                },
            )
            for kind, name, qtype in (
                ("field", "question", "text"),
                ("question", "response" if role == "writing" else "preference", "text"),
            ):
                self.data.add(
                    "argilla",
                    "settings",
                    {
                        "dataset": dataset,
                        "workspace": workspace,
                        "study_role": role,
                        "kind": kind,
                        "name": name,
                        "title": name.title(),
                        "type": qtype,
                        "settings_json": json.dumps({"type": qtype}),
                    },
                )

    # -- writing study -------------------------------------------------------------------------
    @staticmethod
    def question_text(q: int) -> str:
        return f"Question {q}: how would you explain café culture to a child?"

    def record(self, role: str, dataset: str, workspace: str, fields: dict, meta: dict) -> str:
        self.record_seq += 1
        record_id = f"{role[0]}rec{self.record_seq:04d}"
        when = self.tick()
        self.data.add(
            "argilla",
            "records",
            {
                "record_id": record_id,
                "external_id": f"ext-{record_id}",
                "dataset": dataset,
                "workspace": workspace,
                "study_role": role,
                "source_format": "flat",
                "record_status": "completed",
                "fields": json.dumps(fields, ensure_ascii=False),
                "metadata": json.dumps(meta),
                "extra": None,
                "inserted_at": when,
                "updated_at": when,
            },
        )
        return record_id

    def response(
        self,
        dataset: str,
        workspace: str,
        role: str,
        record_id: str,
        person: str,
        question: str,
        value: object,
        status: str | None,
        item_type: str,
        reason: str | None,
        updated_at: str | None = None,
        with_username: bool = True,
    ) -> Key:
        number = float(value) if isinstance(value, int | float) else None
        text = value if isinstance(value, str) else None
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        when = updated_at or self.tick()
        user_id = uid(person)
        self.data.add(
            "argilla",
            "responses",
            {
                "record_id": record_id,
                "dataset": dataset,
                "workspace": workspace,
                "study_role": role,
                "user_id": user_id,
                # Flat exports carry no username: the users table supplies it.
                "username": self.username(person) if with_username else None,
                "question_name": question,
                "value_json": json.dumps(value, ensure_ascii=False),
                "value_number": number,
                "value_text": text,
                "status": status,
                "inserted_at": when,
                "updated_at": when,
            },
        )
        key = (dataset, workspace, record_id, user_id, question)
        self.data.expected[key] = (item_type, reason)
        return key

    def writing(self) -> None:
        counted_writers = ["w01", "w02", "w03", "w04", "w05", "w06", "w08"]
        self.writing_records: dict[int, str] = {}
        for q in range(1, 13):
            meta = {"qid": f"Q{q:03d}"} if self.metadata_links else {}
            rec = self.record(
                "writing", "writing_main", "ws_a", {"question": self.question_text(q)}, meta
            )
            self.writing_records[q] = rec
            writers = [counted_writers[(q + k) % len(counted_writers)] for k in range(4)]
            self.counted[q] = []
            for k, person in enumerate(writers):
                text = f"Answer of {person} to question {q}.\nIt has two lines."
                self.response(
                    "writing_main",
                    "ws_a",
                    "writing",
                    rec,
                    person,
                    "response",
                    text,
                    "submitted",
                    "written_response",
                    None,
                    with_username=k % 2 == 0,
                )
                self.counted[q].append((person, text))
                self.latent[(q, person)] = self.rng.gauss(0, 1)
                quality = 1 + (q + k) % 5
                self.response(
                    "writing_main",
                    "ws_a",
                    "writing",
                    rec,
                    person,
                    "question_quality",
                    quality,
                    "submitted",
                    "question_quality",
                    None,
                )
        main = "writing_main", "ws_a", "writing"
        # Planted exclusions, in the order of the rules.
        self.response(
            *main,
            self.writing_records[5],
            "w07",
            "response",
            5,
            "submitted",
            "written_response",
            "invalid_value",
        )
        self.response(
            *main,
            self.writing_records[3],
            "w07",
            "response",
            "a draft",
            "draft",
            "written_response",
            "not_submitted",
        )
        self.response(
            *main,
            self.writing_records[1],
            "w07",
            "response",
            "Text by a returned participant.",
            "submitted",
            "written_response",
            "writer_not_counted",
        )
        self.response(
            *main,
            self.writing_records[2],
            "w09",
            "response",
            "Text by someone with no submission.",
            "submitted",
            "written_response",
            "writer_not_counted",
        )
        empty_writer = [w for w in counted_writers if w not in dict(self.counted[4])][0]
        self.response(
            *main,
            self.writing_records[4],
            empty_writer,
            "response",
            " \t\n ",
            "submitted",
            "written_response",
            "empty_text",
        )
        # Quality ratings: planted exclusions.
        self.response(
            *main,
            self.writing_records[6],
            "w07",
            "question_quality",
            "abc",
            "submitted",
            "question_quality",
            "invalid_value",
        )
        q7_writers = [w for w, _ in self.counted[7]]
        outsider = [w for w in counted_writers if w not in q7_writers][0]
        self.response(
            *main,
            self.writing_records[7],
            outsider,
            "question_quality",
            7,
            "submitted",
            "question_quality",
            "out_of_range",
        )
        self.response(
            *main,
            self.writing_records[8],
            "w07",
            "question_quality",
            3.5,
            "submitted",
            "question_quality",
            "out_of_range",
        )
        self.response(
            *main,
            self.writing_records[9],
            "w07",
            "question_quality",
            2,
            "discarded",
            "question_quality",
            "not_submitted",
        )
        self.response(
            *main,
            self.writing_records[10],
            "w07",
            "question_quality",
            2,
            "submitted",
            "question_quality",
            "writer_not_counted",
        )
        # A response whose timestamp does not parse: quarantined, reported as excluded.
        self.response(
            *main,
            self.writing_records[11],
            "w09",
            "question_quality",
            3,
            "submitted",
            "question_quality",
            "invalid_timestamp",
            updated_at="the day after tomorrow",
        )

        # The second workspace repeats question 1 in another Unicode form and spacing: one
        # question. Its format has no status and the source says `exclude`.
        q1_nfd = "  " + self.question_text(1).replace("é", "e\u0301").replace(" how", "   how")
        meta = {"qid": "Q001"} if self.metadata_links else {}
        rec_b1 = self.record("writing", "writing_extra", "ws_b", {"question": q1_nfd}, meta)
        extra = "writing_extra", "ws_b", "writing"
        first_writer, first_text = self.counted[1][0]
        # The same writer answers question 1 again, later: the later answer wins.
        new_text = first_text + " Revised."
        self.response(
            *extra,
            rec_b1,
            first_writer,
            "response",
            new_text,
            "submitted",
            "written_response",
            None,
            updated_at=_ts(10_000),
        )
        self.counted[1][0] = (first_writer, new_text)
        old_key = ("writing_main", "ws_a", self.writing_records[1], uid(first_writer), "response")
        self.data.expected[old_key] = ("written_response", "duplicate_response")
        self.old_q1_text = first_text
        self.response(
            *extra,
            rec_b1,
            "w07",
            "response",
            "Unknown status text.",
            None,
            "written_response",
            "status_unknown_excluded",
        )
        # Quality duplicate: the same writer rates question 1's quality again, later.
        self.response(
            *extra,
            rec_b1,
            first_writer,
            "question_quality",
            5,
            "submitted",
            "question_quality",
            None,
            updated_at=_ts(10_001),
        )
        old_quality = (
            "writing_main",
            "ws_a",
            self.writing_records[1],
            uid(first_writer),
            "question_quality",
        )
        self.data.expected[old_quality] = ("question_quality", "duplicate_response")

    # -- rating study --------------------------------------------------------------------------
    def rating_record(
        self,
        dataset: str,
        workspace: str,
        q: int,
        side_a: tuple[str, str],
        side_b: tuple[str, str],
    ) -> str:
        fields = {
            ("prompt" if self.metadata_links else "question"): self.question_text(q),
            "response_a": side_a[1],
            "response_b": side_b[1],
        }
        meta = {}
        if self.metadata_links:
            meta = {"qid": f"Q{q:03d}", "a_writer": uid(side_a[0]), "b_writer": uid(side_b[0])}
        record_id = self.record("rating", dataset, workspace, fields, meta)
        self.data.rating_sides[record_id] = (side_a[0], side_b[0])
        return record_id

    def preference(self, q: int, a: str, b: str) -> int:
        """A plausible rating: A's latent quality against B's, plus noise, on the 1-8 scale."""
        diff = self.latent.get((q, a), 0.0) - self.latent.get((q, b), 0.0)
        raw = 4.5 - 1.6 * diff + self.rng.gauss(0, 1.0)
        value = int(min(SCALE_MAX, max(SCALE_MIN, round(raw))))
        # The scale's low end means A (text variant) or B (metadata variant) is better.
        return value if self.data.low_means == "response_a" else SCALE_MIN + SCALE_MAX - value

    def rating(self) -> None:
        counted_raters = ["r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r11"]
        self.pair_records: list[tuple[str, str, str, int, str, str]] = []
        rater_cursor = 0
        for q in range(1, 12):
            dataset, workspace = ("rating_main", "ws_a") if q <= 8 else ("rating_extra", "ws_b")
            answers = self.counted[q]
            for i in range(len(answers)):
                for j in range(i + 1, len(answers)):
                    a, b = answers[i], answers[j]
                    if self.rng.random() < 0.5:
                        a, b = b, a
                    rec = self.rating_record(dataset, workspace, q, a, b)
                    self.pair_records.append((dataset, workspace, rec, q, a[0], b[0]))
                    for _ in range(3):
                        rater = counted_raters[rater_cursor % len(counted_raters)]
                        rater_cursor += 1
                        self.response(
                            dataset,
                            workspace,
                            "rating",
                            rec,
                            rater,
                            "preference",
                            self.preference(q, a[0], b[0]),
                            "submitted",
                            "rating",
                            None,
                        )
        main = "rating_main", "ws_a", "rating"
        (w1, t1), (w2, t2) = self.counted[2][:2]
        # Planted exclusions on a pair of question 2, one record each (one response per record,
        # user and question); the rule order decides each reason.
        for rater, value, status, reason, updated_at in (
            ("r10", "abc", "submitted", "invalid_value", None),
            ("r12", 9, "submitted", "out_of_range", None),
            ("r01", 2.5, "submitted", "out_of_range", None),
            ("r02", 3, "draft", "not_submitted", None),
            ("r10", 3, "submitted", "rater_not_counted", None),
            ("r03", 3, "submitted", "invalid_timestamp", "31/02/2025 25:00"),
        ):
            rec = self.rating_record("rating_main", "ws_a", 2, (w1, t1), (w2, t2))
            self.response(
                *main,
                rec,
                rater,
                "preference",
                value,
                status,
                "rating",
                reason,
                updated_at=updated_at,
            )
        # A response to a question the study does not use: neither counted nor excluded.
        self.response(*main, rec, "r10", "preference_note", "ignored", "submitted", "other", None)
        del self.data.expected[("rating_main", "ws_a", rec, uid("r10"), "preference_note")]
        # Unlinkable: side B's text (or key) matches no written response of question 2.
        rec_u = self.rating_record(
            "rating_main", "ws_a", 2, (w1, t1), ("nobody", "A text nobody wrote.")
        )
        self.response(*main, rec_u, "r04", "preference", 2, "submitted", "rating", "unlinkable")
        # Same response on both sides (differently spaced text in the text variant).
        rec_s = self.rating_record(
            "rating_main", "ws_a", 2, (w1, t1), (w1, "  " + t1.replace(" ", "  "))
        )
        self.response(*main, rec_s, "r05", "preference", 2, "submitted", "rating", "same_response")
        # A side that is a written response that does not count (writer not counted).
        rec_n = self.rating_record(
            "rating_main", "ws_a", 1, self.counted[1][1], ("w07", "Text by a returned participant.")
        )
        self.response(
            *main, rec_n, "r06", "preference", 2, "submitted", "rating", "response_not_counted"
        )
        # Status unknown in a source that excludes such responses.
        rec_x = next(r for _, _, r, q, _, _ in self.pair_records if q == 9)
        rated_x = {k[3] for k in self.data.expected if k[2] == rec_x}
        rater_x = next(r for r in counted_raters if uid(r) not in rated_x)
        self.response(
            "rating_extra",
            "ws_b",
            "rating",
            rec_x,
            rater_x,
            "preference",
            4,
            None,
            "rating",
            "status_unknown_excluded",
        )
        # Duplicate rating: a rater rates a question-3 pair, then the same pair shown reversed
        # later, with the mirrored value (the same opinion): the later one counts, the first is
        # a duplicate.
        (wa, ta), (wb, tb) = self.counted[3][0], self.counted[3][1]
        bulk = next(r for _, _, r, q, a, b in self.pair_records if q == 3 and {a, b} == {wa, wb})
        rated = {k[3] for k in self.data.expected if k[2] == bulk}
        self.duplicate_rater = next(r for r in counted_raters if uid(r) not in rated)
        rec_d1 = self.rating_record("rating_main", "ws_a", 3, (wa, ta), (wb, tb))
        rec_d2 = self.rating_record("rating_main", "ws_a", 3, (wb, tb), (wa, ta))
        self.response(
            *main,
            rec_d1,
            self.duplicate_rater,
            "preference",
            2,
            "submitted",
            "rating",
            "duplicate_rating",
        )
        self.response(
            *main, rec_d2, self.duplicate_rater, "preference", 7, "submitted", "rating", None
        )
        self.data.duplicate_records = (rec_d1, rec_d2)
        # A tie: question 12's first pair gets exactly 4 and 5 from two raters.
        (wt1, tt1), (wt2, tt2) = self.counted[12][0], self.counted[12][1]
        rec_t = self.rating_record("rating_main", "ws_a", 12, (wt1, tt1), (wt2, tt2))
        self.response(*main, rec_t, "r01", "preference", 4, "submitted", "rating", None)
        self.response(*main, rec_t, "r02", "preference", 5, "submitted", "rating", None)
        self.data.tie_record = rec_t

    def build(self) -> StudyData:
        self.settings()
        self.people()
        self.writing()
        self.rating()
        return self.data


def synthetic_study(variant: str = "text", seed: int = 7) -> StudyData:
    """The rows of every landed table and the expected reason of every response row."""
    return _Builder(variant, seed).build()


def land_study(data: StudyData, root: Path, extracted_at: datetime | None = None) -> None:
    """Land every table of `data` (empty tables get their `_schema.parquet`)."""
    landing = Landing(root, extracted_at=extracted_at or datetime(2025, 3, 2, 12, tzinfo=UTC))
    try:
        for source, table in TABLES:
            rows = data.rows.get((source, table), [])
            if rows:
                arrow = pa.Table.from_pylist(rows, schema=schema_of(source, table))
                landing.land(source, table, arrow, f"test://{source}/{table}", "0" * 64)
            else:
                landing.ensure_table(source, table)
    finally:
        landing.close()
