"""Small studies in which every edge case is planted on purpose, each with its expected outcome.

The tests' studies, built into the same `Study` tables as the demo's random one (model.py) and
written by the same writers:

- `rules_study(variant)`: every case the counting rules of docs/architecture.md name, planted
  once or more; every response row records the exclusion reason the rules give it (None when it
  counts; `expected_outcomes`). The bulk of the ratings is random (seeded) but follows a latent
  quality of each answer, so agreement is neither 0 nor 1. Variants: "text" links rating sides by
  normalized text, Argilla usernames are Prolific ids and low ratings mean response A;
  "metadata" links by metadata keys, maps usernames to Prolific ids through a participant
  mapping, names the rating prompt field `prompt` and lets low ratings mean response B. It plants
  what only a live Argilla pull lands (per-response timestamps, two that do not parse, values of
  the wrong type, usernames on some responses), so it is landed as such a pull would land it
  (`rlhfw.demo.landed`), not written as export files.
- `publish_study()`: six questions (Spanish, Russian, Japanese among them), three writers, three
  raters, every pair of a question's answers rated: one tie, one pair with a single rating, a
  toxic answer, an answer in which the writer typed their own Prolific id, a rater working in a
  workspace named after them, demographics that must never be published and a rejected
  participant known to Prolific only. Written as export files (`write_study`), for the whole
  pipeline: extract, dbt build, publish.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from itertools import combinations

import pandas as pd

from rlhfw.demo.model import SUBMITTED, DatasetSpec, Study

Key = tuple[str, str, str, str, str]  # dataset, workspace, record_id, user_id, question_name

WRITING_QUESTIONS = (("response", "text", None), ("question_quality", "rating", (1, 5)))
RATING_QUESTIONS = (("preference", "rating", (1, 8)),)
COUNTED_STATUSES = ["APPROVED", "AWAITING REVIEW"]
SCALE_MIN, SCALE_MAX = 1, 8
QUALITY_MIN, QUALITY_MAX = 1, 5
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def uid(name: str) -> str:
    """The Argilla user id of a planted person (a UUID made from the name)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rlhfw-test/{name}"))


