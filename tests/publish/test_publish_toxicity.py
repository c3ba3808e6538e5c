"""Toxicity backends: exact label handling of the transformers backend, a trained tiny
classifier end to end, and the offline profanity model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from publish_models import build_classifier
from publish_warehouse import ANSWERS, TOXIC_TEXT, Fixture, make_study

from publish import PublishError, run_publish
from publish.toxicity import ProfanityScorer, TransformersScorer
from study_config import Study, Toxicity
from tests.warehouse import connect_warehouse

pytestmark = pytest.mark.usefixtures("torch_one_thread")

LABELS = ["neutral", "insult", "threat"]
BIAS = [0.5, 1.0, -1.0]
TEXTS = ["short", "a somewhat longer text about nothing", "Привет ☕", ""]


def _softmax(x: list[float]) -> np.ndarray:
    e = np.exp(np.asarray(x) - max(x))
    return e / e.sum()


def _sigmoid(x: float) -> float:
    return 1 / (1 + np.exp(-x))


def _scorer(model: Path, labels: list[str], **kw: object) -> TransformersScorer:
    cfg = Toxicity(backend="transformers", model=model, positive_labels=labels, **kw)
    return TransformersScorer(cfg, model.parent)


@pytest.fixture(scope="module")
def bias_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bias-models")
    return {
        "single": build_classifier(root / "single", LABELS, bias=BIAS),
        "multi": build_classifier(root / "multi", LABELS, bias=BIAS, multi_label=True),
    }


def test_single_label_sums_positive_softmax(bias_models: dict[str, Path]) -> None:
    p = _softmax(BIAS)
    scores = _scorer(bias_models["single"], ["insult", "threat"], batch_size=3).score(TEXTS)
    np.testing.assert_allclose(scores, p[1] + p[2], atol=1e-6)
    only_threat = _scorer(bias_models["single"], ["threat"]).score(TEXTS[:2])
    np.testing.assert_allclose(only_threat, p[2], atol=1e-6)


def test_multi_label_takes_max_sigmoid(bias_models: dict[str, Path]) -> None:
    scores = _scorer(bias_models["multi"], ["insult", "threat"]).score(TEXTS)
    np.testing.assert_allclose(scores, _sigmoid(1.0), atol=1e-6)
    np.testing.assert_allclose(
        _scorer(bias_models["multi"], ["threat"]).score(TEXTS[:1]), _sigmoid(-1.0), atol=1e-6
    )


def test_label_settings_are_checked_and_part_of_the_cache_key(
    bias_models: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(PublishError, match="'toxic' is not a label.*insult"):
        _scorer(bias_models["single"], ["toxic"]).score(TEXTS)
    with pytest.raises(PublishError, match="positive_labels is empty.*'insult'"):
        _scorer(bias_models["single"], []).score(TEXTS)
    with pytest.raises(PublishError, match="model directory not found"):
        _scorer(tmp_path / "absent", ["insult"])
    a = _scorer(bias_models["single"], ["insult"]).model_id
    assert a == _scorer(bias_models["single"], ["insult"]).model_id
    assert a != _scorer(bias_models["single"], ["threat"]).model_id
    assert a != _scorer(bias_models["single"], ["insult"], max_length=64).model_id
    assert a != _scorer(bias_models["multi"], ["insult"]).model_id


def test_trained_classifier_end_to_end(study_env: tuple[Study, Fixture], tmp_path: Path) -> None:
    study, fx = study_env
    toxic = [
        TOXIC_TEXT,
        "you are a fucking idiot",
        "shut the hell up you worthless idiot",
        "what a piece of shit, fucking useless",
    ]
    clean = [a for answers in ANSWERS.values() for a in answers if a != TOXIC_TEXT]
    model = build_classifier(
        tmp_path / "clf",
        ["not_toxic", "toxic"],
        train=[(t, 1) for t in toxic] + [(t, 0) for t in clean],
    )
    tx = make_study(
        tmp_path,
        toxicity={"backend": "transformers", "model": model, "positive_labels": ["toxic"],
                  "batch_size": 4, "max_length": 32},
    )  # fmt: skip
    report = run_publish(tx, progress=True)  # exercises the progress bar too
    assert report.toxicity_backend == "transformers"
    assert report.toxicity_model.startswith("clf@")
    assert report.texts_scored == fx.n_responses
    assert report.toxic_responses == 1

    con = connect_warehouse(tx.warehouse)
    rows = con.execute(
        """
        select w.response_text, t.toxicity, t.is_toxic, t.backend
        from response_toxicity as t join written_responses as w using (response_id)
        """
    ).fetchall()
    con.close()
    assert {b for *_, b in rows} == {"transformers"}
    flagged = [text for text, _, is_toxic, _ in rows if is_toxic]
    assert flagged == [TOXIC_TEXT]
    top = max(score for text, score, *_ in rows if text == TOXIC_TEXT)
    assert top > max(score for text, score, *_ in rows if text != TOXIC_TEXT)

    again = run_publish(tx, progress=False)
    assert (again.texts_scored, again.cache_hits) == (0, fx.n_responses)


def test_profanity_model_and_its_known_blind_spot() -> None:
    scorer = ProfanityScorer()
    scorer.load()
    offensive, polite, mondays = scorer.score(
        [TOXIC_TEXT, "Thank you, that was a kind and thoughtful answer.", "I hate Mondays"]
    )
    assert offensive > 0.9 > 0.1 > polite
    # The documented false positive: no harm meant, still scored as offensive.
    assert mondays > 0.5
    assert scorer.model_id == "alt-profanity-check==1.9.1"
