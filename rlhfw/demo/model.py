"""The synthetic study as tables: participants, Prolific submissions, and per dataset the records
and the (record, user, question) responses an Argilla export of it holds.

Everything is drawn from one seeded numpy Generator, in a fixed order, so a seed gives the same
study every time. Bulk work (assignments, statuses, values) is vectorised over the question x slot
and pair x rater grids; Python loops only touch the few hand-placed messes.

The study mirrors the original social-reasoning collection: each question is answered by 4
writers (who also rate the question's quality 1-5), every pair of a question's answers is rated
by 3 raters on a 1-8 scale. The messes a real study has are placed on purpose, each visible in the
warehouse (see `MESSES`); the tests' oracle (tests/oracle.py) computes the expected figures from
the written files.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rlhfw.demo import text as T

SUBMITTED, DRAFT, DISCARDED, MISSING = "submitted", "draft", "discarded", None
WRITERS_PER_QUESTION = 4
RATERS_PER_PAIR = 3
PAIR_SLOTS = np.array([(i, j) for i in range(4) for j in range(i + 1, 4)])  # 6 pairs of 4

# What each mess is and where it shows in the warehouse (documented for users of the demo; the
# `exclusions` mart lists items by item_type / exclusion_reason).
MESSES = {
    "drafts_and_discards": "exclusions: not_submitted (answers, quality ratings, ratings)",
    "status_unknown": "writing disk export counts them (status_if_missing: submitted); rating disk"
    " export excludes them (status_if_missing: exclude) -> exclusions: rating /"
    " status_unknown_excluded",
    "duplicate_prolific_submission": "a participant who returned, then took the study again:"
    " counted (any counted submission counts)",
    "swapped_pair_records": "a pair shown twice, mostly in swapped order: one pair in pair_scores;"
    " a same-rater repeat -> exclusions: rating / duplicate_rating",
    "empty_answers": "exclusions: written_response / empty_text",
    "offensive_answers": "texts alt-profanity-check flags (publish's toxicity scores)",
    "non_ascii": "accents, CJK, emoji in questions and answers; NFD copies link after NFC",
    "not_counted_participants": "exclusions: written_response / writer_not_counted,"
    " rating / rater_not_counted",
    "out_of_range": "exclusions: rating / out_of_range, question_quality / out_of_range",
    "question_in_two_workspaces": "exclusions: written_response / duplicate_response",
    "ties": "pair_scores.is_tie",
    "partial_rater": "a counted rater who left most assigned records unanswered",
    "unlinkable_and_same_response": "exclusions: rating / unlinkable, same_response",
}


@dataclass(frozen=True)
class DatasetSpec:
    """One Argilla dataset of a generated study and the export format it is written in.

    `fields`, `questions` ((name, type, (min, max) or None)) and `metadata` (declared metadata
    properties) default to the demo's names for the role (FIELDS, QUESTIONS, METADATA); a
    planted study (rlhfw/demo/planted.py) names its own."""

    role: str  # writing | rating
    name: str
    workspace: str
    fmt: str  # flat_parquet | flat_jsonl | flat_json | disk | v1_parquet | v1_jsonl
    path: str  # relative to the study folder
    share: float = 0.0  # of the role's questions (the demo's random study)
    status_if_missing: str = "submitted"
    fields: tuple[str, ...] | None = None
    questions: tuple[tuple[str, str, tuple[int, int] | None], ...] | None = None
    metadata: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.fields is None:
            object.__setattr__(self, "fields", FIELDS[self.role])
        if self.questions is None:
            object.__setattr__(self, "questions", QUESTIONS[self.role])
        if self.metadata is None:
            object.__setattr__(self, "metadata", METADATA)

    @property
    def holds_status(self) -> bool:
        return self.fmt != "disk"


# Argilla settings of each study (names match the study.yml defaults).
FIELDS = {"writing": ("question",), "rating": ("question", "response_a", "response_b")}
QUESTIONS = {
    "writing": (("response", "text", None), ("question_quality", "rating", (1, 5))),
    "rating": (("preference", "rating", (1, 8)),),
}
METADATA = ("topic", "batch")  # declared metadata properties; extra keys also occur
MIN_SUBMITTED = {"writing": WRITERS_PER_QUESTION, "rating": RATERS_PER_PAIR}


DATASETS = (
    DatasetSpec(
        "writing",
        "writing_social_a",
        "writing-ws1",
        "flat_parquet",
        "exports/argilla/writing-ws1/writing_social_a.parquet",
        0.50,
    ),
    DatasetSpec(
        "writing",
        "writing_social_b",
        "writing-ws2",
        "disk",
        "exports/argilla/writing-ws2/writing_social_b",
        0.25,
    ),
    DatasetSpec(
        "writing",
        "writing_social_v1",
        "writing-ws3",
        "v1_parquet",
        "exports/argilla/writing-ws3/writing_social_v1.parquet",
        0.25,
    ),
    DatasetSpec(
        "rating",
        "rating_pairs_a",
        "rating-ws1",
        "flat_parquet",
        "exports/argilla/rating-ws1/rating_pairs_a.parquet",
        0.38,
    ),
    DatasetSpec(
        "rating",
        "rating_pairs_b",
        "rating-ws1",
        "flat_jsonl",
        "exports/argilla/rating-ws1/rating_pairs_b.jsonl",
        0.15,
    ),
    DatasetSpec(
        "rating",
        "rating_pairs_c",
        "rating-ws2",
        "flat_json",
        "exports/argilla/rating-ws2/rating_pairs_c.json",
        0.10,
    ),
    DatasetSpec(
        "rating",
        "rating_pairs_v1",
        "rating-ws3",
        "v1_parquet",
        "exports/argilla/rating-ws3/rating_pairs_v1.parquet",
        0.22,
    ),
    DatasetSpec(
        "rating",
        "rating_pairs_v1_extra",
        "rating-ws3",
        "v1_jsonl",
        "exports/argilla/rating-ws3/rating_pairs_v1_extra.jsonl",
        0.10,
    ),
    DatasetSpec(
        "rating",
        "rating_pairs_d",
        "rating-ws2",
        "disk",
        "exports/argilla/rating-ws2/rating_pairs_d",
        0.05,
        status_if_missing="exclude",
    ),
)
WRITING_DS = [i for i, d in enumerate(DATASETS) if d.role == "writing"]
RATING_DS = [i for i, d in enumerate(DATASETS) if d.role == "rating"]


@dataclass
class Study:
    """The generated study, as plain tables (see module doc)."""

    questions: int
    seed: int
    people: pd.DataFrame  # person, pid, user_id, username, in_users_file
    submissions: pd.DataFrame  # person, study_role, status (+ timing and demographics)
    study_ids: dict[str, str]
    # Per dataset index: records (rec, external_id, server_id, status, fields..., metadata...)
    records: dict[int, pd.DataFrame] = field(default_factory=dict)
    # Per dataset index: responses (rec, user_id, question, value, status), in export order
    responses: dict[int, pd.DataFrame] = field(default_factory=dict)
    offensive_texts: list[str] = field(default_factory=list)
    # The Argilla datasets (records/responses are keyed by their index here).
    datasets: tuple[DatasetSpec, ...] = DATASETS
    # What study.yml says beside the sources and paths (see DEMO_CONFIG).
    config: dict = field(default_factory=lambda: DEMO_CONFIG)
    # The deliberate mess, described for the study's README.
    messes: dict[str, str] = field(default_factory=lambda: MESSES)
    # Planted studies: where each planted case is (record ids, people), for their tests.
    notes: dict = field(default_factory=dict)


# study.yml beside sources and paths: the Argilla names, scales and counting settings.
DEMO_CONFIG = {
    "name": "demo-social-reasoning",
    "counted_statuses": ["APPROVED", "AWAITING REVIEW"],
    "writing": {
        "question_field": "question",
        "response_question": "response",
        "quality_question": "question_quality",
        "quality_scale": {"min": 1, "max": 5},
        "expected_responses_per_question": 4,
    },
    "rating": {
        "question_field": "question",
        "response_a_field": "response_a",
        "response_b_field": "response_b",
        "rating_question": "preference",
        "scale": {"min": 1, "max": 8, "low_means": "response_a"},
        "expected_ratings_per_pair": 3,
    },
    "participants": {"argilla_username_is_prolific_pid": True},
    "publish_name": "demo-social-reasoning-preferences",
}


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> list[str]:
    raw = rng.bytes(n * nbytes).hex()
    return [raw[i * 2 * nbytes : (i + 1) * 2 * nbytes] for i in range(n)]


def _uuids(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.bytes(n * 16)
    return [str(uuid.UUID(bytes=raw[i * 16 : (i + 1) * 16], version=4)) for i in range(n)]


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """k distinct elements of pool (fewer if pool is short), in a seeded order."""
    k = min(k, len(pool))
    return rng.choice(pool, size=k, replace=False) if k else pool[:0]


def _messy_spaces(s: str, how: int) -> str:
    """A copy of s that normalises (NFC, trim, collapse whitespace) back to s's normal form."""
    if how == 0:
        return s + " "
    if how == 1:
        return "  " + s.replace(" ", "  ", 1)
    if how == 2:
        return unicodedata.normalize("NFD", s) + "\n"
    return s.replace(" ", " \t", 1)


