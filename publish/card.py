"""The dataset card (README.md): YAML front matter the Hub and `datasets` read, then prose."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml


@dataclass(frozen=True)
class CardFacts:
    """Everything the card says, gathered by the run (no warehouse access here)."""

    name: str
    license: str
    language: list[str]
    repo_id: str | None
    folder_name: str
    pair_splits: dict[str, int]  # split -> rows
    files: dict[str, dict[str, str]]  # config -> split -> file path in the folder
    dropped: dict[str, int]  # reason -> pairs
    n_pairs_rated: int
    n_questions: int
    n_responses: int
    n_ratings: int
    n_raters: int
    n_writers: int
    scale_min: int
    scale_max: int
    quality_min: int
    quality_max: int
    quality_mean: float | None  # over all quality ratings
    quality_median: float | None  # median of the questions' median quality
    n_quality_ratings: int
    agreement: list[dict]  # rows of study_agreement
    toxicity_backend: str
    toxicity_model: str
    toxicity_threshold: float
    toxicity_limits: str
    toxic_responses: int
    toxic_pair_sides: int
    min_ratings: int
    min_margin: float
    test_fraction: float
    seed: int
    redacted_texts: int
    writing_sources: list[str] = field(default_factory=list)
    rating_sources: list[str] = field(default_factory=list)
    counted_statuses: list[str] = field(default_factory=list)
    generated_at: str = ""
    validation_fraction: float = 0.0
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> split -> rows


def size_category(n: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
              (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]  # fmt: skip
    for bound, label in bounds:
        if n < bound:
            return label
    return "10M<n<100M"


def front_matter(f: CardFacts) -> dict:
    def config(name: str, default: bool = False) -> dict:
        entry: dict = {"config_name": name}
        if default:
            entry["default"] = True
        entry["data_files"] = [{"split": s, "path": p} for s, p in f.files[name].items()]
        return entry

    return {
        "pretty_name": f.name,
        "license": f.license,
        "language": f.language,
        "task_categories": ["text-generation", "text-classification"],
        "tags": ["rlhf", "dpo", "preference", "human-feedback", "reward-modeling"],
        "size_categories": [size_category(sum(f.pair_splits.values()))],
        "configs": [
            config("pairs", default=True),
            config("conversational"),
            config("ratings"),
            config("responses"),
        ],
    }


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _int(x: int | None) -> str:
    return "n/a" if x is None else f"{x:,}"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(part: int, whole: int) -> str:
    return "n/a" if whole == 0 else f"{100 * part / whole:.1f}%"


def render(f: CardFacts) -> str:
    fm = yaml.safe_dump(front_matter(f), sort_keys=False, allow_unicode=True)
    n_pairs = sum(f.pair_splits.values())
    where = f.repo_id or f"path/to/{f.folder_name}"
    splits = ", ".join(f"{s}: {n:,}" for s, n in f.pair_splits.items())
    midpoint = (f.scale_min + f.scale_max) / 2
    drops = {
        "tie": "ties (no preferred response)",
        "below_min_ratings": f"fewer than {f.min_ratings} rating(s)",
        "below_min_margin": f"margin below {f.min_margin}",
        "invalid_preference": "preferred response not one of the pair (warehouse error)",
    }
    drop_rows = (
        "\n".join(
            f"| {drops.get(reason, reason)} | {n:,} |" for reason, n in f.dropped.items() if n
        )
        or "| (none) | 0 |"
    )
    alpha_rows = (
        "\n".join(
            f"| {r['study']} | {r['scope']} | {r['level']} | {_num(r['alpha'])} | "
            f"{_int(r['n_units'])} | {_int(r['n_coders'])} | {_int(r['n_values'])} |"
            for r in f.agreement
        )
        or "| (not computed) | | | | | | |"
    )
    sources_w = ", ".join(f"`{s}`" for s in f.writing_sources) or "(not recorded)"
    sources_r = ", ".join(f"`{s}`" for s in f.rating_sources) or "(not recorded)"
    statuses = ", ".join(f"`{s}`" for s in f.counted_statuses) or "(not recorded)"
    pair_sides = 2 * n_pairs

    def rows_of(config: str, total: int) -> str:
        got = f.rows.get(config) or {"train": total}
        return ", ".join(f"{s}: {n:,}" for s, n in got.items())

    configs_table = _table(
        ("config", "splits", "one row per"),
        [
            ("`pairs` (default)", splits,
             "published preference pair; `prompt`, `chosen`, `rejected` are strings"),
            ("`conversational`", splits,
             'the same pairs as messages: `prompt` is `[{"role": "user", ...}]`, '
             '`chosen` and `rejected` are `[{"role": "assistant", ...}]`'),
            ("`ratings`", rows_of("ratings", f.n_ratings),
             "counted rating, with a pseudonymous `annotator_id`"),
            ("`responses`", rows_of("responses", f.n_responses),
             "counted written response, with its question's quality and its toxicity"),
        ],
    )  # fmt: skip
    columns_table = _table(
        ("column", "meaning"),
        [
            ("`prompt`, `chosen`, `rejected`",
             "the question, the preferred answer, the other answer"),
            ("`question_id`, `pair_id`, `chosen_response_id`, `rejected_response_id`",
             "stable ids that join the configs (also in `ratings` and `responses`); pair and "
             "response ids are salted hashes"),
            ("`score_chosen`, `score_rejected`",
             f"each side's score on the {f.scale_min}-{f.scale_max} scale, HIGHER is better: "
             f"with m the raters' mean oriented so that low means `chosen` is better, "
             f"`score_chosen` = {f.scale_min + f.scale_max} - m and `score_rejected` = m "
             f"(they add up to {f.scale_min + f.scale_max}; `chosen` scores above the "
             f"midpoint {midpoint:g})"),
            ("`median_score_chosen`, `median_score_rejected`",
             "the same from the raters' median"),
            ("`preference_strength`",
             "(`score_chosen` - `score_rejected`) / (scale max - scale min), in [0, 1]: "
             "0 would be a tie, 1 means every rater gave the scale's end for `chosen`"),
            ("`rating_std`", "standard deviation of the ratings"),
            ("`n_ratings`", "number of counted ratings of the pair"),
            ("`agreement`", "share of raters on the majority side"),
            ("`scale_min`, `scale_max`", "the rating scale"),
            ("`chosen_toxicity`, `rejected_toxicity`", "toxicity score in [0, 1] (see below)"),
            ("`chosen_is_toxic`, `rejected_is_toxic`",
             f"score >= {f.toxicity_threshold:g}; toxic texts are kept and flagged, "
             "never dropped"),
        ],
    )  # fmt: skip
    ratings_table = _table(
        ("column", "meaning"),
        [
            ("`pair_id`, `question_id`", "the rated pair and its question (as in `pairs`)"),
            ("`response_1_id`, `response_2_id`",
             "the pair's two responses in its stored order (published ids, as in `pairs`)"),
            ("`response_a_id`", "the response the rater saw first (as A)"),
            ("`annotator_id`", "the rater's pseudonym"),
            ("`rating`", f"the rating as given, on the record's own A/B order "
             f"({f.scale_min}-{f.scale_max})"),
            ("`oriented_rating`",
             "the rating oriented to the stored order: low means `response_1_id` is better"),
            ("`dataset`, `workspace`", "where it was rated"),
            ("`rated_at`", "when it was last updated (else created), UTC"),
            ("`pair_published`", "whether the pair is in `pairs`"),
        ],
    )  # fmt: skip
    stats_table = _table(
        ("statistic", "value"),
        [
            ("preference pairs", f"{n_pairs:,} ({splits})"),
            ("ties dropped", f"{f.dropped.get('tie', 0):,}"),
            ("questions", f"{f.n_questions:,}"),
            ("written responses", f"{f.n_responses:,}"),
            ("ratings", f"{f.n_ratings:,}"),
            ("writers / raters", f"{f.n_writers:,} / {f.n_raters:,}"),
            (f"question quality, mean over {f.n_quality_ratings:,} ratings",
             _num(f.quality_mean, 2)),
            ("question quality, median of question medians", _num(f.quality_median, 2)),
            ("toxic responses", f"{f.toxic_responses:,} of {f.n_responses:,} "
             f"({_pct(f.toxic_responses, f.n_responses)})"),
            ("toxic pair sides", f"{f.toxic_pair_sides:,} of {pair_sides:,} "
             f"({_pct(f.toxic_pair_sides, pair_sides)})"),
        ],
    )  # fmt: skip
    return f"""---
{fm}---

