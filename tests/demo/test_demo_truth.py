"""The oracle's ground truth of the demo study (tests/oracle.py) is self-consistent and shows
every planted mess, and the oracle applies the architecture.md rules (checked on a hand-written
study whose answers are worked out below)."""

from __future__ import annotations

import csv
import hashlib
import json
import unicodedata
import uuid
from pathlib import Path

import pytest
import yaml

from rlhfw.demo.text import OFFENSIVE_ANSWERS
from study_config import load_study
from tests.oracle import RATING_REASONS, compute_truth, normalize, read_export


def _md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()[:16]


def test_counted_plus_excluded_is_landed(truth):
    landed = truth["landed"]["argilla/responses"]["by_study"]
    ex = truth["exclusions"]
    writing = (
        truth["counted_responses"]
        + sum(ex["responses"].values())
        + truth["counted_quality_ratings"]
        + sum(ex["quality"].values())
    )
    assert writing == landed["writing"]
    assert truth["counted_ratings"] + sum(ex["ratings"].values()) == landed["rating"]
    by_ds = truth["landed"]["argilla/records"]
    assert sum(by_ds["by_dataset"].values()) == by_ds["total"]
    assert truth["question_quality"]["n"] == truth["counted_quality_ratings"]


def test_every_planted_mess_shows(truth):
    ex = truth["exclusions"]
    assert all(n > 0 for r, n in ex["ratings"].items() if r != "invalid_value"), ex["ratings"]
    assert all(
        n > 0
        for r, n in ex["responses"].items()
        if r not in ("invalid_value", "status_unknown_excluded")
    ), ex["responses"]
    assert all(
        ex["quality"][r] > 0
        for r in ("out_of_range", "not_submitted", "writer_not_counted", "duplicate_response")
    )
    assert truth["ties"] > 0 and truth["pairs_presented_twice"] > 0
    assert truth["status_unknown_counted"]["responses"] > 0
    for role in ("writing", "rating"):
        assert truth["participants"][role]["duplicate_submissions"] >= 1
    assert 0 < truth["pairs"] <= truth["counted_ratings"]


def test_offensive_answers_are_flagged_by_profanity_check(demo):
    from profanity_check import predict

    answers = set()
    for src in load_study(demo.study_path).argilla.writing.sources:
        _, resp = read_export(src.export, ["question"], ["response"])
        answers |= {v for v in resp.value if isinstance(v, str)}
    texts = sorted(answers & set(OFFENSIVE_ANSWERS))
    assert len(texts) >= 3
    assert list(predict(texts)) == [1] * len(texts)


def test_exports_hold_non_ascii_text(demo):
    study = load_study(demo.study_path)
    texts = []
    for src in study.argilla.writing.sources:
        recs, resp = read_export(src.export, ["question"], ["response"])
        texts += recs.question.tolist() + [v for v in resp.value if isinstance(v, str)]
    text = "".join(texts)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)  # CJK
    assert any(unicodedata.category(ch) == "So" for ch in text)  # emoji
    assert any(ch in "éëèïçü" for ch in text)
    # The question shown in a second workspace is stored decomposed (NFD): it links after NFC.
    assert any(unicodedata.normalize("NFC", t) != t for t in texts)


def test_pair_samples_follow_the_identity_rules(truth):
    samples = truth["pair_samples"]
    assert len(samples) >= 8
    assert {"tie", "same-rater repeat excluded"} <= {s["why"] for s in samples}
    for s in samples:
        assert s["question_id"] == _md5(normalize(s["question"]))
        assert s["response_1_id"] < s["response_2_id"]
        assert s["pair_id"] == _md5(f"{s['response_1_id']}|{s['response_2_id']}")
        assert s["n_ratings"] >= 1 and 1 <= s["mean_rating"] <= 8
        assert s["is_tie"] == (s["mean_rating"] == 4.5)


# ---- the oracle on a hand-written study --------------------------------------------------------

