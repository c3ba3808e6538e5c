"""The test oracle: the ground truth of a study written as export files (the demo generator's,
`rlhfw.demo`), computed from those files by an implementation of the counting rules in
docs/architecture.md that shares no code with the warehouse nor with the generator. A test
module, not part of the product: `rlhfw demo` writes no ground truth; tests compute it here
(`compute_truth`), or write it beside a generated study (`write_ground_truth`).

It reads the exports back (its own small readers, one per format), then applies, in order, the
exclusion reasons of each kind of item; the first reason that applies wins. Choices the contract
leaves open, made here and stated so the warehouse can be held to them:

- A rating side links to a written response of the same question (question ids from the
  normalized question text) whose normalized text is equal, whatever that response's status or
  exclusion: so a side showing a draft answer is `response_not_counted`, not `unlinkable`.
- Duplicates (`duplicate_response`, `duplicate_rating`) are looked for among the items that pass
  every earlier rule. File exports carry no `updated_at`, so "latest wins" cannot be decided from
  them: the generator makes duplicates agree (same text, same oriented value) and this module
  asserts it, so any winner gives the same figures.
- Question-quality duplicates use the reason name `duplicate_response`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from study_config import ArgillaSource, Study, load_study

RESPONSE_REASONS = (
    "invalid_value",
    "not_submitted",
    "status_unknown_excluded",
    "writer_not_counted",
    "empty_text",
    "duplicate_response",
)
QUALITY_REASONS = (
    "invalid_value",
    "out_of_range",
    "not_submitted",
    "status_unknown_excluded",
    "writer_not_counted",
    "duplicate_response",
)
RATING_REASONS = (
    "invalid_value",
    "out_of_range",
    "not_submitted",
    "status_unknown_excluded",
    "rater_not_counted",
    "unlinkable",
    "same_response",
    "response_not_counted",
    "duplicate_rating",
)

CONVENTIONS = {
    "question_id": "left(md5(normalized question text), 16); normalized = NFC, trimmed, inner"
    " whitespace collapsed to one space",
    "response_id": "left(md5(question_id || '|' || writer's Argilla user id), 16); the user id"
    " is the UUID string as exported (lowercase, hyphenated)",
    "pair_id": "left(md5(response_1_id || '|' || response_2_id), 16), response_1_id <"
    " response_2_id; ratings oriented so that low means response_1 is better",
    "linking": "a rating side links to the written response of the same question whose"
    " normalized text is equal, whatever that response's status or exclusion",
    "duplicates": "looked for among items that pass every earlier rule; the demo's duplicates"
    " agree (same text, same oriented rating), so any winner gives the same figures",
    "quality_duplicates": "reason name duplicate_response",
    "questions": "distinct question ids over the writing records",
    "pairs": "pairs with at least one counted rating",
    "ties": "pairs whose mean oriented rating equals (scale min + max) / 2",
    "landed_responses": "one row per record x user x question the export holds",
    "counted_participant": "any submission to that study with a counted status",
}

_WS = re.compile(r"\s+", re.ASCII)


def normalize(text: str) -> str:
    """NFC, trimmed, inner whitespace collapsed to one space (architecture.md, Identities)."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip(" \t\n\r\f\v")


def short_md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# readers: export file -> records (record_key, fields) and responses (record_key, user, q, v, s)


