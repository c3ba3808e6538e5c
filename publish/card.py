"""The dataset card (README.md): YAML front matter the Hub and `datasets` read, then prose."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from publish import columns

# Agreement below this (in absolute value) gets a sentence in the card, not a bare number.
LOW_ALPHA = 0.2
# The most characters of the guidelines file the card includes.
GUIDELINES_CHARS = 20_000


@dataclass(frozen=True)
class StudyText:
    """`publish.card` of study.yml as the card shows it (texts redacted like any published text;
    None or empty: left out)."""

    version: str | None = None
    task_description: str | None = None
    guidelines: str | None = None  # the file's text
    guidelines_name: str | None = None
    scale_labels: dict[int, str] = field(default_factory=dict)
    quality_scale_labels: dict[int, str] = field(default_factory=dict)
    recruitment: str | None = None
    pay: str | None = None
    intended_uses: str | None = None
    limitations: str | None = None
    citation: str | None = None


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
    quality_mean: float | None  # mean over rated questions of their mean quality
    quality_median: float | None  # median over rated questions of their mean quality
    n_quality_ratings: int
    n_quality_questions: int  # questions with a counted quality rating
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
    study: StudyText = field(default_factory=StudyText)
    changelog: list[str] = field(default_factory=list)  # newest first
    low_means: str = "response_a"  # the rating scale's low end favours this side


def scale_labels(f: CardFacts) -> dict[int, str]:
    """The rating scale's labels: study.yml's, else its two ends by `low_means`."""
    if f.study.scale_labels:
        return dict(f.study.scale_labels)
    first, second = "first answer much better", "second answer much better"
    low, high = (first, second) if f.low_means == "response_a" else (second, first)
    return {f.scale_min: low, f.scale_max: high}


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
        "configs": [config(name, default=name == "pairs") for name in f.files],
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


def _quote(text: str) -> str:
    """A block quote: the text keeps its Markdown, and its headings stay inside the quote."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def _labels(labels: dict[int, str]) -> str:
    return "; ".join(f"{v} = {label}" for v, label in sorted(labels.items()))


def _study_section(f: CardFacts) -> str:
    st = f.study
    parts = ["## Study", ""]
    if st.version:
        parts += [f"Version: **{st.version}**", ""]
    if st.task_description:
        parts += ["### Task", "", st.task_description.strip(), ""]
    rating_labels = scale_labels(f)
    parts += [
        "### Scales",
        "",
        f"- Preference rating, {f.scale_min}-{f.scale_max}: {_labels(rating_labels)}.",
        f"- Question quality, {f.quality_min}-{f.quality_max}"
        + (f": {_labels(st.quality_scale_labels)}." if st.quality_scale_labels else "."),
        "",
    ]
    if st.guidelines:
        text = st.guidelines
        cut = len(text) > GUIDELINES_CHARS
        if cut:
            text = text[:GUIDELINES_CHARS]
        parts += ["### Guidelines shown to participants", "",
                  f"From `{st.guidelines_name}`"
                  + (f" (the first {GUIDELINES_CHARS:,} characters)" if cut else "") + ":",
                  "", _quote(text), ""]  # fmt: skip
    if st.recruitment or st.pay:
        parts += ["### Recruitment and pay", ""]
        parts += [t.strip() + "\n" for t in (st.recruitment, st.pay) if t]
    if st.intended_uses:
        parts += ["### Intended uses", "", st.intended_uses.strip(), ""]
    if st.limitations:
        parts += ["### Limitations", "", st.limitations.strip(), ""]
    return "\n".join(parts).rstrip() + "\n"


def _column_tables(f: CardFacts) -> str:
    facts = {
        "scale_min": f.scale_min,
        "scale_max": f.scale_max,
        "scale_sum": f.scale_min + f.scale_max,
        "midpoint": (f.scale_min + f.scale_max) / 2,
        "toxicity_threshold": f.toxicity_threshold,
        "quality_min": f.quality_min,
        "quality_max": f.quality_max,
    }
    out = []
    for config in f.files:
        rows = [(f"`{name}`", text) for name, text in columns.described(config, facts)]
        out.append(f"Columns of `{config}`:\n\n" + _table(("column", "meaning"), rows))
    return "\n\n".join(out)


_STUDY_NAMES = {"rating": "rating study", "writing": "writing study (question quality)"}


def _scope_name(scope: str) -> str:
    if scope == "overall":
        return "overall"
    if scope.startswith("workspace:"):
        return f"workspace `{scope.removeprefix('workspace:')}`"
    return f"dataset `{scope}`"


