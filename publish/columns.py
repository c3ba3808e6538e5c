"""The published columns of every config, each with the line the card shows for it.

The one place the card's column tables come from (`card.render`), and the one a test holds the
written Parquet files to (tests/publish/test_publish_card.py): a config that gains a column
without a line here fails that test. Descriptions are `str.format` templates over the card's
facts named in `FACTS`.
"""

from __future__ import annotations

# The card facts the descriptions may name.
FACTS = ("scale_min", "scale_max", "midpoint", "toxicity_threshold", "quality_min", "quality_max")

_PAIR_COLUMNS: dict[str, str] = {
    "prompt": "the question (string)",
    "chosen": "the preferred answer (string)",
    "rejected": "the other answer (string)",
    "question_id": "stable id of the question (md5 of its published text); joins every config",
    "pair_id": "salted hash id of the pair; joins `ratings`",
    "chosen_response_id": "salted hash id of the preferred response; joins `responses`",
    "rejected_response_id": "salted hash id of the other response; joins `responses`",
    "mean_rating": (
        "the raters' mean on the {scale_min}-{scale_max} scale, oriented so that LOW means "
        "`chosen` is better (midpoint {midpoint:g})"
    ),
    "median_rating": "the raters' median, oriented like `mean_rating`",
    "rating_std": "standard deviation of the pair's ratings (NULL with one rating)",
    "margin": "distance of the mean rating from the midpoint: the strength of the preference",
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
        "annotator_id": "the rater's pseudonym (salted HMAC-SHA256, stable across releases)",
        "rating": "the rating as given, on the {scale_min}-{scale_max} scale of the record shown",
        "oriented_rating": (
            "the rating oriented to the pair's stored order (whichever order the record showed)"
        ),
        "dataset": "the Argilla dataset the rating was given in",
        "workspace": "the Argilla workspace of that dataset",
        "rated_at": "when the rating was submitted",
        "pair_published": "whether the pair is in `pairs` (false: dropped by a publish rule)",
        "split": "the split of `pairs` the question belongs to",
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
        "split": "the split of `pairs` the question belongs to",
    },
}


def described(config: str, facts: dict[str, object]) -> list[tuple[str, str]]:
    """(column, description) of a config's columns, in the files' order."""
    return [(name, text.format(**facts)) for name, text in COLUMNS[config].items()]
