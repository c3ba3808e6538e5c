"""The published columns of every config, each with the line the card shows for it.

The one place the card's column tables come from (`card.render`), and the one a test holds the
written Parquet files to (tests/publish/test_publish_card.py): a config that gains a column
without a line here fails that test. Descriptions are `str.format` templates over the card's
facts named in `FACTS`.
"""

from __future__ import annotations

# The card facts the descriptions may name.
FACTS = (
    "scale_min",
    "scale_max",
    "scale_sum",
    "midpoint",
    "toxicity_threshold",
    "quality_min",
    "quality_max",
)

_PAIR_COLUMNS: dict[str, str] = {
    "prompt": "the question (string)",
    "chosen": "the preferred answer (string)",
    "rejected": "the other answer (string)",
    "question_id": "stable id of the question (md5 of its published text); joins every config",
    "pair_id": "salted hash id of the pair; joins `ratings`",
    "chosen_response_id": "salted hash id of the preferred response; joins `responses`",
    "rejected_response_id": "salted hash id of the other response; joins `responses`",
    "score_chosen": (
        "`chosen`'s score on the {scale_min}-{scale_max} scale, HIGHER is better: with m the "
        "raters' mean oriented so that low means `chosen` is better, {scale_sum} - m"
    ),
    "score_rejected": (
        "`rejected`'s score, m; the two add up to {scale_sum}, `chosen` scores above the "
        "midpoint {midpoint:g}"
    ),
    "median_score_chosen": "`score_chosen` from the raters' median instead of their mean",
    "median_score_rejected": "`score_rejected` from the raters' median",
    "preference_strength": (
        "(`score_chosen` - `score_rejected`) / ({scale_max} - {scale_min}), in [0, 1]: 0 would "
        "be a tie, 1 means every rater gave the scale's end for `chosen`. Not named `margin`: "
        "TRL's `RewardTrainer` subtracts a column of that name inside its loss"
    ),
    "rating_std": "standard deviation of the pair's ratings (NULL with one rating)",
    "n_ratings": "number of counted ratings of the pair",
    "agreement": "share of the pair's raters on the majority side",
    "scale_min": "lowest value of the rating scale",
    "scale_max": "highest value of the rating scale",
    "chosen_toxicity": "toxicity score of `chosen` in [0, 1] (see Toxicity)",
    "rejected_toxicity": "toxicity score of `rejected` in [0, 1]",
    "chosen_is_toxic": (
        "`chosen_toxicity` >= {toxicity_threshold:g}; toxic texts are kept and flagged, "
        "never dropped"
    ),
    "rejected_is_toxic": "`rejected_toxicity` >= {toxicity_threshold:g}",
}

_CONVERSATIONAL_MESSAGES: dict[str, str] = {
    "prompt": 'the question as messages: `[{{"role": "user", "content": ...}}]`',
    "chosen": 'the preferred answer: `[{{"role": "assistant", "content": ...}}]`',
    "rejected": 'the other answer: `[{{"role": "assistant", "content": ...}}]`',
}

COLUMNS: dict[str, dict[str, str]] = {
    "pairs": _PAIR_COLUMNS,
    "conversational": {**_PAIR_COLUMNS, **_CONVERSATIONAL_MESSAGES},
    "ratings": {
        "pair_id": "salted hash id of the rated pair; joins `pairs`",
        "question_id": "the pair's question; joins every config",
        "response_1_id": "salted hash id of the pair's first response in its stored order",
        "response_2_id": "salted hash id of its second response",
        "response_a_id": "the response the rater saw first (as A): one of the two",
        "annotator_id": "the rater's pseudonym (salted HMAC-SHA256, stable across releases)",
        "rating": "the rating as given, on the {scale_min}-{scale_max} scale of the record shown",
        "oriented_rating": (
            "the rating oriented to the stored order: low means `response_1_id` is better"
        ),
        "dataset": "the Argilla dataset the rating was given in",
        "workspace": "the Argilla workspace of that dataset",
        "rated_at": "when the rating was submitted",
        "pair_published": "whether the pair is in `pairs` (false: dropped by a publish rule)",
    },
    "responses": {
        "response_id": "salted hash id of the response; joins `pairs`",
        "question_id": "the response's question; joins every config",
        "question_text": "the question (string)",
        "response_text": "the written answer (string)",
        "writer_id": "the writer's pseudonym (salted HMAC-SHA256, stable across releases)",
        "dataset": "the Argilla dataset the response was written in",
        "workspace": "the Argilla workspace of that dataset",
        "responded_at": "when the response was submitted",
        "question_mean_quality": (
            "mean of the question's counted quality ratings ({quality_min}-{quality_max})"
        ),
        "question_median_quality": "median of the question's counted quality ratings",
        "question_n_quality_ratings": "number of counted quality ratings of the question",
        "toxicity": "toxicity score of `response_text` in [0, 1]",
        "is_toxic": "`toxicity` >= {toxicity_threshold:g}",
    },
}


def described(config: str, facts: dict[str, object]) -> list[tuple[str, str]]:
    """(column, description) of a config's columns, in the files' order."""
    return [(name, text.format(**facts)) for name, text in COLUMNS[config].items()]