def _blocks(q: int, role: str) -> np.ndarray:
    """Upper bounds of each dataset's contiguous block of questions: shares of q, at least one
    question each."""
    shares = np.array([d.share for d in DATASETS if d.role == role])
    sizes = np.maximum(1, np.round(shares / shares.sum() * q)).astype(int)
    sizes[np.argmax(sizes)] += q - sizes.sum()
    return np.cumsum(sizes)


# ---------------------------------------------------------------------------------------------
# participants


STATUS_P = {
    "APPROVED": 0.925,
    "AWAITING REVIEW": 0.04,
    "RETURNED": 0.015,
    "TIMED-OUT": 0.01,
    "REJECTED": 0.01,
}


def _people(rng: np.random.Generator, q: int) -> tuple[pd.DataFrame, dict, dict]:
    """Participants and who writes / rates. Returns people, pools, and Prolific statuses."""
    n_w = max(12, round(q * WRITERS_PER_QUESTION / 20))
    n_r = max(9, round(q * 6 * RATERS_PER_PAIR / 90))
    n_np = 1 + q // 1000  # Argilla users with no Prolific submission, per study
    n_po = 2 + q // 200  # Prolific submissions with no Argilla activity, per study
    roles = (
        ["writer"] * n_w
        + ["rater"] * n_r
        + ["writer_np"] * n_np
        + ["rater_np"] * n_np
        + ["prolific_only_w"] * n_po
        + ["prolific_only_r"] * n_po
        + ["owner", "deleted"]
    )
    n = len(roles)
    people = pd.DataFrame({"person": np.arange(n), "kind": roles})
    people["pid"] = _hex(rng, n, 12)
    people["user_id"] = _uuids(rng, n)
    people["username"] = people["pid"]
    people.loc[people.kind == "owner", ["pid", "username"]] = [None, "admin"]
    people.loc[people.kind == "deleted", "pid"] = None
    people.loc[people.kind.isin(["writer_np", "rater_np"]), "pid"] = None  # not on Prolific
    # Users file: every Argilla account except the deleted one; half of the Prolific-only
    # participants had an account created before they returned.
    people["in_users_file"] = people.kind != "deleted"
    po = people.kind.str.startswith("prolific_only").to_numpy()
    people.loc[po, "in_users_file"] = rng.random(po.sum()) < 0.5

    statuses = list(STATUS_P)
    probs = np.array(list(STATUS_P.values()))
    wst = {}
    rst = {}
    writers = np.flatnonzero(people.kind == "writer")
    raters = np.flatnonzero(people.kind == "rater")
    for pool, st in ((writers, wst), (raters, rst)):
        draw = rng.choice(len(statuses), size=len(pool), p=probs / probs.sum())
        for p, s in zip(pool.tolist(), draw.tolist(), strict=True):
            st[p] = [statuses[s]]
        special = rng.permutation(pool)[:5]
        st[int(special[0])] = ["RETURNED"]
        st[int(special[1])] = ["TIMED-OUT"]
        st[int(special[2])] = ["REJECTED"]
        st[int(special[3])] = ["AWAITING REVIEW"]
        st[int(special[4])] = ["RETURNED", "APPROVED"]  # returned, then took it again
    for kind, st in (("prolific_only_w", wst), ("prolific_only_r", rst)):
        for i, p in enumerate(np.flatnonzero(people.kind == kind).tolist()):
            st[p] = [("RETURNED", "TIMED-OUT", "RETURNED", "REJECTED")[i % 4]]

    # One writer also joined the rating study, where the submission was rejected: counted as a
    # writer, not as a rater (counting is per study).
    both = int(rng.choice([p for p in writers.tolist() if wst[p] == ["APPROVED"]]))
    rst[both] = ["REJECTED"]
    rater_pool = np.concatenate([raters, [both], np.flatnonzero(people.kind == "rater_np")])
    writer_pool = np.concatenate([writers, np.flatnonzero(people.kind == "writer_np")])
    pools = {"writer": writer_pool, "rater": rater_pool, "both": both}
    return people, pools, {"writing": wst, "rating": rst}


