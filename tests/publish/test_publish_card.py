"""The dataset card: valid on the Hub, every published column documented, the study described
from study.yml, a computed changelog, agreement explained."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard, DatasetCardData
from publish_warehouse import RATERS, WRITERS, Fixture, make_study

from publish import card, columns, dataset
from publish.run import changelog, run_publish
from study_config import ConfigError, Study, load_study

BIBTEX = "@misc{fixture2026,\n  title = {Fixture study},\n  year = {2026}\n}"


def _card_study(study: Study, tmp_path: Path) -> Study:
    guidelines = tmp_path / "guidelines.md"
    guidelines.write_text("# Guidelines\n\nAnswer in your own words.\n", encoding="utf-8")
    return make_study(
        tmp_path,
        card={
            "version": "1.2.0",
            "language": ["en", "de"],
            "task_description": "Write an answer to each question, then rate its quality.",
            "guidelines": guidelines,
            "scale_labels": {1: "A much better", 8: "B much better"},
            "quality_scale_labels": {1: "poor", 5: "excellent"},
            "recruitment": "Recruited on Prolific: UK residents, fluent in English.",
            "pay": "GBP 9 per hour.",
            "intended_uses": "Reward modelling research.",
            "limitations": "Small and English-centred.",
            "citation": BIBTEX,
        },
    )


def test_card_loads_on_the_hub_and_documents_every_column(
    study_env: tuple[Study, Fixture],
) -> None:
    study, _ = study_env
    run_publish(study, progress=False)
    out = study.publish.out
    loaded = DatasetCard.load(out / "README.md")  # offline: a local path
    data = loaded.data
    assert isinstance(data, DatasetCardData)
    assert data.language == ["en"]  # the default
    assert data.license == "cc-by-4.0"
    DatasetCardData(**data.to_dict())  # its fields validate again
    configs = {c["config_name"]: c for c in data.to_dict()["configs"]}
    assert set(configs) == set(dataset.CONFIGS) == set(columns.COLUMNS)
    text = loaded.text
    for config, entry in configs.items():
        table = text.split(f"Columns of `{config}`:")[1].split("\n\n")[1]
        for split in entry["data_files"]:
            names = pq.read_schema(out / split["path"]).names
            # Every written column has a line in the card, and no line names a column that
            # the files lack: a new column without a line in publish/columns.py fails here.
            assert names == list(columns.COLUMNS[config]), (config, split["split"])
            for name in names:
                assert f"| `{name}` | " in table, (config, name)
    assert "Krippendorff's alpha says how much" in text
    assert "## Study" in text and "- Preference rating, 1-8: 1 = first answer" in text
    assert "## Citation" not in text  # no citation configured


def test_study_section_comes_from_study_yml(tmp_path: Path, study_env) -> None:
    fixture_study, _ = study_env
    study = _card_study(fixture_study, tmp_path)
    run_publish(study, progress=False)
    loaded = DatasetCard.load(study.publish.out / "README.md")
    assert loaded.data.language == ["en", "de"]
    text = loaded.text
    assert "Version: **1.2.0**" in text
    assert "Write an answer to each question" in text
    assert "> # Guidelines\n>\n> Answer in your own words." in text
    assert "1 = A much better; 8 = B much better" in text
    assert "1 = poor; 5 = excellent" in text
    assert "UK residents" in text and "GBP 9 per hour." in text
    assert "### Intended uses\n\nReward modelling research." in text
    assert "### Limitations\n\nSmall and English-centred." in text
    assert f"## Citation\n\n```bibtex\n{BIBTEX}\n```" in text


def test_card_keys_are_validated(tmp_path: Path) -> None:
    base = {
        "name": "s",
        "argilla": {
            "writing": {"sources": [{"dataset": "w"}]},
            "rating": {"sources": [{"dataset": "r"}]},
        },
    }
    path = tmp_path / "study.yml"

    def load(card_cfg: dict) -> Study:
        path.write_text(json.dumps({**base, "publish": {"card": card_cfg}}), encoding="utf-8")
        return load_study(path)

    assert load({}).publish.card.language == ["en"]
    assert load({"language": "fr"}).publish.card.language == ["fr"]
    (tmp_path / "g.md").write_text("be kind")
    assert load({"guidelines": "g.md"}).publish.card.guidelines == tmp_path / "g.md"
    with pytest.raises(ConfigError, match="publish.card.guidelines: file not found"):
        load({"guidelines": "missing.md"})
    with pytest.raises(ConfigError, match="off the scale 1-8"):
        load({"scale_labels": {9: "x"}})
    with pytest.raises(ConfigError, match="language codes"):
        load({"language": ["English"]})
    with pytest.raises(ConfigError, match="unknown key"):
        load({"colour": "red"})


def test_changelog_counts_rows_added_since_the_previous_publish(
    study_env: tuple[Study, Fixture],
) -> None:
    study, _ = study_env
    run_publish(study, progress=False)
    marker = json.loads((study.publish.out / dataset.MARKER).read_text())
    assert len(marker["changelog"]) == 1
    assert "(first publish to this folder)" in marker["changelog"][0]
    n_ratings = sum(marker["rows"]["ratings"].values())  # config -> split -> rows
    run_publish(study, progress=False)
    marker2 = json.loads((study.publish.out / dataset.MARKER).read_text())
    assert len(marker2["changelog"]) == 2 and marker2["changelog"][1] == marker["changelog"][0]
    assert f"ratings {n_ratings:,} (+0)" in marker2["changelog"][0]
    text = (study.publish.out / "README.md").read_text()
    assert "## Changelog" in text and f"- {marker2['changelog'][0]}" in text


def test_changelog_arithmetic() -> None:
    before = {"rows": {"pairs/train": 10, "pairs/test": 2, "conversational/train": 10,
                       "ratings/train": 30, "responses/train": 8},
              "changelog": ["older line"]}  # fmt: skip
    now = {"pairs/train": 15, "pairs/test": 3, "conversational/train": 15,
           "conversational/test": 3, "ratings/train": 45, "responses/train": 8}  # fmt: skip
    log = changelog(before, now, "2026-12-06 08:00 UTC", "2.0")
    assert log == [
        "2026-12-06 08:00 UTC, version 2.0: pairs 18 (+6), ratings 45 (+15), responses 8 (+0) "
        "(change since the previous)",
        "older line",
    ]
    # A marker of an older publish holds the pairs per split only.
    old = changelog({"pairs": {"train": 11}}, now, "t", None)
    assert old == ["t: pairs 18 (+7), ratings 45 (change unknown), "
                   "responses 8 (change unknown) (change since the previous)"]  # fmt: skip


def _facts(**over: object) -> card.CardFacts:
    base = dict(
        name="n", license="cc-by-4.0", language=["en"], repo_id=None, folder_name="d",
        pair_splits={"train": 1}, files={"pairs": {"train": "pairs/train.parquet"}},
        dropped={}, n_pairs_rated=1, n_questions=1, n_responses=1, n_ratings=1, n_raters=1,
        n_writers=1, scale_min=1, scale_max=8, quality_min=1, quality_max=5, quality_mean=3.0,
        quality_median=3.0, n_quality_ratings=2, n_quality_questions=1, agreement=[],
        toxicity_backend="b", toxicity_model="m", toxicity_threshold=0.5, toxicity_limits="l",
        toxic_responses=0, toxic_pair_sides=0, min_ratings=1, min_margin=0.0,
        test_fraction=0.1, seed=1, redacted_texts=0,
    )  # fmt: skip
    return card.CardFacts(**{**base, **over})


def _row(study: str, scope: str, alpha: float | None) -> dict:
    return {"study": study, "scope": scope, "level": "interval", "alpha": alpha,
            "n_units": 3, "n_coders": 2, "n_values": 6}  # fmt: skip


def test_low_alpha_is_explained_and_scopes_are_named() -> None:
    text = card.render(
        _facts(
            agreement=[
                _row("rating", "overall", 0.61),
                _row("writing", "overall", 0.03),
                _row("writing", "workspace:social", 0.03),
                _row("writing", "social/writing-study", 0.03),
            ]
        )
    )
    assert "The writing study (question quality) has an alpha near zero (0.030)" in text
    assert "rating study has an alpha near zero" not in text
    assert "| writing | workspace `social` | interval | 0.030 |" in text
    assert "| writing | dataset `social/writing-study` | interval | 0.030 |" in text


def test_identifiers_in_card_texts_are_redacted(tmp_path: Path, study_env) -> None:
    """study.yml's card texts are published: a participant's id in them is redacted."""
    fixture_study, fx = study_env
    person = WRITERS[0]
    guidelines = tmp_path / "guidelines.md"
    guidelines.write_text(f"Example: our pilot tester {person.username} wrote ...\n")
    study = make_study(
        tmp_path,
        card={
            "guidelines": guidelines,
            "recruitment": f"Pilot run by {person.user_id}.",
            "scale_labels": {1: f"as {RATERS[0].username} would say"},
            "version": "1",
        },
    )
    run_publish(study, progress=False)
    out = study.publish.out
    text = (out / "README.md").read_text(encoding="utf-8")
    assert "Example: our pilot tester [redacted] wrote" in text
    assert "Pilot run by [redacted]." in text and "1 = as [redacted] would say" in text
    secrets = [v for v in fx.secrets if len(v) >= 5]
    for path in (p for p in out.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in raw, (secret, path.name)


def test_default_scale_labels_follow_low_means() -> None:
    assert "- Preference rating, 1-8: 1 = second answer much better; 8 = first answer" in (
        card.render(_facts(low_means="response_b"))
    )
    labelled = card.render(_facts(study=card.StudyText(scale_labels={1: "A", 8: "B"})))
    assert "scale\n  (1 = A; 8 = B)." in labelled
