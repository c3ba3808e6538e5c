"""The published pairs: the rows of the `preference_pairs` mart that publish writes.

The publish rules live in dbt, so an analyst can query exactly what was published and why the
rest was not: `models/marts/preference_pairs.sql` (the drop reasons, `chosen` and `rejected`,
their higher-is-better scores and the preference's strength) and
`models/marts/question_splits.sql` (the split of each question), from study.yml's `publish`
settings as landed in study/settings. Publish adds what does not belong in the warehouse: the
toxicity flags (their threshold applies at publish time) and the salted published ids.
"""

from __future__ import annotations

import duckdb

from publish.errors import PublishError
from publish.privacy import PUBLISHED_ID_MACRO
from publish.warehouse import Marts
from study_config import Publish

DROP_REASONS = ("tie", "below_min_ratings", "below_min_margin", "invalid_preference")
# The splits publish writes, in the card's order (models/marts/question_splits.sql).
SPLITS = ("train", "validation", "test")


def check_settings(con: duckdb.DuckDBPyConnection, marts: Marts, cfg: Publish) -> None:
    """Raise PublishError unless the marts were built with study.yml's publish settings.

    They reach dbt through the landed study/settings, so a study.yml edited after the last
    extract and build would otherwise publish by the old rules while its card states the new
    ones. Empty marts record nothing to compare (and publish nothing)."""
    wanted = {
        "min_ratings": cfg.min_ratings,
        "min_margin": float(cfg.min_margin),
        "seed": str(cfg.seed),
        "test_fraction": float(cfg.test_fraction),
        "validation_fraction": float(cfg.validation_fraction),
    }
    built = {
        "min_ratings": f"select distinct min_ratings from {marts.ref('preference_pairs')}",
        "min_margin": f"select distinct min_margin from {marts.ref('preference_pairs')}",
        "seed": f"select distinct seed from {marts.ref('question_splits')}",
        "test_fraction": f"select distinct test_fraction from {marts.ref('question_splits')}",
        "validation_fraction": (
            f"select distinct validation_fraction from {marts.ref('question_splits')}"
        ),
    }
    differ = []
    for name, sql in built.items():
        convert = type(wanted[name])
        values = {convert(v) for (v,) in con.execute(sql).fetchall() if v is not None}
        if values and values != {wanted[name]}:
            found = ", ".join(str(v) for v in sorted(values))
            differ.append(f"{name} {wanted[name]} in study.yml, {found} in the warehouse")
    if differ:
        raise PublishError(
            f"publish settings changed since the warehouse was built ({'; '.join(differ)}): "
            "run `rlhfw refresh` (or `rlhfw extract`, then `rlhfw build`) first"
        )


def build_pairs(
    con: duckdb.DuckDBPyConnection, marts: Marts, *, threshold: float
) -> dict[str, int]:
    """Temp table `_pairs`: the published pairs with their toxicity. Returns drops by reason.

    Its `pair_id`, `chosen_response_id` and `rejected_response_id` are the published (keyed)
    ids; the warehouse's pair id is kept as `warehouse_pair_id`, for joins that stay inside
    the publish. Needs `_text_toxicity` (from toxicity.score_texts) and the published-id macro
    (privacy.register_published_ids)."""
    pairs, ids = marts.ref("preference_pairs"), PUBLISHED_ID_MACRO
    con.execute(
        f"""
        create or replace temp table _pairs as
        select
            p.prompt,
            p.chosen,
            p.rejected,
            p.question_id,
            {ids}('pair', p.pair_id) as pair_id,
            {ids}('response', p.chosen_response_id) as chosen_response_id,
            {ids}('response', p.rejected_response_id) as rejected_response_id,
            -- The files' types, whatever types the mart has. No `margin`: TRL's RewardTrainer
            -- subtracts a column of that name inside its loss (docs/architecture.md, Publish).
            cast(p.score_chosen as double) as score_chosen,
            cast(p.score_rejected as double) as score_rejected,
            cast(p.median_score_chosen as double) as median_score_chosen,
            cast(p.median_score_rejected as double) as median_score_rejected,
            cast(p.preference_strength as double) as preference_strength,
            cast(p.rating_std as double) as rating_std,
            cast(p.n_ratings as bigint) as n_ratings,
            cast(p.agreement as double) as agreement,
            cast(p.scale_min as bigint) as scale_min,
            cast(p.scale_max as bigint) as scale_max,
            tc.toxicity as chosen_toxicity,
            tr.toxicity as rejected_toxicity,
            tc.toxicity >= $threshold as chosen_is_toxic,
            tr.toxicity >= $threshold as rejected_is_toxic,
            p.pair_id as warehouse_pair_id,
            p.split
        from {pairs} as p
        left join _text_toxicity as tc on tc.text = p.chosen
        left join _text_toxicity as tr on tr.text = p.rejected
        where p.is_published
        -- Sorted once here: the files read it in this order (dataset.pairs_sql). By the
        -- published pair id (the output column): the order of the warehouse ids would tell
        -- something about them.
        order by split, question_id, pair_id
        """,
        {"threshold": threshold},
    )
    # A split the files do not know would leave its pairs out of every file: never silently.
    (unsplit,) = con.execute(
        "select count(*) from _pairs where split is null or split not in ?", [list(SPLITS)]
    ).fetchone()
    if unsplit:
        raise PublishError(
            f"{unsplit} published pair(s) in {pairs} have no {'/'.join(SPLITS)} split: "
            "rebuild with `rlhfw build`"
        )
    counts = dict(
        con.execute(
            f"select drop_reason, count(*) from {pairs} where not is_published group by 1"
        ).fetchall()
    )
    # Every reason the mart gives is reported, a reason this code does not know included.
    return {
        **{reason: int(counts.pop(reason, 0)) for reason in DROP_REASONS},
        **{str(reason): int(n) for reason, n in sorted(counts.items(), key=lambda kv: str(kv[0]))},
    }
