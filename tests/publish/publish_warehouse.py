"""A small warehouse with the marts publish reads, built directly in DuckDB.

Six questions (Spanish, Russian, Japanese among them), three writers, three raters, three
pairs per question: one tie, one pair with a single rating, a toxic answer, and an answer in
which the writer typed their own Prolific id. Prolific ids double as Argilla usernames, user ids
are UUIDs, and a demographics table holds values that must never be published.

The marts of the publish rules, `preference_pairs` and `question_splits`, are views whose SQL
is the dbt models' own (`model_sql`), over the tables above and a `stg_study__settings` table
holding the publish settings (`land_publish_settings` puts a study's there, as extract and
build would): a test that edits `pair_scores` sees the edit in them, as after a build.
"""

from __future__ import annotations

import hashlib
import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import duckdb
import jinja2
import pandas as pd

from study_config import Study

PROJECT_DIR = Path(__file__).resolve().parents[2]

SCALE_MIN, SCALE_MAX = 1, 8
MID = (SCALE_MIN + SCALE_MAX) / 2

QUESTIONS = [
    "What makes a good friend?",
    "¿Qué opinas del café por la mañana? ☕",
    "Как лучше провести выходные?",
    "How should I respond to a rude coworker?",
    "What is your favourite season and why?",
    "日本の首都はどこですか？",
]
TOXIC_TEXT = "Tell that fucking idiot to shut the hell up, he is a worthless piece of shit."