# {f.name}

Human preference pairs for reward modelling and preference optimisation (DPO, RLHF), from two
crowd studies: participants wrote answers to questions, and other participants compared two
answers to the same question. {n_pairs:,} preference pairs over {f.n_questions:,} questions
({splits}), with the full ratings, the written responses, rater agreement and toxicity scores.

## Loading

```python
from datasets import load_dataset

pairs = load_dataset("{where}", "pairs")             # prompt / chosen / rejected strings
chat = load_dataset("{where}", "conversational")     # the same pairs as chat messages
ratings = load_dataset("{where}", "ratings")         # one row per rating
responses = load_dataset("{where}", "responses")     # one row per written response
```

`pairs` and `conversational` are ready for TRL's `DPOTrainer`, `RewardTrainer` and friends:

```python
from trl import DPOConfig, DPOTrainer

trainer = DPOTrainer(model=model, args=DPOConfig(output_dir="out"),
                     train_dataset=pairs["train"], processing_class=tokenizer)
```

## Configs

{configs_table}

Columns of `pairs`:

{columns_table}

There is no `margin` column on purpose: TRL's `RewardTrainer` subtracts a column named
`margin` inside its loss (`-logsigmoid(r_chosen - r_rejected - margin)`). To train with one,
add it deliberately, e.g. `pairs.map(lambda r: {{"margin": k * r["preference_strength"]}})`.