def _agreement_notes(f: CardFacts) -> str:
    """A sentence for each study whose overall alpha is near zero, instead of a bare number."""
    notes = []
    for r in f.agreement:
        if r["scope"] != "overall" or r["level"] != "interval" or r["alpha"] is None:
            continue
        if abs(r["alpha"]) >= LOW_ALPHA:
            continue
        what = (
            "the writers' ratings of a question's quality"
            if r["study"] == "writing"
            else "the raters' preferences for the same pair"
        )
        notes.append(
            f"- The {_STUDY_NAMES.get(r['study'], r['study'])} has an alpha near zero "
            f"({r['alpha']:.3f}): {what} agree little beyond chance. This happens when the "
            "values barely vary (most units get the same one or two values, so the small "
            "differences between units are as large as those within them) as much as when "
            "participants truly disagree; read these values as a weak per-unit signal, "
            "useful in aggregate rather than unit by unit."
        )
    return "\n".join(notes)


def _changelog(f: CardFacts) -> str:
    return "\n".join(f"- {line}" for line in f.changelog) or "- (no release recorded)"


def render(f: CardFacts) -> str:
    fm = yaml.safe_dump(front_matter(f), sort_keys=False, allow_unicode=True)
    n_pairs = sum(f.pair_splits.values())
    where = f.repo_id or f"path/to/{f.folder_name}"
    splits = ", ".join(f"{s}: {n:,}" for s, n in f.pair_splits.items())
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
            f"| {r['study']} | {_scope_name(r['scope'])} | {r['level']} | {_num(r['alpha'])} | "
            f"{_int(r['n_units'])} | {_int(r['n_coders'])} | {_int(r['n_values'])} |"
            for r in f.agreement
        )
        or "| (not computed) | | | | | | |"
    )
    column_tables = _column_tables(f)
    study_section = _study_section(f)
    notes = _agreement_notes(f)
    agreement_notes = f"\n{notes}\n" if notes else ""
    citation = (
        f"\n## Citation\n\n```bibtex\n{f.study.citation.strip()}\n```\n" if f.study.citation else ""
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
    stats_table = _table(
        ("statistic", "value"),
        [
            ("preference pairs", f"{n_pairs:,} ({splits})"),
            ("ties dropped", f"{f.dropped.get('tie', 0):,}"),
            ("questions", f"{f.n_questions:,}"),
            ("written responses", f"{f.n_responses:,}"),
            ("ratings", f"{f.n_ratings:,}"),
            ("writers / raters", f"{f.n_writers:,} / {f.n_raters:,}"),
            (f"question quality ({f.quality_min}-{f.quality_max}): mean over the "
             f"{f.n_quality_questions:,} rated questions of each question's mean rating "
             f"({f.n_quality_ratings:,} ratings)", _num(f.quality_mean, 2)),
            ("question quality: median over the same questions of each question's mean rating",
             _num(f.quality_median, 2)),
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

{column_tables}

There is no `margin` column on purpose: TRL's `RewardTrainer` subtracts a column named
`margin` inside its loss (`-logsigmoid(r_chosen - r_rejected - margin)`). To train with one,
add it deliberately, e.g. `pairs.map(lambda r: {{"margin": k * r["preference_strength"]}})`.

`ratings` and `responses` are split by question as `pairs` is: a question's ratings and
responses are in the split of its pairs.

{study_section}
## How the data was collected

- **Writing study.** Participants recruited on Prolific answered questions in Argilla
  (datasets: {sources_w}) and rated each question's quality on a {f.quality_min}-{f.quality_max}
  scale. {f.n_responses:,} counted responses from {f.n_writers:,} writers.
- **Rating study.** Other Prolific participants saw a question with two answers (datasets:
  {sources_r}) and rated the pair on a {f.scale_min}-{f.scale_max} scale
  ({_labels(scale_labels(f))}). Each rating is oriented to the
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

Question quality: each question's mean is the mean of its counted quality ratings (the
`question_mean_quality` column of `responses`); the mean and the median above are taken over the
questions with at least one counted quality rating, each question weighing the same.

### Rater agreement (Krippendorff's alpha)

Krippendorff's alpha says how much participants who judged the same item agree beyond what
chance alone would give: 1 is perfect agreement, 0 is no better than chance, and below 0 is
systematic disagreement (0.8 and above is usually read as reliable, 0.67-0.8 as tentative).
Units are pairs (rating study) or questions (writing study: the writers' quality ratings);
alpha is given for the whole study, for each Argilla workspace, and for each dataset
(`workspace/dataset`), at the interval and the ordinal level.

| study | scope | level | alpha | units | coders | values |
|---|---|---|---|---|---|---|
{alpha_rows}
{agreement_notes}

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

## Changelog

Rows added since the previous publish to the same folder, computed at publish time:

{_changelog(f)}

## License

{f.license}
{citation}
Generated by rlhf-warehouse (`rlhfw publish`) at {f.generated_at}.
"""
