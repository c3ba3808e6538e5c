"""The obvious alternatives, run on the same data as the pipeline, for the ratios in RESULTS.md.

- `pandas_counting`: what the original team did in a notebook: read the landed rows with pandas,
  apply the counting rules, link ratings to responses by text, orient, average, pick chosen and
  rejected. Written the way such a notebook is (json.loads and unicodedata per row, merges).
- `alpha_package`: the `krippendorff` package's alpha over the counted ratings.
- `naive_transformers`: a text-classification pipeline called one text at a time, no cache.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd


def _read(landing: Path, source: str, table: str) -> pd.DataFrame:
    files = [p for p in (landing / source / table).glob("*.parquet")]
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _latest(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    df = df.sort_values(["_extracted_at", "_batch_id"])
    return df.drop_duplicates(keys, keep="last")


def _norm(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def _md5_16(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()[:16]


def pandas_counting(landing: Path, scale_min: int = 1, scale_max: int = 8) -> dict:
    """Counted ratings, pairs and chosen/rejected rows, computed with pandas. Returns counts."""
    t0 = time.perf_counter()
    subs = _read(landing, "prolific", "submissions")
    counted = subs[subs["status"].isin(["APPROVED", "AWAITING REVIEW"])]
    counted_ids = {role: set(g["participant_id"]) for role, g in counted.groupby("study_role")}
    users = _latest(_read(landing, "argilla", "users"), ["user_id"])
    username = dict(zip(users["user_id"], users["username"], strict=False))
    sources = _read(landing, "study", "sources")
    exclude_unknown = set(
        sources.loc[sources["status_if_missing"] == "exclude", ["dataset", "workspace"]].itertuples(
            index=False, name=None
        )
    )
    records = _latest(_read(landing, "argilla", "records"), ["dataset", "workspace", "record_id"])
    fields = records["fields"].map(json.loads)  # one json.loads per record, as a notebook does
    records = records.assign(
        question=fields.map(lambda f: _norm(f.get("question"))),
        a_text=fields.map(lambda f: _norm(f.get("response_a"))),
        b_text=fields.map(lambda f: _norm(f.get("response_b"))),
    )
    resp = _latest(
        _read(landing, "argilla", "responses"),
        ["dataset", "workspace", "record_id", "user_id", "question_name"],
    )
    status = resp["status"]
    unknown_ok = [
        (d, w) not in exclude_unknown
        for d, w in zip(resp["dataset"], resp["workspace"], strict=True)
    ]
    resp = resp[(status == "submitted") | (status.isna() & np.array(unknown_ok))]
    resp = resp.assign(username=resp["user_id"].map(username))
    rec_cols = ["dataset", "workspace", "record_id", "question", "a_text", "b_text"]
    resp = resp.merge(records[rec_cols], on=["dataset", "workspace", "record_id"])

    writing = resp[(resp["study_role"] == "writing") & (resp["question_name"] == "response")]
    writing = writing[writing["username"].isin(counted_ids.get("writing", set()))]
    writing = writing.assign(text=writing["value_text"].map(_norm))
    writing = writing[writing["text"] != ""]
    writing = writing.assign(question_id=writing["question"].map(_md5_16))
    writing = writing.assign(
        response_id=[
            _md5_16(f"{q}|{u}")
            for q, u in zip(writing["question_id"], writing["user_id"], strict=True)
        ]
    )
    writing = writing.drop_duplicates(["response_id"], keep="last")
    by_text = writing.drop_duplicates(["question_id", "text"])[
        ["question_id", "text", "response_id"]
    ]

    rating = resp[(resp["study_role"] == "rating") & (resp["question_name"] == "preference")]
    rating = rating[rating["username"].isin(counted_ids.get("rating", set()))]
    value = rating["value_number"]
    rating = rating[(value >= scale_min) & (value <= scale_max) & (value == value.round())]
    rating = rating.assign(question_id=rating["question"].map(_md5_16))
    rating = rating.merge(
        by_text.rename(columns={"text": "a_text", "response_id": "a_id"}),
        on=["question_id", "a_text"],
    ).merge(
        by_text.rename(columns={"text": "b_text", "response_id": "b_id"}),
        on=["question_id", "b_text"],
    )
    rating = rating[rating["a_id"] != rating["b_id"]]
    flip = rating["a_id"] > rating["b_id"]
    rating = rating.assign(
        r1=np.where(flip, rating["b_id"], rating["a_id"]),
        r2=np.where(flip, rating["a_id"], rating["b_id"]),
        oriented=np.where(
            flip, scale_min + scale_max - rating["value_number"], rating["value_number"]
        ),
    )
    rating = rating.sort_values("updated_at", na_position="first").drop_duplicates(
        ["r1", "r2", "user_id"], keep="last"
    )
    pairs = rating.groupby(["r1", "r2"], as_index=False).agg(
        mean_rating=("oriented", "mean"), n_ratings=("oriented", "size")
    )
    mid = (scale_min + scale_max) / 2
    pairs = pairs[pairs["mean_rating"] != mid]
    pairs = pairs.assign(
        chosen=np.where(pairs["mean_rating"] < mid, pairs["r1"], pairs["r2"]),
        rejected=np.where(pairs["mean_rating"] < mid, pairs["r2"], pairs["r1"]),
    )
    return {
        "seconds": time.perf_counter() - t0,
        "counted_responses": len(writing),
        "counted_ratings": len(rating),
        "pairs_not_tied": len(pairs),
    }


def alpha_package(warehouse: Path) -> dict:
    """Interval alpha of the rating study with the krippendorff package (value counts form)."""
    import krippendorff

    con = duckdb.connect(str(warehouse), read_only=True)
    t0 = time.perf_counter()
    df = con.sql("select pair_id, oriented_rating from analytics.pair_ratings").df()
    con.close()
    codes, _ = pd.factorize(df["pair_id"])
    values = sorted(df["oriented_rating"].unique())
    counts = np.zeros((codes.max() + 1, len(values)))
    np.add.at(counts, (codes, np.searchsorted(values, df["oriented_rating"])), 1)
    alpha = krippendorff.alpha(
        value_counts=counts, value_domain=values, level_of_measurement="interval"
    )
    return {"seconds": time.perf_counter() - t0, "alpha": float(alpha)}


def sql_alpha(study) -> dict:
    """The warehouse's own alpha, timed from the counted values as the package is: the SQL of
    the agreement models, from grouping every counted value by unit to `study_agreement`, run
    one after the other into temp tables. The alpha is resample 0 of the resampled alphas;
    compiled with no bootstrap resamples, so the chain computes the one alpha the package
    does, not the confidence interval."""
    import re
    import tempfile

    from rlhfw.dbt import run_dbt

    chain = [
        "int_coded_values_grouped_by_unit",
        "int_value_profiles_counted_by_scope",
        "int_coders_counted_by_scope",
        "int_value_ranks_by_scope",
        "int_agreement_resample_weights",
        "int_agreement_alpha_by_resample",
        "study_agreement",
    ]
    with tempfile.TemporaryDirectory() as target:
        outcome = run_dbt(
            study,
            "compile",
            ["--select", *chain, "--target-path", target,
             "--vars", "{agreement_bootstrap_resamples: 0}"],
        )  # fmt: skip
        compiled = {p.stem: p.read_text() for p in Path(target).rglob("*.sql") if p.is_file()}
    if not outcome.ok or any(name not in compiled for name in chain):
        return {"seconds": None, "alpha": None}

    def local(sql: str) -> str:
        # References to the chain's own models read the temp tables made before.
        for name in chain:
            sql = re.sub(rf'"[^"]+"\."[^"]+"\."{name}"', f"alpha_{name}", sql)
        return sql

    con = duckdb.connect(str(study.warehouse), read_only=True)
    t0 = time.perf_counter()
    for name in chain[:-1]:
        con.execute(f"create temp table alpha_{name} as {local(compiled[name])}")
    rows = con.sql(local(compiled[chain[-1]])).df()
    seconds = time.perf_counter() - t0
    con.close()
    pick = rows[
        (rows["study"] == "rating") & (rows["scope"] == "overall") & (rows["level"] == "interval")
    ]
    return {"seconds": seconds, "alpha": float(pick["alpha"].iloc[0]) if len(pick) else None}


def naive_transformers(model_dir: Path, texts: list[str], positive: str) -> dict:
    """One pipeline call per text, no batching, no sorting, no cache."""
    from transformers import pipeline

    clf = pipeline("text-classification", model=str(model_dir), top_k=None, device=-1)
    t0 = time.perf_counter()
    scores = []
    for text in texts:
        out = clf(text, truncation=True)
        row = out[0] if out and isinstance(out[0], list) else out
        scores.append(sum(d["score"] for d in row if d["label"] == positive))
    return {"seconds": time.perf_counter() - t0, "texts": len(texts)}
