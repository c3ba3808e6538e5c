"""The publish rules: which rated pairs become preference pairs, and the split of each question.

A pair is published unless (first reason that applies): it is a tie (`tie`), it has fewer than
`publish.min_ratings` ratings (`below_min_ratings`), or its margin is below `publish.min_margin`
(`below_min_margin`). A pair whose preferred id is neither of its responses is dropped as
`invalid_preference` (a warehouse bug, but counted, never silent). Toxic texts are kept and
flagged, never dropped.

`chosen` is the preferred response. `mean_rating` and `median_rating` are re-oriented so that a
LOW value means `chosen` is better, whichever side it was in the warehouse.

Splits are by question, so no question is in two splits: a question goes to `test` when
sha256("<seed>:<question_id>"), read as a fraction of 2**64, is below `test_fraction`. A
question's split never depends on the other questions, so a refresh that adds questions never
moves an old question to the other split.
"""

from __future__ import annotations

import hashlib

import duckdb

from publish.privacy import PUBLISHED_ID_MACRO
from publish.warehouse import Marts

DROP_REASONS = ("tie", "below_min_ratings", "below_min_margin", "invalid_preference")


def split_of(question_id: str, seed: int, test_fraction: float) -> str:
    digest = hashlib.sha256(f"{seed}:{question_id}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if fraction < test_fraction else "train"


def register_splits(
    con: duckdb.DuckDBPyConnection, marts: Marts, seed: int, test_fraction: float
) -> None:
    """Temp table `_question_split (question_id, split)` over every question in the marts.

    The same rule as `split_of`, in SQL: the first 8 bytes of the digest are its first 16 hex
    digits, and dividing by 2**64 after the exact cast rounds as Python's int division does.
    The questions of `pair_ratings` are those of `pair_scores` (the warehouse tests that every
    counted rating's pair is scored), so the ratings are not read here."""
    con.execute(
        f"""
        create or replace temp table _question_split as
        select
            question_id,
            case
                when ('0x' || left(sha256($prefix || question_id), 16))::ubigint / 2 ** 64
                    < $test_fraction
                    then 'test'
                else 'train'
            end as split
        from (
            select cast(question_id as varchar) as question_id from {marts.ref("pair_scores")}
            union
            select cast(question_id as varchar) from {marts.ref("written_responses")}
        )
        where question_id is not null
        order by question_id
        """,
        {"prefix": f"{seed}:", "test_fraction": float(test_fraction)},
    )


def build_pairs(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    *,
    min_ratings: int,
    min_margin: float,
    threshold: float,
) -> dict[str, int]:
    """Temp table `_pairs` (published pairs, with split and toxicity). Returns drops by reason.

    Its `pair_id`, `chosen_response_id` and `rejected_response_id` are the published (keyed)
    ids; the warehouse's pair id is kept as `warehouse_pair_id`, for joins that stay inside
    the publish. Needs `_question_split`, `_text_toxicity` (from toxicity.score_texts) and the
    published-id macro (privacy.register_published_ids)."""
    # The first reason that applies; null for a published pair. Evaluated where it is used
    # rather than stored: a table of every rated pair would copy all its texts.
    drop_reason = """
        case
            when is_tie or preferred_response_id is null then 'tie'
            when n_ratings < $min_ratings then 'below_min_ratings'
            when margin < $min_margin then 'below_min_margin'
            when preferred_response_id not in (response_1_id, response_2_id)
                then 'invalid_preference'
        end
    """
    rules = {"min_ratings": min_ratings, "min_margin": min_margin}
    scores = marts.ref("pair_scores")
    ids = PUBLISHED_ID_MACRO
    con.execute(
        f"""
        create or replace temp table _pairs as
        with kept as (
            select *, preferred_response_id = response_1_id as chosen_is_1
            from {scores}
            where ({drop_reason}) is null
        ),

        oriented as (
            select
                pair_id,
                question_id,
                question_text as prompt,
                case when chosen_is_1 then response_1_text else response_2_text end as chosen,
                case when chosen_is_1 then response_2_text else response_1_text end as rejected,
                case when chosen_is_1 then response_1_id else response_2_id end
                    as chosen_response_id,
                case when chosen_is_1 then response_2_id else response_1_id end
                    as rejected_response_id,
                cast(case when chosen_is_1 then mean_rating
                    else scale_min + scale_max - mean_rating end as double) as mean_rating,
                cast(case when chosen_is_1 then median_rating
                    else scale_min + scale_max - median_rating end as double) as median_rating,
                cast(rating_std as double) as rating_std,
                cast(margin as double) as margin,
                cast(n_ratings as bigint) as n_ratings,
                cast(agreement as double) as agreement,
                cast(scale_min as bigint) as scale_min,
                cast(scale_max as bigint) as scale_max
            from kept
        )

        select
            o.* replace (
                {ids}('pair', o.pair_id) as pair_id,
                {ids}('response', o.chosen_response_id) as chosen_response_id,
                {ids}('response', o.rejected_response_id) as rejected_response_id
            ),
            o.pair_id as warehouse_pair_id,
            tc.toxicity as chosen_toxicity,
            tr.toxicity as rejected_toxicity,
            tc.toxicity >= $threshold as chosen_is_toxic,
            tr.toxicity >= $threshold as rejected_is_toxic,
            coalesce(s.split, 'train') as split
        from oriented as o
        left join _text_toxicity as tc on tc.text = o.chosen
        left join _text_toxicity as tr on tr.text = o.rejected
        left join _question_split as s on s.question_id = o.question_id
        -- Sorted once here: the files read it in this order (dataset.pairs_sql). By the
        -- published pair id (the output column): the order of the warehouse ids would tell
        -- something about them.
        order by split, question_id, pair_id
        """,
        {**rules, "threshold": threshold},
    )
    counts = dict(
        con.execute(
            f"select {drop_reason} as reason, count(*) from {scores} group by 1",
            rules,
        ).fetchall()
    )
    return {reason: int(counts.get(reason, 0)) for reason in DROP_REASONS}