def split_of(question_id: str, seed: int, test_fraction: float) -> str:
    """The split rule as the card states it, in Python: the oracle of `question_splits`."""
    digest = hashlib.sha256(f"{seed}:{question_id}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if fraction < test_fraction else "train"


def model_sql(name: str) -> str:
    """A mart's SQL as dbt compiles it, `ref('x')` read as the table `x` (the publish marts
    use nothing else of dbt's)."""
    text = (PROJECT_DIR / "models" / "marts" / f"{name}.sql").read_text(encoding="utf-8")
    return jinja2.Environment().from_string(text).render(config=lambda **_: "", ref=str)


def install_publish_marts(con: duckdb.DuckDBPyConnection, **publish: object) -> None:
    """`stg_study__settings` with the publish settings (study.yml's defaults but for the
    test fraction, as `make_study`), and the two marts as views over it and the tables."""
    settings = {"min_ratings": 1, "min_margin": 0.0, "seed": 42, "test_fraction": 0.34, **publish}
    con.execute(
        """
        create or replace table stg_study__settings as
        select
            $min_ratings::integer as publish_min_ratings,
            $min_margin::double as publish_min_margin,
            $test_fraction::double as publish_test_fraction,
            $seed::varchar as publish_seed,
            null::varchar as quarantine_reason
        """,
        {k: settings[k] if k != "seed" else str(settings[k]) for k in settings},
    )
    for name in ("question_splits", "preference_pairs"):
        con.execute(f"create or replace view {name} as {model_sql(name)}")


def land_publish_settings(study: Study) -> None:
    """Put `study`'s publish settings into its fixture warehouse, as extract and build would."""
    p = study.publish
    with duckdb.connect(str(study.warehouse)) as con:
        install_publish_marts(
            con,
            min_ratings=p.min_ratings,
            min_margin=p.min_margin,
            seed=p.seed,
            test_fraction=p.test_fraction,
        )


def _md5_16(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()[:16]


def _pid(i: int) -> str:
    # Prolific ids are 24 hex digits.
    return hashlib.sha1(f"pid{i}".encode()).hexdigest()[:24]


@dataclass
class Person:
    user_id: str
    username: str  # = Prolific participant id


WRITERS = [Person(str(uuid.uuid5(uuid.NAMESPACE_DNS, f"w{i}")), _pid(i)) for i in range(3)]
RATERS = [Person(str(uuid.uuid5(uuid.NAMESPACE_DNS, f"r{i}")), _pid(10 + i)) for i in range(3)]
NOT_COUNTED_PID = _pid(99)  # a rejected participant: only in the Prolific tables
DEMOGRAPHICS = {
    "age": ["83", "19", "64"],
    "sex": ["Intersex-Demo", "Female", "Male"],
    "country_of_residence": ["Liechtenstein", "Tuvalu", "Andorra"],
    "nationality": ["Liechtensteiner", "Tuvaluan", "Andorran"],
    "language": ["Faroese", "Romansh", "Catalan"],
    "employment_status": ["Seasonal-Shepherd", "Lighthouse-Keeper", "Glassblower-Apprentice"],
}

ANSWERS = {
    0: ["A good friend listens without judging.", "Someone who shows up when it matters.",
        None],  # the third is the self-identifying one, filled below
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
SELF_ID_TEXT = f"My Prolific ID is {WRITERS[2].username}. A good friend is honest with you."
ANSWERS[0][2] = SELF_ID_TEXT

# Ratings per pair index within a question (3 pairs per question), per rater. A LOW value means
# response_1 is better. Question 1's second pair is a tie; question 2's third has one rating.
RATINGS = {
    (0, 0): [2, 1, 3], (0, 1): [7, 8, 6], (0, 2): [2, 3, 2],
    (1, 0): [6, 7, 8], (1, 1): [4, 5, 4, 5][:2] + [None], (1, 2): [1, 2, 2],
    (2, 0): [3, 2, 1], (2, 1): [5, 7, 6], (2, 2): [8, None, None],
    (3, 0): [1, 1, 2], (3, 1): [2, 3, 1], (3, 2): [7, 8, 8],
    (4, 0): [2, 2, 3], (4, 1): [6, 6, 7], (4, 2): [3, 1, 2],
    (5, 0): [7, 6, 6], (5, 1): [2, 4, 1], (5, 2): [6, 8, 7],
}  # fmt: skip


@dataclass
class Fixture:
    path: Path
    n_pairs: int
    n_ties: int
    n_single_rating: int
    n_ratings: int
    n_responses: int
    question_ids: list[str]
    pairs: pd.DataFrame
    responses: pd.DataFrame

    @property
    def secrets(self) -> list[str]:
        """Every value that must never appear in the published files."""
        people = WRITERS + RATERS
        values = [p.user_id for p in people] + [p.username for p in people] + [NOT_COUNTED_PID]
        for column in DEMOGRAPHICS.values():
            values += column
        return values


def build_warehouse(path: Path) -> Fixture:
    t0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    qids = [_md5_16(q) for q in QUESTIONS]
    responses = []
    for qi, (qid, qtext) in enumerate(zip(qids, QUESTIONS, strict=True)):
        for wi, writer in enumerate(WRITERS):
            responses.append(
                {
                    "response_id": _md5_16(f"{qid}|{writer.user_id}"),
                    "question_id": qid,
                    "question_text": qtext,
                    "response_text": ANSWERS[qi][wi],
                    "writer_user_id": writer.user_id,
                    "writer_username": writer.username,
                    "dataset": "writing-study",
                    "workspace": "social",
                    "record_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"rec{qi}")),
                    "responded_at": t0 + timedelta(minutes=qi * 10 + wi),
                }
            )
    wr = pd.DataFrame(responses)
    pair_rows, rating_rows = [], []
    for qi, qid in enumerate(qids):
        ids = sorted(wr.loc[wr.question_id == qid, "response_id"])
        text = dict(zip(wr.response_id, wr.response_text, strict=True))
        for pi, (r1, r2) in enumerate(combinations(ids, 2)):
            pair_id = _md5_16(f"{r1}|{r2}")
            values = [v for v in RATINGS[(qi, pi)] if v is not None]
            for rater, v in zip(RATERS, values, strict=False):
                rating_rows.append(
                    {
                        "pair_id": pair_id,
                        "question_id": qid,
                        "rater_user_id": rater.user_id,
                        "rater_username": rater.username,
                        "rating": v,
                        "oriented_rating": v,
                        "dataset": "rating-study",
                        # Some teams give each annotator a workspace named after them.
                        "workspace": f"ws-{rater.username}" if rater is RATERS[0] else "social",
                        "record_id": str(uuid.uuid5(uuid.NAMESPACE_URL, pair_id)),
                        "rated_at": t0 + timedelta(days=1, minutes=len(rating_rows)),
                    }
                )
            mean = statistics.fmean(values)
            low, high = sum(v < MID for v in values), sum(v > MID for v in values)
            tie = mean == MID
            pair_rows.append(
                {
                    "pair_id": pair_id,
                    "question_id": qid,
                    "question_text": QUESTIONS[qi],
                    "response_1_id": r1,
                    "response_2_id": r2,
                    "response_1_text": text[r1],
                    "response_2_text": text[r2],
                    "n_ratings": len(values),
                    "mean_rating": mean,
                    "median_rating": float(statistics.median(values)),
                    "rating_std": statistics.stdev(values) if len(values) > 1 else None,
                    "preferred_response_id": None if tie else (r1 if mean < MID else r2),
                    "margin": abs(mean - MID),
                    "is_tie": tie,
                    "agreement": max(low, high) / len(values),
                    "scale_min": SCALE_MIN,
                    "scale_max": SCALE_MAX,
                }
            )
    ps = pd.DataFrame(pair_rows)
    pr = pd.DataFrame(rating_rows)
    qq = pd.DataFrame(
        {
            "question_id": qids,
            "question_text": QUESTIONS,
            "mean_quality": [4.0, 3.5, 4.5, 3.0, 5.0, 2.5],
            "median_quality": [4.0, 3.5, 4.5, 3.0, 5.0, 2.5],
            "n_quality_ratings": [3, 2, 2, 3, 1, 2],
        }
    )
    sa = pd.DataFrame(
        {
            "study": ["rating", "rating", "writing"],
            "scope": ["overall", "overall", "overall"],
            "level": ["interval", "ordinal", "ordinal"],
            "alpha": [0.612, 0.587, 0.402],
            "n_units": [18, 18, 6],
            "n_coders": [3, 3, 3],
            "n_values": [len(pr), len(pr), 13],
        }
    )
    people = WRITERS + RATERS
    demo = pd.DataFrame(
        {
            "submission_id": [f"sub{i}" for i in range(len(people))],
            "participant_id": [p.username for p in people],
            **{k: [v[i % 3] for i in range(len(people))] for k, v in DEMOGRAPHICS.items()},
        }
    )
    subs = pd.DataFrame(
        {
            "participant_id": [p.username for p in people] + [NOT_COUNTED_PID],
            "status": ["APPROVED"] * len(people) + ["REJECTED"],
        }
    )
    con = duckdb.connect(str(path))
    for name, df in {
        "pair_scores": ps,
        "written_responses": wr,
        "pair_ratings": pr,
        "question_quality": qq,
        "study_agreement": sa,
        "stg_prolific__demographics": demo,
        "stg_prolific__submissions": subs,
    }.items():
        con.register("_df", df)
        con.execute(f"create table {name} as select * from _df")
        con.unregister("_df")
    con.execute("alter table pair_scores alter scale_min type integer")
    con.execute("alter table pair_scores alter scale_max type integer")
    install_publish_marts(con)
    con.close()
    return Fixture(
        path=path,
        n_pairs=len(ps),
        n_ties=int(ps.is_tie.sum()),
        n_single_rating=int((ps.n_ratings == 1).sum()),
        n_ratings=len(pr),
        n_responses=len(wr),
        question_ids=qids,
        pairs=ps,
        responses=wr,
    )


def make_study(root: Path, **publish: object) -> Study:
    """A study whose warehouse and output live under `root` (no export files needed)."""
    return Study.model_validate(
        {
            "name": "fixture-study",
            "path": root / "study.yml",
            "warehouse": root / "data" / "warehouse.duckdb",
            "argilla": {
                "writing": {"sources": [{"dataset": "writing-study", "workspace": "social"}]},
                "rating": {"sources": [{"dataset": "rating-study", "workspace": "social"}]},
            },
            "publish": {"out": root / "data" / "dataset", "test_fraction": 0.34, **publish},
        }
    )