`ratings` and `responses` are split by question as `pairs` is: a question's ratings and
responses are in the split of its pairs. Columns of `ratings`:

{ratings_table}

## How the data was collected

- **Writing study.** Participants recruited on Prolific answered questions in Argilla
  (datasets: {sources_w}) and rated each question's quality on a {f.quality_min}-{f.quality_max}
  scale. {f.n_responses:,} counted responses from {f.n_writers:,} writers.
- **Rating study.** Other Prolific participants saw a question with two answers (datasets:
  {sources_r}) and rated the pair on a {f.scale_min}-{f.scale_max} scale ({f.scale_min} = first
  answer much better, {f.scale_max} = second answer much better). Each rating is oriented to the
  pair's stored order, whichever order the record showed. {f.n_ratings:,} counted ratings of
  {f.n_pairs_rated:,} pairs from {f.n_raters:,} raters.

### Counting rules

A participant counts in a study when one of their Prolific submissions to it has a counted
status ({statuses}). A response or rating counts when it is submitted (not a draft or a
discard), comes from a counted participant, has a valid value (non-empty text; an integer on the
scale), can be linked to counted written responses (ratings), and is not a repeat: when a
participant answered the same question or rated the same pair again, only the latest counts.
Anything else is excluded with a reason in the warehouse's `exclusions` table.

### Publish rules

A rated pair becomes a preference pair unless it is a tie or fails a threshold (first reason
that applies; pairs dropped: {sum(f.dropped.values()):,}):

| reason | pairs |
|---|---|
{drop_rows}

Splits are by question, in every config: no question appears in two splits. With
`sha256("<seed>:<question_id>")` read as a fraction (seed {f.seed}), a question is in `test`
below the test fraction ({f.test_fraction:g}), in `validation` below the test and validation
fractions together ({f.validation_fraction:g} for validation), else in `train`; this never
depends on other questions, so later releases keep each question's split.

## Statistics

{stats_table}

### Rater agreement (Krippendorff's alpha)

| study | scope | level | alpha | units | coders | values |
|---|---|---|---|---|---|---|
{alpha_rows}

## Toxicity

Every response was scored with backend `{f.toxicity_backend}`, model `{f.toxicity_model}`;
a text counts as toxic when its score is at least {f.toxicity_threshold:g}.

Limits: {f.toxicity_limits} Treat the flags as a screening aid, not a judgement.

## Privacy

No Prolific participant id, Argilla username or user id, and no demographic data is published.
Raters and writers appear as `annotator_id` / `writer_id`: a salted HMAC-SHA256 pseudonym that is
stable across releases and cannot be reversed without the salt, which is not published.
Response and pair ids are salted hashes as well, so they cannot be traced back to a writer.
Identifiers that participants typed into their answers, or that name a dataset or workspace,
were replaced by `[redacted]` (texts redacted: {f.redacted_texts:,}).

## License

{f.license}

Generated by rlhf-warehouse (`rlhfw publish`) at {f.generated_at}.
"""