def stamp(minutes: int) -> str:
    """An Argilla timestamp `minutes` after the planted studies' start."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


class Planter:
    """Collects people, submissions, records and responses, row by row, into a `Study`."""

    def __init__(
        self, *, config: dict, datasets: list[DatasetSpec], study_ids: dict, seed: int
    ) -> None:
        self.config, self.datasets = config, tuple(datasets)
        self.study_ids, self.seed = study_ids, seed
        self._ds = {(d.name, d.workspace): i for i, d in enumerate(self.datasets)}
        self.people: list[dict] = []
        self._person: dict[str, int] = {}
        self.submissions: list[dict] = []
        self.records: dict[int, list[dict]] = {i: [] for i in range(len(self.datasets))}
        self.responses: dict[int, list[dict]] = {i: [] for i in range(len(self.datasets))}
        self._rec: dict[tuple[int, str], int] = {}
        self._responses: dict[Key, dict] = {}
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # -- people ------------------------------------------------------------------------------
    def person(
        self,
        key: str,
        *,
        pid: str | None,
        user_id: str,
        username: str | None,
        in_users_file: bool = True,
        demographics: dict[str, str] | None = None,
    ) -> None:
        self._person[key] = len(self.people)
        self.people.append(
            {
                "person": len(self.people),
                "key": key,
                "kind": "planted",
                "pid": pid,
                "user_id": user_id,
                "username": username,
                "in_users_file": in_users_file,
                "demographics": demographics,
            }
        )

    def user_id(self, key: str) -> str:
        return self.people[self._person[key]]["user_id"]

    def username(self, key: str) -> str | None:
        return self.people[self._person[key]]["username"]

    def submit(self, key: str, role: str, statuses: list[str]) -> None:
        """Prolific submissions of `key` to the `role` study, in order."""
        for attempt, status in enumerate(statuses):
            person = self._person[key]
            self.submissions.append(
                {"person": person, "study_role": role, "status": status, "attempt": attempt}
            )

    # -- Argilla -----------------------------------------------------------------------------
    def record(
        self,
        dataset: str,
        workspace: str,
        record_id: str,
        fields: dict,
        metadata: dict | None = None,
        *,
        external_id: str | None = None,
        inserted_at: str | None = None,
        status: str | None = None,
    ) -> str:
        """A record of a dataset; `record_id` is the server's id (what a flat export and a live
        pull call it). `status`: Argilla's record status (default: completed once anyone
        submitted a response to it, else pending)."""
        i = self._ds[(dataset, workspace)]
        spec = self.datasets[i]
        assert set(fields) <= set(spec.fields), (fields, spec.fields)
        rec = len(self.records[i])
        row = {
            "rec": rec,
            "external_id": external_id or f"ext-{record_id}",
            "server_id": record_id,
            "status": status,
            "seq": self._next(),
            "inserted_at": inserted_at,
        }
        row.update({f: fields.get(f) for f in spec.fields})
        row.update({k: (metadata or {}).get(k) for k in spec.metadata})
        self.records[i].append(row)
        self._rec[(i, record_id)] = rec
        return record_id

    def respond(
        self,
        dataset: str,
        workspace: str,
        record_id: str,
        who: str,
        question: str,
        value: object,
        status: str | None,
        *,
        item_type: str | None = None,
        reason: str | None = None,
        updated_at: str | None = None,
        with_username: bool = True,
        user_id: str | None = None,
    ) -> Key:
        """A response of `who` to a record's question, with its expected outcome: `item_type`
        (written_response, question_quality, rating; None: neither counted nor excluded) and the
        exclusion `reason` (None: it counts)."""
        i = self._ds[(dataset, workspace)]
        user_id = user_id or self.user_id(who)
        row = {
            "rec": self._rec[(i, record_id)],
            "user_id": user_id,
            "question": question,
            "value": value,
            "status": status,
            "username": self.username(who) if with_username else None,
            "updated_at": updated_at,
            "item_type": item_type,
            "expected": reason,
            "seq": self._next(),
        }
        self.responses[i].append(row)
        key = (dataset, workspace, record_id, user_id, question)
        self._responses[key] = row
        return key

    def expect(self, key: Key, item_type: str | None, reason: str | None) -> None:
        """Change what a planted response is expected to become (a later one replaced it)."""
        self._responses[key].update(item_type=item_type, expected=reason)

    def study(self, *, questions: int, messes: dict[str, str], notes: dict) -> Study:
        records, responses = {}, {}
        for i, spec in enumerate(self.datasets):
            resp = pd.DataFrame(
                sorted(self.responses[i], key=lambda r: (r["rec"], r["seq"])),
                columns=[
                    "rec", "user_id", "question", "value", "status", "username", "updated_at",
                    "item_type", "expected", "seq",
                ],
            )  # fmt: skip
            submitted = resp[resp.status == SUBMITTED].groupby("rec").size()
            recs = pd.DataFrame(
                self.records[i],
                columns=[
                    "rec", "external_id", "server_id", "status", "seq", "inserted_at",
                    *spec.fields, *spec.metadata,
                ],
            )  # fmt: skip
            n_submitted = submitted.reindex(recs.rec).fillna(0).tolist()
            recs["status"] = [
                given if isinstance(given, str) else ("completed" if n else "pending")
                for n, given in zip(n_submitted, recs.status.tolist(), strict=True)
            ]
            # Text columns as plain objects, absent values None (pandas would make them NaN).
            for frame in (recs, resp):
                for column in frame.columns:
                    if not pd.api.types.is_numeric_dtype(frame[column]):
                        frame[column] = pd.Series(
                            [None if _absent(v) else v for v in frame[column]],
                            index=frame.index,
                            dtype=object,
                        )
            records[i], responses[i] = recs, resp
        return Study(
            questions=questions,
            seed=self.seed,
            people=pd.DataFrame(self.people),
            submissions=pd.DataFrame(
                self.submissions, columns=["person", "study_role", "status", "attempt"]
            ),
            study_ids=dict(self.study_ids),
            records=records,
            responses=responses,
            datasets=self.datasets,
            config=self.config,
            messes=messes,
            notes=notes,
        )


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def expected_outcomes(study: Study) -> dict[Key, tuple[str, str | None]]:
    """(item type, expected exclusion reason or None) of every planted response row that is
    counted or excluded, by its landed key."""
    out = {}
    for i, spec in enumerate(study.datasets):
        recs, resp = study.records[i], study.responses[i]
        if "item_type" not in resp:
            continue  # not a planted study
        record_id = dict(zip(recs.rec, recs.server_id, strict=True))
        for rec, user, question, item_type, reason in zip(
            resp.rec, resp.user_id, resp.question, resp.item_type, resp.expected, strict=True
        ):
            if isinstance(item_type, str):
                key = (spec.name, spec.workspace, record_id[rec], user, question)
                out[key] = (item_type, reason)
    return out


# ---------------------------------------------------------------------------------------------
# the counting rules study


RULES_MESSES = {
    "invalid_value": "a number for a text answer, text for a rating or quality rating",
    "out_of_range": "ratings 9 and 2.5, quality ratings 7 and 3.5",
    "not_submitted": "drafts and a discarded quality rating",
    "status_unknown_excluded": "responses without status in sources that say `exclude`",
    "not_counted": "writers and raters whose Prolific submissions do not count or who have none",
    "empty_text": "an answer of whitespace only",
    "duplicate_response": "a writer answering (and rating) question 1 again in another workspace,"
    " where the question shows in another Unicode form and spacing",
    "invalid_timestamp": "two responses whose timestamps do not parse (quarantined)",
    "unlinkable / same_response / response_not_counted": "rating records whose sides are no"
    " written answer, the same answer twice, an answer that does not count",
    "duplicate_rating": "a rater rating one pair twice, in both orders",
    "tie": "a pair rated exactly at the scale's midpoint",
    "question_not_configured": "an answer to a question the study does not use",
}


class _Rules:
    def __init__(self, variant: str, seed: int) -> None:
        if variant not in ("text", "metadata"):
            raise ValueError(f"variant must be 'text' or 'metadata', got {variant!r}")
        self.variant = variant
        self.rng = random.Random(seed)
        self.metadata_links = variant == "metadata"
        self.low_means = "response_b" if self.metadata_links else "response_a"
        self.prompt = "prompt" if self.metadata_links else "question"
        self.clock = 0
        self.record_seq = 0
        # question number -> [(writer, text)] of the answers that count
        self.counted: dict[int, list[tuple[str, str]]] = {}
        self.latent: dict[tuple[int, str], float] = {}
        self.rating_sides: dict[str, tuple[str, str]] = {}
        self.p = Planter(
            config=self._config(),
            datasets=self._datasets(),
            study_ids={"writing": "study-writing", "rating": "study-rating"},
            seed=seed,
        )

    def _datasets(self) -> list[DatasetSpec]:
        meta = self.metadata_links
        out = []
        for role, dataset, workspace, missing in (
            ("writing", "writing_main", "ws_a", "submitted"),
            ("writing", "writing_extra", "ws_b", "exclude"),
            ("rating", "rating_main", "ws_a", "submitted"),
            ("rating", "rating_extra", "ws_b", "exclude"),
        ):
            writing = role == "writing"
            out.append(
                DatasetSpec(
                    role,
                    dataset,
                    workspace,
                    "flat_json",
                    f"exports/argilla/{workspace}/{dataset}.json",
                    status_if_missing=missing,
                    fields=("question",) if writing else (self.prompt, "response_a", "response_b"),
                    questions=WRITING_QUESTIONS if writing else RATING_QUESTIONS,
                    metadata=(
                        (("qid",) if writing else ("qid", "a_writer", "b_writer")) if meta else ()
                    ),
                )
            )
        return out

    def _config(self) -> dict:
        meta = self.metadata_links
        writing = {
            "question_field": "question",
            "response_question": "response",
            "quality_question": "question_quality",
            "quality_scale": {"min": QUALITY_MIN, "max": QUALITY_MAX},
            "expected_responses_per_question": 4,
        }
        rating = {
            "question_field": self.prompt,
            "response_a_field": "response_a",
            "response_b_field": "response_b",
            "rating_question": "preference",
            "scale": {"min": SCALE_MIN, "max": SCALE_MAX, "low_means": self.low_means},
            "expected_ratings_per_pair": 3,
        }
        if meta:
            writing["question_id_metadata"] = "qid"
            rating["response_a_metadata"] = "a_writer"
            rating["response_b_metadata"] = "b_writer"
        return {
            "name": f"fixture-{self.variant}",
            "counted_statuses": COUNTED_STATUSES,
            "writing": writing,
            "rating": rating,
            "participants": {"argilla_username_is_prolific_pid": not meta},
            "publish_name": f"fixture-{self.variant}-preferences",
        }

    # -- people ------------------------------------------------------------------------------
    @staticmethod
    def pid(person: str) -> str:
        return f"pid{person}".ljust(24, "0")

    def tick(self) -> str:
        self.clock += 1
        return stamp(self.clock)

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
        for person in [*writers, *raters]:
            # metadata variant: Argilla usernames are not Prolific ids, a mapping joins them.
            username = f"user_{person}" if self.metadata_links else self.pid(person)
            self.p.person(person, pid=self.pid(person), user_id=uid(person), username=username)
        for role, group in (("writing", writers), ("rating", raters)):
            for person, statuses in group.items():
                self.p.submit(person, role, statuses)

    # -- writing study -----------------------------------------------------------------------
    @staticmethod
    def question_text(q: int) -> str:
        return f"Question {q}: how would you explain café culture to a child?"

    def record(self, role: str, dataset: str, workspace: str, fields: dict, meta: dict) -> str:
        self.record_seq += 1
        record_id = f"{role[0]}rec{self.record_seq:04d}"
        return self.p.record(
            dataset, workspace, record_id, fields, meta, inserted_at=self.tick(), status="completed"
        )

    def response(
        self,
        dataset: str,
        workspace: str,
        record_id: str,
        person: str,
        question: str,
        value: object,
        status: str | None,
        item_type: str | None,
        reason: str | None,
        updated_at: str | None = None,
        with_username: bool = True,
    ) -> Key:
        return self.p.respond(
            dataset,
            workspace,
            record_id,
            person,
            question,
            value,
            status,
            item_type=item_type,
            reason=reason,
            updated_at=updated_at or self.tick(),
            with_username=with_username,
        )

    def writing(self) -> None:
        counted_writers = ["w01", "w02", "w03", "w04", "w05", "w06", "w08"]
        self.writing_records: dict[int, str] = {}
        main = "writing_main", "ws_a"
        for q in range(1, 13):
            meta = {"qid": f"Q{q:03d}"} if self.metadata_links else {}
            rec = self.record("writing", *main, {"question": self.question_text(q)}, meta)
            self.writing_records[q] = rec
            writers = [counted_writers[(q + k) % len(counted_writers)] for k in range(4)]
            self.counted[q] = []
            for k, person in enumerate(writers):
                text = f"Answer of {person} to question {q}.\nIt has two lines."
                # Flat exports carry no username: the users table supplies it.
                self.response(
                    *main, rec, person, "response", text, "submitted", "written_response", None,
                    with_username=k % 2 == 0,
                )  # fmt: skip
                self.counted[q].append((person, text))
                self.latent[(q, person)] = self.rng.gauss(0, 1)
                quality = 1 + (q + k) % 5
                self.response(
                    *main, rec, person, "question_quality", quality, "submitted",
                    "question_quality", None,
                )  # fmt: skip
        recs = self.writing_records
        wr, qq = "written_response", "question_quality"
        # Planted exclusions, in the order of the rules.
        self.response(*main, recs[5], "w07", "response", 5, "submitted", wr, "invalid_value")
        self.response(*main, recs[3], "w07", "response", "a draft", "draft", wr, "not_submitted")
        self.response(
            *main, recs[1], "w07", "response", "Text by a returned participant.", "submitted",
            wr, "writer_not_counted",
        )  # fmt: skip
        self.response(
            *main, recs[2], "w09", "response", "Text by someone with no submission.",
            "submitted", wr, "writer_not_counted",
        )  # fmt: skip
        empty_writer = [w for w in counted_writers if w not in dict(self.counted[4])][0]
        self.response(
            *main, recs[4], empty_writer, "response", " \t\n ", "submitted", wr, "empty_text"
        )
        # Quality ratings: planted exclusions.
        self.response(
            *main, recs[6], "w07", "question_quality", "abc", "submitted", qq, "invalid_value"
        )
        q7_writers = [w for w, _ in self.counted[7]]
        outsider = [w for w in counted_writers if w not in q7_writers][0]
        self.response(
            *main, recs[7], outsider, "question_quality", 7, "submitted", qq, "out_of_range"
        )
        self.response(
            *main, recs[8], "w07", "question_quality", 3.5, "submitted", qq, "out_of_range"
        )
        self.response(
            *main, recs[9], "w07", "question_quality", 2, "discarded", qq, "not_submitted"
        )
        self.response(
            *main, recs[10], "w07", "question_quality", 2, "submitted", qq, "writer_not_counted"
        )
        # A response whose timestamp does not parse: quarantined, reported as excluded.
        self.response(
            *main, recs[11], "w09", "question_quality", 3, "submitted", qq, "invalid_timestamp",
            updated_at="the day after tomorrow",
        )  # fmt: skip

        # The second workspace repeats question 1 in another Unicode form and spacing: one
        # question. Its source says `exclude` for responses without a status.
        q1_nfd = "  " + self.question_text(1).replace("é", "e\u0301").replace(" how", "   how")
        meta = {"qid": "Q001"} if self.metadata_links else {}
        extra = "writing_extra", "ws_b"
        rec_b1 = self.record("writing", *extra, {"question": q1_nfd}, meta)
        first_writer, first_text = self.counted[1][0]
        # The same writer answers question 1 again, later: the later answer wins.
        new_text = first_text + " Revised."
        self.response(
            *extra, rec_b1, first_writer, "response", new_text, "submitted", wr, None,
            updated_at=stamp(10_000),
        )  # fmt: skip
        self.counted[1][0] = (first_writer, new_text)
        self.p.expect((*main, recs[1], uid(first_writer), "response"), wr, "duplicate_response")
        self.response(
            *extra, rec_b1, "w07", "response", "Unknown status text.", None, wr,
            "status_unknown_excluded",
        )  # fmt: skip
        # Quality duplicate: the same writer rates question 1's quality again, later.
        self.response(
            *extra, rec_b1, first_writer, "question_quality", 5, "submitted", qq, None,
            updated_at=stamp(10_001),
        )  # fmt: skip
        self.p.expect(
            (*main, recs[1], uid(first_writer), "question_quality"), qq, "duplicate_response"
        )

    # -- rating study ------------------------------------------------------------------------
    def rating_record(
        self, dataset: str, workspace: str, q: int, side_a: tuple[str, str], side_b: tuple[str, str]
    ) -> str:
        fields = {
            self.prompt: self.question_text(q),
            "response_a": side_a[1],
            "response_b": side_b[1],
        }
        meta = {}
        if self.metadata_links:
            meta = {"qid": f"Q{q:03d}", "a_writer": uid(side_a[0]), "b_writer": uid(side_b[0])}
        record_id = self.record("rating", dataset, workspace, fields, meta)
        self.rating_sides[record_id] = (side_a[0], side_b[0])
        return record_id

    def preference(self, q: int, a: str, b: str) -> int:
        """A plausible rating: A's latent quality against B's, plus noise, on the 1-8 scale."""
        diff = self.latent.get((q, a), 0.0) - self.latent.get((q, b), 0.0)
        raw = 4.5 - 1.6 * diff + self.rng.gauss(0, 1.0)
        value = int(min(SCALE_MAX, max(SCALE_MIN, round(raw))))
        # The scale's low end means A (text variant) or B (metadata variant) is better.
        return value if self.low_means == "response_a" else SCALE_MIN + SCALE_MAX - value

    def rating(self) -> None:
        counted_raters = ["r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r11"]
        pair_records: list[tuple[str, str, str, int, str, str]] = []
        rated: dict[str, set[str]] = {}  # record id -> raters
        rater_cursor = 0
        rt = "rating"
        for q in range(1, 12):
            dataset, workspace = ("rating_main", "ws_a") if q <= 8 else ("rating_extra", "ws_b")
            answers = self.counted[q]
            for i in range(len(answers)):
                for j in range(i + 1, len(answers)):
                    a, b = answers[i], answers[j]
                    if self.rng.random() < 0.5:
                        a, b = b, a
                    rec = self.rating_record(dataset, workspace, q, a, b)
                    pair_records.append((dataset, workspace, rec, q, a[0], b[0]))
                    for _ in range(3):
                        rater = counted_raters[rater_cursor % len(counted_raters)]
                        rater_cursor += 1
                        rated.setdefault(rec, set()).add(rater)
                        self.response(
                            dataset, workspace, rec, rater, "preference",
                            self.preference(q, a[0], b[0]), "submitted", rt, None,
                        )  # fmt: skip
        main = "rating_main", "ws_a"
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
            rec = self.rating_record(*main, 2, (w1, t1), (w2, t2))
            self.response(
                *main, rec, rater, "preference", value, status, rt, reason, updated_at=updated_at
            )
        # A response to a question the study does not use: neither counted nor excluded as an
        # item of the three types (listed as other_response / question_not_configured).
        self.response(*main, rec, "r10", "preference_note", "ignored", "submitted", None, None)
        # Unlinkable: side B's text (or key) matches no written response of question 2.
        rec_u = self.rating_record(*main, 2, (w1, t1), ("nobody", "A text nobody wrote."))
        self.response(*main, rec_u, "r04", "preference", 2, "submitted", rt, "unlinkable")
        # Same response on both sides (differently spaced text in the text variant).
        rec_s = self.rating_record(*main, 2, (w1, t1), (w1, "  " + t1.replace(" ", "  ")))
        self.response(*main, rec_s, "r05", "preference", 2, "submitted", rt, "same_response")
        # A side that is a written response that does not count (writer not counted).
        rec_n = self.rating_record(
            *main, 1, self.counted[1][1], ("w07", "Text by a returned participant.")
        )
        self.response(*main, rec_n, "r06", "preference", 2, "submitted", rt, "response_not_counted")
        # Status unknown in a source that excludes such responses.
        rec_x = next(r for _, _, r, q, _, _ in pair_records if q == 9)
        rater_x = next(r for r in counted_raters if r not in rated[rec_x])
        self.response(
            "rating_extra", "ws_b", rec_x, rater_x, "preference", 4, None, rt,
            "status_unknown_excluded",
        )  # fmt: skip
        # Duplicate rating: a rater rates a question-3 pair, then the same pair shown reversed
        # later, with the mirrored value (the same opinion): the later one counts, the first is
        # a duplicate.
        (wa, ta), (wb, tb) = self.counted[3][0], self.counted[3][1]
        bulk = next(r for _, _, r, q, a, b in pair_records if q == 3 and {a, b} == {wa, wb})
        duplicate_rater = next(r for r in counted_raters if r not in rated[bulk])
        rec_d1 = self.rating_record(*main, 3, (wa, ta), (wb, tb))
        rec_d2 = self.rating_record(*main, 3, (wb, tb), (wa, ta))
        self.response(
            *main, rec_d1, duplicate_rater, "preference", 2, "submitted", rt, "duplicate_rating"
        )
        self.response(*main, rec_d2, duplicate_rater, "preference", 7, "submitted", rt, None)
        self.duplicate_records = (rec_d1, rec_d2)
        # A tie: question 12's first pair gets exactly 4 and 5 from two raters.
        (wt1, tt1), (wt2, tt2) = self.counted[12][0], self.counted[12][1]
        rec_t = self.rating_record(*main, 12, (wt1, tt1), (wt2, tt2))
        self.response(*main, rec_t, "r01", "preference", 4, "submitted", rt, None)
        self.response(*main, rec_t, "r02", "preference", 5, "submitted", rt, None)
        self.tie_record = rec_t

    def build(self) -> Study:
        self.people()
        self.writing()
        self.rating()
        notes = {
            "variant": self.variant,
            "low_means": self.low_means,
            # rating record id -> (person shown as A, person shown as B)
            "rating_sides": self.rating_sides,
            "duplicate_records": self.duplicate_records,
            "tie_record": self.tie_record,
        }
        return self.p.study(questions=12, messes=RULES_MESSES, notes=notes)


def rules_study(variant: str = "text", seed: int = 7) -> Study:
    """The counting rules study (module doc); `expected_outcomes` gives each response's fate."""
    return _Rules(variant, seed).build()