HEADER = (
    "Submission id,Participant id,Status,Custom study tncs accepted at,Started at,"
    "Completed at,Reviewed at,Archived at,Time taken,Completion code,Total approvals,Age,"
    "Sex,Ethnicity simplified,Country of birth,Country of residence,Nationality,Language,"
    "Student status,Employment status"
).split(",")

PEOPLE = {  # name -> (writing statuses, rating statuses)
    "W1": (["APPROVED"], []),
    "W2": (["RETURNED", "APPROVED"], []),
    "W3": (["REJECTED"], []),
    "W4": (["AWAITING REVIEW"], []),
    "R1": ([], ["APPROVED"]),
    "R2": ([], ["TIMED-OUT"]),
    "R3": ([], ["APPROVED"]),
}
UID = {n: str(uuid.uuid5(uuid.NAMESPACE_DNS, n)) for n in PEOPLE}
PID = {n: hashlib.md5(n.encode()).hexdigest()[:24] for n in PEOPLE}


def _flat(records, fields, questions):
    """2.x flat rows: record dicts {id, fields..., responses: [(user, q, value, status)]}."""
    rows = []
    for i, (f, resp) in enumerate(records):
        row = {
            "id": f"r{i}",
            "status": "pending",
            "_server_id": str(uuid.UUID(int=i + 1)),
            **dict(zip(fields, f, strict=True)),
        }
        for q in questions:
            mine = [r for r in resp if r[1] == q]
            row[f"{q}.responses"] = [r[2] for r in mine] or None
            row[f"{q}.responses.users"] = [UID[r[0]] for r in mine] or None
            row[f"{q}.responses.status"] = [r[3] for r in mine] or None
        rows.append(row)
    return rows


def _disk(folder: Path, records, fields):
    folder.mkdir(parents=True)
    data = []
    for i, (f, resp) in enumerate(records):
        responses: dict = {}
        for who, q, v in resp:
            responses.setdefault(q, []).append({"value": v, "user_id": UID[who]})
        data.append(
            {
                "id": f"d{i}",
                "fields": dict(zip(fields, f, strict=True)),
                "metadata": {},
                "suggestions": {},
                "responses": responses,
                "vectors": {},
                "status": "pending",
                "_server_id": str(uuid.UUID(int=100 + i)),
            }
        )
    (folder / "records.json").write_text(json.dumps(data))