def _explode_flat(t: pa.Table, questions: list[str]) -> pd.DataFrame:
    keys = (t["_server_id"] if "_server_id" in t.column_names else t["id"]).to_pylist()
    parts = []
    for q in questions:
        col = f"{q}.responses"
        if col not in t.column_names:
            continue
        vals, users, stats = t[col], t[f"{col}.users"], t[f"{col}.status"]
        idx = pc.list_parent_indices(vals).to_numpy()
        # Lists are per question and not aligned across questions, but aligned within one.
        parts.append(
            pd.DataFrame(
                {
                    "record_key": np.asarray(keys, dtype=object)[idx] if len(idx) else [],
                    "user_id": pc.list_flatten(users).to_pylist(),
                    "qname": q,
                    "value": pc.list_flatten(vals).to_pylist(),
                    "status": pc.list_flatten(stats).to_pylist(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else _empty_responses()


def _explode_v1(t: pa.Table, questions: list[str]) -> pd.DataFrame:
    keys = t["external_id"].to_pylist()
    parts = []
    for q in questions:
        col = t[q]
        idx = pc.list_parent_indices(col).to_numpy()
        items = pc.list_flatten(col)
        parts.append(
            pd.DataFrame(
                {
                    "record_key": np.asarray(keys, dtype=object)[idx] if len(idx) else [],
                    "user_id": pc.struct_field(items, "user_id").to_pylist(),
                    "qname": q,
                    "value": pc.struct_field(items, "value").to_pylist(),
                    "status": pc.struct_field(items, "status").to_pylist(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _empty_responses() -> pd.DataFrame:
    return pd.DataFrame(columns=["record_key", "user_id", "qname", "value", "status"])


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _explode_rows(rows: list[dict], fields: list[str], questions: list[str]):
    """JSON exports row by row in Python, so a value of any JSON type survives as it is."""
    v1 = bool(rows) and "external_id" in rows[0] and "_server_id" not in rows[0]
    keys = [r["external_id"] if v1 else (r.get("_server_id") or r.get("id")) for r in rows]
    recs = pd.DataFrame({"record_key": keys, **{f: [r.get(f) for r in rows] for f in fields}})
    out = []
    for key, r in zip(keys, rows, strict=True):
        for q in questions:
            if v1:
                for item in r.get(q) or []:
                    out.append((key, item["user_id"], q, item["value"], item["status"]))
            else:
                vals = r.get(f"{q}.responses") or []
                users = r.get(f"{q}.responses.users") or []
                stats = r.get(f"{q}.responses.status") or [None] * len(vals)
                out.extend((key, u, q, v, st) for v, u, st in zip(vals, users, stats, strict=True))
    resp = pd.DataFrame(out, columns=["record_key", "user_id", "qname", "value", "status"])
    return recs, resp


def read_export(
    path: Path, fields: list[str], questions: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records, responses) of one Argilla export, whichever of the demo's formats it is in."""
    if path.is_dir():
        with (path / "records.json").open(encoding="utf-8") as f:
            data = json.load(f)
        recs = pd.DataFrame(
            {
                "record_key": [r["_server_id"] or r["id"] for r in data],
                **{fl: [r["fields"].get(fl) for r in data] for fl in fields},
            }
        )
        rows = [
            (r["_server_id"] or r["id"], item["user_id"], q, item["value"], None)
            for r in data
            for q, items in r["responses"].items()
            for item in items
        ]
        resp = pd.DataFrame(rows, columns=["record_key", "user_id", "qname", "value", "status"])
        return recs, resp
    if path.suffix == ".jsonl":
        return _explode_rows(_read_jsonl(path), fields, questions)
    if path.suffix == ".json":
        with path.open(encoding="utf-8") as f:
            return _explode_rows(json.load(f), fields, questions)
    t = pq.read_table(path)
    v1 = "external_id" in t.column_names and "_server_id" not in t.column_names
    key_col = "external_id" if v1 else "_server_id"
    recs = pd.DataFrame(
        {
            "record_key": t[key_col].to_pylist(),
            **{fl: t[fl].to_pylist() for fl in fields},
        }
    )
    resp = _explode_v1(t, questions) if v1 else _explode_flat(t, questions)
    return recs, resp


# ---------------------------------------------------------------------------------------------


def _prolific(path: Path) -> pd.DataFrame:
    with path.open(encoding="utf-8", newline="") as f:
        return pd.DataFrame(list(csv.DictReader(f)))


def _is_number(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return v == v
    if isinstance(v, str):
        try:
            float(v)
        except ValueError:
            return False
        return True
    return False


def _in_scale(v, lo: int, hi: int) -> bool:
    x = float(v)
    return x.is_integer() and lo <= x <= hi


def _first_reason(df: pd.DataFrame, checks: list[tuple[str, pd.Series]]) -> pd.Series:
    reason = pd.Series([None] * len(df), index=df.index, dtype=object)
    for name, mask in checks:
        reason[reason.isna() & mask.fillna(False).astype(bool)] = name
    return reason


def _dedupe(
    df: pd.DataFrame, reason: pd.Series, keys: list[str], name: str, same: str
) -> pd.Series:
    """Mark all but one of each key group (among still-counted rows) as `name`; assert the
    group agrees on `same`, so which one wins does not change any figure."""
    live = df[reason.isna()]
    dup = live.duplicated(keys, keep="first")
    disagree = live.groupby(keys)[same].nunique()
    if (disagree > 1).any():
        raise AssertionError(f"duplicates that disagree on {same}: {disagree[disagree > 1]}")
    reason = reason.copy()
    reason[dup[dup].index] = name
    return reason


def _source_frames(study: Study, role: str, fields: list[str], questions: list[str]):
    recs_all, resp_all, landed_recs, landed_resp = [], [], {}, {}
    for src in getattr(study.argilla, role).sources:
        assert isinstance(src, ArgillaSource) and src.export is not None
        recs, resp = read_export(src.export, fields, questions)
        label = src.label
        landed_recs[label], landed_resp[label] = len(recs), len(resp)
        recs = recs.assign(dataset=label)
        resp = resp.assign(dataset=label, status_if_missing=src.status_if_missing)
        recs_all.append(recs)
        resp_all.append(resp)
    recs = pd.concat(recs_all, ignore_index=True)
    resp = pd.concat(resp_all, ignore_index=True)
    resp = resp.merge(recs, on=["dataset", "record_key"], how="left", validate="many_to_one")
    return recs, resp, landed_recs, landed_resp


def write_ground_truth(study_yml: Path) -> Path:
    """Compute the ground truth of the study `study_yml` names and write it beside it as
    ground_truth.json (what tests comparing a built warehouse with the oracle read)."""
    study_yml = Path(study_yml)
    truth = compute_truth(load_study(study_yml))
    path = study_yml.parent / "ground_truth.json"
    path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def compute_truth(study: Study, samples: int = 12) -> dict:
    """The expected counts, exclusions and a few pair scores, from the files `study` (a loaded
    study.yml) names."""
    cfg_w, cfg_r = study.argilla.writing, study.argilla.rating
    counted_statuses = set(study.prolific.counted_statuses)

    users = _prolific(study.argilla.users) if study.argilla.users else pd.DataFrame()
    username = dict(zip(users.get("id", []), users.get("username", []), strict=True))
    subs = {}
    counted = {}
    for role in ("writing", "rating"):
        p = getattr(study.prolific, role)
        subs[role] = _prolific(p.export)
        s = subs[role]
        counted[role] = set(s.loc[s["Status"].isin(counted_statuses), "Participant id"])

    def is_counted(user_ids: pd.Series, role: str) -> pd.Series:
        # argilla_username_is_prolific_pid: the username is the Prolific participant id.
        return user_ids.map(lambda u: username.get(u) in counted[role])

    # ---- writing study ---------------------------------------------------------------------
    w_questions = [cfg_w.response_question] + (
        [cfg_w.quality_question] if cfg_w.quality_question else []
    )
    w_recs, w_resp, landed_w_recs, landed_w_resp = _source_frames(
        study, "writing", [cfg_w.question_field], w_questions
    )
    qcol = cfg_w.question_field
    norm_cache: dict[str, str] = {}

    def norm(s):
        if not isinstance(s, str):
            return None
        out = norm_cache.get(s)
        if out is None:
            out = norm_cache[s] = normalize(s)
        return out

    qid_cache: dict[str, str] = {}

    def qid(text):
        n = norm(text)
        if n not in qid_cache:
            qid_cache[n] = short_md5(n)
        return qid_cache[n]

    w_resp["question_id"] = w_resp[qcol].map(qid)
    w_resp["response_id"] = [
        short_md5(f"{a}|{b}") for a, b in zip(w_resp.question_id, w_resp.user_id, strict=True)
    ]
    w_counted = is_counted(w_resp.user_id, "writing")
    unknown = w_resp.status.isna()
    excl_unknown = unknown & (w_resp.status_if_missing == "exclude")
    not_sub = w_resp.status.isin(["draft", "discarded"])

    r = w_resp[w_resp.qname == cfg_w.response_question].copy()
    r["norm_text"] = r.value.map(norm)
    reason = _first_reason(
        r,
        [
            ("invalid_value", ~r.value.map(lambda v: isinstance(v, str))),
            ("not_submitted", not_sub[r.index]),
            ("status_unknown_excluded", excl_unknown[r.index]),
            ("writer_not_counted", ~w_counted[r.index]),
            ("empty_text", r.norm_text == ""),
        ],
    )
    reason = _dedupe(r, reason, ["question_id", "user_id"], "duplicate_response", "norm_text")
    r["reason"] = reason
    counted_resp = r[r.reason.isna()]

    qq = (
        w_resp[w_resp.qname == cfg_w.quality_question].copy()
        if cfg_w.quality_question
        else w_resp.iloc[:0].copy()
    )
    lo, hi = cfg_w.quality_scale.min, cfg_w.quality_scale.max
    isnum = qq.value.map(_is_number)
    qreason = _first_reason(
        qq,
        [
            ("invalid_value", ~isnum),
            (
                "out_of_range",
                isnum & ~qq.value.map(lambda v: _is_number(v) and _in_scale(v, lo, hi)),
            ),
            ("not_submitted", not_sub[qq.index]),
            ("status_unknown_excluded", excl_unknown[qq.index]),
            ("writer_not_counted", ~w_counted[qq.index]),
        ],
    )
    qq["num"] = qq.value.map(lambda v: float(v) if _is_number(v) else None)
    qreason = _dedupe(qq, qreason, ["question_id", "user_id"], "duplicate_response", "num")
    qq["reason"] = qreason
    counted_q = qq[qq.reason.isna()]

    # ---- rating study ----------------------------------------------------------------------
    rf = [cfg_r.question_field, cfg_r.response_a_field, cfg_r.response_b_field]
    r_recs, r_resp, landed_r_recs, landed_r_resp = _source_frames(
        study, "rating", rf, [cfg_r.rating_question]
    )
    smin, smax = cfg_r.scale.min, cfg_r.scale.max

    # text -> response ids, over every landed written response (any status).
    link: dict[tuple[str, str], set[str]] = {}
    for q_id, t, rid in zip(r.question_id, r.norm_text, r.response_id, strict=True):
        if t is not None:
            link.setdefault((q_id, t), set()).add(rid)

    def resolve(q_id, text):
        ids = link.get((q_id, norm(text)))
        if not ids:
            return None
        if len(ids) > 1:
            raise AssertionError(f"ambiguous link for question {q_id}: {text!r}")
        return next(iter(ids))

    # Link per record (each shows one pair), then give every rating its record's pair.
    r_recs["question_id"] = r_recs[cfg_r.question_field].map(qid)
    r_recs["a_id"] = [
        resolve(q, t)
        for q, t in zip(r_recs.question_id, r_recs[cfg_r.response_a_field], strict=True)
    ]
    r_recs["b_id"] = [
        resolve(q, t)
        for q, t in zip(r_recs.question_id, r_recs[cfg_r.response_b_field], strict=True)
    ]
    lo_id = np.where(r_recs.a_id.fillna("") < r_recs.b_id.fillna(""), r_recs.a_id, r_recs.b_id)
    hi_id = np.where(r_recs.a_id.fillna("") < r_recs.b_id.fillna(""), r_recs.b_id, r_recs.a_id)
    r_recs["r1"], r_recs["r2"] = lo_id, hi_id
    r_recs["pair_id"] = [
        short_md5(f"{a}|{b}") if isinstance(a, str) and isinstance(b, str) else None
        for a, b in zip(r_recs.r1, r_recs.r2, strict=True)
    ]
    g = (
        r_resp[r_resp.qname == cfg_r.rating_question]
        .drop(columns=rf)
        .merge(
            r_recs[["dataset", "record_key", "question_id", "a_id", "b_id", "r1", "r2", "pair_id"]],
            on=["dataset", "record_key"],
            how="left",
            validate="many_to_one",
        )
    )
    counted_ids = set(counted_resp.response_id)
    isnum = g.value.map(_is_number)
    linked = g.a_id.notna() & g.b_id.notna()
    g_unknown = g.status.isna()
    greason = _first_reason(
        g,
        [
            ("invalid_value", ~isnum),
            (
                "out_of_range",
                isnum & ~g.value.map(lambda v: _is_number(v) and _in_scale(v, smin, smax)),
            ),
            ("not_submitted", g.status.isin(["draft", "discarded"])),
            ("status_unknown_excluded", g_unknown & (g.status_if_missing == "exclude")),
            ("rater_not_counted", ~is_counted(g.user_id, "rating")),
            ("unlinkable", ~linked),
            ("same_response", linked & (g.a_id == g.b_id)),
            (
                "response_not_counted",
                linked & ~(g.a_id.isin(counted_ids) & g.b_id.isin(counted_ids)),
            ),
        ],
    )
    low_side = g.a_id if cfg_r.scale.low_means == "response_a" else g.b_id
    num = g.value.map(lambda v: float(v) if _is_number(v) else np.nan)
    g["oriented"] = np.where(low_side == g.r1, num, smin + smax - num)
    greason = _dedupe(g, greason, ["user_id", "pair_id"], "duplicate_rating", "oriented")
    g["reason"] = greason
    counted_g = g[g.reason.isna()]

    pairs = counted_g.groupby("pair_id").agg(
        n_ratings=("oriented", "size"),
        total=("oriented", "sum"),
        question_id=("question_id", "first"),
        r1=("r1", "first"),
        r2=("r2", "first"),
    )
    pairs["mean_rating"] = pairs.total / pairs.n_ratings
    pairs["is_tie"] = 2 * pairs.total == (smin + smax) * pairs.n_ratings
    shown = r_recs[r_recs.pair_id.notna()].groupby("pair_id").size()

    # ---- assemble ----------------------------------------------------------------------------
    qualities = counted_q.num.astype(float)
    excl = {
        "responses": _reason_counts(r.reason, RESPONSE_REASONS),
        "quality": _reason_counts(qq.reason, QUALITY_REASONS),
        "ratings": _reason_counts(g.reason, RATING_REASONS),
    }
    landed = {
        "argilla/records": _by(landed_w_recs, landed_r_recs),
        "argilla/responses": _by(landed_w_resp, landed_r_resp),
        "argilla/users": {"total": len(users)},
        "prolific/submissions": {
            "total": sum(len(s) for s in subs.values()),
            "by_study": {k: len(v) for k, v in subs.items()},
        },
        "prolific/demographics": {
            "total": sum(len(s) for s in subs.values()),
            "by_study": {k: len(v) for k, v in subs.items()},
        },
        "study/sources": {"total": len(cfg_w.sources) + len(cfg_r.sources)},
    }
    participants = {}
    for role in ("writing", "rating"):
        s = subs[role]
        per = s.groupby("Participant id").size()
        participants[role] = {
            "submissions": len(s),
            "participants": int(s["Participant id"].nunique()),
            "counted_participants": len(counted[role]),
            "duplicate_submissions": int((per > 1).sum()),
            "statuses": dict(sorted(Counter(s["Status"]).items())),
        }
    text_of = dict(zip(counted_resp.response_id, counted_resp.value, strict=True))
    question_text = {}
    for q_id, t in zip(w_resp.question_id, w_resp[qcol], strict=True):
        question_text.setdefault(q_id, normalize(t))

    return {
        "conventions": CONVENTIONS,
        "questions": int(w_recs[qcol].map(qid).nunique()),
        "questions_with_counted_responses": int(counted_resp.question_id.nunique()),
        "counted_responses": len(counted_resp),
        "counted_quality_ratings": len(counted_q),
        "counted_ratings": len(counted_g),
        "pairs": len(pairs),
        "ties": int(pairs.is_tie.sum()),
        "pairs_presented_twice": int((shown > 1).sum()) if len(shown) else 0,
        "status_unknown_counted": {
            "responses": int((counted_resp.status.isna()).sum()),
            "quality": int((counted_q.status.isna()).sum()),
            "ratings": int((counted_g.status.isna()).sum()),
        },
        "exclusions": excl,
        "question_quality": {
            "n": len(qualities),
            "mean": _round(qualities.mean()) if len(qualities) else None,
            "median": _round(qualities.median()) if len(qualities) else None,
        },
        "participants": participants,
        "landed": landed,
        "pair_samples": _samples(
            pairs, g, counted_g, text_of, question_text, samples, (smin + smax) / 2
        ),
    }


def _round(x: float) -> float:
    return round(float(x), 10)


def _reason_counts(reasons: pd.Series, names: tuple[str, ...]) -> dict[str, int]:
    c = Counter(reasons.dropna())
    unknown = set(c) - set(names)
    assert not unknown, unknown
    return {n: int(c.get(n, 0)) for n in names}


def _by(w: dict[str, int], r: dict[str, int]) -> dict:
    return {
        "total": sum(w.values()) + sum(r.values()),
        "by_study": {"writing": sum(w.values()), "rating": sum(r.values())},
        "by_dataset": {**w, **r},
    }


def _samples(pairs, g, counted_g, text_of, question_text, k, mid) -> list[dict]:
    """A handful of pairs, picked to cover the interesting cases, in pair_id order."""
    if pairs.empty:
        return []
    p = pairs.sort_index()
    excluded_dup = set(g.loc[g.reason == "duplicate_rating", "pair_id"])
    both_orders = (counted_g.a_id == counted_g.r1).groupby(counted_g.pair_id).nunique() > 1
    mirrored = set(both_orders[both_orders].index)
    non_ascii = {
        pid
        for pid, a, b in zip(p.index, p.r1, p.r2, strict=True)
        if not (text_of[a].isascii() and text_of[b].isascii())
    }
    picks: list[str] = []

    def take(ids, n):
        for pid in sorted(ids):
            if n == 0:
                break
            if pid not in picks:
                picks.append(pid)
                n -= 1

    take(set(p.index[p.is_tie]), 2)
    take(excluded_dup, 2)
    take(mirrored, 2)
    take(non_ascii, 1)
    take(set(p.index[p.n_ratings == 1]), 1)
    take(set(p.index), max(0, k - len(picks)))
    out = []
    for pid in picks:
        row = p.loc[pid]
        out.append(
            {
                "question": question_text[row.question_id],
                "response_1": text_of[row.r1],
                "response_2": text_of[row.r2],
                "question_id": row.question_id,
                "response_1_id": row.r1,
                "response_2_id": row.r2,
                "pair_id": pid,
                "n_ratings": int(row.n_ratings),
                "mean_rating": _round(row.mean_rating),
                "is_tie": bool(row.mean_rating == mid),
                "why": (
                    "tie"
                    if row.is_tie
                    else "same-rater repeat excluded"
                    if pid in excluded_dup
                    else "rated in both orders"
                    if pid in mirrored
                    else "non-ASCII text"
                    if pid in non_ascii
                    else "regular"
                ),
            }
        )
    return out


def split_of(
    question_id: str, seed: int | str, test_fraction: float, validation_fraction: float = 0.0
) -> str:
    """The split rule as the card states it, in Python: the oracle of `question_splits`."""
    digest = hashlib.sha256(f"{seed}:{question_id}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    if fraction < test_fraction:
        return "test"
    return "validation" if fraction < test_fraction + validation_fraction else "train"