# ---------------------------------------------------------------------------------------------
# the publish study


def _md5_16(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()[:16]


def _prolific_id(i: int) -> str:
    # Prolific ids are 24 hex digits.
    return hashlib.sha1(f"pid{i}".encode()).hexdigest()[:24]


QUESTIONS = [
    "What makes a good friend?",
    "¿Qué opinas del café por la mañana? ☕",
    "Как лучше провести выходные?",
    "How should I respond to a rude coworker?",
    "What is your favourite season and why?",
    "日本の首都はどこですか？",
]
TOXIC_TEXT = "Tell that fucking idiot to shut the hell up, he is a worthless piece of shit."
# (Argilla user id, username = Prolific participant id) of the writers and the raters.
WRITERS = [(str(uuid.uuid5(uuid.NAMESPACE_DNS, f"w{i}")), _prolific_id(i)) for i in range(3)]
RATERS = [(str(uuid.uuid5(uuid.NAMESPACE_DNS, f"r{i}")), _prolific_id(10 + i)) for i in range(3)]
NOT_COUNTED_PID = _prolific_id(99)  # a rejected participant: known to Prolific only
DEMOGRAPHICS = {
    "age": ["83", "19", "64"],
    "sex": ["Intersex-Demo", "Female", "Male"],
    "country_of_residence": ["Liechtenstein", "Tuvalu", "Andorra"],
    "nationality": ["Liechtensteiner", "Tuvaluan", "Andorran"],
    "language": ["Faroese", "Romansh", "Catalan"],
    "employment_status": ["Seasonal-Shepherd", "Lighthouse-Keeper", "Glassblower-Apprentice"],
}
# Prolific export header of each demographics column above.
DEMOGRAPHIC_HEADERS = {
    "age": "Age",
    "sex": "Sex",
    "country_of_residence": "Country of residence",
    "nationality": "Nationality",
    "language": "Language",
    "employment_status": "Employment status",
}
SELF_ID_TEXT = f"My Prolific ID is {WRITERS[2][1]}. A good friend is honest with you."
ANSWERS = {
    0: ["A good friend listens without judging.", "Someone who shows up when it matters.",
        SELF_ID_TEXT],
    1: ["Me encanta: un café solo y el día empieza. ¡Qué rico!", "Prefiero el té, la verdad.",
        "Depende del día; a veces con leche y canela."],
    2: ["Погулять в парке и почитать книгу.", "Выспаться и встретиться с друзьями.",
        "Съездить за город, если погода хорошая."],
    3: ["Stay calm and talk to them privately about it.", TOXIC_TEXT,
        "Ask your manager for advice if it keeps happening."],
    4: ["Autumn, for the colours and the cool air.", "Summer, because of long evenings.",
        "Winter: snow, tea and quiet days. ❄️"],
    5: ["東京です。", "日本の首都は東京です。", "Tokyo is the capital of Japan."],
}  # fmt: skip
# Ratings of the pairs of each question (the pairs of its answers ordered by response id, three
# per question), one per rater, ORIENTED: a low value means the pair's first response is better.
# Question 1's second pair is a tie (two ratings); question 2's third has a single rating. They
# give an interval Krippendorff's alpha of 0.612 over all pairs.
RATINGS = {
    (0, 0): [2, 1, 3], (0, 1): [7, 8, 6], (0, 2): [2, 3, 2],
    (1, 0): [6, 1, 8], (1, 1): [4, 5, None], (1, 2): [1, 2, 2],
    (2, 0): [3, 2, 1], (2, 1): [5, 7, 6], (2, 2): [8, None, None],
    (3, 0): [1, 1, 7], (3, 1): [2, 3, 1], (3, 2): [7, 8, 5],
    (4, 0): [2, 2, 3], (4, 1): [6, 6, 7], (4, 2): [3, 1, 2],
    (5, 0): [7, 6, 6], (5, 1): [2, 4, 1], (5, 2): [6, 8, 7],
}  # fmt: skip
# Question-quality ratings of each question, one per writer (None: not rated): 13 ratings,
# mean 47/13.
QUALITY = {
    0: [4, 4, 4], 1: [3, 4, None], 2: [4, None, 5], 3: [3, 3, 3], 4: [None, 5, None],
    5: [2, None, 3],
}  # fmt: skip
# Some teams give each annotator a workspace named after them: the first rater works in one.
RATER_WORKSPACES = [f"ws-{RATERS[0][1]}", "social", "social"]

PUBLISH_MESSES = {
    "non_ascii": "Spanish, Russian and Japanese questions and answers, emoji",
    "tie": "question 1's second pair: two ratings at the midpoint",
    "single_rating": "question 2's third pair: one rating",
    "toxic_answer": "one answer alt-profanity-check flags",
    "self_identifying_answer": "a writer typed their own Prolific id into an answer",
    "workspace_named_after_a_rater": "the first rater rates in a workspace named after them",
    "demographics": "values that must never be published",
    "prolific_only_participant": "a rejected participant with no Argilla account",
}


def publish_study(seed: int = 11) -> Study:
    """The publish study (module doc); its ratings, written in the exports as each rater saw the
    pair, are `RATINGS` once oriented."""
    datasets = [
        DatasetSpec(
            "writing", "writing-study", "social", "flat_parquet",
            "exports/argilla/social/writing-study.parquet", metadata=(),
        ),
        DatasetSpec(
            "rating", "rating-study", "social", "flat_json",
            "exports/argilla/social/rating-study.json", metadata=(),
        ),
        DatasetSpec(
            "rating", "rating-study", RATER_WORKSPACES[0], "v1_jsonl",
            "exports/argilla/rater-workspace/rating-study.jsonl", metadata=(),
        ),
    ]  # fmt: skip
    config = {
        "name": "planted-publish",
        "counted_statuses": COUNTED_STATUSES,
        "writing": {
            "question_field": "question",
            "response_question": "response",
            "quality_question": "question_quality",
            "quality_scale": {"min": QUALITY_MIN, "max": QUALITY_MAX},
            "expected_responses_per_question": 3,
        },
        "rating": {
            "question_field": "question",
            "response_a_field": "response_a",
            "response_b_field": "response_b",
            "rating_question": "preference",
            "scale": {"min": SCALE_MIN, "max": SCALE_MAX, "low_means": "response_a"},
            "expected_ratings_per_pair": 3,
        },
        "participants": {"argilla_username_is_prolific_pid": True},
        "publish_name": "planted-publish-preferences",
    }
    p = Planter(
        config=config,
        datasets=datasets,
        study_ids={"writing": _md5_16("writing-study")[:12], "rating": _md5_16("rating")[:12]},
        seed=seed,
    )
    people = [("w", i, person) for i, person in enumerate(WRITERS)]
    people += [("r", i, person) for i, person in enumerate(RATERS)]
    for n, (kind, i, (user_id, pid)) in enumerate(people):
        demographics = {DEMOGRAPHIC_HEADERS[k]: v[n % 3] for k, v in DEMOGRAPHICS.items()}
        p.person(f"{kind}{i}", pid=pid, user_id=user_id, username=pid, demographics=demographics)
        p.submit(f"{kind}{i}", "writing" if kind == "w" else "rating", ["APPROVED"])
    p.person("rejected", pid=NOT_COUNTED_PID, user_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, "x")),
             username=None, in_users_file=False)  # fmt: skip
    p.submit("rejected", "rating", ["REJECTED"])

    response_id = {}
    for qi, question in enumerate(QUESTIONS):
        qid = _md5_16(question)
        rec = p.record("writing-study", "social", str(uuid.uuid5(uuid.NAMESPACE_URL, f"rec{qi}")),
                       {"question": question}, external_id=f"q{qi}")  # fmt: skip
        for wi, text in enumerate(ANSWERS[qi]):
            p.respond("writing-study", "social", rec, f"w{wi}", "response", text, SUBMITTED,
                      item_type="written_response")  # fmt: skip
            if QUALITY[qi][wi] is not None:
                p.respond("writing-study", "social", rec, f"w{wi}", "question_quality",
                          QUALITY[qi][wi], SUBMITTED, item_type="question_quality")  # fmt: skip
            response_id[(qi, wi)] = _md5_16(f"{qid}|{WRITERS[wi][0]}")
    for qi, question in enumerate(QUESTIONS):
        by_id = sorted(range(3), key=lambda wi: response_id[(qi, wi)])
        for pi, (w1, w2) in enumerate(combinations(by_id, 2)):
            # Shown the other way round on every other pair: the rating read as the rater saw it.
            swapped = (qi + pi) % 2 == 1
            a, b = (w2, w1) if swapped else (w1, w2)
            pair_id = _md5_16(f"{response_id[(qi, w1)]}|{response_id[(qi, w2)]}")
            fields = {"question": question, "response_a": ANSWERS[qi][a],
                      "response_b": ANSWERS[qi][b]}  # fmt: skip
            for workspace in dict.fromkeys(RATER_WORKSPACES):
                record_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{workspace}/{pair_id}"))
                p.record("rating-study", workspace, record_id, fields, external_id=record_id)
                for ri, value in enumerate(RATINGS[(qi, pi)]):
                    if value is None or RATER_WORKSPACES[ri] != workspace:
                        continue
                    shown = SCALE_MIN + SCALE_MAX - value if swapped else value
                    p.respond("rating-study", workspace, record_id, f"r{ri}", "preference",
                              shown, SUBMITTED, item_type="rating")  # fmt: skip
    return p.study(questions=len(QUESTIONS), messes=PUBLISH_MESSES, notes={})