@pytest.fixture
def hand_study(tmp_path: Path):
    for role, k in (("writing", 0), ("rating", 1)):
        with (tmp_path / f"{role}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEADER)
            for n, sts in PEOPLE.items():
                for j, s in enumerate(sts[k]):
                    w.writerow([f"{n}{j}".ljust(24, "0"), PID[n], s] + [""] * 17)
    with (tmp_path / "users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "username"])
        w.writerows((UID[n], PID[n]) for n in PEOPLE)
    q1, q2 = "Q one?", "Q two?"
    writing = [
        (
            (q1,),
            [
                ("W1", "response", "Answer A", "submitted"),
                ("W1", "question_quality", 3, "submitted"),
                ("W2", "response", "Answer B", "submitted"),
                ("W2", "question_quality", 9, "submitted"),
                ("W3", "response", "Answer C", "submitted"),
                ("W3", "question_quality", 4, "submitted"),
                ("W4", "response", "  \n", "submitted"),
                ("W4", "question_quality", 2, "draft"),
            ],
        ),
        (
            (q2,),
            [
                ("W1", "response", 5, "submitted"),
                ("W2", "response", "Answer E", "draft"),
                ("W2", "question_quality", "good", "submitted"),
            ],
        ),
    ]
    (tmp_path / "w1.json").write_text(
        json.dumps(_flat(writing, ["question"], ["response", "question_quality"]))
    )
    # Same question, odd spacing, other workspace, no statuses (counted as submitted).
    _disk(
        tmp_path / "w2",
        [
            (
                ("  Q   one? ",),
                [
                    ("W1", "response", "Answer A"),
                    ("W1", "question_quality", 3),
                    ("W4", "response", "Answer D"),
                ],
            )
        ],
        ["question"],
    )
    rf = ["question", "response_a", "response_b"]
    rating = [
        (
            (q1, "Answer A", "Answer B"),
            [
                ("R1", "preference", 2, "submitted"),
                ("R2", "preference", 3, "submitted"),
                ("R3", "preference", 9, "submitted"),
            ],
        ),
        ((q1, "Answer B ", "answer a"), [("R1", "preference", 5, "submitted")]),
        (
            (q1, "Answer  B", "Answer A"),
            [("R1", "preference", 7, "submitted"), ("R3", "preference", 4, "submitted")],
        ),
        ((q1, "Answer A", "Answer C"), [("R1", "preference", 6, "submitted")]),
        ((q1, "Answer A", "Answer A"), [("R3", "preference", 4, "submitted")]),
        (
            (q1, "Answer A", "Answer B"),
            [("R1", "preference", "abc", "submitted"), ("R3", "preference", 5, "draft")],
        ),
        ((q2, "Answer A", "Answer B"), []),
    ]
    (tmp_path / "r1.json").write_text(json.dumps(_flat(rating, rf, ["preference"])))
    _disk(tmp_path / "r2", [((q1, "Answer A", "Answer B"), [("R3", "preference", 5)])], rf)
    study = {
        "name": "hand",
        "prolific": {"writing": {"export": "writing.csv"}, "rating": {"export": "rating.csv"}},
        "argilla": {
            "users": "users.csv",
            "writing": {"sources": [{"export": "w1.json"}, {"export": "w2"}]},
            "rating": {
                "sources": [{"export": "r1.json"}, {"export": "r2", "status_if_missing": "exclude"}]
            },
        },
    }
    (tmp_path / "study.yml").write_text(yaml.safe_dump(study))
    return load_study(tmp_path / "study.yml")


def test_oracle_on_a_hand_written_study(hand_study):
    t = compute_truth(hand_study)
    assert t["exclusions"]["responses"] == {
        "invalid_value": 1,
        "not_submitted": 1,
        "status_unknown_excluded": 0,
        "writer_not_counted": 1,
        "empty_text": 1,
        "duplicate_response": 1,
    }
    assert t["counted_responses"] == 3  # W1 "Answer A", W2 "Answer B", W4 "Answer D"
    assert t["exclusions"]["quality"] == {
        "invalid_value": 1,
        "out_of_range": 1,
        "not_submitted": 1,
        "status_unknown_excluded": 0,
        "writer_not_counted": 1,
        "duplicate_response": 1,
    }
    assert t["question_quality"] == {"n": 1, "mean": 3.0, "median": 3.0}
    assert t["exclusions"]["ratings"] == dict.fromkeys(RATING_REASONS, 1)
    assert t["counted_ratings"] == 2 and t["pairs"] == 1 and t["questions"] == 2
    assert t["pairs_presented_twice"] == 1  # r1, r2 and r6 show A/B; r3 shows B/A: one pair

    qid = _md5("Q one?")
    a, b = _md5(f"{qid}|{UID['W1']}"), _md5(f"{qid}|{UID['W2']}")
    (sample,) = t["pair_samples"]
    # R1 rated (A, B) = 2 and (B, A) = 7: the same preference, one of them a duplicate.
    # R3 rated (B, A) = 4. Oriented so that low means response_1 (the smaller id) is better.
    if a < b:
        expected, texts = (2 + (9 - 4)) / 2, ("Answer A", "Answer B")
    else:
        expected, texts = ((9 - 2) + 4) / 2, ("Answer B", "Answer A")
    assert (sample["response_1"], sample["response_2"]) == texts
    assert sample["n_ratings"] == 2 and sample["mean_rating"] == expected
    assert sample["pair_id"] == _md5("|".join(sorted((a, b))))
    landed = t["landed"]
    assert landed["argilla/responses"]["by_study"] == {"writing": 14, "rating": 11}
    assert landed["argilla/records"]["by_dataset"] == {"w1": 2, "w2": 1, "r1": 7, "r2": 1}
    assert landed["prolific/submissions"]["by_study"] == {"writing": 5, "rating": 3}