COUNTED = ("APPROVED", "AWAITING REVIEW")


def _counted(statuses: dict, person: int) -> bool:
    return any(s in COUNTED for s in statuses.get(person, []))


# ---------------------------------------------------------------------------------------------
# writing study


def _writing(rng, q: int, people: pd.DataFrame, pools: dict, status: dict, texts, topics):
    """Writing records/responses per dataset, plus the grid the rating study is built from."""
    S = WRITERS_PER_QUESTION
    wpool = pools["writer"]
    nwp = len(wpool)
    uid = people["user_id"].to_numpy()
    answers = np.array(T.answer_texts(rng, q, S + 1), dtype=object).reshape(q, S + 1)
    perm = rng.permutation(nwp)
    writer = wpool[perm[(np.arange(q)[:, None] * S + np.arange(S)) % nwp]]  # (q, S), distinct
    st = rng.choice(
        np.array([SUBMITTED, DRAFT, DISCARDED], dtype=object), size=(q, S), p=[0.975, 0.015, 0.01]
    )
    u = rng.random((q, S))
    has_resp = ~((st == DRAFT) & (u < 0.3))  # some drafts hold only the quality rating
    u2 = rng.random((q, S))
    has_qual = np.where(st == SUBMITTED, u2 < 0.92, np.where(has_resp, u2 < 0.5, True))
    qual = rng.choice(np.arange(1, 6), size=(q, S), p=[0.05, 0.1, 0.25, 0.35, 0.25])
    text = answers[:, :S].copy()
    latent = rng.normal(size=(q, S + 1))

    # Dataset of each question: contiguous blocks by the writing shares.
    qds = np.searchsorted(_blocks(q, "writing"), np.arange(q), side="right")

    # Drafts are unfinished: cut at a word boundary.
    def unfinished(s: str) -> str:
        words = s.split(" ")
        return " ".join(words[: max(2, len(words) // 2)])

    for i, j in zip(*np.nonzero(st == DRAFT), strict=True):
        text[i, j] = unfinished(text[i, j])

    # Offensive, foreign-language and blank answers: at most one per question, distinct texts.
    qs = rng.permutation(q)
    n_off, n_for, n_empty = max(3, q // 300), max(2, q // 100), max(2, q // 250)
    off_q, for_q, empty_q = (
        qs[:n_off],
        qs[n_off : n_off + n_for],
        qs[n_off + n_for : n_off + n_for + n_empty],
    )
    offensive = []
    for k, qi in enumerate(off_q.tolist()):
        j = int(rng.integers(S))
        st[qi, j], has_resp[qi, j] = SUBMITTED, True
        text[qi, j] = T.OFFENSIVE_ANSWERS[k % len(T.OFFENSIVE_ANSWERS)]
        latent[qi, j] -= 2.5
        offensive.append(text[qi, j])
    for k, qi in enumerate(for_q.tolist()):
        j = int(rng.integers(S))
        st[qi, j], has_resp[qi, j] = SUBMITTED, True
        text[qi, j] = T.FOREIGN_ANSWERS[k % len(T.FOREIGN_ANSWERS)]
    counted_w = np.array([_counted(status["writing"], p) for p in range(len(people))])
    for k, qi in enumerate(empty_q.tolist()):
        ok = np.flatnonzero(counted_w[writer[qi]])  # so it shows as empty_text
        j = int(rng.choice(ok)) if len(ok) else int(rng.integers(S))
        st[qi, j], has_resp[qi, j] = SUBMITTED, True
        text[qi, j] = ("", "   ", " \n\t ")[k % 3]
    # At least one draft and one discard (answer and quality) where the format keeps statuses.
    with_status = [k for k, d in enumerate(WRITING_DS) if DATASETS[d].holds_status]
    plain = np.setdiff1d(np.flatnonzero(np.isin(qds, with_status)), qs[: n_off + n_for + n_empty])
    for qi, kind in zip(_pick(rng, plain, 2).tolist(), (DRAFT, DISCARDED), strict=False):
        j = int(rng.integers(S))
        if st[qi, j] != kind:
            st[qi, j], has_resp[qi, j], has_qual[qi, j] = kind, True, True
            text[qi, j] = unfinished(answers[qi, j]) if kind == DRAFT else answers[qi, j]
    # Someone in the first (flat table) dataset skipped the optional quality rating, so its
    # per-question lists differ in length.
    first = np.flatnonzero(qds == 0)
    if not ((st[first] == SUBMITTED) & has_resp[first] & ~has_qual[first]).any():
        cells = np.argwhere((st[first] == SUBMITTED) & has_resp[first] & has_qual[first])
        if len(cells):
            i, j = cells[int(rng.integers(len(cells)))]
            has_qual[first[i], j] = False
    # Emoji / accented tails and messy whitespace on some submitted answers.
    flat = text.ravel()
    decorate = rng.random(q * S) < 0.03
    choice = rng.integers(0, len(T.EMOJI_CLOSERS) + len(T.ACCENTED_EXTRAS), q * S)
    extras = T.EMOJI_CLOSERS + T.ACCENTED_EXTRAS
    messy = rng.random(q * S) < 0.02
    for k in np.flatnonzero(decorate | messy).tolist():
        if not flat[k].strip() or flat[k] in T.OFFENSIVE_ANSWERS or flat[k] in T.FOREIGN_ANSWERS:
            continue
        if decorate[k]:
            flat[k] = f"{flat[k]} {extras[choice[k]]}"
        if messy[k]:
            flat[k] = flat[k].replace(" ", "  ", 2) + "\n"
    text = flat.reshape(q, S)
    blank = np.array([not s.strip() for s in text.ravel()]).reshape(q, S)

    # Quality out of range (a rating format holds any integer).
    cand = np.argwhere((st == SUBMITTED) & has_qual)
    for i, j in cand[rng.choice(len(cand), size=min(len(cand), 1 + q // 500), replace=False)]:
        qual[i, j] = (6, 0)[int(i) % 2]

    ext = [f"sr-{i:06d}" for i in range(q)]
    # Vectorised rows for the grid; ds-local record numbers follow question order.
    rec_of_q = np.zeros(q, dtype=int)
    for k in range(len(WRITING_DS)):
        idx = np.flatnonzero(qds == k)
        rec_of_q[idx] = np.arange(len(idx))
    grid = pd.DataFrame(
        {
            "q": np.repeat(np.arange(q), S),
            "slot": np.tile(np.arange(S), q),
            "writer": writer.ravel(),
            "status": st.ravel(),
            "text": text.ravel(),
            "has_resp": has_resp.ravel(),
            "has_qual": has_qual.ravel(),
            "qual": qual.ravel(),
        }
    )
    grid["ds"] = np.asarray(WRITING_DS)[qds[grid.q]]
    grid["rec"] = rec_of_q[grid.q]
    grid["user_id"] = uid[grid.writer]
    grid["order"] = grid.slot.astype(float)

    # The owner tried the first record of the first dataset before launch.
    first_q = int(np.flatnonzero(qds == 0)[0])
    owner = int(np.flatnonzero(people.kind == "owner")[0])
    extra = [
        dict(
            q=first_q,
            slot=-1,
            writer=owner,
            status=SUBMITTED,
            text="test",
            has_resp=True,
            has_qual=True,
            qual=3,
            ds=WRITING_DS[0],
            rec=int(rec_of_q[first_q]),
            user_id=uid[owner],
            order=-1.0,
        )
    ]

    # The same question in a second workspace (text with NFD accents and odd spaces): one
    # writer answers it again (a duplicate), one new writer adds a fifth answer.
    n_ov = max(2, q // 200)
    ov_q = _pick(rng, np.flatnonzero(qds == 0), n_ov)
    accented = [
        i
        for i in np.flatnonzero(qds == 0).tolist()
        if unicodedata.normalize("NFD", texts[i]) != texts[i]
    ]
    if accented and not set(ov_q.tolist()) & set(accented):
        ov_q[0] = accented[0]  # the NFD copy below then differs from its NFC original
    ov_ds = WRITING_DS[-1]
    n_rec_ov = int((qds == len(WRITING_DS) - 1).sum())
    ov_records = []
    for k, qi in enumerate(ov_q.tolist()):
        rec = n_rec_ov + k
        # The repeat comes from a counted writer whose first answer counts, so that it shows
        # as duplicate_response.
        ok = sorted(
            (
                j
                for j in range(S)
                if counted_w[writer[qi, j]]
                and st[qi, j] == SUBMITTED
                and has_resp[qi, j]
                and not blank[qi, j]
            ),
            key=lambda j: not has_qual[qi, j],
        )
        dup = grid.iloc[qi * S + (ok[0] if ok else 0)]
        extra.append(
            dict(
                q=qi,
                slot=0,
                writer=int(dup.writer),
                status=SUBMITTED,
                text=dup.text,
                has_resp=True,
                has_qual=bool(dup.has_qual),
                qual=int(dup.qual),
                ds=ov_ds,
                rec=rec,
                user_id=dup.user_id,
                order=0.0,
            )
        )
        new_w = int(wpool[perm[(qi * S + S) % nwp]])
        extra.append(
            dict(
                q=qi,
                slot=S,
                writer=new_w,
                status=SUBMITTED,
                text=answers[qi, S],
                has_resp=True,
                has_qual=True,
                qual=int(rng.integers(2, 6)),
                ds=ov_ds,
                rec=rec,
                user_id=uid[new_w],
                order=1.0,
            )
        )
        ov_records.append((rec, qi, f"sr-{qi:06d}-b", _messy_spaces(texts[qi], 2 + k % 2)))
    grid_all = pd.concat([grid, pd.DataFrame(extra)], ignore_index=True)

    # Long rows: one per (record, user, question) actually answered.
    resp = grid_all[grid_all.has_resp]
    qual_rows = grid_all[grid_all.has_qual]
    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "ds": resp.ds,
                    "rec": resp.rec,
                    "order": resp.order,
                    "qn": 0,
                    "user_id": resp.user_id,
                    "question": "response",
                    "value": resp.text,
                    "status": resp.status,
                }
            ),
            pd.DataFrame(
                {
                    "ds": qual_rows.ds,
                    "rec": qual_rows.rec,
                    "order": qual_rows.order,
                    "qn": 1,
                    "user_id": qual_rows.user_id,
                    "question": "question_quality",
                    "value": qual_rows.qual.astype(int).astype(object),
                    "status": qual_rows.status,
                }
            ),
        ],
        ignore_index=True,
    )
    long = long.sort_values(["ds", "rec", "order", "qn"], kind="stable")

    server = _uuids(rng, q + len(ov_records))
    batch_extra = rng.random(q) < 0.01
    out_records, out_resp = {}, {}
    for k, d in enumerate(WRITING_DS):
        idx = np.flatnonzero(qds == k)
        recs = pd.DataFrame(
            {
                "rec": np.arange(len(idx)),
                "external_id": [ext[i] for i in idx],
                "server_id": [server[i] for i in idx],
                "question": [texts[i] for i in idx],
                "topic": [T.TOPICS[t] for t in topics[idx]],
                "batch": np.arange(len(idx)) // 50 + 1,
                "note": [("check wording" if batch_extra[i] else None) for i in idx],
            }
        )
        if d == ov_ds and ov_records:
            recs = pd.concat(
                [
                    recs,
                    pd.DataFrame(
                        {
                            "rec": [r[0] for r in ov_records],
                            "external_id": [r[2] for r in ov_records],
                            "server_id": server[q:],
                            "question": [r[3] for r in ov_records],
                            "topic": [T.TOPICS[topics[r[1]]] for r in ov_records],
                            "batch": [int(recs.batch.max() if len(recs) else 0) + 1]
                            * len(ov_records),
                            "note": ["re-posted"] * len(ov_records),
                        }
                    ),
                ],
                ignore_index=True,
            )
        rs = long[long.ds == d].drop(columns=["ds", "order", "qn"]).reset_index(drop=True)
        recs["status"] = _record_status(recs, rs, "writing")
        out_records[d], out_resp[d] = recs, rs

    rate_grid = {
        "writer": writer,
        "status": st,
        "text": text,
        "has_resp": has_resp,
        "blank": blank,
        "latent": latent,
        "offensive_q": off_q,
        "first_q": first_q,
    }
    return out_records, out_resp, rate_grid, offensive


def _record_status(recs: pd.DataFrame, rs: pd.DataFrame, role: str) -> np.ndarray:
    """Argilla's record status: completed once min_submitted users submitted."""
    sub = rs[rs.status == SUBMITTED].groupby("rec").user_id.nunique()
    n = sub.reindex(recs.rec).fillna(0).to_numpy()
    return np.where(n >= MIN_SUBMITTED[role], "completed", "pending")


# ---------------------------------------------------------------------------------------------
# rating study


def _rating(rng, q: int, people: pd.DataFrame, pools: dict, status: dict, texts, topics, g):
    """Rating records/responses per dataset: every pair of a question's usable answers."""
    uid = people["user_id"].to_numpy()
    st, text = g["status"], g["text"]
    usable = (st == SUBMITTED) & g["has_resp"] & ~g["blank"]
    # The team also put a few unfinished drafts into the rating study by mistake.
    draft_cells = np.argwhere((st == DRAFT) & g["has_resp"])
    for i, j in draft_cells[_pick(rng, np.arange(len(draft_cells)), max(1, q // 500))]:
        usable[i, j] = True
    ok = usable[:, PAIR_SLOTS[:, 0]] & usable[:, PAIR_SLOTS[:, 1]]  # (q, 6)
    pq, pk = np.nonzero(ok)
    pi, pj = PAIR_SLOTS[pk, 0], PAIR_SLOTS[pk, 1]
    n = len(pq)
    swap = rng.random(n) < 0.5  # shown as (j, i)

    bounds = _blocks(q, "rating")
    pds_k = np.searchsorted(bounds, pq, side="right")

    rpool = pools["rater"]
    nrp = len(rpool)
    perm = rng.permutation(nrp)
    R = RATERS_PER_PAIR
    rater = rpool[perm[(np.arange(n)[:, None] * R + np.arange(R)) % nrp]]  # (n, 3) distinct
    rst = rng.choice(
        np.array([SUBMITTED, DRAFT, DISCARDED, "missing"], dtype=object),
        size=(n, R),
        p=[0.965, 0.015, 0.012, 0.008],
    )
    bias = rng.normal(0, 0.3, len(people))
    lat = g["latent"]
    a_slot = np.where(swap, pj, pi)
    b_slot = np.where(swap, pi, pj)
    d = lat[pq, b_slot] - lat[pq, a_slot]
    noise = rng.normal(0, 1.1, (n, R))
    val = np.clip(np.rint(4.5 + 1.5 * d[:, None] + noise + bias[rater]), 1, 8).astype(int)

    counted_r = np.array([_counted(status["rating"], int(p)) for p in range(len(people))])
    counted_w = np.array([_counted(status["writing"], int(p)) for p in range(len(people))])
    writer = g["writer"]
    excl_k = [k for k, ds in enumerate(RATING_DS) if DATASETS[ds].status_if_missing == "exclude"]
    touched = np.isin(pds_k, excl_k)

    # A counted rater who did only part of the assigned work.
    cand = [p for p in rpool.tolist() if counted_r[p] and p != pools["both"]]
    partial = int(rng.choice(cand))
    m = rater == partial
    u = rng.random((n, R))
    rst[m & (u < 0.7)] = "missing"
    rst[m & (u >= 0.7) & (u < 0.8)] = DRAFT

    # Messes are placed on clean pairs (counted writers and raters, submitted answers) so that
    # each one shows under its own exclusion reason instead of an earlier one.
    clean = (
        ~touched
        & counted_w[writer[pq, pi]]
        & counted_w[writer[pq, pj]]
        & (st[pq, pi] == SUBMITTED)
        & (st[pq, pj] == SUBMITTED)
    )
    rater_ok = counted_r[rater] & (rater != partial)  # (n, 3)

    # Ties: two counted ratings summing to 9 (mean exactly 4.5), the third left as a draft.
    ties = _pick(rng, np.flatnonzero(clean & rater_ok[:, 0] & rater_ok[:, 1]), max(2, n // 150))
    v0 = rng.integers(1, 9, len(ties))
    val[ties, 0], val[ties, 1] = v0, 9 - v0
    rst[ties, 0], rst[ties, 1], rst[ties, 2] = SUBMITTED, SUBMITTED, DRAFT
    touched[ties] = True

    def untouched(k: int, extra_ok: np.ndarray | None = None) -> np.ndarray:
        mask = ~touched if extra_ok is None else (~touched & extra_ok)
        sel = _pick(rng, np.flatnonzero(mask), k)
        touched[sel] = True
        return sel

    # Records nobody answered: null lists in a 2.x flat table, [] in a v1 export.
    fmt_k = np.array([DATASETS[ds].fmt for ds in RATING_DS], dtype=object)
    for fmts in (("flat_parquet",), ("v1_parquet", "v1_jsonl")):
        rst[untouched(max(1, q // 600), np.isin(fmt_k[pds_k], fmts))] = "missing"
    # Out-of-range ratings: 9 in a 2.x flat table, 0 in an Argilla v1 export.
    for bad, fmts in ((9, ("flat_parquet",)), (0, ("v1_parquet", "v1_jsonl"))):
        sel = untouched(1 + q // 500, np.isin(fmt_k[pds_k], fmts) & (rst[:, 0] == SUBMITTED))
        val[sel, 0] = bad
    # Unlinkable: an answer edited after the rating study was built.
    unlink = untouched(max(1, q // 400), clean & rater_ok[:, 0])
    rst[unlink, 0] = SUBMITTED

    # Pair records: fields as shown (a, b); some texts with odd whitespace or NFD accents.
    a_text = text[pq, a_slot].copy()
    b_text = text[pq, b_slot].copy()
    q_text = np.array(texts, dtype=object)[pq]
    for arr in (a_text, b_text):
        for k in np.flatnonzero(rng.random(n) < 0.02).tolist():
            arr[k] = _messy_spaces(arr[k], k % 4)
    for k in np.flatnonzero(rng.random(n) < 0.01).tolist():
        q_text[k] = _messy_spaces(q_text[k], k % 4)
    for k in unlink.tolist():
        b_text[k] = b_text[k][: max(8, len(b_text[k]) // 2)].rstrip() + " … [edited]"

    recs = pd.DataFrame(
        {
            "pair": np.arange(n),
            "k": pds_k,
            "q": pq,
            "question": q_text,
            "response_a": a_text,
            "response_b": b_text,
            "requeued": None,
        }
    )
    # Rows: (pair record, rater slot) -> response
    rows = pd.DataFrame(
        {
            "pair": np.repeat(np.arange(n), R),
            "order": np.tile(np.arange(R), n).astype(float),
            "person": rater.ravel(),
            "status": rst.ravel(),
            "value": val.ravel(),
        }
    )

    # The same pair shown again in another dataset, mostly in swapped order: one of the
    # original raters rates it again (a duplicate, same oriented value), one new rater adds a
    # rating. A few are shown in the same order again (re-queued).
    dup = untouched(max(2, n // 100), clean & rater_ok[:, 0])
    rst[dup, 0] = SUBMITTED
    fresh = [p for p in rpool.tolist() if counted_r[p] and p != partial]
    other = [k for k in range(len(RATING_DS)) if k not in excl_k]
    new_recs, new_rows = [], []
    for c, p in enumerate(dup.tolist()):
        flip = c % 5 != 4
        k2 = other[(other.index(pds_k[p]) + 1) % len(other)] if pds_k[p] in other else other[0]
        rid = n + c
        a2, b2 = (b_text[p], a_text[p]) if flip else (a_text[p], b_text[p])
        new_recs.append(
            dict(
                pair=rid,
                k=k2,
                q=pq[p],
                question=texts[pq[p]],
                response_a=a2,
                response_b=b2,
                requeued="yes",
            )
        )
        v = int(val[p, 0])
        new_rows.append(
            dict(
                pair=rid,
                order=0.0,
                person=int(rater[p, 0]),
                status=SUBMITTED,
                value=9 - v if flip else v,
            )
        )
        newr = int(rpool[perm[(p * R + R) % nrp]])
        if c == 0:  # make sure at least one re-shown pair gains a counted rating
            newr = next(x for x in fresh if x not in rater[p])
        new_rows.append(
            dict(
                pair=rid,
                order=1.0,
                person=newr,
                status=SUBMITTED,
                value=int(np.clip(9 - val[p, 1] if flip else val[p, 1], 1, 8)),
            )
        )
    # Both sides the same answer (a bug in the pair builder).
    same = _pick(rng, np.argwhere((st == SUBMITTED) & usable & counted_w[writer]), max(1, q // 500))
    base = n + len(dup)
    for c, (i, j) in enumerate(same.tolist()):
        rid = base + c
        k = int(np.searchsorted(bounds, i, side="right"))
        new_recs.append(
            dict(
                pair=rid,
                k=k if k in other else other[0],
                q=i,
                question=texts[i],
                response_a=text[i, j],
                response_b=text[i, j],
                requeued=None,
            )
        )
        for s, who in enumerate(_pick(rng, np.asarray(fresh), R).tolist()):
            new_rows.append(
                dict(
                    pair=rid,
                    order=float(s),
                    person=int(who),
                    status=SUBMITTED,
                    value=int(rng.integers(3, 7)),
                )
            )
    # A user since deleted from Argilla rated a few pairs (fourth rater on the record).
    deleted = int(np.flatnonzero(people.kind == "deleted")[0])
    for p in untouched(2 + q // 1000, (rst != "missing").all(axis=1)).tolist():
        new_rows.append(
            dict(pair=p, order=3.0, person=deleted, status=SUBMITTED, value=int(rng.integers(1, 9)))
        )
    if new_recs:
        recs = pd.concat([recs, pd.DataFrame(new_recs)], ignore_index=True)
    rows = pd.concat([rows, pd.DataFrame(new_rows)], ignore_index=True)
    rows = rows[rows.status != "missing"]
    rows = rows.sort_values(["pair", "order"], kind="stable")

    server = _uuids(rng, len(recs))
    external = _uuids(rng, len(recs))
    recs["server_id"] = server
    recs["external_id"] = external
    recs["topic"] = [T.TOPICS[t] for t in topics[recs.q.to_numpy()]]
    out_records, out_resp = {}, {}
    for k, d in enumerate(RATING_DS):
        rk = recs[recs.k == k].reset_index(drop=True)
        rk["rec"] = np.arange(len(rk))
        rk["batch"] = rk.rec // 200 + 1
        rec_of_pair = pd.Series(rk.rec.to_numpy(), index=rk.pair.to_numpy())
        rr = rows[rows.pair.isin(rk.pair)]
        rs = (
            pd.DataFrame(
                {
                    "rec": rec_of_pair.loc[rr.pair].to_numpy(),
                    "user_id": uid[rr.person.to_numpy()],
                    "question": "preference",
                    "value": rr.value.astype(int).astype(object).to_numpy(),
                    "status": rr.status.to_numpy(),
                }
            )
            .sort_values("rec", kind="stable")
            .reset_index(drop=True)
        )
        rk = rk[
            [
                "rec",
                "external_id",
                "server_id",
                "question",
                "response_a",
                "response_b",
                "topic",
                "batch",
                "requeued",
            ]
        ]
        rk["status"] = _record_status(rk, rs, "rating")
        out_records[d], out_resp[d] = rk, rs
    return out_records, out_resp


# ---------------------------------------------------------------------------------------------


def build_study(questions: int, seed: int) -> Study:
    """Draw the whole study for `questions` questions from `seed`."""
    if questions < 4:
        raise ValueError(f"questions must be at least 4, got {questions}")
    rng = np.random.default_rng(seed)
    people, pools, statuses = _people(rng, questions)
    texts, topics = T.question_texts(rng, questions)
    w_recs, w_resp, grid, offensive = _writing(
        rng, questions, people, pools, statuses, texts, topics
    )
    r_recs, r_resp = _rating(rng, questions, people, pools, statuses, texts, topics, grid)
    subs = [
        (p, role, s, i)
        for role in ("writing", "rating")
        for p, sts in sorted(statuses[role].items())
        for i, s in enumerate(sts)
    ]
    submissions = pd.DataFrame(subs, columns=["person", "study_role", "status", "attempt"])
    study_ids = dict(zip(("writing", "rating"), _hex(rng, 2, 12), strict=True))
    return Study(
        questions=questions,
        seed=seed,
        people=people,
        submissions=submissions,
        study_ids=study_ids,
        records={**w_recs, **r_recs},
        responses={**w_resp, **r_resp},
        offensive_texts=sorted(set(offensive)),
    )
